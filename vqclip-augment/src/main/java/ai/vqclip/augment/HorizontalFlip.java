package ai.vqclip.augment;

import ai.vqclip.core.GeometricAugmentation;
import java.util.random.RandomGenerator;

/**
 * Random horizontal flip (code {@code Hf}). Draws per cutout: one uniform for the coin.
 *
 * @param p probability of flipping a cutout, in [0, 1]
 */
public record HorizontalFlip(double p) implements GeometricAugmentation {
  /**
   * Validates the probability.
   *
   * @param p probability of flipping a cutout, in [0, 1]
   * @throws IllegalArgumentException if {@code p} is outside [0, 1]
   */
  public HorizontalFlip {
    Checks.probability("HorizontalFlip p", p);
  }

  @Override
  public double[][] sample(RandomGenerator rng, int cutn, int size) {
    double[][] h = new double[cutn][];
    for (int i = 0; i < cutn; i++) {
      // x -> S - x maps pixel centres onto pixel centres, so bilinear sampling is exact
      h[i] = rng.nextDouble() < p ? new double[] {-1, 0, size, 0, 1, 0, 0, 0, 1} : Homography.identity();
    }
    return h;
  }
}
