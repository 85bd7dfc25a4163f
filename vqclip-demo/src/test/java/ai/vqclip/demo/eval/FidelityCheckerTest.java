package ai.vqclip.demo.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.demo.data.Captions;
import ai.vqclip.demo.data.DemoColor;
import ai.vqclip.demo.data.Scene;
import ai.vqclip.demo.data.ShapesDataset;
import java.util.List;
import org.junit.jupiter.api.Test;

class FidelityCheckerTest {
  @Test
  void agreesWithTheTruthAndRejectsWrongColoursOnDrawnPictures() {
    ShapesDataset d = new ShapesDataset(32, 9);
    int checked = 0;
    int agreed = 0;
    for (long i = 0; checked < 200; i++) {
      ShapesDataset.Sample s = d.sample(i);
      Scene sc = s.scene();
      if (sc.objects().size() != 1 || sc.twoTone()) {
        continue;
      }
      checked++;
      float[] px = ShapesDataset.toTensor(List.of(s.image()), false).toFloats();
      String truth = Captions.full(sc);
      agreed += FidelityChecker.check(truth, px, 32, 32).agrees() ? 1 : 0;
      DemoColor other = DemoColor.values()[(sc.objects().get(0).color().ordinal() + 1) % DemoColor.values().length];
      if (other == sc.background()) {
        other = DemoColor.values()[(other.ordinal() + 1) % DemoColor.values().length];
      }
      String wrong = "a " + other.word() + " " + sc.objects().get(0).shape().word() + " on a " + sc.background().word() + " background";
      assertFalse(FidelityChecker.check(wrong, px, 32, 32).agrees(), wrong + " accepted for " + truth);
    }
    // Small objects near the border can hide under the border ring: nearly all, not all, agree.
    assertTrue(agreed >= 190, agreed + " of 200 true captions agreed");
  }

  @Test
  void readsAPlainPictureAndRefusesTwoObjectPrompts() {
    float[] px = new float[3 * 16 * 16];
    java.util.Arrays.fill(px, 0, 256, 35 / 255f); // blue-ish: r=35, g=60, b=215
    java.util.Arrays.fill(px, 256, 512, 60 / 255f);
    java.util.Arrays.fill(px, 512, 768, 215 / 255f);
    FidelityChecker.Reading r = FidelityChecker.read(px, 16, 16);
    assertEquals(DemoColor.BLUE, r.background());
    assertEquals(null, r.object());
    assertFalse(FidelityChecker.check("a red circle", px, 16, 16).agrees());
    assertThrows(IllegalArgumentException.class, () -> FidelityChecker.check("a red circle and a blue star", px, 16, 16));
  }
}
