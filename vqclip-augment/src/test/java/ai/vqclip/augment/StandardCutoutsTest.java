package ai.vqclip.augment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.CutoutAugmentation;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.CutoutSource;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class StandardCutoutsTest {
  private static final int H = 16;
  private static final int W = 16;

  /** Cutouts of a uniformly grey picture with strong perspective and affine warps. */
  private static double[] cutoutsOfGrey(List<String> codes) {
    CutoutSource src = new StandardCutouts().create(16, 16, 1.0, CutoutAugmentation.codes(codes));
    Map<String, Tensor> feed = new HashMap<>(src.sample(new SplittableRandom(3), W, H));
    feed.put(Cutouts.IMAGE, Tensor.filled(DType.FLOAT, new long[] {1, 3, H, W}, 0.5));
    return Ref.run(src.fragment(W, H), feed);
  }

  @Test
  void borderPseudoCodeRepeatsEdgePixelsWhereZeroPaddingShowsBlack() {
    // The noise step is on with augmentation codes (sigma up to 0.1), so "black" is far from 0.5.
    double[] zeros = cutoutsOfGrey(List.of("Af", "Pe"));
    double[] border = cutoutsOfGrey(List.of("Af", "Pe", "border"));
    long darkZeros = java.util.Arrays.stream(zeros).filter(v -> v < 0.1).count();
    long darkBorder = java.util.Arrays.stream(border).filter(v -> v < 0.1).count();
    assertTrue(darkZeros > zeros.length / 100, "zero padding should show black wedges, " + darkZeros + " dark values");
    assertEquals(0, darkBorder, "border padding must never sample outside the picture");
  }

  /** Standard deviation of the cutouts of a grey picture around its grey (border padding: only the noise step moves it). */
  private static double spreadAroundGrey(List<String> codes) {
    double[] v = cutoutsOfGrey(codes);
    double ss = 0;
    for (double x : v) {
      ss += (x - 0.5) * (x - 0.5);
    }
    return Math.sqrt(ss / v.length);
  }

  @Test
  void noisePseudoCodeSetsTheNoiseStepsLargestSigma() {
    // sigma ~ U(0, s) per cutout, so the spread is about s / sqrt(3) (less where the clamp cuts it).
    double none = spreadAroundGrey(List.of("Af", "Border", "Noise=0"));
    double standard = spreadAroundGrey(List.of("Af", "Border"));
    double wide = spreadAroundGrey(List.of("Af", "Border", "noise=0.5"));
    assertTrue(none < 1e-6, "Noise=0 must switch the noise step off, spread " + none);
    assertEquals(0.1 / Math.sqrt(3), standard, 0.02, "default noise step");
    assertTrue(wide > 3.5 * standard && wide < 0.5 / Math.sqrt(3) + 0.02, "Noise=0.5 spread " + wide + ", default " + standard);
  }

  @Test
  void badNoiseCodesNameTheCodeAndWhatIsAllowed() {
    for (String bad : List.of("Noise=abc", "Noise=11", "Noise=-0.1", "Noise=")) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> new StandardCutouts().create(4, 8, 1.0, CutoutAugmentation.codes(List.of("Af", bad))), bad);
      assertTrue(e.getMessage().contains(bad) && e.getMessage().contains("[0, 10]"), e.getMessage());
    }
    IllegalArgumentException alone = assertThrows(IllegalArgumentException.class,
        () -> new StandardCutouts().create(4, 8, 1.0, CutoutAugmentation.codes(List.of("Noise=0.3"))));
    assertTrue(alone.getMessage().contains("Noise=0.3"), alone.getMessage());
  }

  @Test
  void unknownCodesAreStillRejected() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new StandardCutouts().create(4, 8, 1.0, CutoutAugmentation.codes(List.of("Af", "Borders"))));
    assertTrue(e.getMessage().contains("Borders"), e.getMessage());
  }
}
