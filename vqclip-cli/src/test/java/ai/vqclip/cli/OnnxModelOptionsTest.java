package ai.vqclip.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.image.Images;
import ai.vqclip.onnx.adapt.AdapterFixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --generator-onnx and --encoder-onnx: graphs exported by torch.onnx.export, run from the command line. */
class OnnxModelOptionsTest {
  @TempDir static Path models;
  static Path decoder;
  static Path image;
  static Path text;
  static Path embeddings;

  @TempDir Path dir;

  @BeforeAll
  static void fixtures() throws IOException {
    decoder = AdapterFixtures.copy("decoder.onnx", models);
    image = AdapterFixtures.copy("image_embed.onnx", models);
    text = AdapterFixtures.copy("text_embed.onnx", models);
    embeddings = models.resolve("texts.json");
    Files.writeString(embeddings, "{\"a red circle\": [1, -2, 0.5, 3, 0, -1, 2, 1], \"a cat\": [0, 1, 0, -1, 2, 0.25, -3, 1]}");
  }

  static String[] args(String... extra) {
    List<String> a = new ArrayList<>(List.of(extra));
    a.addAll(List.of("--generator-onnx", decoder.toString(), "--generator-range", "signed", "--encoder-onnx", image.toString(),
        "--text-embeddings", embeddings.toString(), "--size", "16", "16", "--cutouts", "4", "--threads", "1", "--seed", "5", "-q"));
    return a.toArray(String[]::new);
  }

  @Test
  void generateAndResumeWithOnnxModels() throws IOException {
    Path whole = dir.resolve("whole.png");
    Cli.Run r = Cli.run(args("generate", "a red circle|a cat:0.5", "-o", whole.toString(), "-i", "6"));
    assertEquals(0, r.exit(), r.toString());
    Tensor img = Images.read(whole);
    assertArrayEquals(new long[] {1, 3, 16, 16}, img.shape());
    String manifest = Images.readPngText(whole).get(Runner.MANIFEST_KEY);
    assertTrue(manifest.contains("decoder.onnx") && manifest.contains("image_embed.onnx"), manifest);

    // A shorter checkpointed run, extended by resume (which reads the ONNX options from its settings), equals the whole run.
    Path part = dir.resolve("part.png");
    assertEquals(0, Cli.run(args("generate", "a red circle|a cat:0.5", "-o", part.toString(), "-i", "3", "--checkpoint")).exit());
    String settings = Files.readString(dir.resolve("part.run.json"));
    assertTrue(settings.contains("generatorRange") && settings.contains("texts.json"), settings);
    Cli.Run resumed = Cli.run("resume", dir.resolve("part.ckpt").toString(), "--iterations", "6", "-q");
    assertEquals(0, resumed.exit(), resumed.toString());
    assertEquals(Images.read(whole), Images.read(part));
  }

  @Test
  void latentInitAndBounds() throws IOException {
    Path out = dir.resolve("b.png");
    // No frame prior (the built-in models' default, 5): its gradient reaches every latent value of
    // this tiny generator and moves it off the bound in 3 steps, which this test does not measure.
    Cli.Run r = Cli.run(args("generate", "a cat", "-o", out.toString(), "-i", "3", "--checkpoint", "--latent-init", "uniform", "--latent-scale",
        "3", "--latent-bounds", "-0.5", "0.5", "--frame-weight", "0"));
    assertEquals(0, r.exit(), r.toString());
    float[] z = ai.vqclip.core.pipeline.Checkpoint.load(dir.resolve("b.ckpt")).latent();
    int atBound = 0;
    for (float v : z) {
      assertTrue(v >= -0.5f && v <= 0.5f, "latent value " + v);
      atBound += Math.abs(v) == 0.5f ? 1 : 0;
    }
    // Uniform in [-3, 3] clamped to [-0.5, 0.5]: most values start at a bound.
    assertTrue(atBound > z.length / 2, atBound + " of " + z.length + " at a bound");
    assertTrue(Files.readString(dir.resolve("b.run.json")).contains("\"latentMax\" : 0.5"));
    ErrorsTest.assertUsageError(Cli.run(args("generate", "a cat", "-o", out.toString(), "--latent-bounds", "1", "0")), "MIN < MAX");
    ErrorsTest.assertUsageError(Cli.run("generate", "a cat", "--latent-scale", "2", "-o", out.toString(), "-q"), "--generator-onnx");
  }

  @Test
  void aTextGraphWithTheVocabularysTokenizer() {
    TinyModelFiles tiny = TinyModelFiles.write(dir);
    Path text77 = AdapterFixtures.copy("text_embed77.onnx", models);
    Path out = dir.resolve("t.png");
    Cli.Run r = Cli.run("generate", "a red cat", "--generator-onnx", decoder.toString(), "--encoder-onnx", image.toString(),
        "--encoder-text-onnx", text77.toString(), "--vocab", tiny.vocab.toString(), "--size", "8", "8", "-i", "3", "--cutouts", "2",
        "--threads", "1", "-o", out.toString(), "-q");
    assertEquals(0, r.exit(), r.toString());
    assertArrayEquals(new long[] {1, 3, 8, 8}, Images.read(out).shape());
    // The 8-token graph of a 32-id vocabulary does not fit this BPE vocabulary (end token 519).
    ErrorsTest.assertUsageError(Cli.run("generate", "a red cat", "--encoder-onnx", image.toString(), "--encoder-text-onnx", text.toString(),
        "--vocab", tiny.vocab.toString(), "-o", out.toString(), "-q"), "32 rows");
  }

  @Test
  void mistakesAreUsageErrorsNamingTheFileAndTheProblem() {
    Path out = dir.resolve("x.png");
    // A prompt the fixed embeddings do not have.
    ErrorsTest.assertUsageError(Cli.run(args("generate", "a dog", "-o", out.toString(), "-i", "2")), "texts.json");
    // The image embedder given as the generator: its output is no image.
    ErrorsTest.assertUsageError(Cli.run("generate", "a cat", "--generator-onnx", image.toString(), "--encoder-onnx", image.toString(),
        "--text-embeddings", embeddings.toString(), "-o", out.toString(), "-q"), "image_embed.onnx");
    // An encoder graph without any text.
    ErrorsTest.assertUsageError(Cli.run("generate", "a cat", "--encoder-onnx", image.toString(), "-o", out.toString(), "-q"),
        "--text-embeddings");
    // A text graph needs the vocabulary its ids come from.
    ErrorsTest.assertUsageError(Cli.run("generate", "a cat", "--encoder-onnx", image.toString(), "--encoder-text-onnx", text.toString(),
        "-o", out.toString(), "-q"), "--vocab");
    ErrorsTest.assertUsageError(Cli.run("generate", "a cat", "--generator-onnx", decoder.toString(), "--generator-range", "tanh", "-o",
        out.toString(), "-q"), "unit or signed");
    ErrorsTest.assertUsageError(Cli.run("generate", "a cat", "--generator-onnx", dir.resolve("missing.onnx").toString(), "-o", out.toString()),
        "missing.onnx");
    ErrorsTest.assertUsageError(Cli.run(args("generate", "a cat", "--init-noise", "pixels", "-o", out.toString(), "-i", "2")),
        "--generator-encoder-onnx");
    // Sizes the decoder cannot make name its factor.
    ErrorsTest.assertUsageError(Cli.run(args("generate", "a cat", "-o", out.toString(), "-i", "2", "--size", "15", "16")), "factor 2");
  }
}
