package ai.vqclip.core;

import java.util.List;

/** Creates the cutout stage of a run from its request (vqclip-augment provides the standard one). */
@FunctionalInterface
public interface CutoutFactory {
  /**
   * @param count cutouts per step
   * @param size side S of each cutout (the encoder's input resolution)
   * @param cutPow the crop-size exponent (METHOD.md B.5)
   * @param augmentations augmentation codes, e.g. {@code ["Af", "Pe", "Ji", "Er"]}; empty for none
   */
  CutoutSource create(int count, int size, double cutPow, List<String> augmentations);
}
