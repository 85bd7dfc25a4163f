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

  @Test
  void unknownCodesAreStillRejected() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new StandardCutouts().create(4, 8, 1.0, CutoutAugmentation.codes(List.of("Af", "Borders"))));
    assertTrue(e.getMessage().contains("Borders"), e.getMessage());
  }
}
