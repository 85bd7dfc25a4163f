package ai.vqclip.core;

import java.util.random.RandomGenerator;

/** Seeded normal draws that are identical on every Java version (no nextGaussian, whose algorithm changed in Java 17). */
public final class Gaussian {
  private Gaussian() {}

  /**
   * A standard normal draw (Box-Muller, one value per two uniforms).
   *
   * @param rnd the generator; advanced by two draws
   * @return one N(0, 1) value
   */
  public static double next(RandomGenerator rnd) {
    double u1 = rnd.nextDouble();
    double u2 = rnd.nextDouble();
    return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
  }
}
