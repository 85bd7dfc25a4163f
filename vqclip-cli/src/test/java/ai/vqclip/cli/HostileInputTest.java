package ai.vqclip.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.image.Images;
import ai.vqclip.core.pipeline.Checkpoint;
import ai.vqclip.core.testing.CraftedImages;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/** Issue 16's command-line reproducers: each failed (crash, exit 1, lost run, unbounded run) before the fix. */
class HostileInputTest extends WithTinyModelFiles {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Finding 2: --vqgan-config naming a model.yaml that is not UTF-8 exited 1 (UncheckedIOException). */
  @Test
  void aVqganConfigThatIsNotUtf8IsAUsageError() throws IOException {
    Path yaml = dir.resolve("model.yaml");
    byte[] text = Files.readAllBytes(files.vqganYaml);
    byte[] bad = java.util.Arrays.copyOf(text, text.length + 3);
    bad[text.length] = '#';
    bad[text.length + 1] = (byte) 0xe9; // Latin-1 'é'
    bad[text.length + 2] = '\n';
    Files.write(yaml, bad);
    ErrorsTest.assertUsageError(Cli.run(files.args("generate", "a cat", "-i", "1", "--vqgan", files.vqgan32.toString(), "--vqgan-config",
        yaml.toString())), "is not UTF-8 text");
  }

  /** Finding 5: edit of a 196 kB 8192x8192 PNG made an 8192x8192 run; now --size's default bounds it. */
  @Test
  void editOfAHugeImageRunsAtTheDefaultSize() throws IOException {
    Path img = dir.resolve("huge.png");
    Files.write(img, CraftedImages.blackPng(8192, 4096));
    Path out = dir.resolve("edited.png");
    // The built-in models: --size's default is 32.
    Cli.Run r = Cli.run("edit", img.toString(), "a red circle", "-o", out.toString(), "-i", "1", "--seed", "1", "--cutouts", "1", "--threads", "1", "-q");
    assertEquals(0, r.exit(), r.toString());
    BufferedImage res = ImageIO.read(out.toFile());
    assertEquals(32, res.getWidth(), "the longer side is --size's default");
    assertEquals(16, res.getHeight(), "the aspect ratio is the image's");
  }

  private Path checkpointedRun() {
    Path out = dir.resolve("run.png");
    Cli.Run r = Cli.run(files.args("generate", "a red circle", "-o", out.toString(), "-i", "3", "--seed", "4", "--checkpoint"));
    assertEquals(0, r.exit(), r.toString());
    return dir.resolve("run.ckpt");
  }

  private void edit(Path ckpt, Consumer<ObjectNode> change) throws IOException {
    ObjectNode o = (ObjectNode) JSON.readTree(ckpt.toFile());
    change.accept(o);
    JSON.writeValue(ckpt.toFile(), o);
  }

  /**
   * Finding 6: an optimizer state shorter than the latent exited 1 from LatentOptimizer.restore;
   * optimizerSteps = 2^31-1 ran every iteration, then overflowed and wrote no PNG.
   */
  @Test
  void badCheckpointsAreUsageErrorsBeforeTheRun() throws IOException {
    Path ckpt = checkpointedRun();
    Checkpoint good = Checkpoint.load(ckpt);
    byte[] original = Files.readAllBytes(ckpt);
    edit(ckpt, o -> o.put("optimizerSteps", Integer.MAX_VALUE));
    ErrorsTest.assertUsageError(Cli.run("resume", ckpt.toString(), "-i", "5", "-q"), "optimizerSteps");
    Files.write(ckpt, original);
    int n = good.latent().length;
    edit(ckpt, o -> o.put("optimizerState", java.util.Base64.getEncoder().encodeToString(new byte[4 * (n - 1)])));
    ErrorsTest.assertUsageError(Cli.run("resume", ckpt.toString(), "-i", "5", "-q"), "optimizerState has " + (n - 1) + " values");
    // Valid on its own (one value per parameter) but not Adam's two: found against the run's settings.
    Files.write(ckpt, original);
    edit(ckpt, o -> o.put("optimizerState", java.util.Base64.getEncoder().encodeToString(new byte[4 * n])));
    ErrorsTest.assertUsageError(Cli.run("resume", ckpt.toString(), "-i", "5", "-q"), "ADAM optimizer for " + n + " parameters needs " + 2 * n);
    Files.write(ckpt, original);
    Cli.Run ok = Cli.run("resume", ckpt.toString(), "-i", "5", "-q");
    assertEquals(0, ok.exit(), ok.toString());
  }

  /** Finding 7, first half: a folder whose permission bits pass but that refuses files (/proc) was found only after the run. */
  @Test
  void anOutputFolderThatRefusesWritesIsFoundBeforeTheRun() {
    ErrorsTest.assertUsageError(Cli.run(files.args("generate", "a cat", "-i", "1", "-o", "/proc/out.png")), "--output: cannot write to the folder /proc");
  }

  /** Finding 7, second half: when the final write fails anyway, image and checkpoint are saved elsewhere and named. */
  @Test
  void aFailedFinalWriteSavesTheRunToAFallbackFile() throws IOException {
    Path outDir = dir.resolve("out");
    Path rescueDir = Files.createDirectories(dir.resolve("tmp"));
    String tmp = System.getProperty("java.io.tmpdir");
    System.setProperty("java.io.tmpdir", rescueDir.toString());
    Cli.Run r;
    try {
      r = Cli.run(cl -> {
        GenerateCommand g = Cli.command(cl, "generate");
        g.listeners.add(e -> {
          if (e.iteration() == 1) {
            // The output folder goes away during the run and a file takes its name: no write can succeed.
            try {
              for (Path p : Files.list(outDir).toList()) {
                Files.delete(p);
              }
              Files.delete(outDir);
              Files.writeString(outDir, "in the way");
            } catch (IOException x) {
              throw new java.io.UncheckedIOException(x);
            }
          }
          return true;
        });
      }, files.args("generate", "a red circle", "-o", outDir.resolve("result.png").toString(), "-i", "3", "--seed", "5"));
    } finally {
      System.setProperty("java.io.tmpdir", tmp);
    }
    assertEquals(1, r.exit(), r.toString());
    assertEquals(1, r.err().lines().count(), r.toString());
    Matcher m = Pattern.compile("saved to (\\S+\\.png) with its checkpoint (\\S+\\.ckpt)").matcher(r.err());
    assertTrue(m.find(), r.err());
    Path png = Path.of(m.group(1));
    assertTrue(png.startsWith(rescueDir), png.toString());
    assertEquals(3, Checkpoint.load(Path.of(m.group(2))).iteration());
    Tensor img = Images.read(png);
    // The rescued run resumes like any other.
    Path longer = dir.resolve("longer.png");
    Cli.Run resumed = Cli.run("resume", m.group(2), "-i", "4", "-o", longer.toString(), "-q");
    assertEquals(0, resumed.exit(), resumed.toString());
    assertArrayEquals(img.shape(), Images.read(longer).shape());
  }

  /** Finding 8: inspect reported a torch file with a missing storage, or 16 bytes for 2^30 elements, as fine. */
  @Test
  void inspectFindsMissingAndShortStorages() {
    for (String how : new String[] {"missing", "short", "truncated"}) {
      Path f = ai.vqclip.onnx.weights.StorageCheckTest.write(dir.resolve(how + ".pt"), how);
      Cli.Run r = Cli.run("inspect", f.toString());
      ErrorsTest.assertUsageError(r, "'big'");
    }
  }
}
