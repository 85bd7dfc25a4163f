package ai.vqclip.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.augment.StandardCutouts;
import ai.vqclip.core.Augmentation;
import ai.vqclip.core.LearningRateSchedule;
import ai.vqclip.core.Loss;
import ai.vqclip.core.Optimizer;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import ai.vqclip.core.loss.PromptLosses;
import ai.vqclip.core.loss.SphericalDistance;
import ai.vqclip.core.loss.TotalVariation;
import ai.vqclip.core.optim.OptimizerConfig;
import ai.vqclip.core.optim.Schedules;
import ai.vqclip.core.pipeline.Checkpoint;
import ai.vqclip.core.pipeline.GenerationRequest;
import ai.vqclip.core.pipeline.Pipeline;
import ai.vqclip.core.pipeline.RunResult;
import ai.vqclip.core.prompt.PromptSchedule;
import ai.vqclip.onnx.clip.ClipEncoder;
import ai.vqclip.onnx.vqgan.VqganGenerator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The plug points (Optimizer, LearningRateSchedule, Augmentation, Loss, PromptLoss) on tiny models. */
class PlugPointsTest extends WithTinyPipeline {
  @TempDir Path dir;

  static GenerationRequest.Builder request() {
    return GenerationRequest.builder(16, 16, PromptSchedule.parse("a red circle", 1)).cutouts(2).iterations(6).seed(3);
  }

  /** Plain gradient descent, written as a user would: z -= lr * grad, stateless. */
  static final class Descent implements Optimizer {
    @Override
    public String name() {
      return "Descent";
    }

    private final double rate;

    Descent(double rate) {
      this.rate = rate;
    }

    @Override
    public double learningRate() {
      return rate;
    }

    @Override
    public State start(int size) {
      return new State() {
        int steps;

        @Override
        public void step(float[] z, float[] grad, double lr) {
          for (int i = 0; i < z.length; i++) {
            z[i] -= (float) lr * grad[i];
          }
          steps++;
        }

        @Override
        public int steps() {
          return steps;
        }

        @Override
        public float[] save() {
          return new float[1];
        }

        @Override
        public void restore(float[] state, int stepCount) {
          steps = stepCount;
        }
      };
    }
  }

  /** Momentum descent with its velocity as state (one value per parameter): resume must restore it. */
  static final class Momentum implements Optimizer {
    @Override
    public double learningRate() {
      return 2;
    }

    @Override
    public State start(int size) {
      return new State() {
        final float[] v = new float[size];
        int steps;

        @Override
        public void step(float[] z, float[] grad, double lr) {
          for (int i = 0; i < z.length; i++) {
            v[i] = 0.8f * v[i] + grad[i];
            z[i] -= (float) lr * v[i];
          }
          steps++;
        }

        @Override
        public int steps() {
          return steps;
        }

        @Override
        public float[] save() {
          return v.clone();
        }

        @Override
        public void restore(float[] state, int stepCount) {
          System.arraycopy(state, 0, v, 0, size);
          steps = stepCount;
        }
      };
    }
  }

  /** Runs r uninterrupted while keeping the checkpoint written after iteration 3, then resumes from it. */
  private void assertResumeIsBitIdentical(GenerationRequest r, String what) throws Exception {
    Path ckpt = dir.resolve("run.ckpt");
    Path copy = dir.resolve("at3.ckpt");
    RunResult whole = pipeline.run(r, null, new Pipeline.CheckpointSettings(ckpt, 3), List.of(e -> {
      if (e.iteration() == 3) { // the checkpoint of iteration 3 was written after the previous step
        try {
          Files.copy(ckpt, copy, StandardCopyOption.REPLACE_EXISTING);
        } catch (java.io.IOException x) {
          throw new java.io.UncheckedIOException(x);
        }
      }
      return true;
    }));
    Checkpoint c = Checkpoint.load(copy);
    assertEquals(3, c.iteration(), what);
    RunResult resumed = pipeline.run(r, c, Pipeline.CheckpointSettings.none(), List.of());
    assertArrayEquals(whole.latent().toFloats(), resumed.latent().toFloats(), what + ": resumed latent");
    assertEquals(whole.image(), resumed.image(), what + ": resumed image");
    assertFalse(java.util.Arrays.equals(c.latent(), whole.latent().toFloats()), what + ": the run moved after the checkpoint");
  }

  @Test
  void resumeIsBitIdenticalForBuiltInOptimizersAUserOptimizerAndAStatefulSchedule() throws Exception {
    // Every built-in kind through a checkpoint file: OptimizerResumeTest (vqclip-core); here two through whole runs.
    for (OptimizerConfig.Kind k : List.of(OptimizerConfig.Kind.ADAMW, OptimizerConfig.Kind.SGD)) {
      assertResumeIsBitIdentical(request().optimizer(OptimizerConfig.of(k)).build(), k.toString());
    }
    assertResumeIsBitIdentical(request().optimizer(new Momentum()).build(), "user optimizer with state");
    // Plateau with patience 1 reduces the rate at almost every step: its state must survive the checkpoint.
    LearningRateSchedule s = Schedules.warmup(2).then(Schedules.plateau(1, 0.5, 1e9, 0.01));
    assertResumeIsBitIdentical(request().schedule(s).build(), "warm-up then plateau schedule");
  }

  @Test
  void userOptimizerMovesTheLatentAsPlainDescentDoes() {
    float[] user = pipeline.run(request().optimizer(new Descent(20)).build()).latent().toFloats();
    // ND4J's SGD without momentum is the same rule.
    float[] sgd = pipeline.run(request().optimizer(new OptimizerConfig(OptimizerConfig.Kind.SGD, 20, 0, 0, 1e-8, 0)).build())
        .latent().toFloats();
    float[] start = generator.randomLatent(16, 16, 3).toFloats();
    double moved = 0;
    for (int i = 0; i < user.length; i++) {
      assertEquals(sgd[i], user[i], 1e-4 * (1 + Math.abs(sgd[i])), "latent value " + i);
      moved = Math.max(moved, Math.abs(user[i] - start[i]));
    }
    assertTrue(moved > 1e-3, "the user optimizer moved the latent by at most " + moved);
  }

  @Test
  void userScheduleThatStopsTheRateFreezesTheLatent() {
    LearningRateSchedule stopAfter3 = () -> (iteration, rate) -> iteration < 3 ? rate : 0;
    float[] frozen = pipeline.run(request().schedule(stopAfter3).build()).latent().toFloats();
    float[] three = pipeline.run(request().iterations(3).build()).latent().toFloats();
    float[] six = pipeline.run(request().build()).latent().toFloats();
    assertArrayEquals(three, frozen);
    assertFalse(java.util.Arrays.equals(three, six), "a constant rate keeps moving after iteration 3");
  }

  /**
   * Fades each cutout toward grey by a per-cutout amount drawn on the host: with amount 1 the
   * encoder sees grey whatever the latent is, so no gradient reaches z.
   */
  record Fade(double amount) implements Augmentation {
    @Override
    public Value apply(GraphBuilder b, Value cutouts, String prefix) {
      long n = cutouts.shape().size(0);
      Value a = b.input(prefix + "amount", DType.FLOAT, Shape.of(n, 1, 1, 1));
      Value keep = b.sub(b.scalar(1, DType.FLOAT), a);
      return b.add(b.mul(cutouts, keep), b.mul(a, b.scalar(0.5, DType.FLOAT)));
    }

    @Override
    public Map<String, Tensor> sample(RandomGenerator rng, int cutn, int size) {
      double[] v = new double[cutn];
      java.util.Arrays.fill(v, amount);
      rng.nextDouble(); // draws like a real augmentation, so the later stages see another stream
      return Map.of("amount", Tensor.fromDoubles(DType.FLOAT, new long[] {cutn, 1, 1, 1}, v));
    }
  }

  @Test
  void userAugmentationComposesWithBuiltInOnesInOneGraph() {
    GenerationRequest builtIn = request().augmentations(List.of("Af", "Pe")).build();
    float[] start = generator.randomLatent(16, 16, 3).toFloats();
    float[] withCodes = pipeline.run(builtIn).latent().toFloats();
    assertFalse(java.util.Arrays.equals(start, withCodes));
    // Fully faded cutouts carry no gradient: Adam never moves z, although Af and Pe still run.
    float[] faded = pipeline.run(builtIn.toBuilder().augment(new Fade(1)).build()).latent().toFloats();
    assertArrayEquals(start, faded);
    // Half faded: the graph has both, and the run differs from the built-in ones alone.
    float[] half = pipeline.run(builtIn.toBuilder().augment(new Fade(0.5)).build()).latent().toFloats();
    assertFalse(java.util.Arrays.equals(withCodes, half));
    assertFalse(java.util.Arrays.equals(start, half));
    Pipeline.StepSnapshot snap = pipeline.snapshot(builtIn.toBuilder().augment(new Fade(0.5)).build(), 0, generator.randomLatent(16, 16, 3));
    assertTrue(snap.inputs().keySet().stream().anyMatch(k -> k.endsWith("amount")), "the user stage's input is fed: " + snap.inputs().keySet());
    assertTrue(snap.inputs().keySet().stream().anyMatch(k -> k.endsWith("grid")), "the built-in warps' grid is fed: " + snap.inputs().keySet());
  }

  /** Total variation written by the user with the same graph ops as the built-in term. */
  record UserTv(double weight) implements Loss {
    @Override
    public String name() {
      return "my-tv";
    }

    @Override
    public Value build(Context ctx) {
      return TotalVariation.loss(ctx.builder(), ctx.image(), ctx.builder().scalar(weight, DType.FLOAT));
    }
  }

  @Test
  void replacingABuiltInLossWithAnEquivalentUserLossGivesBitIdenticalPixels() {
    GenerationRequest r = request().tvWeight(0.5).build();
    RunResult builtIn = pipeline.run(r);
    Pipeline replaced = Pipeline.builder(generator, new StandardCutouts()).encoder(encoder).options(TinyModels.CPU)
        .replaceLoss("tv", new UserTv(0.5)).build();
    List<Map<String, Double>> terms = new ArrayList<>();
    RunResult user = replaced.run(r, e -> terms.add(e.terms()) || true);
    assertEquals(builtIn.image(), user.image());
    assertArrayEquals(builtIn.latent().toFloats(), user.latent().toFloats());
    assertTrue(terms.get(0).containsKey("tv"), "the replaced term keeps its name: " + terms.get(0));
  }

  /**
   * The text prompt term written by the user from public pieces, equivalent to the built-in slot
   * "text0" for a one-prompt request: the squared spherical distance of the cutout embeddings to
   * the prompt's text embedding, weighted with weight 1 and no stop.
   */
  record UserTextPrompt(Tensor target) implements Loss {
    @Override
    public String name() {
      return "my-prompt";
    }

    @Override
    public Value build(Context ctx) {
      GraphBuilder b = ctx.builder();
      Value weight = b.input("my-prompt/weight", DType.FLOAT, Shape.scalar());
      Value stop = b.input("my-prompt/stop", DType.FLOAT, Shape.scalar());
      Value t = b.input("my-prompt/target", DType.FLOAT, Shape.of(target.shape()));
      return SphericalDistance.weighted(b, PromptLosses.SPHERICAL.distances(b, ctx.embeddings().get(0), t), weight, stop);
    }

    @Override
    public Map<String, Tensor> stepInputs(int iteration) {
      return Map.of("my-prompt/weight", Tensor.scalar(DType.FLOAT, 1), "my-prompt/stop", Tensor.scalar(DType.FLOAT, Double.NEGATIVE_INFINITY),
          "my-prompt/target", target);
    }
  }

  @Test
  void replacingTheBuiltInPromptLossWithAnEquivalentUserLossGivesBitIdenticalPixels() {
    GenerationRequest r = request().build();
    List<Map<String, Double>> builtInTerms = new ArrayList<>();
    RunResult builtIn = pipeline.run(r, e -> builtInTerms.add(e.terms()) || true);
    Pipeline replaced = Pipeline.builder(generator, new StandardCutouts()).encoder(encoder).options(TinyModels.CPU)
        .replaceLoss("text0", new UserTextPrompt(encoder.embedText("a red circle"))).build();
    List<Map<String, Double>> terms = new ArrayList<>();
    RunResult user = replaced.run(r, e -> terms.add(e.terms()) || true);
    assertArrayEquals(builtIn.image().toFloats(), user.image().toFloats());
    assertArrayEquals(builtIn.latent().toFloats(), user.latent().toFloats());
    assertEquals(builtInTerms, terms, "the replaced slot keeps its label (the prompt) and gives the same values");
    // Removing the slot instead leaves no loss term: refused with a clear message.
    Pipeline none = Pipeline.builder(generator, new StandardCutouts()).encoder(encoder).options(TinyModels.CPU).replaceLoss("text0", null)
        .build();
    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> none.run(r));
    assertTrue(e.getMessage().contains("no loss term"), e.getMessage());
    e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> Pipeline.builder(generator, new StandardCutouts()).replaceLoss("text", null));
    assertTrue(e.getMessage().contains("text<N>"), e.getMessage());
  }

  @Test
  void userLossReweightingAndPromptLossStrategyChangeTheResultAsExpected() {
    // A user loss that rewards dark images: the mean brightness falls compared with the prompt alone.
    Loss dark = new Loss() {
      @Override
      public String name() {
        return "dark";
      }

      @Override
      public Value build(Context ctx) {
        return ctx.builder().mul(ctx.builder().reduceMean(ctx.image(), false), ctx.builder().scalar(5, DType.FLOAT));
      }
    };
    GenerationRequest r = request().iterations(8).build();
    double plain = mean(pipeline.run(r).image());
    Pipeline darkening = Pipeline.builder(generator, new StandardCutouts()).encoder(encoder).options(TinyModels.CPU).loss(dark).build();
    double darker = mean(darkening.run(r).image());
    assertTrue(darker < plain - 0.01, "mean brightness " + darker + " with the dark loss, " + plain + " without");
    // Weight 0 on the prompt slot and on the user loss: no gradient, z stays where it started.
    Pipeline off = Pipeline.builder(generator, new StandardCutouts()).encoder(encoder).options(TinyModels.CPU).loss(dark)
        .lossWeight("text0", 0).lossWeight("dark", 0).build();
    assertArrayEquals(generator.randomLatent(16, 16, 3).toFloats(), off.run(r).latent().toFloats());
    // Cosine prompt distance: 1 - cos in [0, 2], a different run from the spherical one.
    Pipeline cosine = Pipeline.builder(generator, new StandardCutouts()).encoder(encoder).options(TinyModels.CPU)
        .promptLoss(PromptLosses.COSINE).build();
    List<Double> cos = new ArrayList<>();
    RunResult c = cosine.run(r, e -> cos.add(e.terms().get("a red circle")) || true);
    assertNotEquals(pipeline.run(r).image(), c.image());
    assertTrue(cos.get(cos.size() - 1) < cos.get(0), "cosine prompt loss falls: " + cos);
    assertTrue(cos.stream().allMatch(v -> v >= 0 && v <= 2), "cosine distances in [0, 2]: " + cos);
  }

  /** A generator that forwards to the tiny VQGAN and records the size the pipeline asks its final image at. */
  static final class SizeRecording implements ai.vqclip.core.Generator {
    final List<int[]> sizes = new ArrayList<>();

    @Override
    public long[] latentShape(int width, int height) {
      return generator.latentShape(width, height);
    }

    @Override
    public ai.vqclip.core.graph.Graph synthesisFragment(int width, int height) {
      return generator.synthesisFragment(width, height);
    }

    @Override
    public Tensor randomLatent(int width, int height, long seed) {
      return generator.randomLatent(width, height, seed);
    }

    @Override
    public Tensor encode(Tensor image) {
      return generator.encode(image);
    }

    @Override
    public Tensor decode(Tensor latent) {
      return generator.decode(latent);
    }

    @Override
    public Tensor decode(Tensor latent, int width, int height) {
      sizes.add(new int[] {width, height});
      return ai.vqclip.core.Generator.super.decode(latent, width, height);
    }

    @Override
    public Tensor[] latentBounds() {
      return generator.latentBounds();
    }

    @Override
    public void close() {}
  }

  @Test
  void theFinalImageIsDecodedAtTheRunsSize() {
    SizeRecording g = new SizeRecording();
    Pipeline p = Pipeline.builder(g, new StandardCutouts()).encoder(encoder).options(TinyModels.CPU).build();
    RunResult r = p.run(request().size(16, 8).iterations(1).build());
    assertEquals(1, g.sizes.size());
    assertArrayEquals(new int[] {16, 8}, g.sizes.get(0));
    assertArrayEquals(new long[] {1, 3, 8, 16}, r.image().shape());
  }

  private static double mean(Tensor t) {
    return java.util.Arrays.stream(t.toDoubles()).average().orElseThrow();
  }
}
