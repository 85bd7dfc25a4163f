package ai.vqclip.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.augment.StandardCutouts;
import ai.vqclip.core.loss.LatentRegularization;
import ai.vqclip.core.optim.OptimizerConfig;
import ai.vqclip.core.pipeline.EditDirection;
import ai.vqclip.core.pipeline.GenerationJob;
import ai.vqclip.core.pipeline.GenerationRequest;
import ai.vqclip.core.pipeline.GenerationService;
import ai.vqclip.core.pipeline.Init;
import ai.vqclip.core.pipeline.NoisePrompt;
import ai.vqclip.core.pipeline.Pipeline;
import ai.vqclip.core.pipeline.Regularization;
import ai.vqclip.core.pipeline.RunResult;
import ai.vqclip.core.pipeline.StepBatch;
import ai.vqclip.core.StepEvent;
import ai.vqclip.core.prompt.PromptSchedule;
import ai.vqclip.onnx.clip.ClipEncoder;
import ai.vqclip.onnx.vqgan.VqganGenerator;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Batched steps ({@link StepBatch}): several requests advanced in one ONNX Runtime call give the
 * pixels, latents, losses and checkpoints of the same requests run alone, bit for bit.
 */
class StepBatchTest extends WithTinyPipeline {

  /** The iterations of every test's requests (one count, so that the tests share their lone reference runs). */
  static final int ITERATIONS = 4;

  /** Four requests of one step-graph shape with different seeds, prompts, schedules and loss terms. */
  static List<GenerationRequest> requests(int iterations) {
    List<GenerationRequest> rs = new ArrayList<>();
    GenerationRequest.Builder base = GenerationRequest.builder(32, 32, PromptSchedule.parse("a red circle", 10)).cutouts(4)
        .augmentations(List.of("Af", "Pe")).iterations(iterations).optimizer(OptimizerConfig.adam(0.1));
    rs.add(base.seed(1).build());
    rs.add(base.seed(2).prompts(PromptSchedule.parse("a blue square|stripes:0.5", 10)).saveEvery(2).build());
    rs.add(base.seed(3).prompts(PromptSchedule.parse("the sea at night^dawn", 2)).noisePrompt(new NoisePrompt(9, 0.3)).tvWeight(0.05)
        .saveEvery(0).build());
    rs.add(GenerationRequest.builder(32, 32, PromptSchedule.parse("a green tree:2|fog:-0.5", 10)).cutouts(4).augmentations(List.of("Af", "Pe"))
        .iterations(iterations).seed(4).optimizer(OptimizerConfig.adam(0.05))
        .regularization(new Regularization(0.1, Regularization.Target.INIT, new LatentRegularization.Decay.Constant()))
        .learningRateDrop(2, 0.02).init(new Init.NoisePixels()).build());
    return rs;
  }

  /** A run's result with every step event it reported. */
  record Traced(RunResult result, List<StepEvent> events) {}

  /** Lone runs by request and steps: the tests compare several batches with the same references. */
  static final java.util.Map<String, Traced> REFS = new java.util.concurrent.ConcurrentHashMap<>();

  static Traced alone(GenerationRequest r, int steps) {
    return REFS.computeIfAbsent(r + "/" + steps, k -> runAlone(r, steps));
  }

  static Traced runAlone(GenerationRequest r, int steps) {
    List<StepEvent> events = new ArrayList<>();
    RunResult res = pipeline.run(r, e -> {
      events.add(e);
      return steps == r.iterations() || e.iteration() < steps - 1; // all steps: completed, as in a batch
    });
    return new Traced(res, events);
  }

  static void assertSame(Traced expected, RunResult actual, List<StepEvent> events, String what) {
    assertArrayEquals(expected.result().image().toFloats(), actual.image().toFloats(), what + ": image");
    assertArrayEquals(expected.result().latent().toFloats(), actual.latent().toFloats(), what + ": latent");
    assertArrayEquals(expected.result().checkpoint().optimizerState(), actual.checkpoint().optimizerState(), what + ": optimizer state");
    assertEquals(expected.result().manifest().stopReason(), actual.manifest().stopReason(), what);
    assertEquals(expected.result().manifest().iterationsRun(), actual.manifest().iterationsRun(), what);
    assertEquals(expected.events().size(), events.size(), what + ": events");
    for (int i = 0; i < events.size(); i++) {
      StepEvent a = expected.events().get(i);
      StepEvent b = events.get(i);
      assertEquals(a.loss(), b.loss(), what + ": loss at " + i);
      assertEquals(a.terms(), b.terms(), what + ": terms at " + i);
      assertEquals(a.image() == null, b.image() == null, what + ": image attached at " + i);
      if (a.image() != null) {
        assertArrayEquals(a.image().toFloats(), b.image().toFloats(), what + ": event image at " + i);
      }
    }
  }

  @Test
  void batchesOfTwoAndFourAreBitIdenticalToTheSameRequestsRunAlone() {
    int iterations = ITERATIONS;
    List<GenerationRequest> rs = requests(iterations);
    List<Traced> refs = new ArrayList<>();
    for (GenerationRequest r : rs) {
      refs.add(alone(r, iterations));
    }
    for (int size : new int[] {2, 4}) {
      List<List<StepEvent>> events = new ArrayList<>();
      List<StepBatch.Member> ms = new ArrayList<>();
      for (int i = 0; i < size; i++) {
        List<StepEvent> ev = new ArrayList<>();
        events.add(ev);
        ms.add(StepBatch.Member.of(rs.get(i), e -> ev.add(e)));
      }
      List<StepBatch.Outcome> out = StepBatch.run(pipeline, ms);
      for (int i = 0; i < size; i++) {
        assertNull(out.get(i).failure());
        assertSame(refs.get(i), out.get(i).get(), events.get(i), "batch of " + size + ", request " + i);
      }
    }
  }

  @Test
  void aRunCancelledInsideABatchLeavesItWithItsLastImageAndTheOthersGoOnUnchanged() {
    int iterations = ITERATIONS;
    List<GenerationRequest> rs = requests(iterations).subList(0, 3);
    AtomicBoolean cancel = new AtomicBoolean();
    List<List<StepEvent>> events = new ArrayList<>();
    List<StepBatch.Member> ms = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      List<StepEvent> ev = new ArrayList<>();
      events.add(ev);
      boolean victim = i == 1;
      ms.add(new StepBatch.Member(rs.get(i), null, Pipeline.CheckpointSettings.none(), List.of(e -> {
        ev.add(e);
        if (victim && e.iteration() == 1) {
          cancel.set(true); // seen at this step's boundary: the run ends after 2 iterations
        }
        return true;
      }), victim ? cancel::get : null, null));
    }
    // The third member is stopped by its listener after 3 iterations: the batch shrinks twice.
    List<StepBatch.Member> all = new ArrayList<>(ms);
    StepBatch.Member third = all.get(2);
    all.set(2, new StepBatch.Member(third.request(), null, third.checkpoints(),
        List.of(third.listeners().get(0), e -> e.iteration() < 2), null, null));
    List<StepBatch.Outcome> out = StepBatch.run(pipeline, all);
    RunResult cancelled = out.get(1).get();
    assertEquals("cancelled", cancelled.manifest().stopReason());
    assertEquals(2, cancelled.manifest().iterationsRun());
    assertEquals(2, cancelled.checkpoint().iteration(), "a cancelled run keeps its checkpoint");
    assertSame(alone(rs.get(0), iterations), out.get(0).get(), events.get(0), "the member that stayed");
    Traced ref1 = alone(rs.get(1), 2);
    assertArrayEquals(ref1.result().image().toFloats(), cancelled.image().toFloats(), "the cancelled run's last image");
    assertArrayEquals(ref1.result().latent().toFloats(), cancelled.latent().toFloats());
    assertEquals(2, events.get(1).size());
    Traced ref2 = alone(rs.get(2), 3);
    assertSame(ref2, out.get(2).get(), events.get(2), "the member stopped by its listener");
  }

  @Test
  void incompatibleRequestsFallBackToLoneRunsWithTheReasonStated() {
    int iterations = ITERATIONS;
    GenerationRequest a = requests(iterations).get(0);
    GenerationRequest b = requests(iterations).get(1);
    GenerationRequest otherSize = a.toBuilder().size(48, 32).seed(5).build();
    GenerationRequest otherCuts = a.toBuilder().cutouts(2).seed(6).build();
    float[] source = new float[3 * 32 * 32];
    java.util.Arrays.fill(source, 0.5f);
    GenerationRequest edit = a.toBuilder().init(new Init.FromImage(ai.vqclip.core.Tensor.ofFloats(new long[] {1, 3, 32, 32}, source)))
        .edit(new EditDirection("grey", "red", 1.25, 1.0, 16)).seed(7).build();
    GenerationRequest lockstep = a.toBuilder().imagePromptsLockstep(true).seed(8).build();

    assertNull(StepBatch.whyNotBatchable(pipeline, a));
    assertTrue(StepBatch.whyNotBatchable(pipeline, edit).contains("edits"), StepBatch.whyNotBatchable(pipeline, edit));
    assertTrue(StepBatch.whyNotBatchable(pipeline, lockstep).contains("lockstep"));
    assertTrue(StepBatch.whyNotTogether(a, otherSize).contains("48x32"), StepBatch.whyNotTogether(a, otherSize));
    assertNull(StepBatch.whyNotTogether(a, b));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> StepBatch.run(pipeline, List.of(StepBatch.Member.of(a), StepBatch.Member.of(otherCuts))));
    assertTrue(e.getMessage().contains("cutouts 2"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> StepBatch.run(pipeline, List.of(StepBatch.Member.of(a), StepBatch.Member.of(edit))));
    Pipeline withLoss = Pipeline.builder(generator, new StandardCutouts()).encoder(encoder).options(TinyModels.CPU)
        .loss(new ai.vqclip.core.Loss() {
          @Override
          public String name() {
            return "zero";
          }

          @Override
          public ai.vqclip.core.graph.Value build(Context ctx) {
            return ctx.builder().scalar(0, ai.vqclip.core.graph.DType.FLOAT);
          }
        }).build();
    assertNull(StepBatch.whyNotBatchable(withLoss, a), "user loss terms batch: each run's terms are built and fed per run");
    assertEquals(List.of(List.of(0, 1)), StepBatch.plan(withLoss, List.of(a, b), 4));

    List<GenerationRequest> mixed = List.of(a, otherSize, edit, b, otherCuts, lockstep);
    assertEquals(List.of(List.of(0, 3), List.of(1), List.of(2), List.of(4), List.of(5)), StepBatch.plan(pipeline, mixed, 4));
    assertEquals(List.of(List.of(0), List.of(1), List.of(2), List.of(3), List.of(4), List.of(5)), StepBatch.plan(pipeline, mixed, 1));
    // Run (the edit and lockstep requests, slow to compile, are left to the plan above): a and b batch, the others run alone.
    List<GenerationRequest> some = List.of(a, otherSize, b, otherCuts);
    List<StepBatch.Outcome> out = StepBatch.runAll(pipeline, some, 4);
    for (int i = 0; i < some.size(); i++) {
      assertArrayEquals(alone(some.get(i), iterations).result().image().toFloats(), out.get(i).get().image().toFloats(), "request " + i);
    }
  }

  @Test
  void userLossesLossWeightsAndAnotherPromptDistanceBatchBitIdentically() {
    // A user term fed per step from the run's own state, a reweighted built-in term and the cosine distance:
    // each run's terms are built by the lone run's code and fed under the run's own prefix.
    ai.vqclip.core.Loss dark = new ai.vqclip.core.Loss() {
      @Override
      public String name() {
        return "dark";
      }

      @Override
      public ai.vqclip.core.graph.Value build(Context ctx) {
        ai.vqclip.core.graph.GraphBuilder g = ctx.builder();
        ai.vqclip.core.graph.Value w = g.input("dark/weight", ai.vqclip.core.graph.DType.FLOAT, ai.vqclip.core.graph.Shape.scalar());
        return g.mul(g.reduceMean(ctx.image(), false), w);
      }

      @Override
      public java.util.Map<String, ai.vqclip.core.Tensor> stepInputs(Step step) {
        return java.util.Map.of("dark/weight", ai.vqclip.core.Tensor.scalar(ai.vqclip.core.graph.DType.FLOAT, 0.5 + 0.1 * step.iteration()));
      }
    };
    Pipeline custom = Pipeline.builder(generator, new StandardCutouts()).encoder(encoder).options(TinyModels.CPU).loss(dark)
        .lossWeight("text0", 2).promptLoss(ai.vqclip.core.loss.PromptLosses.COSINE).build();
    List<GenerationRequest> rs = requests(ITERATIONS).subList(0, 2);
    assertNull(StepBatch.whyNotBatchable(custom, rs.get(0)));
    List<Traced> refs = new ArrayList<>();
    for (GenerationRequest r : rs) {
      List<StepEvent> events = new ArrayList<>();
      refs.add(new Traced(custom.run(r, e -> events.add(e) || true), events));
    }
    List<List<StepEvent>> events = List.of(new ArrayList<>(), new ArrayList<>());
    List<StepBatch.Outcome> out = StepBatch.run(custom,
        List.of(StepBatch.Member.of(rs.get(0), e -> events.get(0).add(e)), StepBatch.Member.of(rs.get(1), e -> events.get(1).add(e))));
    for (int i = 0; i < 2; i++) {
      assertSame(refs.get(i), out.get(i).get(), events.get(i), "custom losses, request " + i);
      assertTrue(events.get(i).get(0).terms().containsKey("loss:dark"), events.get(i).get(0).terms().toString());
    }
  }

  @Test
  void theServiceBatchesWaitingCompatibleJobsUpToMaxBatch() throws Exception {
    int iterations = ITERATIONS;
    List<GenerationRequest> rs = new ArrayList<>(requests(iterations));
    rs.add(rs.get(0).toBuilder().seed(11).build());
    GenerationRequest otherSize = rs.get(0).toBuilder().size(48, 32).seed(5).build();
    java.util.concurrent.CountDownLatch hold = new java.util.concurrent.CountDownLatch(1);
    try (GenerationService service = GenerationService.builder(pipeline).maxConcurrent(1).maxBatch(4).queueCapacity(16).build()) {
      assertEquals(4, service.maxBatch());
      GenerationJob blocker = service.submit(rs.get(4).toBuilder().seed(12).build(), e -> {
        try {
          hold.await();
        } catch (InterruptedException ex) {
          Thread.currentThread().interrupt();
        }
        return true;
      });
      while (blocker.state() == GenerationJob.State.QUEUED) {
        Thread.sleep(5);
      }
      List<GenerationJob> jobs = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        jobs.add(service.submit(rs.get(i)));
      }
      GenerationJob other = service.submit(otherSize);
      GenerationJob late = service.submit(rs.get(4));
      GenerationJob victim = jobs.get(2);
      victim.onProgress(e -> {
        if (e.iteration() == 1) {
          victim.cancel();
        }
      });
      hold.countDown();
      assertEquals("completed", blocker.result().get(60, TimeUnit.SECONDS).manifest().stopReason());
      assertEquals(1, blocker.batchSize());
      for (int i = 0; i < 4; i++) {
        RunResult r = jobs.get(i).result().get(60, TimeUnit.SECONDS);
        assertEquals(4, jobs.get(i).batchSize(), "job " + i + " ran in the batch of the four waiting compatible jobs");
        int ran = i == 2 ? 2 : iterations;
        assertEquals(i == 2 ? "cancelled" : "completed", r.manifest().stopReason());
        assertEquals(i == 2 ? GenerationJob.State.CANCELLED : GenerationJob.State.SUCCEEDED, jobs.get(i).state());
        assertArrayEquals(alone(rs.get(i), ran).result().image().toFloats(), r.image().toFloats(), "job " + i);
      }
      assertArrayEquals(alone(otherSize, iterations).result().image().toFloats(), other.result().get(60, TimeUnit.SECONDS).image().toFloats());
      assertEquals(1, other.batchSize(), "a different size runs alone");
      assertArrayEquals(alone(rs.get(4), iterations).result().image().toFloats(), late.result().get(60, TimeUnit.SECONDS).image().toFloats());
      assertEquals(1, late.batchSize(), "the batch was full: the fifth compatible job ran after it");
    }
    assertThrows(IllegalArgumentException.class, () -> GenerationService.builder(pipeline).maxBatch(0));
  }

  @Test
  void theLibraryBatchingExampleRunsAsDocumented() throws Exception {
    GenerationRequest request = requests(ITERATIONS).get(0);
    List<GenerationJob> seen = new ArrayList<>();
    // ---- as in docs/library.md, "Batching" (keep the two identical) ----
    try (GenerationService service = GenerationService.builder(pipeline).maxConcurrent(1).maxBatch(4)
        .batchWait(Duration.ofMillis(200)) // a starting batch waits this long for company
        .queueCapacity(64).build()) {
      List<GenerationJob> jobs = new ArrayList<>();
      for (long seed = 0; seed < 4; seed++) {
        jobs.add(service.submit(request.toBuilder().seed(seed).build()));
      }
      for (GenerationJob job : jobs) {
        RunResult r = job.result().join(); // the pixels of the same request run alone
        System.out.println("seed " + r.manifest().seed() + ": in a batch of " + job.batchSize());
      }
      seen.addAll(jobs);
    }
    // ---- end of the example ----
    for (GenerationJob job : seen) {
      assertEquals(4, job.batchSize(), "submitted together, the four ran as one batch");
      assertArrayEquals(alone(job.request(), ITERATIONS).result().image().toFloats(), job.result().join().image().toFloats());
    }
    String doc = java.nio.file.Files.readString(Path.of("..", "docs", "library.md"));
    int section = doc.indexOf("### Batching");
    assertTrue(section >= 0, "docs/library.md has a section 'Batching'");
    int start = doc.indexOf("```java\n", section) + 8;
    String block = doc.substring(start, doc.indexOf("```", start));
    List<String> body = java.nio.file.Files.readString(Path.of("src/test/java/ai/vqclip/pipeline/StepBatchTest.java")).lines()
        .map(String::strip).toList();
    for (String line : block.lines().map(String::strip).filter(l -> !l.isEmpty()).toList()) {
      assertTrue(body.contains(line), "the example line '" + line + "' of docs/library.md is in this test");
    }
  }
}
