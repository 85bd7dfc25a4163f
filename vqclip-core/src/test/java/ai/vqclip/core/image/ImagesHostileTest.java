package ai.vqclip.core.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.ModelLoadException;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.testing.CraftedImages;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 16, findings 3 and 4: image files whose decoding would allocate without bound. */
class ImagesHostileTest {
  @TempDir Path dir;

  /** Finding 3: a few hundred bytes declaring 2056x15624 pixels (within the pixel limit) were decoded, ~1 GB. */
  @Test
  void aJpegDeclaringAHugeImageIsRefusedBeforeDecoding() throws IOException {
    Path f = dir.resolve("bomb.jpg");
    Files.write(f, CraftedImages.lyingJpeg(2056, 15624));
    assertTrue(Files.size(f) < 1000, "the reproducer is a few hundred bytes");
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> Images.read(f));
    assertTrue(e.getMessage().contains("2056x15624") && e.getMessage().contains("MiB limit"), e.getMessage());
  }

  /** An image too costly at its own size is read at a small target size, decoded subsampled. */
  @Test
  void aLargeImageIsReadAtTheTargetSize() throws IOException {
    Path f = dir.resolve("big.png");
    Files.write(f, CraftedImages.blackPng(8192, 8192));
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> Images.read(f));
    assertTrue(e.getMessage().contains("MiB limit"), e.getMessage());
    Tensor t = Images.read(f, 64, 48);
    assertArrayEquals(new long[] {1, 3, 48, 64}, t.shape());
    assertEquals(0.0, t.toDoubles()[100]);
    assertArrayEquals(new long[] {1, 1, 48, 64}, Images.readMask(f, 64, 48).shape());
  }

  @Test
  void targetSizesAreChecked() throws IOException {
    Path f = dir.resolve("small.png");
    Files.write(f, CraftedImages.blackPng(16, 16));
    assertThrows(IllegalArgumentException.class, () -> Images.read(f, 0, 16));
    assertThrows(IllegalArgumentException.class, () -> Images.read(f, 16, Images.MAX_SIDE + 1));
  }

  /** Child JVM for the zTXt bomb: reads the PNG's text with a 64 MB heap. */
  public static void main(String[] args) {
    Map<String, String> t = Images.readPngText(Path.of(args[0]));
    System.out.println("text " + t);
  }

  /** Finding 4: a zTXt chunk inflating to 128 MiB (1 GiB in the report) was inflated in full: OutOfMemoryError. */
  @Test
  void compressedTextIsNotInflated() throws IOException, InterruptedException {
    Path f = dir.resolve("ztxt.png");
    Files.write(f, CraftedImages.blackPng(8, 8, CraftedImages.text("Software", "vqclip"), CraftedImages.zTxtBomb("bomb", 128L << 20)));
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p = new ProcessBuilder(List.of(java, "-Xmx64m", "-cp", System.getProperty("java.class.path"), ImagesHostileTest.class.getName(),
        f.toString())).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the child JVM did not finish");
    assertEquals(0, p.exitValue(), out);
    assertTrue(out.contains("text {Software=vqclip}"), out);
  }

  @Test
  void textOverTheLimitOrTruncatedIsAModelLoadException() throws IOException {
    Path f = dir.resolve("text.png");
    Files.write(f, CraftedImages.blackPng(8, 8, CraftedImages.text("big", "x".repeat(Images.MAX_PNG_TEXT_BYTES))));
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> Images.readPngText(f));
    assertTrue(e.getMessage().contains("bytes of PNG text"), e.getMessage());
    byte[] png = CraftedImages.blackPng(8, 8, CraftedImages.text("a", "b"));
    // A tEXt chunk declaring 2 GB, cut short: refused or reported truncated, never allocated.
    byte[] lying = java.util.Arrays.copyOf(png, png.length);
    int at = indexOf(lying, "tEXt".getBytes(StandardCharsets.ISO_8859_1)) - 4;
    lying[at] = 0x7f;
    lying[at + 1] = (byte) 0xff;
    Files.write(f, lying);
    assertThrows(ModelLoadException.class, () -> Images.readPngText(f));
    Files.write(f, java.util.Arrays.copyOf(png, png.length - 12));
    e = assertThrows(ModelLoadException.class, () -> Images.readPngText(f));
    assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    Files.write(f, png);
    assertEquals(Map.of("a", "b"), Images.readPngText(f));
  }

  private static int indexOf(byte[] a, byte[] b) {
    outer:
    for (int i = 0; i + b.length <= a.length; i++) {
      for (int j = 0; j < b.length; j++) {
        if (a[i + j] != b[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
