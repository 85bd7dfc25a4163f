package ai.vqclip.demo.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ShapesDatasetTest {
  private static int[] pixels(BufferedImage im) {
    return im.getRGB(0, 0, im.getWidth(), im.getHeight(), null, 0, im.getWidth());
  }

  @Test
  void sameSeedAndIndexGiveTheSameSampleInAnyOrder() {
    ShapesDataset a = new ShapesDataset(32, 7);
    ShapesDataset b = new ShapesDataset(32, 7);
    ShapesDataset.Sample late = b.sample(41);
    for (int i = 0; i < 50; i++) {
      ShapesDataset.Sample x = a.sample(i);
      ShapesDataset.Sample y = i == 41 ? late : b.sample(i);
      assertEquals(x.caption(), y.caption(), "caption " + i);
      assertEquals(x.scene(), y.scene(), "scene " + i);
      assertArrayEquals(pixels(x.image()), pixels(y.image()), "pixels " + i);
    }
    assertNotEquals(new ShapesDataset(32, 8).sample(0).scene(), a.sample(0).scene());
  }

  @Test
  void coversEveryColourShapeAndCaptionForm() {
    ShapesDataset d = new ShapesDataset(32, 1);
    Set<DemoColor> colors = EnumSet.noneOf(DemoColor.class);
    Set<ShapeKind> shapes = EnumSet.noneOf(ShapeKind.class);
    Set<String> forms = new HashSet<>();
    for (int i = 0; i < 400; i++) {
      ShapesDataset.Sample s = d.sample(i);
      s.scene().objects().forEach(o -> {
        colors.add(o.color());
        shapes.add(o.shape());
      });
      String c = s.caption();
      forms.add((c.contains(" and a ") ? "two" : "one") + (c.contains("background") ? "+bg" : "") + (c.matches(".*(small|big).*") ? "+size" : ""));
    }
    assertEquals(EnumSet.allOf(DemoColor.class), colors);
    assertEquals(EnumSet.allOf(ShapeKind.class), shapes);
    assertTrue(forms.containsAll(List.of("one", "one+bg", "one+size", "one+bg+size", "two", "two+bg")), forms.toString());
  }

  @Test
  void captionWordsMatchWhatIsDrawn() {
    ShapesDataset d = new ShapesDataset(64, 3);
    for (int i = 0; i < 200; i++) {
      ShapesDataset.Sample s = d.sample(i);
      Scene sc = s.scene();
      BufferedImage im = s.image();
      int n = im.getWidth();
      // Corners are background: objects keep a margin from the border.
      assertEquals(sc.background().rgb(), im.getRGB(0, 0) & 0xFFFFFF, "left corner of sample " + i);
      DemoColor right = sc.twoTone() ? sc.background2() : sc.background();
      assertEquals(right.rgb(), im.getRGB(n - 1, n - 1) & 0xFFFFFF, "right corner of sample " + i);
      for (Scene.Item it : sc.objects()) {
        double px = it.cx() * n;
        double py = it.cy() * n;
        if (it.shape() == ShapeKind.RING) {
          px += it.radius() * n * (1 + ShapeKind.RING_HOLE) / 2; // inside the band, not the hole
        }
        assertEquals(it.color().rgb(), im.getRGB((int) px, (int) py) & 0xFFFFFF, "object pixel of sample " + i + ": " + s.caption());
        assertTrue(s.caption().contains(it.color().word() + " " + it.shape().word()), s.caption());
      }
      if (s.caption().contains("background")) {
        assertTrue(s.caption().endsWith(" " + sc.background().word() + (sc.twoTone() ? " and " + sc.background2().word() : "") + " background"),
            s.caption());
      }
    }
  }

  @Test
  void ringsHaveHolesAndTensorsKeepLayout() {
    Scene ring = new Scene(DemoColor.BLUE, null, List.of(new Scene.Item(ShapeKind.RING, DemoColor.RED, Scene.Size.BIG, 0.5, 0.5, 0.4)));
    BufferedImage im = ShapesDataset.render(ring, 32);
    assertEquals(DemoColor.BLUE.rgb(), im.getRGB(16, 16) & 0xFFFFFF, "ring hole shows the background");
    float[] t = ShapesDataset.toTensor(List.of(im), false).toFloats();
    assertEquals(32 * 32 * 3, t.length);
    // channel 2 (blue) at the centre pixel is the background's blue 215/255
    assertEquals(215 / 255f, t[2 * 32 * 32 + 16 * 32 + 16], 1e-6);
    assertEquals("a big red ring on a blue background", Captions.full(ring));
    assertThrows(IllegalArgumentException.class, () -> new ShapesDataset(8, 0));
  }
}
