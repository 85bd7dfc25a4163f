package ai.vqclip.augment;

import ai.vqclip.core.GeometricAugmentation;
import java.util.random.RandomGenerator;

/**
 * Random affine warp about the cutout centre (codes {@code Af}, and {@code Ro} with only a
 * rotation), after kornia's RandomAffine: rotation by U(-degrees, degrees), translation by
 * U(-translate, translate) x S on each axis, isotropic scale U(scaleMin, scaleMax) and x-shear by
 * U(-shear, shear) degrees. Draws per cutout, in this order: coin, angle, tx, ty, scale, shear
 * (all six always, so the stream does not depend on the coin).
 *
 * @param degrees maximum rotation in degrees, in [0, 180]
 * @param translate maximum translation as a fraction of the side, in [0, 1]
 * @param scaleMin smallest scale factor, in (0, scaleMax]
 * @param scaleMax largest scale factor, at most 10
 * @param shear maximum x-shear in degrees, in [0, 60]
 * @param p probability of warping a cutout, in [0, 1]
 */
public record Affine(double degrees, double translate, double scaleMin, double scaleMax, double shear, double p)
    implements GeometricAugmentation {
  /**
   * Validates every parameter.
   *
   * @param degrees maximum rotation in degrees, in [0, 180]
   * @param translate maximum translation as a fraction of the cutout side, in [0, 1]
   * @param scaleMin smallest scale factor, at least 0.001 and at most {@code scaleMax}
   * @param scaleMax largest scale factor, at most 10
   * @param shear maximum x-shear in degrees, in [0, 60]
   * @param p probability of warping a cutout, in [0, 1]
   * @throws IllegalArgumentException if a parameter is outside its range (the message names it)
   */
  public Affine {
    Checks.range("Affine degrees", degrees, 0, 180);
    Checks.range("Affine translate", translate, 0, 1);
    Checks.interval("Affine scale", scaleMin, scaleMax, 1e-3, 10);
    Checks.range("Affine shear", shear, 0, 60);
    Checks.probability("Affine p", p);
  }

  /**
   * A rotation only (code {@code Ro}).
   *
   * @param degrees maximum rotation in degrees, in [0, 180]
   * @param p probability of rotating a cutout, in [0, 1]
   * @return an affine warp with rotation only (no translation, scale 1, no shear)
   * @throws IllegalArgumentException if {@code degrees} or {@code p} is out of range
   */
  public static Affine rotation(double degrees, double p) {
    return new Affine(degrees, 0, 1, 1, 0, p);
  }

  @Override
  public double[][] sample(RandomGenerator rng, int cutn, int size) {
    double[][] h = new double[cutn][];
    double c = size / 2.0;
    for (int i = 0; i < cutn; i++) {
      boolean on = rng.nextDouble() < p;
      double angle = Math.toRadians(Checks.uniform(rng, -degrees, degrees));
      double tx = Checks.uniform(rng, -translate, translate) * size;
      double ty = Checks.uniform(rng, -translate, translate) * size;
      double scale = Checks.uniform(rng, scaleMin, scaleMax);
      double sh = Math.toRadians(Checks.uniform(rng, -shear, shear));
      if (!on) {
        h[i] = Homography.identity();
        continue;
      }
      // forward warp (source -> output): shear, scale, rotate about the centre, then translate
      double[] fwd = Homography.multiply(Homography.rotation(angle),
          Homography.multiply(Homography.scaling(scale, scale), Homography.shear(sh, 0)));
      fwd = Homography.multiply(Homography.translation(tx, ty), Homography.about(fwd, c, c));
      h[i] = Homography.invert(fwd);
    }
    return h;
  }
}
