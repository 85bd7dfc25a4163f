package ai.vqclip.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.augment.StandardCutouts;
import ai.vqclip.core.optim.OptimizerConfig;
import ai.vqclip.core.pipeline.GenerationJob;
import ai.vqclip.core.pipeline.GenerationRequest;
import ai.vqclip.core.pipeline.GenerationService;
import ai.vqclip.core.pipeline.Pipeline;
import ai.vqclip.core.pipeline.RunResult;
import ai.vqclip.core.StepEvent;
import ai.vqclip.core.prompt.PromptSchedule;
import ai.vqclip.onnx.clip.ClipEncoder;
import ai.vqclip.onnx.vqgan.VqganGenerator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@link GenerationService} on shared tiny models: futures, progress, cancellation, queue limits, close. */
class GenerationServiceTest extends WithTinyPipeline {

  /** Three kinds of request (two step graphs of one size, one of another size). */
  static GenerationRequest mixed(int kind, long seed, int iterations) {
    String[] prompts = {"a red circle", "a blue square|stripes:0.5", "the sea at night"};
    int w = kind == 2 ? 48 : 32;
    return GenerationRequest.builder(w, 32, PromptSchedule.parse(prompts[kind], 10)).cutouts(kind == 1 ? 2 : 4).iterations(iterations)
        .seed(seed).optimizer(OptimizerConfig.adam(0.1)).build();
  }

  /** The same request run alone, stopped after {@code steps} iterations (all when steps = iterations). */
  static float[] serial(GenerationRequest r, int steps) {
    return pipeline.run(r, e -> e.iteration() < steps - 1).image().toFloats();
  }

  @Test
  void eightThreadsOfMixedRequestsWithRandomCancelsMatchSerialRuns() throws Exception {
    int iterations = 5;
    Map<String, float[]> refs = new ConcurrentHashMap<>();
    try (GenerationService service = GenerationService.builder(pipeline).maxConcurrent(4).queueCapacity(16).build()) {
      for (int rr = 0; rr < 2; rr++) {
        int round = rr;
        SplittableRandom rnd = new SplittableRandom(round);
        long[] delays = new long[8];
        long[] cancelAfter = new long[8];
        for (int i = 0; i < 8; i++) {
          delays[i] = rnd.nextInt(30);
          cancelAfter[i] = rnd.nextInt(4) == 0 ? rnd.nextInt(60) : -1;
        }
        GenerationJob[] jobs = new GenerationJob[8];
        CyclicBarrier go = new CyclicBarrier(8);
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
          int t = i;
          Thread th = new Thread(() -> {
            try {
              go.await();
              Thread.sleep(delays[t]);
              jobs[t] = service.submit(mixed(t % 3, t / 3 + 10L * round, iterations));
              if (cancelAfter[t] >= 0) {
                Thread.sleep(cancelAfter[t]);
                jobs[t].cancel();
              }
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          });
          threads.add(th);
          th.start();
        }
        for (Thread th : threads) {
          th.join(60_000);
        }
        int cancelled = 0;
        for (int i = 0; i < 8; i++) {
          GenerationJob j = jobs[i];
          assertNotNull(j, "job " + i + " submitted");
          RunResult r;
          try {
            r = j.result().get(120, TimeUnit.SECONDS);
          } catch (CancellationException e) {
            // Cancelled while queued: no run, no result, and said so.
            assertEquals(GenerationJob.State.CANCELLED, j.state());
            assertTrue(cancelAfter[i] >= 0, "only cancelled jobs lack a result");
            cancelled++;
            continue;
          }
          int ran = r.manifest().iterationsRun();
          if (r.manifest().stopReason().equals("cancelled")) {
            assertTrue(cancelAfter[i] >= 0);
            assertEquals(GenerationJob.State.CANCELLED, j.state());
            assertEquals(ran, r.checkpoint().iteration(), "a cancelled run keeps its checkpoint");
            cancelled++;
          } else {
            assertEquals("completed", r.manifest().stopReason());
            assertEquals(iterations, ran);
            assertEquals(GenerationJob.State.SUCCEEDED, j.state());
          }
          GenerationRequest req = j.request();
          float[] ref = refs.computeIfAbsent(req.seed() + "/" + req.width() + "/" + req.cutouts() + "/" + ran, k -> serial(req, ran));
          assertArrayEquals(ref, r.image().toFloats(), "job " + i + " (" + ran + " iterations) against the same request run alone");
        }
        assertEquals(0, service.pending());
        assertTrue(cancelled <= 8);
      }
    }
  }

  @Test
  void progressEventsFutureAndResult() throws Exception {
    try (GenerationService service = GenerationService.builder(pipeline).build()) {
      List<StepEvent> events = new ArrayList<>();
      GenerationRequest r = mixed(0, 7, 4).toBuilder().saveEvery(2).build();
      CountDownLatch hold = new CountDownLatch(1);
      GenerationJob job = service.submit(r, e -> {
        await(hold);
        return true;
      });
      job.onProgress(events::add); // registered before the first step ends: it sees every event
      hold.countDown();
      RunResult res = job.result().get(60, TimeUnit.SECONDS);
      assertEquals(4, events.size());
      for (int i = 0; i < 4; i++) {
        assertEquals(i, events.get(i).iteration());
        assertEquals(i % 2 == 0, events.get(i).image() != null, "image on saved iterations only");
      }
      assertEquals(events.get(3), job.lastEvent());
      assertEquals(GenerationJob.State.SUCCEEDED, job.state());
      assertArrayEquals(serial(r, 4), res.image().toFloats());
      assertTrue(job.toString().contains("SUCCEEDED"));
    }
  }

  @Test
  void aFullQueueRejectsClearlyAndAQueuedJobCancelsWithoutRunning() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch started = new CountDownLatch(1);
    try (GenerationService service = GenerationService.builder(pipeline).maxConcurrent(1).queueCapacity(1).build()) {
      GenerationJob first = service.submit(mixed(0, 1, 3), e -> {
        started.countDown();
        await(release);
        return true;
      });
      started.await(60, TimeUnit.SECONDS);
      GenerationJob second = service.submit(mixed(0, 2, 3));
      assertEquals(GenerationJob.State.QUEUED, second.state());
      RejectedExecutionException e = assertThrows(RejectedExecutionException.class, () -> service.submit(mixed(0, 3, 3)));
      assertTrue(e.getMessage().contains("queue is full") && e.getMessage().contains("queueCapacity 1"), e.getMessage());
      assertTrue(second.cancel());
      assertTrue(second.result().isCancelled());
      assertThrows(CancellationException.class, () -> second.result().join());
      GenerationJob third = service.submit(mixed(0, 3, 3)); // the cancelled job freed its place
      release.countDown();
      assertEquals("completed", first.result().get(60, TimeUnit.SECONDS).manifest().stopReason());
      assertEquals("completed", third.result().get(60, TimeUnit.SECONDS).manifest().stopReason());
      assertEquals(GenerationJob.State.CANCELLED, second.state());
    }
  }

  @Test
  void closeDrainsAcceptedJobsAndRefusesNewOnes() throws Exception {
    GenerationService service = GenerationService.builder(pipeline).maxConcurrent(2).queueCapacity(8).build();
    List<GenerationJob> jobs = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      jobs.add(service.submit(mixed(i % 2, i, 3)));
    }
    assertTimeoutPreemptively(Duration.ofSeconds(120), service::close);
    for (GenerationJob j : jobs) {
      assertTrue(j.result().isDone());
      assertEquals(GenerationJob.State.SUCCEEDED, j.state());
    }
    RejectedExecutionException e = assertThrows(RejectedExecutionException.class, () -> service.submit(mixed(0, 1, 3)));
    assertTrue(e.getMessage().contains("closed"), e.getMessage());
    service.close(); // idempotent
  }

  @Test
  void closeNowWhileRunsAreActiveCancelsThemWithoutHangingAndKeepsTheirImages() throws Exception {
    GenerationService service = GenerationService.builder(pipeline).maxConcurrent(2).queueCapacity(8).build();
    CountDownLatch running = new CountDownLatch(2);
    List<GenerationJob> jobs = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      jobs.add(service.submit(mixed(i % 2, i, 500), e -> {
        running.countDown();
        return true;
      }));
    }
    running.await(60, TimeUnit.SECONDS);
    assertTimeoutPreemptively(Duration.ofSeconds(60), service::closeNow);
    int withImage = 0;
    for (GenerationJob j : jobs) {
      assertTrue(j.result().isDone(), j + " ended");
      assertEquals(GenerationJob.State.CANCELLED, j.state());
      if (!j.result().isCancelled()) {
        RunResult r = j.result().join();
        assertEquals("cancelled", r.manifest().stopReason());
        assertTrue(r.manifest().iterationsRun() < 500);
        assertNotNull(r.image());
        withImage++;
      }
    }
    assertTrue(withImage >= 2, "the running jobs return their last image");
  }

  static void await(CountDownLatch l) {
    try {
      l.await(60, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
