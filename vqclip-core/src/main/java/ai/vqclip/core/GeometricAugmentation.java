package ai.vqclip.core;

import java.util.random.RandomGenerator;

/**
 * A geometric augmentation of square cutouts (flip, rotation, affine, perspective, resized crop),
 * drawn on the host as one 3x3 homography per cutout. The homographies of all geometric
 * augmentations are composed on the host into a single sampling grid, so the graph resamples each
 * cutout once, whatever the number of geometric augmentations.
 *
 * <p>Coordinates are continuous pixel coordinates of the S x S cutout: the cutout covers [0, S] x
 * [0, S] and pixel (i, j) (column i, row j) has its centre at (i + 0.5, j + 0.5). A homography
 * {@code m} (row-major, 9 entries) maps an <em>output</em> point (x, y) to the <em>source</em>
 * point (x', y') it samples: {@code (x'w, y'w, w) = m (x, y, 1)}. That is the inverse of the
 * warp the augmentation applies to the picture.
 *
 * <p>Call order: {@link #sample} once per optimisation step with the run's generator, in the
 * order the augmentations are listed; implementations are immutable and draw from {@code rng} in
 * a fixed, documented order.
 */
public interface GeometricAugmentation extends CutoutAugmentation {
  /**
   * Draws one homography per cutout: {@code cutn} arrays of 9 doubles (row-major), mapping output
   * pixel coordinates to source pixel coordinates of a cutout of side {@code size}.
   *
   * @param rng the run's generator; advanced by the draws
   * @param cutn number of cutouts
   * @param size cutout side S in pixels
   * @return {@code cutn} homographies of 9 doubles each
   */
  double[][] sample(RandomGenerator rng, int cutn, int size);
}
