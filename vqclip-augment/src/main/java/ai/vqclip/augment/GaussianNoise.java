package ai.vqclip.augment;

import ai.vqclip.core.Augmentation;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * Additive Gaussian pixel noise, {@code y = x + sigma_i n} with host-drawn standard normal {@code
 * n} [cutn, 3, S, S] (input {@code noise}) and a per-cutout {@code sigma} [cutn, 1, 1, 1] (input
 * {@code sigma}). Two modes: the B.5 noise step ({@link #uniform}: sigma_i ~ U(0, std), always
 * applied) and the {@code Gn} augmentation ({@link #fixed}: sigma_i = std with probability p,
 * else 0).
 *
 * <p>Draws: first every cutout's sigma (uniform mode: one uniform; fixed mode: one coin), then the
 * normals of the cutouts whose sigma is non-zero, in cutout order, 3 S^2 each (channel, row,
 * column order; {@link RandomGenerator#nextGaussian()}); the other cutouts' noise is 0.
 *
 * @param std the maximum (uniform) or fixed standard deviation, in [0, 10]
 * @param uniformSigma whether sigma is drawn from U(0, std)
 * @param p probability of adding noise to a cutout, in [0, 1]
 */
public record GaussianNoise(double std, boolean uniformSigma, double p) implements Augmentation {
  /**
   * Validates the parameters.
   *
   * @param std maximum (uniform mode) or fixed standard deviation, in [0, 10]
   * @param uniformSigma draw sigma from U(0, std) for every cutout instead of std with probability
   *     p
   * @param p probability of adding noise to a cutout, in [0, 1] (unused in uniform mode)
   * @throws IllegalArgumentException if {@code std} or {@code p} is out of range
   */
  public GaussianNoise {
    Checks.range("GaussianNoise std", std, 0, 10);
    Checks.probability("GaussianNoise p", p);
  }

  /**
   * The B.5 noise step: sigma_i ~ U(0, noiseFac) for every cutout.
   *
   * @param noiseFac largest sigma, in [0, 10]
   * @return noise whose sigma is drawn from U(0, noiseFac) for every cutout
   * @throws IllegalArgumentException if {@code noiseFac} is out of range
   */
  public static GaussianNoise uniform(double noiseFac) {
    return new GaussianNoise(noiseFac, true, 1);
  }

  /**
   * Noise of a fixed std with probability p per cutout (kornia RandomGaussianNoise, code {@code
   * Gn}).
   *
   * @param std standard deviation of the noise, in [0, 10]
   * @param p probability of adding noise to a cutout, in [0, 1]
   * @return noise of sigma {@code std} on a cutout with probability {@code p}
   * @throws IllegalArgumentException if {@code std} or {@code p} is out of range
   */
  public static GaussianNoise fixed(double std, double p) {
    return new GaussianNoise(std, false, p);
  }

  @Override
  public Map<String, Tensor> sample(RandomGenerator rng, int cutn, int size) {
    float[] sigma = new float[cutn];
    for (int i = 0; i < cutn; i++) {
      if (uniformSigma) {
        sigma[i] = (float) (rng.nextDouble() * std);
      } else {
        sigma[i] = rng.nextDouble() < p ? (float) std : 0f;
      }
    }
    int per = 3 * size * size;
    float[] noise = new float[Math.multiplyExact(cutn, per)];
    for (int i = 0; i < cutn; i++) {
      if (sigma[i] != 0) {
        for (int k = 0; k < per; k++) {
          noise[i * per + k] = (float) rng.nextGaussian();
        }
      }
    }
    Map<String, Tensor> out = new LinkedHashMap<>();
    out.put("sigma", Tensor.ofFloats(new long[] {cutn, 1, 1, 1}, sigma));
    out.put("noise", Tensor.ofFloats(new long[] {cutn, 3, size, size}, noise));
    return out;
  }

  @Override
  public Value apply(GraphBuilder b, Value cutouts, String inputPrefix) {
    int[] ns = Shapes.cutouts("GaussianNoise", cutouts);
    Value sigma = b.input(inputPrefix + "sigma", DType.FLOAT, Shape.of(ns[0], 1, 1, 1));
    Value noise = b.input(inputPrefix + "noise", DType.FLOAT, Shape.of(ns[0], 3, ns[1], ns[1]));
    return b.add(cutouts, b.mul(sigma, noise));
  }
}
