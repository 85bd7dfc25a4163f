package ai.vqclip.augment;

import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Value;

/** Checks on the cutout batch a pixel augmentation receives. */
final class Shapes {
  private Shapes() {}

  /** {cutn, size} of a static float32 [cutn, 3, S, S] batch; throws naming the augmentation otherwise. */
  static int[] cutouts(String who, Value v) {
    if (v.dtype() != DType.FLOAT || !v.shape().hasRank() || v.rank() != 4 || !v.shape().isStatic()
        || v.shape().size(1) != 3 || v.shape().size(2) != v.shape().size(3)) {
      throw new IllegalArgumentException(who + ": cutouts must be a static float32 [cutn, 3, S, S], got " + v);
    }
    return new int[] {Math.toIntExact(v.shape().size(0)), Math.toIntExact(v.shape().size(2))};
  }
}
