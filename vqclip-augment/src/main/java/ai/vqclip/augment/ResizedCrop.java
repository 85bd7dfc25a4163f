package ai.vqclip.augment;

import ai.vqclip.core.GeometricAugmentation;
import java.util.random.RandomGenerator;

/**
 * Random resized crop (code {@code Re}), after torchvision/kornia RandomResizedCrop: a rectangle of
 * area U(scaleMin, scaleMax) x S^2 and log-uniform aspect ratio in [ratioMin, ratioMax], at a
 * uniform integer position, stretched to the whole cutout. Up to 10 tries for a rectangle that
 * fits, else the whole cutout. Draws per cutout: coin, then per try area, log-ratio and (when it
 * fits) x and y.
 *
 * @param scaleMin smallest area fraction, in (0, scaleMax]
 * @param scaleMax largest area fraction, at most 1
 * @param ratioMin smallest aspect ratio (width / height), in (0, ratioMax]
 * @param ratioMax largest aspect ratio, at most 100
 * @param p probability of cropping a cutout, in [0, 1]
 */
public record ResizedCrop(double scaleMin, double scaleMax, double ratioMin, double ratioMax, double p)
    implements GeometricAugmentation {
  /**
   * Validates the parameters.
   *
   * @param scaleMin smallest area fraction, at least 1e-6 and at most {@code scaleMax}
   * @param scaleMax largest area fraction, at most 1
   * @param ratioMin smallest aspect ratio (width / height), at least 0.01 and at most {@code
   *     ratioMax}
   * @param ratioMax largest aspect ratio, at most 100
   * @param p probability of cropping a cutout, in [0, 1]
   * @throws IllegalArgumentException if a parameter is outside its range
   */
  public ResizedCrop {
    Checks.interval("ResizedCrop scale", scaleMin, scaleMax, 1e-6, 1);
    Checks.interval("ResizedCrop ratio", ratioMin, ratioMax, 1e-2, 100);
    Checks.probability("ResizedCrop p", p);
  }

  @Override
  public double[][] sample(RandomGenerator rng, int cutn, int size) {
    double[][] h = new double[cutn][];
    for (int i = 0; i < cutn; i++) {
      boolean on = rng.nextDouble() < p;
      double[] m = Homography.identity();
      if (on) {
        for (int t = 0; t < 10; t++) {
          double area = Checks.uniform(rng, scaleMin, scaleMax) * size * size;
          double ratio = Math.exp(Checks.uniform(rng, Math.log(ratioMin), Math.log(ratioMax)));
          long w = Math.round(Math.sqrt(area * ratio));
          long hh = Math.round(Math.sqrt(area / ratio));
          if (w > 0 && hh > 0 && w <= size && hh <= size) {
            int x0 = rng.nextInt((int) (size - w) + 1);
            int y0 = rng.nextInt((int) (size - hh) + 1);
            m = new double[] {(double) w / size, 0, x0, 0, (double) hh / size, y0, 0, 0, 1};
            break;
          }
        }
      }
      h[i] = m;
    }
    return h;
  }
}
