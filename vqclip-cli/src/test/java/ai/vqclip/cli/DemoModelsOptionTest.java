package ai.vqclip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.image.Images;
import ai.vqclip.demo.DemoModels;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --demo-models DIR}: demo models read from a folder (here the bundled ones copied out, as
 * {@code vqclip train-demo} would write them) instead of the class path, recorded for {@code resume}.
 */
class DemoModelsOptionTest {
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path demo;

  @TempDir Path dir;

  @BeforeAll
  static void copyTheBundledModels() throws IOException {
    DemoModels.copyBundled(demo);
  }

  /** A fast generate run (2 iterations, 4 cutouts, seed 1) into {@code out} with {@code extra} options. */
  private static Cli.Run generate(Path out, String... extra) {
    return generate(out, 2, extra);
  }

  private static Cli.Run generate(Path out, int iterations, String... extra) {
    List<String> args = new ArrayList<>(List.of("generate", "a red circle", "-o", out.toString(), "-i", Integer.toString(iterations),
        "--cutouts", "4", "--seed", "1", "--threads", "1", "-q"));
    args.addAll(List.of(extra));
    return Cli.run(args.toArray(new String[0]));
  }

  private static JsonNode pngJson(Path png, String key) throws IOException {
    return JSON.readTree(Images.readPngText(png).get(key));
  }

  /** A copy of the demo models in a folder of its own (to damage). */
  private Path copy(String name) throws IOException {
    Path d = Files.createDirectories(dir.resolve(name));
    DemoModels.copyBundled(d);
    return d;
  }

  @Test
  void twoClipsWithTheirOwnVocabulariesGuideOneRun() throws IOException {
    // Two CLIP files, each with its own vocabulary file: --vocab once per --clip. (The bundle holds one
    // CLIP since round 13; the second is a renamed copy, its vocabulary file another name.)
    Path other = copy("other");
    Files.copy(demo.resolve(DemoModels.CLIP_WEIGHTS), other.resolve("other-clip.safetensors"));
    Files.copy(demo.resolve(ai.vqclip.demo.train.ClipTraining.MERGES_FILE), other.resolve("other-bpe.txt.gz"));
    String secondClip = other.resolve("other-clip.safetensors").toString();
    String secondVocab = other.resolve("other-bpe.txt.gz").toString();
    Path out = dir.resolve("pair.png");
    String[] files = {"--vqgan", demo.resolve(DemoModels.VQGAN_WEIGHTS).toString(), "-s", "32", "32",
        "--clip", demo.resolve(DemoModels.CLIP_WEIGHTS).toString(), "--vocab", demo.resolve(ai.vqclip.demo.train.ClipTraining.MERGES_FILE).toString(),
        "--clip", secondClip, "--vocab", secondVocab};
    Cli.Run r = generate(out, files);
    assertEquals(0, r.exit(), r.toString());
    JsonNode models = pngJson(out, Runner.MANIFEST_KEY).get("models");
    assertTrue(models.get("encoder0").get("vocab").asText().contains(ai.vqclip.demo.train.ClipTraining.MERGES_FILE), models.toString());
    assertTrue(models.get("encoder1").get("vocab").asText().contains("other-bpe.txt.gz"), models.toString());
    assertTrue(pngJson(out, Runner.SETTINGS_KEY).get("models").get("moreVocabs").toString().contains("other-bpe.txt.gz"));
    // Three vocabularies for two CLIP files: a usage error that names the counts.
    Cli.Run bad = generate(dir.resolve("bad.png"), "--vqgan", demo.resolve(DemoModels.VQGAN_WEIGHTS).toString(),
        "--clip", demo.resolve(DemoModels.CLIP_WEIGHTS).toString(), "--vocab", demo.resolve(ai.vqclip.demo.train.ClipTraining.MERGES_FILE).toString(),
        "--clip", secondClip, "--vocab", secondVocab, "--vocab", secondVocab);
    assertEquals(2, bad.exit(), bad.toString());
    assertTrue(bad.err().contains("--vocab given 3 times for 2 --clip files"), bad.err());
  }

  /** A folder with a second CLIP's three files ({@code TrainDemo clipb} writes them): both CLIPs guide the run. */
  @Test
  void aFolderWithASecondClipGuidesWithBoth() throws IOException {
    Path pair = copy("ensemble");
    Files.copy(pair.resolve(DemoModels.CLIP_WEIGHTS), pair.resolve(DemoModels.SECOND_CLIP_WEIGHTS));
    Files.copy(pair.resolve(DemoModels.CLIP_CONFIG), pair.resolve(DemoModels.SECOND_CLIP_CONFIG));
    Files.copy(pair.resolve(ai.vqclip.demo.train.ClipTraining.MERGES_FILE), pair.resolve(DemoModels.SECOND_MERGES_FILE));
    Path out = dir.resolve("ensemble.png");
    Cli.Run r = generate(out, 2, "--demo-models", pair.toString());
    assertEquals(0, r.exit(), r.toString());
    JsonNode m = pngJson(out, Runner.MANIFEST_KEY).get("models");
    assertTrue(m.get("encoder0").get("config").asText().startsWith("demo CLIP ("), m.toString());
    assertTrue(m.get("encoder1").get("config").asText().startsWith("demo CLIP b"), m.toString());
  }

  @Test
  void generateUsesTheFolderWithTheDemoDefaultsAndRecordsIt() throws IOException {
    Path out = dir.resolve("circle.png");
    Cli.Run r = generate(out, "--demo-models", demo.toString());
    assertEquals(0, r.exit(), r.toString());
    // No size given: the demo models' 32x32, and their cut_pow and augmentations.
    assertEquals(32, ImageIO.read(out.toFile()).getWidth());
    JsonNode m = pngJson(out, Runner.MANIFEST_KEY);
    // Files others may see name the folder by its name, never by the user's absolute path.
    String source = "demo models from " + demo.getFileName();
    assertEquals(source, m.get("models").get("generator").get("source").asText(), m.toString());
    assertEquals(source, m.get("models").get("encoder0").get("source").asText(), m.toString());
    // The folder's one CLIP guides the run (a folder with a second CLIP adds it), with the demo's frame prior.
    assertFalse(m.get("models").has("encoder1"), m.toString());
    String request = m.get("request").asText();
    assertTrue(request.contains("cutPow=0.5,") && request.contains("augmentations=" + ai.vqclip.demo.eval.DemoGeneration.AUGMENTATIONS), request);
    assertTrue(request.contains("frame=" + ai.vqclip.demo.eval.DemoGeneration.FRAME_WEIGHT), request);
    assertEquals(demo.getFileName().toString(), pngJson(out, Runner.SETTINGS_KEY).get("models").get("demoModels").asText());
    Map<String, String> text = Images.readPngText(out);
    for (Map.Entry<String, String> e : text.entrySet()) {
      assertFalse(e.getValue().contains(dir.toString()), "PNG text chunk " + e.getKey() + " names a path of this machine: " + e.getValue());
    }
  }

  @Test
  void aNamedVqganRunsWithTheFoldersClip(@TempDir Path models) throws IOException {
    TinyModelFiles files = TinyModelFiles.write(models);
    Path out = dir.resolve("mixed.png");
    Cli.Run r = generate(out, "--demo-models", demo.toString(), "--vqgan", files.vqgan.toString(), "-s", "32", "32");
    assertEquals(0, r.exit(), r.toString());
    JsonNode models1 = pngJson(out, Runner.MANIFEST_KEY).get("models");
    // A file is named by its name and sha256.
    assertEquals(PublicName.of(files.vqgan), models1.get("generator").get("file").asText(), models1.toString());
    assertEquals("demo models from " + demo.getFileName(), models1.get("encoder0").get("source").asText(), models1.toString());
  }

  @Test
  void aFolderThatIsNotADemoModelFolderIsAUsageError() throws IOException {
    Path missing = dir.resolve("nowhere");
    ErrorsTest.assertUsageError(generate(dir.resolve("x.png"), "--demo-models", missing.toString()),
        "--demo-models: folder not found: " + missing);
    Path file = Files.writeString(dir.resolve("notes.txt"), "a file\n");
    ErrorsTest.assertUsageError(generate(dir.resolve("x.png"), "--demo-models", file.toString()), "--demo-models: not a folder: " + file);
    // What 'train-demo clip' alone leaves: no VQGAN.
    Path clipOnly = copy("clip-only");
    Files.delete(clipOnly.resolve(DemoModels.VQGAN_WEIGHTS));
    ErrorsTest.assertUsageError(generate(dir.resolve("x.png"), "--demo-models", clipOnly.toString()),
        "--demo-models: " + clipOnly.toAbsolutePath() + " has no vqgan.safetensors; a demo model folder needs both models");
    Path image = dir.resolve("photo.png");
    ImageIO.write(new BufferedImage(32, 32, BufferedImage.TYPE_INT_RGB), "png", image.toFile());
    ErrorsTest.assertUsageError(Cli.run("edit", image.toString(), "a cat", "--demo-models", clipOnly.toString()),
        "has no vqgan.safetensors");
  }

  @Test
  void resumeUsesTheSameFolder() throws IOException {
    Path models = copy("models");
    Path whole = dir.resolve("whole.png");
    assertEquals(0, generate(whole, 3, "--demo-models", models.toString(), "--candidates", "1").exit());
    Path part = dir.resolve("part.png");
    Cli.Run first = generate(part, "--demo-models", models.toString(), "--checkpoint");
    assertEquals(0, first.exit(), first.toString());
    Path ckpt = dir.resolve("part.ckpt");
    Cli.Run resumed = Cli.run("resume", ckpt.toString(), "--iterations", "3", "-q");
    assertEquals(0, resumed.exit(), resumed.toString());
    assertEquals("demo models from " + models.getFileName(),
        pngJson(part, Runner.MANIFEST_KEY).get("models").get("generator").get("source").asText());
    assertEquals(Images.read(whole), Images.read(part), "resumed on the same models as an uninterrupted run");

    // The folder changed since: resume says which file is missing, and where the folder was recorded.
    Files.delete(models.resolve(DemoModels.CLIP_CONFIG));
    ErrorsTest.assertUsageError(Cli.run("resume", ckpt.toString(), "--iterations", "4", "-q"),
        "--demo-models (recorded in " + dir.resolve("part.run.json") + "): " + models.toAbsolutePath() + " has no clip-config.json");
  }
}
