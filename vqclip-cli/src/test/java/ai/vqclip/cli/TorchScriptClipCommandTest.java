package ai.vqclip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.image.Images;
import ai.vqclip.onnx.clip.TorchFixtures;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * OpenAI-style CLIP archives written by real PyTorch ({@code torch.jit.trace} + {@code torch.jit.save},
 * float32 and OpenAI's float16 form; vqclip-onnx's test fixtures) through {@code inspect} and
 * {@code generate --clip}. The fixtures have the demo vocabulary's size, so the demo BPE file is the
 * {@code --vocab}.
 */
class TorchScriptClipCommandTest {
  @TempDir static Path models;

  static TinyModelFiles files;
  static Path vocab;
  static Path fp32;
  static Path fp16;
  static Path rn;

  @TempDir Path dir;

  @BeforeAll
  static void writeModels() throws IOException {
    files = TinyModelFiles.write(models);
    vocab = models.resolve("bpe-demo.txt.gz");
    try (InputStream in = TorchScriptClipCommandTest.class.getResourceAsStream("/ai/vqclip/demo/models/bpe-demo.txt.gz")) {
      assertNotNull(in, "vqclip-demo's bpe-demo.txt.gz on the test class path");
      Files.copy(in, vocab);
    }
    fp32 = TorchFixtures.copyTo(models, "vit-traced-fp32.pt");
    fp16 = TorchFixtures.copyTo(models, "vit-traced-fp16.pt");
    rn = TorchFixtures.copyTo(models, "rn-traced-fp16.pt");
  }

  @Test
  void inspectDescribesTracedArchives() {
    for (Path f : new Path[] {fp32, fp16}) {
      Cli.Run r = Cli.run("inspect", f.toString(), "--clip-head-dim", "8");
      assertEquals(0, r.exit(), r.toString());
      assertTrue(r.out().contains("format:       torch ZIP archive"), r.out());
      assertTrue(r.out().contains("architecture: ViT CLIP: embed 16, input 32x32, patch 8, vision 2 layers x 16 wide (2 heads), "
          + "text 2 layers x 16 wide (2 heads), context 16, vocab 584"), r.out());
      assertTrue(!r.out().contains("__constants__"), r.out());
    }
    Cli.Run half = Cli.run("inspect", fp16.toString(), "--clip-head-dim", "8");
    assertTrue(half.out().contains("FLOAT16=") && half.out().contains("FLOAT="), half.out());
  }

  @Test
  void inspectDescribesAResNetArchive() {
    Cli.Run r = Cli.run("inspect", rn.toString(), "--clip-head-dim", "8");
    assertEquals(0, r.exit(), r.toString());
    assertTrue(r.out().contains("architecture: ResNet CLIP: embed 16, input 64x64, ModifiedResNet stages [1, 2, 1, 1] x width 2 "
        + "(64 features, attention pooling 8 heads), text 2 layers x 16 wide (2 heads), context 16, vocab 584"), r.out());
  }

  @Test
  void generatesWithAResNetArchive() throws IOException {
    Path out = dir.resolve("rn.png");
    Cli.Run r = Cli.run("generate", "a red circle", "-o", out.toString(), "-i", "2", "--seed", "5",
        "--vqgan", files.vqgan.toString(), "--clip", rn.toString(), "--clip-head-dim", "8",
        "--vocab", vocab.toString(), "--cutouts", "2", "--threads", "1", "-q", "-s", "32", "32");
    assertEquals(0, r.exit(), r.toString());
    JsonNode m = new ObjectMapper().readTree(Images.readPngText(out).get(Runner.MANIFEST_KEY));
    assertEquals(2, m.get("iterationsRun").asInt(), m.toString());
    assertTrue(m.get("models").get("encoder0").get("config").asText().contains("ResNet CLIP"), m.toString());
  }

  @Test
  void generatesWithATracedFloat16Archive() throws IOException {
    Path out = dir.resolve("traced.png");
    Cli.Run r = Cli.run("generate", "a red circle", "-o", out.toString(), "-i", "3", "--seed", "5",
        "--vqgan", files.vqgan.toString(), "--clip", fp16.toString(), "--clip-head-dim", "8",
        "--vocab", vocab.toString(), "--cutouts", "4", "--threads", "1", "-q", "-s", "32", "32");
    assertEquals(0, r.exit(), r.toString());
    BufferedImage img = ImageIO.read(out.toFile());
    assertEquals(32, img.getWidth());
    JsonNode m = new ObjectMapper().readTree(Images.readPngText(out).get(Runner.MANIFEST_KEY));
    assertEquals(3, m.get("iterationsRun").asInt(), m.toString());
    JsonNode enc = m.get("models").get("encoder0");
    assertEquals(PublicName.of(fp16), enc.get("file").asText(), m.toString());
    assertTrue(enc.get("config").asText().contains("vocab 584"), enc.toString());
  }
}
