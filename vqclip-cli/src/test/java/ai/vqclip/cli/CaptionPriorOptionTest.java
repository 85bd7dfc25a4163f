package ai.vqclip.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.image.Images;
import ai.vqclip.demo.DemoModels;
import ai.vqclip.demo.eval.CaptionPriorLoss;
import ai.vqclip.demo.eval.DemoGeneration;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --caption-prior W}: the demo's caption prior, the same term the library's demo generation adds
 * ({@link DemoGeneration}). Off by default since round 12 of issue 15 (a run starts from the caption
 * sketch instead, {@link SketchOptionTest}); on by default for demo models without a sketcher. Not
 * bundled since round 13: these runs use a folder of the bundled models with a small prior trained
 * here for a few steps ({@link #modelsWithPrior}), which exercises the same paths.
 */
class CaptionPriorOptionTest {
  @TempDir Path dir;
  @TempDir static Path shared;
  private static Path priorModels;

  /**
   * The bundled models plus a caption prior conditioned on their CLIP: a narrow prior (8 channels)
   * trained for 4 steps of 4 pictures, as {@code TrainDemo caption-prior} trains the full one.
   */
  static Path modelsWithPrior(Path dir) throws IOException {
    Files.createDirectories(dir);
    DemoModels.copyBundled(dir);
    ai.vqclip.onnx.vqgan.VqganConfig cfg = new ai.vqclip.onnx.vqgan.VqganConfig(8, List.of(1, 2), 1, List.of(), 4, 4, 16, 32,
        3 + ai.vqclip.demo.train.CaptionPriorTraining.COND_CHANNELS, 3, false, false, 4);
    ai.vqclip.demo.train.CaptionPriorTraining run = new ai.vqclip.demo.train.CaptionPriorTraining(cfg, 32, 4, 4, 3e-3,
        new ai.vqclip.demo.train.RestorerTraining.Damage(0.3, 1.5, 1.0, 4, 0.25), 7, 4, false);
    try (DemoModels.Bundle m = DemoModels.load(dir); var clip = m.clips().get(0).open(ExecutionOptions.cpu())) {
      ai.vqclip.onnx.weights.SafetensorsWriter.write(dir.resolve(DemoModels.CAPTION_PRIOR_WEIGHTS), run.run(clip, line -> {}).weights(),
          DemoModels.vqganMetadata(cfg));
    }
    return dir;
  }

  @org.junit.jupiter.api.BeforeAll
  static void trainPrior() throws IOException {
    priorModels = modelsWithPrior(shared.resolve("with-prior"));
  }

  /** A generate run of "a red circle on a blue background" (4 cutouts, one thread, seed 3) with {@code extra} options. */
  private static Cli.Run generate(Path out, int iterations, String... extra) {
    List<String> all = new ArrayList<>(List.of("--demo-models", priorModels.toString()));
    all.addAll(List.of(extra));
    return Cli.generate("a red circle on a blue background", 3, out, iterations, all.toArray(new String[0]));
  }

  private static double settingsPrior(Path png) throws IOException {
    return Cli.setting(png, "captionPrior");
  }

  @Test
  void askedForItDrawsWhatTheLibrarysDemoGenerationDraws() throws IOException {
    // Past the prior's start (iteration 50), so that it acts on the picture; from random codes, as the
    // prior's runs started before the sketch.
    int iterations = CaptionPriorLoss.Settings.START + 6;
    Path byDefault = dir.resolve("default.png");
    assertEquals(0, generate(byDefault, 1).exit());
    assertEquals(0, settingsPrior(byDefault), "off by default where the models have a caption sketcher");
    Path on = dir.resolve("on.png");
    Cli.Run r = generate(on, iterations, "--caption-prior", Double.toString(CaptionPriorLoss.Settings.WEIGHT), "--sketch", "0");
    assertEquals(0, r.exit(), r.toString());
    assertEquals(CaptionPriorLoss.Settings.WEIGHT, settingsPrior(on));
    Path off = dir.resolve("off.png");
    assertEquals(0, generate(off, iterations, "--caption-prior", "0", "--candidates", "1", "--sketch", "0").exit());
    assertEquals(0, settingsPrior(off));
    float[] withPrior = Images.read(on).toFloats();
    assertFalse(java.util.Arrays.equals(withPrior, Images.read(off).toFloats()), "the prior changed nothing");
    // The library's demo generation, same settings (the best of DemoGeneration.CANDIDATES runs, as the CLI's default): the same
    // picture (as 8-bit PNG pixels).
    DemoGeneration.Settings d = DemoGeneration.defaults();
    DemoGeneration.Settings s = new DemoGeneration.Settings(iterations, 4, d.cutPow(), d.augmentations(), d.learningRate(), d.size(),
        d.tvWeight(), d.init(), d.frameWeight());
    try (DemoModels.Bundle m = DemoModels.load(priorModels); DemoGeneration g = new DemoGeneration(m, List.of(), List.of(),
        CaptionPriorLoss.Settings.demo(m.captionPrior(), CaptionPriorLoss.Settings.WEIGHT), null, ExecutionOptions.cpu().withThreads(1))) {
      assertEquals(CaptionPriorLoss.Settings.WEIGHT, g.captionPrior().weight());
      Path lib = dir.resolve("lib.png");
      Images.writePng(g.generate("a red circle on a blue background", 3, s).image(), lib, java.util.Map.of());
      assertArrayEquals(Images.read(lib).toFloats(), withPrior, "the CLI's default run and DemoGeneration's differ");
    }
  }

  @Test
  void aResumedRunEqualsAnUninterruptedOne() throws IOException {
    int iterations = CaptionPriorLoss.Settings.START + 4;
    String w = Double.toString(CaptionPriorLoss.Settings.WEIGHT);
    Cli.assertResumeEqualsWhole(dir, (out, its) -> generate(out, its, "--candidates", "1", "--caption-prior", w),
        (out, its) -> generate(out, its, "--checkpoint", "--caption-prior", w), CaptionPriorLoss.Settings.START + 2, iterations,
        "the prior's noise and weight follow the iteration");
  }

  @Test
  void badValuesAndModelsWithoutAPriorAreUsageErrors() throws IOException {
    ErrorsTest.assertUsageError(generate(dir.resolve("x.png"), 2, "--caption-prior", "-1"), "--caption-prior must be a finite number >= 0, got -1.0");
    ErrorsTest.assertUsageError(generate(dir.resolve("x.png"), 2, "--caption-prior", "NaN"), "--caption-prior must be a finite number >= 0");
    // The bundled models (no prior since round 13), and folders written before the prior existed:
    // off by default, refused when asked for.
    Path out = dir.resolve("old.png");
    Cli.Run r = Cli.generate("a red circle on a blue background", 3, out, 2);
    assertEquals(0, r.exit(), r.toString());
    assertEquals(0, settingsPrior(out));
    ErrorsTest.assertUsageError(Cli.generate("a red circle on a blue background", 3, dir.resolve("y.png"), 2, "--caption-prior", "5"),
        "have no caption prior (" + DemoModels.CAPTION_PRIOR_WEIGHTS + ")");
    // The prior reads the demo CLIP's embedding: other CLIPs are refused, and are off by default.
    Path demo = Files.createDirectories(dir.resolve("demo"));
    DemoModels.copyBundled(demo);
    String[] clip = {"--clip", demo.resolve(DemoModels.CLIP_WEIGHTS).toString(), "--vocab",
        demo.resolve(ai.vqclip.demo.train.ClipTraining.MERGES_FILE).toString()};
    List<String> asked = new ArrayList<>(List.of(clip));
    asked.addAll(List.of("--caption-prior", "5"));
    ErrorsTest.assertUsageError(generate(dir.resolve("z.png"), 2, asked.toArray(new String[0])), "cannot be used with --clip or --encoder-onnx");
    Path plain = dir.resolve("plain.png");
    Cli.Run p = generate(plain, 2, clip);
    assertEquals(0, p.exit(), p.toString());
    assertEquals(0, settingsPrior(plain));
  }

  @Test
  void aHostilePriorFileIsAUsageErrorNamingIt() throws IOException {
    Cli.assertHostileModelFileRefused(dir, DemoModels.CAPTION_PRIOR_WEIGHTS, "has no 'cond.weight'",
        models -> Cli.generate("a red circle on a blue background", 3, dir.resolve("h.png"), 2, "--demo-models", models, "--caption-prior",
            "10"));
  }

}
