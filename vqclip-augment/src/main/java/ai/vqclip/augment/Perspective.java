package ai.vqclip.augment;

import ai.vqclip.core.GeometricAugmentation;
import java.util.random.RandomGenerator;

/**
 * Random perspective warp (code {@code Pe}), after kornia's RandomPerspective: each corner of the
 * cutout moves inward by U(0, distortion x S / 2) along each axis, and the picture is warped so
 * that the corners land there. Draws per cutout: coin, then 8 uniforms (corners top-left,
 * top-right, bottom-right, bottom-left; x then y), always.
 *
 * @param distortion corner displacement scale, in [0, 1]
 * @param p probability of warping a cutout, in [0, 1]
 */
public record Perspective(double distortion, double p) implements GeometricAugmentation {
  /**
   * Validates the parameters.
   *
   * @param distortion corner displacement scale, in [0, 1]
   * @param p probability of warping a cutout, in [0, 1]
   * @throws IllegalArgumentException if a parameter is outside its range
   */
  public Perspective {
    Checks.range("Perspective distortion", distortion, 0, 1);
    Checks.probability("Perspective p", p);
  }

  @Override
  public double[][] sample(RandomGenerator rng, int cutn, int size) {
    double[][] h = new double[cutn][];
    double[][] corners = {{0, 0}, {size, 0}, {size, size}, {0, size}};
    double[][] inward = {{1, 1}, {-1, 1}, {-1, -1}, {1, -1}};
    double f = distortion * size / 2;
    for (int i = 0; i < cutn; i++) {
      boolean on = rng.nextDouble() < p;
      double[][] moved = new double[4][2];
      for (int k = 0; k < 4; k++) {
        for (int a = 0; a < 2; a++) {
          moved[k][a] = corners[k][a] + inward[k][a] * f * rng.nextDouble();
        }
      }
      // the output samples the source: map the moved corners back onto the original corners
      h[i] = on && f > 0 ? Homography.fromPoints(moved, corners) : Homography.identity();
    }
    return h;
  }
}
