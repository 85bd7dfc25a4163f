package ai.vqclip.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.augment.StandardCutouts;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import ai.vqclip.core.optim.OptimizerConfig;
import ai.vqclip.core.pipeline.Checkpoint;
import ai.vqclip.core.pipeline.DivergedException;
import ai.vqclip.core.pipeline.GenerationRequest;
import ai.vqclip.core.pipeline.Init;
import ai.vqclip.core.Loss;
import ai.vqclip.core.pipeline.Pipeline;
import ai.vqclip.core.pipeline.RunResult;
import ai.vqclip.core.StepEvent;
import ai.vqclip.core.prompt.Prompt;
import ai.vqclip.core.prompt.PromptSchedule;
import ai.vqclip.onnx.clip.ClipEncoder;
import ai.vqclip.onnx.vqgan.VqganGenerator;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole method on tiny models with seeded random weights, through the real engine. */
class PipelineTest extends WithTinyPipeline {
  @TempDir Path dir;

  static GenerationRequest.Builder request(String prompts) {
    return GenerationRequest.builder(32, 32, PromptSchedule.parse(prompts, 10)).cutouts(4).iterations(50).seed(3)
        .optimizer(OptimizerConfig.adam(0.1));
  }

  /** Per-iteration values of one term. */
  static List<Double> trace(GenerationRequest r, String term) {
    List<Double> v = new ArrayList<>();
    pipeline.run(r, e -> v.add(e.terms().get(term)) || true);
    return v;
  }

  static double mean(List<Double> v, int from, int to) {
    return v.subList(from, to).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
  }

  @Test
  void textPromptLossFallsAndNegativePromptDistanceRises() {
    List<Double> pos = trace(request("a red circle").build(), "a red circle");
    assertTrue(mean(pos, 45, 50) < 0.8 * mean(pos, 0, 5), "positive prompt loss " + pos);
    List<Double> neg = trace(request("a red circle:-1").build(), "a red circle");
    // The term is -distance for a negative weight: it falls as the distance rises.
    assertTrue(-mean(neg, 45, 50) > -mean(neg, 0, 5) * 1.05, "negative prompt distance " + neg);
  }

  @Test
  void stopValueHaltsThePromptsPull() {
    GenerationRequest r = request("a red circle:1:100").iterations(5).build();
    RunResult res = pipeline.run(r);
    Tensor start = generator.randomLatent(32, 32, r.seed());
    // Distances are below pi^2/2 < 100, so no gradient reaches z and Adam never moves it.
    assertArrayEquals(start.toFloats(), res.latent().toFloats());
  }

  @Test
  void wholeStepGraphGradientPassesFiniteDifferences() {
    // Quantization is piecewise constant, so the check differentiates with respect to the
    // quantized latent: z is a codebook-valued latent, and the straight-through gradient is the
    // gradient w.r.t. z_q (VqganGraphsTest checks that identity separately). Here we check the
    // rest of the step (decoder, cutouts with fixed parameters, CLIP, the loss terms) by feeding
    // the decoder's input directly: the "z" of a graph without the quantizer.
    GenerationRequest r = request("a red circle:1.5|blue:-0.5").augmentations(List.of("Af", "Ji")).tvWeight(0.1)
        .regularization(new ai.vqclip.core.pipeline.Regularization(0.3, ai.vqclip.core.pipeline.Regularization.Target.ZERO,
            new ai.vqclip.core.loss.LatentRegularization.Decay.Harmonic())).build();
    Pipeline.StepSnapshot snap = pipeline.snapshot(r, 3, generator.randomLatent(32, 32, 1));
    Graph g = withoutQuantizer(snap.graph());
    ai.vqclip.onnx.testing.GradCheck.assertGradient(g, snap.inputs(), List.of("z"), 1e-2, ai.vqclip.onnx.testing.GradCheck.TOL_F32, 3);
  }

  /**
   * The same graph with the gradient overrides made plain: straight-through nodes forward their
   * gradient target (the quantizer's input becomes z_q; the prompt losses' max(d, -inf) is d) and
   * clamp-with-gradient becomes the identity (random weights decode outside [0, 1], where a true
   * clamp's derivative and clamp-with-gradient's differ by design; both have their own checks).
   */
  static Graph withoutQuantizer(Graph g) {
    return g.mapNodes(n -> !n.domain().equals(Graph.VQCLIP_DOMAIN) ? n
        : new ai.vqclip.core.graph.Node(n.name(), "Identity", "",
            List.of(n.inputs().get(n.opType().equals("StraightThrough") ? 1 : 0)), n.outputs(), Map.of()));
  }

  @Test
  void maskedEditNeverChangesLatentOutsideTheMask() {
    SplittableRandom rnd = new SplittableRandom(4);
    float[] px = new float[3 * 32 * 32];
    for (int i = 0; i < px.length; i++) {
      px[i] = (float) rnd.nextDouble();
    }
    Tensor init = Tensor.ofFloats(new long[] {1, 3, 32, 32}, px);
    float[] m = new float[32 * 32];
    for (int y = 0; y < 32; y++) {
      for (int x = 16; x < 32; x++) {
        m[y * 32 + x] = 1; // right half editable
      }
    }
    GenerationRequest r = request("a red circle").iterations(20).init(new Init.FromImage(init))
        .mask(Tensor.ofFloats(new long[] {1, 1, 32, 32}, m)).build();
    float[] z0 = generator.encode(init).toFloats();
    float[] z1 = pipeline.run(r).latent().toFloats();
    int changed = 0;
    for (int c = 0; c < 4; c++) {
      for (int y = 0; y < 16; y++) {
        for (int x = 0; x < 16; x++) {
          int k = (c * 16 + y) * 16 + x;
          if (x < 8) {
            assertEquals(Float.floatToIntBits(z0[k]), Float.floatToIntBits(z1[k]), "masked cell changed at " + k);
          } else if (z0[k] != z1[k]) {
            changed++;
          }
        }
      }
    }
    assertTrue(changed > 0, "the editable half never changed");
  }

  @Test
  void sameSeedIsBitIdenticalAndResumeEqualsUninterrupted() {
    GenerationRequest r = request("a red circle|a square:0.5").iterations(12).augmentations(List.of("Af", "Pe", "Ji", "Er")).build();
    RunResult a = pipeline.run(r);
    RunResult b = pipeline.run(r);
    assertArrayEquals(a.latent().toFloats(), b.latent().toFloats());
    assertEquals(a.image(), b.image());
    RunResult other = pipeline.run(r.toBuilder().seed(4).build());
    assertNotEquals(a.image(), other.image());

    Path ckpt = dir.resolve("run.ckpt");
    List<Integer> seen = new ArrayList<>();
    pipeline.run(r, null, new Pipeline.CheckpointSettings(ckpt, 5), List.of(e -> {
      seen.add(e.iteration());
      return e.iteration() < 6; // "killed" after iteration 6; checkpoints at 5 and at the stop (7)
    }));
    Checkpoint c = Checkpoint.load(ckpt);
    assertEquals(7, c.iteration());
    RunResult resumed = pipeline.run(r, c, Pipeline.CheckpointSettings.none(), List.of());
    assertArrayEquals(a.latent().toFloats(), resumed.latent().toFloats());
    assertEquals(a.image(), resumed.image());
    assertEquals(12, resumed.manifest().iterationsRun());
  }

  @Test
  void memorySavingRecomputesTheDecoderWithBitIdenticalRuns() {
    GenerationRequest r = request("a red circle").iterations(6).augmentations(List.of("Af", "Pe")).build();
    Pipeline on = withMemorySaving(Pipeline.MemorySaving.ON);
    Pipeline off = withMemorySaving(Pipeline.MemorySaving.OFF);
    assertFalse(on.gradientRequest(r).recompute().isEmpty(), "ON names segments to recompute");
    assertTrue(off.gradientRequest(r).recompute().isEmpty(), "OFF recomputes nothing");
    // AUTO leaves a small image alone: this pipeline's requests are 32x32.
    assertTrue(pipeline.gradientRequest(r).recompute().isEmpty(), "AUTO recomputes at 32x32");
    RunResult a = on.run(r);
    RunResult b = off.run(r);
    assertArrayEquals(b.latent().toFloats(), a.latent().toFloats());
    assertEquals(b.image(), a.image());
  }

  @Test
  void maxMemorySavingRecomputesTheEncoderBlocksWithBitIdenticalRuns() {
    GenerationRequest r = request("a red circle").iterations(6).augmentations(List.of("Af", "Pe")).build();
    Pipeline max = withMemorySaving(Pipeline.MemorySaving.MAX);
    Pipeline off = withMemorySaving(Pipeline.MemorySaving.OFF);
    List<String> scopes = max.gradientRequest(r).recompute();
    assertTrue(scopes.contains("encoder0/visual/block0"), "MAX recomputes the CLIP blocks: " + scopes);
    assertTrue(scopes.stream().anyMatch(x -> x.startsWith("generator/")), "MAX recomputes the decoder too: " + scopes);
    RunResult a = max.run(r);
    RunResult b = off.run(r);
    assertArrayEquals(b.latent().toFloats(), a.latent().toFloats());
    assertEquals(b.image(), a.image());
  }

  private Pipeline withMemorySaving(Pipeline.MemorySaving m) {
    return Pipeline.builder(generator, new StandardCutouts()).encoder(encoder).options(TinyModels.CPU).memorySaving(m).build();
  }

  @Test
  void storyModeSwitchesPromptsKeepingTheLatent() {
    List<String> labels = new ArrayList<>();
    pipeline.run(request("a cat^a dog").iterations(14).build(), e -> labels.add(String.join(",", e.terms().keySet())) || true);
    assertEquals("a cat", labels.get(9));
    assertEquals("a dog", labels.get(10));
  }

  @Test
  void eventsCarryImagesAndListenersCanStop() {
    List<StepEvent> events = new ArrayList<>();
    RunResult res = pipeline.run(request("a cat").iterations(10).saveEvery(3).build(), e -> events.add(e) && e.iteration() < 4);
    assertEquals(5, events.size());
    assertArrayEquals(new long[] {1, 3, 32, 32}, events.get(3).image().shape());
    assertEquals(null, events.get(1).image());
    assertEquals("stopped by listener", res.manifest().stopReason());
    assertTrue(res.manifest().toJson().contains("\"seed\" : 3"), res.manifest().toJson());
  }

  @Test
  void nanLossStopsNamingTheStepAndKeepsTheLastGoodCheckpoint() {
    Loss poison = new Loss() {
      @Override
      public String name() {
        return "poison";
      }

      @Override
      public Value build(Loss.Context ctx) {
        Value w = ctx.builder().input("poison/w", DType.FLOAT, Shape.scalar());
        return ctx.builder().mul(ctx.builder().reduceMean(ctx.image(), false), w);
      }

      @Override
      public Map<String, Tensor> stepInputs(int iteration) {
        return Map.of("poison/w", Tensor.scalar(DType.FLOAT, iteration == 5 ? Float.NaN : 0));
      }
    };
    Pipeline p = Pipeline.builder(generator, new StandardCutouts()).encoder(encoder).loss(poison).options(TinyModels.CPU).build();
    Path ckpt = dir.resolve("nan.ckpt");
    DivergedException e = assertThrows(DivergedException.class,
        () -> p.run(request("a cat").iterations(10).build(), null, new Pipeline.CheckpointSettings(ckpt, 2), List.of()));
    assertEquals(5, e.iteration());
    assertTrue(e.getMessage().contains("iteration 5"), e.getMessage());
    assertEquals(4, Checkpoint.load(ckpt).iteration());
  }

  @Test
  void fromToEditWithClipSelfMaskingMovesTowardTheTargetInsideTheRegionOnly() {
    SplittableRandom rnd = new SplittableRandom(8);
    float[] px = new float[3 * 32 * 32];
    for (int i = 0; i < px.length; i++) {
      px[i] = (float) rnd.nextDouble();
    }
    Tensor source = Tensor.ofFloats(new long[] {1, 3, 32, 32}, px);
    float[] saliency = ai.vqclip.core.pipeline.SelfMask.compute(encoder, source, "a red circle", 64, 3); // the run's seed
    assertArrayEquals(saliency, ai.vqclip.core.pipeline.SelfMask.compute(encoder, source, "a red circle", 64, 3));
    double min = 1;
    double max = 0;
    for (float v : saliency) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    assertEquals(0, min, 1e-7);
    assertTrue(max > 0 && max <= 1, "saliency max " + max);
    Tensor region = ai.vqclip.core.pipeline.SelfMask.editRegion(saliency, 32, 32);

    List<StepEvent> events = new ArrayList<>();
    GenerationRequest r = request("a square:0.1").iterations(25).init(new Init.FromImage(source))
        .edit(new ai.vqclip.core.pipeline.EditDirection("a red circle", "a blue star", 1.25, 1.0, 64)).build();
    RunResult res = pipeline.run(r, e -> events.add(e));
    assertTrue(events.get(0).terms().containsKey("direction") && events.get(0).terms().containsKey("content"), events.get(0).terms().toString());
    List<Double> dir = new ArrayList<>();
    events.forEach(e -> dir.add(e.terms().get("direction")));
    assertTrue(mean(dir, 20, 25) < mean(dir, 0, 5), "direction term " + dir);
    // Cells outside the self-mask region never change.
    float[] expectedMask = new float[16 * 16];
    double[] reg = region.toDoubles();
    for (int cy = 0; cy < 16; cy++) {
      for (int cx = 0; cx < 16; cx++) {
        double m = (reg[(2 * cy) * 32 + 2 * cx] + reg[(2 * cy) * 32 + 2 * cx + 1] + reg[(2 * cy + 1) * 32 + 2 * cx]
            + reg[(2 * cy + 1) * 32 + 2 * cx + 1]) / 4;
        expectedMask[cy * 16 + cx] = m >= 0.5 ? 1 : 0;
      }
    }
    float[] z0 = generator.encode(source).toFloats();
    float[] z1 = res.latent().toFloats();
    int frozen = 0;
    for (int k = 0; k < z0.length; k++) {
      if (expectedMask[k % 256] == 0) {
        frozen++;
        assertEquals(Float.floatToIntBits(z0[k]), Float.floatToIntBits(z1[k]), "cell outside the edit region changed: " + k);
      }
    }
    assertTrue(frozen > 0 && frozen < z0.length, "frozen " + frozen);
  }

  @Test
  void pausedRunContinuesFromAnEditedImage() {
    GenerationRequest r = request("a red circle").iterations(8).build();
    Path ckpt = dir.resolve("pause.ckpt");
    RunResult paused = pipeline.run(r, null, new Pipeline.CheckpointSettings(ckpt, 4), List.of(e -> e.iteration() < 3));
    assertEquals(4, paused.checkpoint().iteration());
    // The user edits the image (here: darkens it) and continues from its encoding.
    double[] px = paused.image().toDoubles();
    for (int i = 0; i < px.length; i++) {
      px[i] *= 0.5;
    }
    Tensor edited = Tensor.fromDoubles(DType.FLOAT, paused.image().shape(), px);
    Checkpoint fromEdit = Checkpoint.load(ckpt).withLatent(generator.encode(edited).toFloats());
    List<Integer> its = new ArrayList<>();
    RunResult cont = pipeline.run(r, fromEdit, Pipeline.CheckpointSettings.none(), List.of(e -> its.add(e.iteration())));
    assertEquals(List.of(4, 5, 6, 7), its);
    assertNotEquals(paused.image(), cont.image());
    assertEquals(8, cont.manifest().iterationsRun());
  }

  @Test
  void anEditedLatentBecomesThePullsTargetWhereAPlainLatentDoesNot() {
    // A strong pull towards the start: continuing from an edit with withLatent draws the picture back to
    // the start; withEditedLatent makes the edit the start, and the picture stays near it.
    GenerationRequest r = request("a red circle").iterations(12).regularization(new ai.vqclip.core.pipeline.Regularization(200,
        ai.vqclip.core.pipeline.Regularization.Target.INIT, new ai.vqclip.core.loss.LatentRegularization.Decay.Constant())).build();
    Path ckpt = dir.resolve("pull.ckpt");
    RunResult paused = pipeline.run(r, null, new Pipeline.CheckpointSettings(ckpt, 4), List.of(e -> e.iteration() < 3));
    double[] px = paused.image().toDoubles();
    for (int i = 0; i < px.length; i++) {
      px[i] = 1 - px[i];
    }
    Tensor edited = Tensor.fromDoubles(DType.FLOAT, paused.image().shape(), px);
    float[] z = generator.encode(edited).toFloats();
    Checkpoint c = Checkpoint.load(ckpt);
    assertArrayEquals(z, c.withEditedLatent(z).latentInit());
    assertArrayEquals(c.latentInit(), c.withLatent(z).latentInit());
    Tensor keptEdit = pipeline.run(r, c.withEditedLatent(z), Pipeline.CheckpointSettings.none(), List.of()).image();
    Tensor pulledBack = pipeline.run(r, c.withLatent(z), Pipeline.CheckpointSettings.none(), List.of()).image();
    Tensor editDecoded = generator.decode(Tensor.ofFloats(c.latentShape(), z));
    double kept = meanAbs(keptEdit, editDecoded);
    double back = meanAbs(pulledBack, editDecoded);
    assertTrue(kept < back / 2, "distance to the edit: kept " + kept + ", pulled back " + back);
  }

  private static double meanAbs(Tensor a, Tensor b) {
    double[] x = a.toDoubles();
    double[] y = b.toDoubles();
    double s = 0;
    for (int i = 0; i < x.length; i++) {
      s += Math.abs(x[i] - y[i]);
    }
    return s / x.length;
  }

  @Test
  void imagePromptsEmbeddedOnceOrInLockstep() {
    // The prompt is the image the run starts from: in lockstep, cutout i of the prompt is cutout i
    // of the generated image, so the distance starts near zero (8-bit rounding of the prompt only).
    GenerationRequest base = request("a cat:0.1").iterations(20).augmentations(List.of("Af", "Ji")).build();
    Tensor start = generator.decode(generator.randomLatent(32, 32, base.seed()));
    GenerationRequest once = base.toBuilder()
        .imagePrompt(new ai.vqclip.core.pipeline.ImagePrompt("self.png", start, 1, Double.NEGATIVE_INFINITY)).build();
    GenerationRequest lockstep = once.toBuilder().imagePromptsLockstep(true).build();
    List<Double> a = trace(once, "image:self.png");
    List<Double> b = trace(lockstep, "image:self.png");
    assertTrue(b.get(0) < 1e-3, "lockstep distance at the start " + b.get(0));
    assertTrue(a.get(0) > 10 * b.get(0), "embedded-once distance " + a.get(0) + " vs lockstep " + b.get(0));
    // Other, distant image prompt: its term falls in both modes.
    SplittableRandom rnd = new SplittableRandom(12);
    float[] px = new float[3 * 48 * 48];
    for (int i = 0; i < px.length; i++) {
      px[i] = (float) rnd.nextDouble();
    }
    Tensor other = Tensor.ofFloats(new long[] {1, 3, 48, 48}, px);
    for (boolean ls : new boolean[] {false, true}) {
      List<Double> t = trace(base.toBuilder().imagePromptsLockstep(ls)
          .imagePrompt(new ai.vqclip.core.pipeline.ImagePrompt("noise.png", other, 1, Double.NEGATIVE_INFINITY)).build(), "image:noise.png");
      assertTrue(mean(t, 15, 20) < mean(t, 0, 5), "lockstep=" + ls + ": " + t);
    }
  }

  @Test
  void badInputGetsClearErrors() {
    assertThrows(IllegalArgumentException.class, () -> Prompt.parseAll("cat:heavy"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> pipeline.run(
        GenerationRequest.builder(33, 32, PromptSchedule.parse("a", 1)).iterations(1).cutouts(1).build()));
    assertTrue(e.getMessage().contains("33"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> request("a").cutouts(0).build());
    assertTrue(e.getMessage().contains("cutouts") && e.getMessage().contains("0"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> request("a").size(0, 32).build());
    assertTrue(e.getMessage().contains("size"), e.getMessage());
    float[] nan = new float[3 * 32 * 32];
    nan[7] = Float.NaN;
    e = assertThrows(IllegalArgumentException.class,
        () -> request("a").init(new Init.FromImage(Tensor.ofFloats(new long[] {1, 3, 32, 32}, nan))).build());
    assertTrue(e.getMessage().contains("init image") && e.getMessage().contains("NaN"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> request("a").mask(Tensor.ofFloats(new long[] {1, 1, 16, 16}, new float[256])).build());
    assertTrue(e.getMessage().contains("mask") && e.getMessage().contains("[1,1,32,32]"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> OptimizerConfig.adam(-0.1));
    assertTrue(e.getMessage().contains("learning rate"), e.getMessage());
  }
}
