package ai.vqclip.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.image.Images;
import ai.vqclip.demo.DemoModels;
import ai.vqclip.demo.eval.CaptionSketch;
import ai.vqclip.demo.eval.DemoGeneration;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --sketch W}: the demo's caption sketch as the start, on by default with the bundled demo
 * models, a text prompt and a square picture, as the library's demo generation starts.
 */
class SketchOptionTest {
  @TempDir Path dir;

  /** A generate run of "a blue star on a yellow background" (4 cutouts, one thread, seed 5, one candidate) with {@code extra} options. */
  private static Cli.Run generate(Path out, int iterations, String... extra) {
    List<String> args = new ArrayList<>(List.of("--candidates", "1"));
    args.addAll(List.of(extra));
    return Cli.generate("a blue star on a yellow background", 5, out, iterations, args.toArray(new String[0]));
  }

  private static double settingsSketch(Path png) throws IOException {
    return Cli.setting(png, "sketch");
  }

  @Test
  void onByDefaultTheRunStartsFromTheLibrarysSketch() throws IOException {
    // One iteration: the picture is still the decoded sketch, a step away from its encoding.
    Path on = dir.resolve("on.png");
    Cli.Run r = generate(on, 1);
    assertEquals(0, r.exit(), r.toString());
    assertEquals(DemoGeneration.SKETCH_WEIGHT, settingsSketch(on));
    Path off = dir.resolve("off.png");
    assertEquals(0, generate(off, 1, "--sketch", "0").exit());
    assertEquals(0, settingsSketch(off));
    assertFalse(java.util.Arrays.equals(Images.read(on).toFloats(), Images.read(off).toFloats()), "the sketch changed nothing");
    // The library's start: the same sketch, encoded and decoded by the demo VQGAN, is within a step of the CLI's picture.
    try (DemoModels.Bundle m = DemoModels.load(); var clip = m.clips().get(0).open(ExecutionOptions.cpu());
        CaptionSketch sketch = CaptionSketch.load(m.sketch(), ExecutionOptions.cpu());
        var g = ai.vqclip.onnx.vqgan.VqganGenerator.load(m.vqgan(), m.vqganConfig(), ExecutionOptions.cpu())) {
      float[] start = g.decode(g.encode(sketch.draw(clip, "a blue star on a yellow background", 5, 32).image())).toFloats();
      float[] cli = Images.read(on).toFloats();
      double diff = 0;
      for (int i = 0; i < cli.length; i++) {
        diff += Math.abs(cli[i] - start[i]);
      }
      double offDiff = 0;
      float[] o = Images.read(off).toFloats();
      for (int i = 0; i < o.length; i++) {
        offDiff += Math.abs(o[i] - start[i]);
      }
      diff /= cli.length;
      offDiff /= o.length;
      org.junit.jupiter.api.Assertions.assertTrue(diff < 0.05 && offDiff > 4 * diff, "mean difference to the decoded sketch: with "
          + diff + ", without " + offDiff);
    }
  }

  @Test
  void theDefaultRunIsTheLibrarysDemoGeneration() throws IOException {
    // The CLI's default (the best of DemoGeneration.CANDIDATES runs, each from its seed's sketch) and the library's, same settings.
    Path cli = dir.resolve("cli.png");
    Cli.Run r = Cli.run("generate", "a blue star on a yellow background", "-o", cli.toString(), "-i", "4", "--cutouts", "4", "--seed", "5",
        "--threads", "1", "-q");
    assertEquals(0, r.exit(), r.toString());
    DemoGeneration.Settings d = DemoGeneration.defaults();
    DemoGeneration.Settings s = new DemoGeneration.Settings(4, 4, d.cutPow(), d.augmentations(), d.learningRate(), d.size(), d.tvWeight(),
        d.init(), d.frameWeight());
    try (DemoModels.Bundle m = DemoModels.load(); DemoGeneration g = new DemoGeneration(m, ExecutionOptions.cpu().withThreads(1))) {
      assertEquals(DemoGeneration.SKETCH_WEIGHT, g.sketchStart().weight());
      assertEquals(null, g.captionPrior(), "no caption prior by default with a sketcher");
      Path lib = dir.resolve("lib.png");
      Images.writePng(g.generate("a blue star on a yellow background", 5, s).image(), lib, java.util.Map.of());
      assertArrayEquals(Images.read(lib).toFloats(), Images.read(cli).toFloats(), "the CLI's default run and DemoGeneration's differ");
    }
  }

  @Test
  void aResumedRunEqualsAnUninterruptedOne() throws IOException {
    Cli.assertResumeEqualsWhole(dir, (out, its) -> generate(out, its), (out, its) -> generate(out, its, "--checkpoint"), 3, 6,
        "the pull towards the sketch survives the checkpoint");
  }

  @Test
  void badValuesAndConflictsAreUsageErrors() throws IOException {
    ErrorsTest.assertUsageError(generate(dir.resolve("x.png"), 1, "--sketch", "-1"), "--sketch must be a finite number >= 0, got -1.0");
    ErrorsTest.assertUsageError(generate(dir.resolve("x.png"), 1, "--sketch", "Infinity"), "--sketch must be a finite number >= 0");
    ErrorsTest.assertUsageError(generate(dir.resolve("x.png"), 1, "--sketch", "1", "--init-noise", "pixels"), "cannot be used with an init image");
    ErrorsTest.assertUsageError(generate(dir.resolve("x.png"), 1, "--sketch", "1", "--init-weight", "2"), "cannot be used with --init-weight");
    ErrorsTest.assertUsageError(generate(dir.resolve("x.png"), 1, "--sketch", "1", "--size", "32", "16"), "draws square pictures");
    ErrorsTest.assertUsageError(Cli.generate("a red circle:-1", 5, dir.resolve("x.png"), 1, "--sketch", "1"),
        "draws the first text prompt of positive weight");
    // Off by default where it cannot draw: a picture that is not square, no text of positive weight, an init of the user's own.
    Path negative = dir.resolve("negative.png");
    Cli.Run n = Cli.generate("a red circle:-1", 5, negative, 1);
    assertEquals(0, n.exit(), n.toString());
    assertEquals(0, settingsSketch(negative));
    Path wide = dir.resolve("wide.png");
    Cli.Run r = generate(wide, 1, "--size", "32", "16");
    assertEquals(0, r.exit(), r.toString());
    assertEquals(0, settingsSketch(wide));
    Path noise = dir.resolve("noise.png");
    assertEquals(0, generate(noise, 1, "--init-noise", "gradient").exit());
    assertEquals(0, settingsSketch(noise));
    // A folder written before the sketcher existed: off by default, refused when asked for.
    Path old = Files.createDirectories(dir.resolve("old"));
    DemoModels.copyBundled(old);
    Files.delete(old.resolve(DemoModels.SKETCH_WEIGHTS));
    Path out = dir.resolve("old.png");
    assertEquals(0, generate(out, 1, "--demo-models", old.toString()).exit());
    assertEquals(0, settingsSketch(out));
    ErrorsTest.assertUsageError(generate(dir.resolve("y.png"), 1, "--demo-models", old.toString(), "--sketch", "1"),
        "the models have no caption sketch (" + DemoModels.SKETCH_WEIGHTS + ")");
  }

  @Test
  void aHostileSketchFileIsAnErrorNamingIt() throws IOException {
    Cli.assertHostileModelFileRefused(dir, DemoModels.SKETCH_WEIGHTS, "sketch weights need 'cond.mean'",
        models -> generate(dir.resolve("h.png"), 1, "--demo-models", models));
  }

}
