package ai.vqclip.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.augment.StandardCutouts;
import ai.vqclip.core.Augmentation;
import ai.vqclip.core.Encoder;
import ai.vqclip.core.Generator;
import ai.vqclip.core.Loss;
import ai.vqclip.core.Optimizer;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import ai.vqclip.core.loss.PromptLosses;
import ai.vqclip.core.optim.OptimizerConfig;
import ai.vqclip.core.optim.Schedules;
import ai.vqclip.core.pipeline.GenerationRequest;
import ai.vqclip.core.pipeline.Pipeline;
import ai.vqclip.core.pipeline.RunResult;
import ai.vqclip.core.prompt.PromptSchedule;
import ai.vqclip.onnx.clip.ClipEncoder;
import ai.vqclip.onnx.vqgan.VqganGenerator;
import ai.vqclip.study.OptimizerStudy;
import ai.vqclip.study.StudyPlots;
import ai.vqclip.study.StudyResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The "Plug points" examples of docs/library.md, compiled and run on tiny models (kept identical: see the last test). */
class LibraryPlugPointsExampleTest {
  static VqganGenerator generator;
  static ClipEncoder encoder;
  static final int size = 16;
  static final int cutouts = 2;
  static final int iterations = 6;

  @TempDir Path out;

  @BeforeAll
  static void load() {
    generator = TinyModels.generator();
    encoder = TinyModels.encoder(5);
  }

  @AfterAll
  static void close() {
    encoder.close();
    generator.close();
  }

  static RunResult yourOwnOptimizer(Pipeline pipeline) {
    Optimizer descent = new Optimizer() {
      public double learningRate() { return 10; }
      public State start(int size) {
        return new State() {
          int steps;
          public void step(float[] z, float[] grad, double lr) {
            for (int i = 0; i < z.length; i++) {
              z[i] -= (float) lr * grad[i];
            }
            steps++;
          }
          public int steps() { return steps; }
          public float[] save() { return new float[1]; } // stateless: one slot
          public void restore(float[] state, int stepCount) { steps = stepCount; }
        };
      }
    };
    GenerationRequest request = GenerationRequest.builder(size, size, PromptSchedule.parse("a red circle", 1))
        .cutouts(cutouts).iterations(iterations).optimizer(descent)
        .schedule(Schedules.warmup(5).then(Schedules.cosine(iterations, 0.1))).build();
    return pipeline.run(request);
  }

  static RunResult yourOwnAugmentation(Pipeline pipeline) {
    Augmentation invert = new Augmentation() {
      public Value apply(GraphBuilder b, Value cutouts, String prefix) {
        Value flip = b.input(prefix + "flip", DType.FLOAT, Shape.of(cutouts.shape().size(0), 1, 1, 1)); // 1: invert this cutout
        Value inverted = b.sub(b.scalar(1, DType.FLOAT), cutouts);
        return b.add(b.mul(inverted, flip), b.mul(cutouts, b.sub(b.scalar(1, DType.FLOAT), flip)));
      }
      public Map<String, Tensor> sample(RandomGenerator rng, int cutn, int size) {
        double[] flip = new double[cutn];
        for (int i = 0; i < cutn; i++) {
          flip[i] = rng.nextDouble() < 0.2 ? 1 : 0;
        }
        return Map.of("flip", Tensor.fromDoubles(DType.FLOAT, new long[] {cutn, 1, 1, 1}, flip));
      }
    };
    GenerationRequest request = GenerationRequest.builder(size, size, PromptSchedule.parse("a red circle", 1))
        .cutouts(cutouts).iterations(iterations).augmentations(List.of("Af", "Pe")).augment(invert).build();
    return pipeline.run(request);
  }

  static Pipeline yourOwnLosses(Generator generator, Encoder encoder) {
    Loss brightness = new Loss() {
      public String name() { return "brightness"; }
      public Value build(Loss.Context ctx) {
        GraphBuilder b = ctx.builder();
        Value w = b.input("brightness/weight", DType.FLOAT, Shape.scalar());
        return b.mul(b.reduceMean(ctx.image(), false), w); // lower mean brightness is better
      }
      public Map<String, Tensor> stepInputs(int iteration) {
        return Map.of("brightness/weight", Tensor.scalar(DType.FLOAT, Math.min(1, iteration / 100.0)));
      }
    };
    Pipeline pipeline = Pipeline.builder(generator, new StandardCutouts()).encoder(encoder)
        .loss(brightness) // a term of your own
        .lossWeight("text0", 2) // twice the first text prompt's term
        .replaceLoss("tv", null) // no total variation, whatever the request says (or pass a replacement)
        .promptLoss(PromptLosses.COSINE) // 1 - cos instead of the spherical distance
        .build();
    return pipeline;
  }

  static Pipeline yourOwnPromptTerm(Generator generator, Encoder encoder) {
    Tensor target = encoder.embedText("a red circle");
    Loss myPrompt = new Loss() {
      public String name() { return "my-prompt"; }
      public Value build(Loss.Context ctx) {
        GraphBuilder b = ctx.builder();
        Value t = b.input("my-prompt/target", DType.FLOAT, Shape.of(target.shape()));
        return b.reduceMean(PromptLosses.COSINE.distances(b, ctx.embeddings().get(0), t), false); // mean over the cutouts
      }
      public Map<String, Tensor> stepInputs(int iteration) {
        return Map.of("my-prompt/target", target);
      }
    };
    Pipeline pipeline = Pipeline.builder(generator, new StandardCutouts()).encoder(encoder)
        .replaceLoss("text0", myPrompt) // the first text prompt slot, computed your way
        .lossWeight("text0", 0.5) // and at half weight
        .build();
    return pipeline;
  }

  static StudyResult study(Generator generator, Encoder encoder, Path out) {
    Pipeline pipeline = Pipeline.builder(generator, new StandardCutouts()).encoder(encoder).build();
    GenerationRequest base = GenerationRequest.builder(size, size, PromptSchedule.parse("a red circle", 1))
        .cutouts(cutouts).iterations(iterations).build();
    List<OptimizerConfig> optimizers = List.of(OptimizerConfig.of(OptimizerConfig.Kind.ADAM), OptimizerConfig.of(OptimizerConfig.Kind.SGD));
    StudyResult result = OptimizerStudy.builder(pipeline, encoder, base).variants(OptimizerStudy.grid(optimizers, List.of()))
        .seeds(List.of(0L, 1L)).build().run(run -> System.out.println(run.variant() + " seed " + run.seed() + ": " + run.similarity()));
    result.writeCsv(out.resolve("study.csv"));
    List<String> plots = StudyPlots.write(result, out, "adam vs sgd");
    result.writeReport(out.resolve("report.md"), "Adam vs SGD", plots);
    return result;
  }

  @Test
  void theExamplesRun() {
    Pipeline plain = Pipeline.builder(generator, new StandardCutouts()).encoder(encoder).options(TinyModels.CPU).build();
    float[] start = generator.randomLatent(size, size, 0).toFloats();
    assertFalse(java.util.Arrays.equals(start, yourOwnOptimizer(plain).latent().toFloats()), "the user optimizer moved z");
    assertArrayEquals(new long[] {1, 3, size, size}, yourOwnAugmentation(plain).image().shape());
    List<String> terms = new java.util.ArrayList<>();
    yourOwnLosses(generator, encoder).run(GenerationRequest.builder(size, size, PromptSchedule.parse("a red circle", 1)).cutouts(cutouts)
        .iterations(2).tvWeight(0.5).build(), e -> terms.addAll(e.terms().keySet()) || true);
    assertTrue(terms.contains("loss:brightness") && !terms.contains("tv"), terms.toString());
    List<Map<String, Double>> promptTerms = new java.util.ArrayList<>();
    RunResult mine = yourOwnPromptTerm(generator, encoder).run(GenerationRequest.builder(size, size, PromptSchedule.parse("a red circle", 1))
        .cutouts(cutouts).iterations(2).build(), e -> promptTerms.add(e.terms()) || true);
    assertEquals(java.util.Set.of("a red circle"), promptTerms.get(0).keySet(), "the replaced slot keeps its label");
    double cosine = promptTerms.get(0).get("a red circle");
    assertTrue(cosine >= 0 && cosine <= 1, "half of a cosine distance in [0, 2]: " + cosine);
    assertFalse(java.util.Arrays.equals(plain.run(GenerationRequest.builder(size, size, PromptSchedule.parse("a red circle", 1))
        .cutouts(cutouts).iterations(2).build()).latent().toFloats(), mine.latent().toFloats()), "the replaced term changes the run");
    StudyResult r = study(generator, encoder, out);
    assertEquals(4, r.runs().size());
    assertTrue(Files.isRegularFile(out.resolve("loss-vs-iteration.png")));
  }

  @Test
  void theDocumentShowsThisCode() throws IOException {
    String doc = Files.readString(Path.of("..", "docs", "library.md"));
    int start = doc.indexOf("## Plug points");
    assertTrue(start >= 0, "docs/library.md has a section 'Plug points'");
    String section = doc.substring(start, doc.indexOf("\n## ", start + 3));
    List<String> source = Files.readString(Path.of("src/test/java/ai/vqclip/pipeline/LibraryPlugPointsExampleTest.java")).lines()
        .map(String::strip).toList();
    int blocks = 0;
    for (int i = section.indexOf("```java\n"); i >= 0; i = section.indexOf("```java\n", i + 1)) {
      String block = section.substring(i + 8, section.indexOf("```", i + 8));
      for (String line : block.lines().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("import ")).toList()) {
        assertTrue(source.contains(line), "the example line '" + line + "' of docs/library.md is in this test");
      }
      blocks++;
    }
    assertEquals(5, blocks);
  }
}
