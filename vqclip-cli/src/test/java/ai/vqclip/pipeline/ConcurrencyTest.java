package ai.vqclip.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.vqclip.augment.StandardCutouts;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.backend.SharedExecutables;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.optim.OptimizerConfig;
import ai.vqclip.core.pipeline.GenerationRequest;
import ai.vqclip.core.pipeline.Pipeline;
import ai.vqclip.core.pipeline.RunResult;
import ai.vqclip.core.prompt.PromptSchedule;
import ai.vqclip.onnx.OrtExecutable;
import ai.vqclip.onnx.clip.ClipEncoder;
import ai.vqclip.onnx.vqgan.VqganGenerator;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The thread contract of the models and the pipeline (Generator, Encoder, Pipeline javadoc): shared
 * loaded models under many threads, results bit-identical to serial runs, releaseCaches and close
 * never breaking a running call. Each case once failed before the models' caches were made
 * concurrent and leased (issue 13: ConcurrentModificationException, "executable ... is closed",
 * ORT_INVALID_ARGUMENT, and SIGSEGV in OrtSession.run).
 */
class ConcurrencyTest {
  static final int THREADS = 8;

  static GenerationRequest request(String prompt, long seed, int iterations) {
    return GenerationRequest.builder(32, 32, PromptSchedule.parse(prompt, 10)).cutouts(4).iterations(iterations).seed(seed)
        .optimizer(OptimizerConfig.adam(0.1)).build();
  }

  static Pipeline pipeline(VqganGenerator g, ClipEncoder e) {
    return Pipeline.builder(g, new StandardCutouts()).encoder(e).options(TinyModels.CPU).build();
  }

  /** Runs every task at once from its own thread (released together) and returns the results in order. */
  static <T> List<T> together(List<Callable<T>> tasks) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(tasks.size());
    try {
      CyclicBarrier start = new CyclicBarrier(tasks.size());
      List<Future<T>> fs = new ArrayList<>();
      for (Callable<T> t : tasks) {
        fs.add(pool.submit(() -> {
          start.await();
          return t.call();
        }));
      }
      List<T> out = new ArrayList<>();
      for (Future<T> f : fs) {
        out.add(f.get(120, TimeUnit.SECONDS));
      }
      return out;
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void embedTextEmbedImagesAndReleaseCachesHammeredFromEightThreadsMatchSerial() throws Exception {
    try (ClipEncoder enc = TinyModels.encoder(5)) {
      String[] texts = {"a red circle", "a blue square", "green", "a lighthouse at dusk"};
      Tensor[] images = new Tensor[3];
      SplittableRandom rnd = new SplittableRandom(1);
      for (int b = 0; b < images.length; b++) {
        double[] px = new double[(b + 1) * 3 * 32 * 32];
        for (int i = 0; i < px.length; i++) {
          px[i] = rnd.nextDouble();
        }
        images[b] = Tensor.fromDoubles(DType.FLOAT, new long[] {b + 1, 3, 32, 32}, px);
      }
      Map<String, Tensor> textRef = new java.util.HashMap<>();
      for (String t : texts) {
        textRef.put(t, enc.embedText(t));
      }
      List<Tensor> imageRef = new ArrayList<>();
      for (Tensor im : images) {
        imageRef.add(enc.embedImages(im));
      }
      AtomicInteger calls = new AtomicInteger();
      List<Callable<Integer>> tasks = new ArrayList<>();
      for (int th = 0; th < THREADS; th++) {
        int seed = th;
        tasks.add(() -> {
          SplittableRandom r = new SplittableRandom(seed);
          int checked = 0;
          for (int i = 0; i < 40; i++) {
            int what = r.nextInt(5);
            if (what == 0) {
              enc.releaseCaches();
            } else if (what <= 2) {
              String t = texts[r.nextInt(texts.length)];
              assertEquals(textRef.get(t), enc.embedText(t), "text embedding of '" + t + "'");
              checked++;
            } else {
              int b = r.nextInt(images.length); // three batch sizes through a cache of two: eviction under use
              assertEquals(imageRef.get(b), enc.embedImages(images[b]), "image embedding of batch " + (b + 1));
              checked++;
            }
          }
          calls.addAndGet(checked);
          return checked;
        });
      }
      together(tasks);
      assertTrue(calls.get() > THREADS * 20, "embedding calls checked: " + calls.get());
    }
  }

  @Test
  void decodeEncodeAndReleaseCachesFromEightThreadsMatchSerial() throws Exception {
    try (VqganGenerator g = TinyModels.generator()) {
      Tensor z = g.randomLatent(32, 32, 4);
      Tensor img = g.decode(z);
      Tensor zq = g.encode(img);
      List<Callable<Integer>> tasks = new ArrayList<>();
      for (int th = 0; th < THREADS; th++) {
        int seed = th;
        tasks.add(() -> {
          SplittableRandom r = new SplittableRandom(seed);
          for (int i = 0; i < 30; i++) {
            switch (r.nextInt(3)) {
              case 0 -> g.releaseCaches();
              case 1 -> assertEquals(img, g.decode(z));
              default -> assertEquals(zq, g.encode(img));
            }
          }
          return 0;
        });
      }
      together(tasks);
    }
  }

  @Test
  void closeUnderRunningCallsGivesResultsOrAClearExceptionNeverACrash() throws Exception {
    for (int round = 0; round < 3; round++) {
      VqganGenerator g = TinyModels.generator();
      Tensor z = g.randomLatent(32, 32, 4);
      Tensor img = g.decode(z);
      CountDownLatch running = new CountDownLatch(THREADS);
      AtomicInteger ok = new AtomicInteger();
      AtomicInteger refused = new AtomicInteger();
      List<Callable<Integer>> tasks = new ArrayList<>();
      for (int th = 0; th < THREADS; th++) {
        tasks.add(() -> {
          running.countDown();
          for (int i = 0; i < 200; i++) {
            try {
              assertEquals(img, g.decode(z));
              ok.incrementAndGet();
            } catch (IllegalStateException e) {
              assertTrue(e.getMessage().contains("closed"), e.getMessage());
              refused.incrementAndGet();
              return 0;
            }
          }
          return 0;
        });
      }
      tasks.add(() -> {
        running.await();
        Thread.sleep(5 + 5L * ((long) (Math.random() * 3)));
        g.close();
        g.close(); // idempotent
        return 0;
      });
      together(tasks);
      assertTrue(refused.get() > 0 || ok.get() == THREADS * 200, "ok " + ok + ", refused " + refused);
      assertThrows(IllegalStateException.class, () -> g.decode(z));
    }
  }

  @Test
  void anExecutableClosedWhileRunningFinishesThoseRunsThenRefuses() throws Exception {
    try (VqganGenerator g = TinyModels.generator()) {
      Tensor z = g.randomLatent(32, 32, 4);
      OrtExecutable exe = OrtExecutable.create(g.synthesisFragment(32, 32), TinyModels.CPU);
      Tensor ref = exe.run(Map.of("z", z)).get("image");
      OrtExecutable.Lease lease = exe.tryLease();
      assertNotNull(lease);
      exe.close(); // deferred: the lease keeps the session
      assertTrue(exe.isClosed());
      assertNull(exe.tryLease());
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> exe.run(Map.of("z", z)));
      assertTrue(e.getMessage().contains("is closed"), e.getMessage());
      lease.close();
      lease.close();
      // Many runs, closed in the middle: each either completes correctly or is refused clearly.
      OrtExecutable exe2 = OrtExecutable.create(g.synthesisFragment(32, 32), TinyModels.CPU);
      AtomicInteger done = new AtomicInteger();
      List<Callable<Integer>> tasks = new ArrayList<>();
      for (int th = 0; th < THREADS; th++) {
        tasks.add(() -> {
          for (int i = 0; i < 100; i++) {
            try {
              assertEquals(ref, exe2.run(Map.of("z", z)).get("image"));
              done.incrementAndGet();
            } catch (IllegalStateException x) {
              return 0;
            }
          }
          return 0;
        });
      }
      tasks.add(() -> {
        while (done.get() < 20) {
          Thread.onSpinWait();
        }
        exe2.close();
        return 0;
      });
      together(tasks);
      assertTrue(done.get() >= 20);
    }
  }

  static void assertNull(Object o) {
    assertTrue(o == null, "expected null, got " + o);
  }

  @Test
  void twoPipelinesSharingModelsBackToBackAndOneSharedPipelineFromEightThreadsMatchSerial() throws Exception {
    try (VqganGenerator g = TinyModels.generator(); ClipEncoder e = TinyModels.encoder(5)) {
      Pipeline shared = pipeline(g, e);
      String[] prompts = {"a red circle", "a blue square", "a tree", "the sea"};
      List<GenerationRequest> reqs = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        reqs.add(request(prompts[i], i, 5));
      }
      List<Tensor> serial = new ArrayList<>();
      for (GenerationRequest r : reqs) {
        serial.add(shared.run(r).image());
      }
      for (int round = 0; round < 1; round++) {
        // One shared pipeline from eight threads at once (each request twice).
        List<Callable<Tensor>> tasks = new ArrayList<>();
        for (int i = 0; i < THREADS; i++) {
          GenerationRequest r = reqs.get(i % reqs.size());
          tasks.add(() -> shared.run(r).image());
        }
        List<Tensor> got = together(tasks);
        for (int i = 0; i < THREADS; i++) {
          assertArrayEquals(serial.get(i % reqs.size()).toFloats(), got.get(i).toFloats(), "shared pipeline, thread " + i + ", round " + round);
        }
        // Two pipelines over the same models, the second starting as the first finishes (staggered).
        Pipeline p1 = pipeline(g, e);
        Pipeline p2 = pipeline(g, e);
        List<Callable<Tensor>> staggered = new ArrayList<>();
        CountDownLatch firstNearlyDone = new CountDownLatch(1);
        staggered.add(() -> p1.run(reqs.get(0), ev -> {
          if (ev.iteration() == ev.iterations() - 1) {
            firstNearlyDone.countDown();
          }
          return true;
        }).image());
        staggered.add(() -> {
          firstNearlyDone.await();
          return p2.run(reqs.get(1)).image();
        });
        List<Tensor> two = together(staggered);
        assertArrayEquals(serial.get(0).toFloats(), two.get(0).toFloats(), "first pipeline, round " + round);
        assertArrayEquals(serial.get(1).toFloats(), two.get(1).toFloats(), "second pipeline, round " + round);
      }
    }
  }

  @Test
  void concurrentRunsWithIdenticalStepGraphsShareOneSession() throws Exception {
    try (VqganGenerator g = TinyModels.generator(); ClipEncoder e = TinyModels.encoder(5)) {
      Pipeline p = pipeline(g, e);
      int before = SharedExecutables.GLOBAL.size();
      CyclicBarrier both = new CyclicBarrier(2);
      AtomicInteger held = new AtomicInteger(-1);
      // Different prompts and seeds, same graph: one session while both run.
      List<Callable<RunResult>> tasks = List.of(
          () -> p.run(request("a red circle", 1, 3), ev -> {
            awaitQuietly(both);
            held.set(SharedExecutables.GLOBAL.size());
            awaitQuietly(both);
            return true;
          }),
          () -> p.run(request("a blue square", 2, 3), ev -> {
            awaitQuietly(both);
            awaitQuietly(both);
            return true;
          }));
      together(tasks);
      assertEquals(before + 1, held.get(), "sessions held while two identical step graphs ran");
      assertEquals(before, SharedExecutables.GLOBAL.size(), "the shared session is closed when its last run ends");
      // A different cutout count is a different graph: two sessions.
      tasks = List.of(
          () -> p.run(request("a red circle", 1, 2), ev -> {
            awaitQuietly(both);
            held.set(SharedExecutables.GLOBAL.size());
            awaitQuietly(both);
            return true;
          }),
          () -> p.run(request("a red circle", 1, 2).toBuilder().cutouts(2).build(), ev -> {
            awaitQuietly(both);
            awaitQuietly(both);
            return true;
          }));
      together(tasks);
      assertEquals(before + 2, held.get(), "sessions held while two different step graphs ran");
    }
  }

  @Test
  void runsTakingTurnsStepByStepGiveTheSameImages() throws Exception {
    try (VqganGenerator g = TinyModels.generator(); ClipEncoder e = TinyModels.encoder(5)) {
      Pipeline free = pipeline(g, e);
      Pipeline turns = Pipeline.builder(g, new StandardCutouts()).encoder(e).options(TinyModels.CPU).maxParallelSteps(1).build();
      List<Callable<Tensor>> tasks = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        GenerationRequest r = request("a red circle", i, 4);
        tasks.add(() -> turns.run(r).image());
      }
      List<Tensor> got = together(tasks);
      for (int i = 0; i < 4; i++) {
        assertArrayEquals(free.run(request("a red circle", i, 4)).image().toFloats(), got.get(i).toFloats(), "run " + i);
      }
      assertThrows(IllegalArgumentException.class, () -> Pipeline.builder(g, new StandardCutouts()).maxParallelSteps(-1));
    }
  }

  static void awaitQuietly(CyclicBarrier b) {
    try {
      b.await(60, TimeUnit.SECONDS);
    } catch (Exception x) {
      fail("barrier: " + x);
    }
  }

  @Test
  void interruptStopsARunAtTheNextStepKeepingItsImageAndCheckpoint() throws Exception {
    try (VqganGenerator g = TinyModels.generator(); ClipEncoder e = TinyModels.encoder(5)) {
      Pipeline p = pipeline(g, e);
      GenerationRequest r = request("a red circle", 3, 20);
      // Reference: the same request stopped by a listener after 4 steps.
      Tensor ref = p.run(r, ev -> ev.iteration() < 3).image();
      boolean[] flagAfter = new boolean[1];
      RunResult[] got = new RunResult[1];
      Thread t = new Thread(() -> {
        got[0] = p.run(r, ev -> {
          if (ev.iteration() == 3) {
            Thread.currentThread().interrupt();
          }
          return true;
        });
        flagAfter[0] = Thread.currentThread().isInterrupted();
      });
      t.start();
      t.join(60_000);
      assertFalse(t.isAlive());
      assertEquals("interrupted", got[0].manifest().stopReason());
      assertEquals(4, got[0].manifest().iterationsRun());
      assertEquals(4, got[0].checkpoint().iteration());
      assertTrue(flagAfter[0], "the interrupt flag is set again for the caller");
      assertArrayEquals(ref.toFloats(), got[0].image().toFloats());
    }
  }
}
