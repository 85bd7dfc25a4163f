package ai.vqclip.core.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.ModelLoadException;
import ai.vqclip.core.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImagesTest {
  @TempDir Path dir;

  @Test
  void pngRoundTripKeepsPixelsAndText() {
    float[] v = new float[3 * 4 * 5];
    for (int i = 0; i < v.length; i++) {
      v[i] = (i * 7 % 256) / 255f;
    }
    Tensor t = Tensor.ofFloats(new long[] {1, 3, 4, 5}, v);
    Path p = dir.resolve("out.png");
    Images.writePng(t, p, Map.of("vqclip", "{\"seed\":1}", "prompt", "a red circle"));
    Tensor back = Images.read(p);
    assertArrayEquals(t.shape(), back.shape());
    assertArrayEquals(v, back.toFloats(), 1e-6f);
    Map<String, String> text = Images.readPngText(p);
    assertEquals("{\"seed\":1}", text.get("vqclip"));
    assertEquals("a red circle", text.get("prompt"));
    Tensor small = Images.read(p, 2, 3);
    assertArrayEquals(new long[] {1, 3, 3, 2}, small.shape());
    Tensor mask = Images.readMask(p, 5, 4);
    assertArrayEquals(new long[] {1, 1, 4, 5}, mask.shape());
  }

  @Test
  void rejectsNonImagesAndNaN() throws Exception {
    Path junk = Files.writeString(dir.resolve("junk.png"), "not an image");
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> Images.read(junk));
    assertTrue(e.getMessage().contains("junk.png"), e.getMessage());
    assertThrows(ModelLoadException.class, () -> Images.read(dir.resolve("missing.png")));
    Tensor nan = Tensor.ofFloats(new long[] {1, 3, 1, 1}, 0f, Float.NaN, 0f);
    IllegalArgumentException n = assertThrows(IllegalArgumentException.class, () -> Images.toImage(nan));
    assertTrue(n.getMessage().contains("NaN"), n.getMessage());
  }
}
