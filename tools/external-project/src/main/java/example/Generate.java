package example;

import ai.vqclip.augment.StandardCutouts;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.image.Images;
import ai.vqclip.core.pipeline.GenerationRequest;
import ai.vqclip.core.pipeline.Pipeline;
import ai.vqclip.core.pipeline.RunResult;
import ai.vqclip.core.prompt.PromptSchedule;
import ai.vqclip.demo.DemoModels;
import ai.vqclip.onnx.clip.ClipEncoder;
import ai.vqclip.onnx.vqgan.VqganGenerator;
import java.nio.file.Path;
import java.util.Map;

/** A user's program: the bundled demo models draw a prompt in a few steps. */
public final class Generate {
  private Generate() {}

  public static void main(String[] args) {
    Path out = Path.of(args.length > 0 ? args[0] : "out.png");
    ExecutionOptions cpu = ExecutionOptions.cpu();
    try (DemoModels.Bundle demo = DemoModels.load();
        VqganGenerator generator = VqganGenerator.load(demo.vqgan(), demo.vqganConfig(), cpu);
        ClipEncoder encoder = ClipEncoder.load(demo.clip(), demo.clipConfig(), demo.tokenizer(), cpu)) {
      Pipeline pipeline = Pipeline.builder(generator, new StandardCutouts()).encoder(encoder).build();
      GenerationRequest request = GenerationRequest.builder(32, 32, PromptSchedule.parse("a red circle on a blue background", 1))
          .iterations(5).cutouts(8).seed(1).build();
      RunResult result = pipeline.run(request, e -> true);
      Images.writePng(result.image(), out, Map.of("vqclip", result.manifest().toJson()));
      System.out.println("wrote " + out + " with vqclip " + result.manifest().vqclipVersion());
      ensembleOnThreads(demo, generator, cpu);
      bestOfThree(demo, generator, cpu);
    }
  }

  /**
   * Reranking as a user builds it: three runs at the candidates' seeds, each picture scored by the
   * bundled CLIP against the prompt, the best kept; a 48x32 picture is resized for the 32x32 CLIPs.
   */
  private static void bestOfThree(DemoModels.Bundle demo, VqganGenerator generator, ExecutionOptions cpu) {
    java.util.List<ClipEncoder> clips = demo.clips().stream().map(c -> c.open(cpu)).toList();
    try {
      Pipeline.Builder b = Pipeline.builder(generator, new StandardCutouts());
      clips.forEach(b::encoder);
      Pipeline pipeline = b.build();
      String prompt = "a yellow star on a blue background";
      ai.vqclip.core.pipeline.Reranking.Scorer scorer = new ai.vqclip.core.pipeline.Reranking.Scorer(clips, prompt);
      double best = Double.NEGATIVE_INFINITY;
      double[] scores = new double[3];
      for (int k = 0; k < 3; k++) {
        GenerationRequest r = GenerationRequest.builder(48, 32, PromptSchedule.parse(prompt, 1)).iterations(3).cutouts(4)
            .seed(ai.vqclip.core.pipeline.Reranking.candidateSeed(5, k)).build();
        RunResult run = pipeline.run(r, e -> true);
        scores[k] = scorer.score(run.image());
        if (scores[k] != scorer.score(run.image())) {
          throw new IllegalStateException("the same picture scored twice differs");
        }
        best = Math.max(best, scores[k]);
      }
      if (!(best > -2 && best <= 2) || scores[0] == scores[1] && scores[1] == scores[2]) {
        throw new IllegalStateException("implausible scores " + java.util.Arrays.toString(scores));
      }
      refused(() -> ai.vqclip.core.pipeline.Reranking.checkCandidates(0), "candidates");
      System.out.println("best of 3 at 48x32 by " + clips.size() + " CLIPs: scores " + java.util.Arrays.toString(scores));
    } finally {
      clips.forEach(ClipEncoder::close);
    }
  }

  /**
   * The demo's own guidance as a user builds it: the bundled CLIP, the plain-frame prior, a wider
   * noise step and, for the square picture, the caption sketcher's drawing of the prompt as the start
   * with a pull back to it; one loaded pipeline shared by three threads; every thread must draw the
   * lone run's pixels, and bad settings must be refused by name.
   */
  private static void ensembleOnThreads(DemoModels.Bundle demo, VqganGenerator generator, ExecutionOptions cpu) {
    java.util.List<ClipEncoder> clips = demo.clips().stream().map(c -> c.open(cpu)).toList();
    try {
      Pipeline.Builder b = Pipeline.builder(generator, new StandardCutouts());
      clips.forEach(b::encoder);
      Pipeline pipeline = b.build();
      String prompt = "a green triangle on a blue background";
      GenerationRequest.Builder square = GenerationRequest.builder(32, 32, PromptSchedule.parse(prompt, 1))
          .iterations(4).cutouts(4).seed(7).augmentations(java.util.List.of("Af", "Pe", "Border", "Noise=0.3")).frameWeight(5);
      // The demo's start: the sketcher draws the caption at the seed's layout, and a latent pull keeps the run near it.
      float[] drawn;
      try (ai.vqclip.demo.eval.CaptionSketch sketcher = ai.vqclip.demo.eval.CaptionSketch.load(demo.sketch(), cpu)) {
        ai.vqclip.core.Tensor sketch = sketcher.draw(clips.get(0), prompt, 7, 32).image();
        drawn = sketch.toFloats();
        ai.vqclip.demo.eval.DemoGeneration.startFrom(square, sketch, ai.vqclip.demo.eval.DemoGeneration.SKETCH_WEIGHT);
      }
      GenerationRequest request = square.build();
      float[] lone = pipeline.run(request, e -> true).image().toFloats();
      if (meanAbs(lone, drawn) > 0.25) {
        throw new IllegalStateException("4 iterations from the sketch moved far from it: " + meanAbs(lone, drawn));
      }
      // Another picture size on the same pipeline, from random codes.
      GenerationRequest wide = GenerationRequest.builder(48, 32, PromptSchedule.parse(prompt, 1)).iterations(4).cutouts(4).seed(7)
          .augmentations(java.util.List.of("Af", "Pe", "Border", "Noise=0.3")).frameWeight(5).build();
      float[] wideLone = pipeline.run(wide, e -> true).image().toFloats();
      java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(3);
      try {
        java.util.List<java.util.concurrent.Future<float[]>> runs = new java.util.ArrayList<>();
        for (int i = 0; i < 4; i++) {
          GenerationRequest r = i % 2 == 0 ? request : wide;
          runs.add(pool.submit(() -> pipeline.run(r, e -> true).image().toFloats()));
        }
        for (int i = 0; i < runs.size(); i++) {
          if (!java.util.Arrays.equals(i % 2 == 0 ? lone : wideLone, runs.get(i).get())) {
            throw new IllegalStateException("a thread's picture differs from the lone run's");
          }
        }
      } catch (InterruptedException | java.util.concurrent.ExecutionException e) {
        throw new IllegalStateException(e);
      } finally {
        pool.shutdown();
      }
      refused(() -> GenerationRequest.builder(32, 32, PromptSchedule.parse("a cat", 1)).frameWeight(-1).build(), "frame weight");
      refused(() -> pipeline.run(GenerationRequest.builder(32, 32, PromptSchedule.parse("a cat", 1)).iterations(1)
          .augmentations(java.util.List.of("Af", "Noise=abc")).build(), e -> true), "Noise=abc");
      System.out.println("" + clips.size() + " CLIP(s), frame prior, Noise=0.3, sketch start: 3 threads drew the lone runs' pixels at 32x32 and 48x32; bad settings refused");
    } finally {
      clips.forEach(ClipEncoder::close);
    }
  }

  private static double meanAbs(float[] a, float[] b) {
    double sum = 0;
    for (int i = 0; i < a.length; i++) {
      sum += Math.abs(a[i] - b[i]);
    }
    return sum / a.length;
  }

  private static void refused(Runnable r, String named) {
    try {
      r.run();
    } catch (IllegalArgumentException e) {
      if (!e.getMessage().contains(named)) {
        throw new IllegalStateException("refused without naming " + named + ": " + e.getMessage(), e);
      }
      return;
    }
    throw new IllegalStateException("not refused: " + named);
  }
}
