package ai.vqclip.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.image.Images;
import ai.vqclip.core.pipeline.Checkpoint;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code vqclip generate} end to end on tiny models read from real files. */
class GenerateCommandTest extends WithTinyModelFiles {
  static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void writesThePngWithManifestAndSettingsAndTheManifestFile() throws IOException {
    Path out = dir.resolve("out/circle.png");
    Path manifest = dir.resolve("circle.json");
    Cli.Run r = Cli.run(files.args("generate", "a red circle:1.5|a cat:-0.5", "-o", out.toString(), "-i", "4", "--seed", "7",
        "--manifest", manifest.toString()));
    assertEquals(0, r.exit(), r.toString());
    BufferedImage img = ImageIO.read(out.toFile());
    assertEquals(32, img.getWidth());
    assertEquals(32, img.getHeight());
    Map<String, String> text = Images.readPngText(out);
    JsonNode m = JSON.readTree(text.get(Runner.MANIFEST_KEY));
    assertEquals(7, m.get("seed").asLong());
    assertEquals(4, m.get("iterationsRun").asInt());
    assertEquals("completed", m.get("stopReason").asText());
    assertEquals(PublicName.of(files.clip), m.get("models").get("encoder0").get("file").asText(), m.toString());
    assertEquals(PublicName.of(files.vqgan), m.get("models").get("generator").get("file").asText(), m.toString());
    JsonNode s = JSON.readTree(text.get(Runner.SETTINGS_KEY));
    assertEquals("a red circle:1.5|a cat:-0.5", s.get("prompts").asText());
    assertEquals(PublicName.of(files.vqgan), s.get("models").get("vqgan").asText());
    assertEquals("a red circle:1.5|a cat:-0.5", text.get("comment"));
    assertEquals(m, JSON.readTree(manifest.toFile()));
    assertFalse(Files.exists(dir.resolve("out/circle.ckpt")), "no checkpoint unless asked");
    assertEquals("", r.out(), "--quiet prints nothing");
  }

  @Test
  void sameSeedSameImageOtherSeedOtherImage() throws IOException {
    Tensor a = generate("a", "--seed", "3");
    Tensor b = generate("b", "--seed", "3");
    Tensor c = generate("c", "--seed", "4");
    assertEquals(a, b);
    assertNotEquals(a, c);
  }

  private Tensor generate(String name, String... extra) {
    Path out = dir.resolve(name + ".png");
    String[] base = files.args("generate", "a red circle", "-o", out.toString(), "-i", "3");
    String[] all = java.util.stream.Stream.concat(java.util.Arrays.stream(base), java.util.Arrays.stream(extra)).toArray(String[]::new);
    Cli.Run r = Cli.run(all);
    assertEquals(0, r.exit(), r.toString());
    return Images.read(out);
  }

  @Test
  void saveEveryWritesTheImageAndCheckpointsBesideTheOutput() throws IOException {
    Path out = dir.resolve("steps.png");
    Cli.Run r = Cli.run(files.args("generate", "a cat", "-o", out.toString(), "-i", "5", "--seed", "1", "--save-every", "2"));
    assertEquals(0, r.exit(), r.toString());
    assertEquals(5, Checkpoint.load(dir.resolve("steps.ckpt")).iteration());
    JsonNode settings = JSON.readTree(dir.resolve("steps.run.json").toFile());
    assertEquals(2, settings.get("saveEvery").asInt());
    assertTrue(Images.readPngText(out).containsKey(Runner.MANIFEST_KEY));
  }

  @Test
  void memorySavingIsRecordedAndGivesTheSameImage() throws IOException {
    // Recomputation changes where activations come from, not their values: the image is bit-identical.
    Tensor on = generate("saving-on", "--seed", "4", "--memory-saving", "on", "--checkpoint");
    Tensor off = generate("saving-off", "--seed", "4", "--memory-saving", "OFF");
    assertArrayEquals(off.toFloats(), on.toFloats());
    assertEquals("on", JSON.readTree(dir.resolve("saving-on.run.json").toFile()).get("memorySaving").asText());
  }

  @Test
  void everyPromptKindAndInitRuns(@TempDir Path in) throws IOException {
    Path picture = in.resolve("picture.png");
    Images.writePng(gradient(40, 24), picture, Map.of());
    // Story mode, image prompts, noise prompts, an init image with regularization toward it, AdamW, pooled cutouts.
    Cli.Run r = Cli.run(files.args("generate", "a red circle^a cat|a dog:0.5", "--change-prompts-every", "2", "-i", "4", "--seed", "2",
        "-o", dir.resolve("all.png").toString(), "--image-prompts", picture + ":0.5", "--noise-prompts", "12:0.3|13",
        "--init-image", picture.toString(), "--init-weight", "0.5", "--init-target", "init", "--init-decay", "linear:2:2",
        "--optimizer", "adamw", "--lr", "0.05", "--augments", "Pool,Af", "--cut-pow", "0.7"));
    assertEquals(0, r.exit(), r.toString());
    JsonNode m = JSON.readTree(Images.readPngText(dir.resolve("all.png")).get(Runner.MANIFEST_KEY));
    String request = m.get("request").asText();
    assertTrue(request.contains("imagePrompts=[picture.png]") && request.contains("init=FromImage") && request.contains("ADAMW"), request);
    // Init noise, and nerdyrodent's short flags.
    r = Cli.run(files.args("generate", "a cat", "-in", "gradient", "-i", "2", "-sd", "5", "-o", dir.resolve("noise.png").toString(),
        "-aug", "none", "-cuts", "2"));
    assertEquals(0, r.exit(), r.toString());
    assertTrue(JSON.readTree(Images.readPngText(dir.resolve("noise.png")).get(Runner.MANIFEST_KEY)).get("request").asText()
        .contains("init=NoiseGradient, "));
  }

  @Test
  void clipEnsembleAndYamlConfig() throws IOException {
    Path out = dir.resolve("ensemble.png");
    Cli.Run r = Cli.run(files.args("generate", "a red circle", "-o", out.toString(), "-i", "2", "--seed", "1", "--clip", files.clip2.toString(),
        "--vqgan", files.vqgan32.toString(), "--vqgan-config", files.vqganYaml.toString()));
    assertEquals(0, r.exit(), r.toString());
    JsonNode models = JSON.readTree(Images.readPngText(out).get(Runner.MANIFEST_KEY)).get("models");
    assertTrue(models.has("encoder0") && models.has("encoder1"), models.toString());
  }

  @Test
  void builtInDemoModelsWhenNoneIsGivenAndTheProgressBarAndSummary() throws IOException {
    Path out = dir.resolve("builtin.png");
    Cli.Run r = Cli.run("generate", "a red circle", "-o", out.toString(), "-s", "16", "16", "-i", "3", "--seed", "1", "--cutouts", "2",
        "--threads", "1");
    assertEquals(0, r.exit(), r.toString());
    assertEquals(16, ImageIO.read(out.toFile()).getWidth());
    assertTrue(r.err().contains("3/3") && r.err().contains("it/s") && r.err().contains("loss "), r.err());
    // The demo's default: the best of DemoGeneration.CANDIDATES runs, the kept one named.
    assertTrue(r.out().startsWith("wrote " + out.toAbsolutePath() + ": 16x16, seed 1 (best of 3: candidate "), r.out());
    assertTrue(r.out().contains("), 3 iterations (completed), loss "), r.out());
    String models = JSON.readTree(Images.readPngText(out).get(Runner.MANIFEST_KEY)).get("models").toString();
    assertTrue(models.contains("bundled demo models"), models);
  }

  @Test
  void theDemoModelsDefaults() throws IOException {
    // No size, iterations, cutouts or augmentations given: the demo models' own settings.
    Path out = dir.resolve("demo.png");
    Cli.Run r = Cli.run("generate", "a red circle on a blue background", "-o", out.toString(), "--seed", "1", "--threads", "1", "-q",
        "-i", "2");
    assertEquals(0, r.exit(), r.toString());
    assertEquals(32, ImageIO.read(out.toFile()).getWidth());
    String request = JSON.readTree(Images.readPngText(out).get(Runner.MANIFEST_KEY)).get("request").asText();
    assertTrue(request.contains("cutouts=" + ai.vqclip.demo.eval.DemoGeneration.CUTOUTS + ",") && request.contains("cutPow=0.5,") && request.contains("augmentations=" + ai.vqclip.demo.eval.DemoGeneration.AUGMENTATIONS), request);
  }

  @Test
  void defaultOutputNameComesFromThePrompt() {
    assertEquals("a-red-circle.png", OutputNames.fromPrompt("A red circle:1.5|blue^green"));
    assertEquals("cafe-au-lait.png", OutputNames.fromPrompt("Café au lait!"));
    assertEquals("vqclip.png", OutputNames.fromPrompt("☕"));
    assertEquals(60, OutputNames.stem(Path.of(OutputNames.fromPrompt("x".repeat(200)))).length());
  }

  @Test
  void nonLatinPromptsSurviveThePngTextChunks() throws IOException {
    Path out = dir.resolve("tea.png");
    Cli.Run r = Cli.run(files.args("generate", "a cup of tea ☕ 茶", "-o", out.toString(), "-i", "1", "--seed", "1"));
    assertEquals(0, r.exit(), r.toString());
    JsonNode s = JSON.readTree(Images.readPngText(out).get(Runner.SETTINGS_KEY));
    assertEquals("a cup of tea ☕ 茶", s.get("prompts").asText());
  }

  static Tensor gradient(int w, int h) {
    float[] v = new float[3 * w * h];
    for (int c = 0; c < 3; c++) {
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          v[(c * h + y) * w + x] = (float) ((x + y + 10 * c) % 37) / 36f;
        }
      }
    }
    return Tensor.ofFloats(new long[] {1, 3, h, w}, v);
  }
}
