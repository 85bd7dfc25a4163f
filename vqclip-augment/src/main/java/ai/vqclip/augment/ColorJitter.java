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
 * Random colour jitter (code {@code Ji}) as one affine colour transform per cutout, applied in a
 * fixed order: brightness (multiply by b ~ U(1 - brightness, 1 + brightness)), contrast (blend
 * with the cutout's mean luma, factor c ~ U(1 - contrast, 1 + contrast), torchvision's
 * definition), saturation (blend with the pixel's luma, factor s ~ U(1 - saturation, 1 +
 * saturation)) and hue (a rotation of the chroma plane of YIQ by 2 pi h, h ~ U(-hue, hue)).
 * Saturation and hue act on YIQ's chroma (I, Q), whose luma row equals the grey weights (0.299,
 * 0.587, 0.114), so both are one 3x3 matrix {@code M} that fixes greys. The whole jitter is
 * {@code y = c b M x + (1 - c) b mean(luma(x))}: a batched MatMul with the input {@code matrix}
 * [cutn, 3, 3] = c b M plus the input {@code grey} [cutn, 1, 1] = (1 - c) b times the mean luma,
 * differentiable everywhere. Unlike torchvision there is no clamp after each factor (the final
 * clamp-with-gradient comes after all augmentations) and no random order.
 *
 * <p>Draws per cutout, in this order: coin, b, c, s, h (all five always).
 *
 * @param brightness in [0, 1]
 * @param contrast in [0, 1]
 * @param saturation in [0, 1]
 * @param hue fraction of a full turn, in [0, 0.5]
 * @param p probability of jittering a cutout, in [0, 1]
 */
public record ColorJitter(double brightness, double contrast, double saturation, double hue, double p) implements Augmentation {
  /** Rec. 601 luma weights (torchvision's grayscale, the Y row of YIQ). */
  static final double[] LUMA = {0.299, 0.587, 0.114};

  /** RGB to YIQ (NTSC); its I and Q rows sum to 0, so greys have no chroma. */
  static final double[] RGB_TO_YIQ = {
    0.299, 0.587, 0.114,
    0.596, -0.274, -0.322,
    0.211, -0.523, 0.312
  };

  /**
   * Validates the parameters.
   *
   * @param brightness brightness jitter, in [0, 1]
   * @param contrast contrast jitter, in [0, 1]
   * @param saturation saturation jitter, in [0, 1]
   * @param hue hue jitter as a fraction of a full turn, in [0, 0.5]
   * @param p probability of jittering a cutout, in [0, 1]
   * @throws IllegalArgumentException if a parameter is outside its range (the message names it)
   */
  public ColorJitter {
    Checks.range("ColorJitter brightness", brightness, 0, 1);
    Checks.range("ColorJitter contrast", contrast, 0, 1);
    Checks.range("ColorJitter saturation", saturation, 0, 1);
    Checks.range("ColorJitter hue", hue, 0, 0.5);
    Checks.probability("ColorJitter p", p);
  }

  /** One cutout's drawn factors (identity factors when the coin said no). */
  record Factors(double brightness, double contrast, double saturation, double hue) {}

  /** The factors for {@code cutn} cutouts, consuming the generator as {@link #sample} does. */
  Factors[] draw(RandomGenerator rng, int cutn) {
    Factors[] f = new Factors[cutn];
    for (int i = 0; i < cutn; i++) {
      boolean on = rng.nextDouble() < p;
      double b = Checks.uniform(rng, 1 - brightness, 1 + brightness);
      double c = Checks.uniform(rng, 1 - contrast, 1 + contrast);
      double s = Checks.uniform(rng, 1 - saturation, 1 + saturation);
      double h = Checks.uniform(rng, -hue, hue);
      f[i] = on ? new Factors(b, c, s, h) : new Factors(1, 1, 1, 0);
    }
    return f;
  }

  /** The saturation-and-hue matrix T^-1 diag(1, s R(2 pi h)) T (row-major 3x3). */
  static double[] chromaMatrix(double saturation, double hue) {
    double a = 2 * Math.PI * hue;
    double cs = saturation * Math.cos(a);
    double sn = saturation * Math.sin(a);
    double[] inner = {1, 0, 0, 0, cs, -sn, 0, sn, cs};
    return Homography.multiply(Homography.invert(RGB_TO_YIQ), Homography.multiply(inner, RGB_TO_YIQ));
  }

  @Override
  public Map<String, Tensor> sample(RandomGenerator rng, int cutn, int size) {
    Factors[] f = draw(rng, cutn);
    float[] mat = new float[cutn * 9];
    float[] grey = new float[cutn];
    for (int i = 0; i < cutn; i++) {
      double[] m = chromaMatrix(f[i].saturation(), f[i].hue());
      double k = f[i].contrast() * f[i].brightness();
      for (int j = 0; j < 9; j++) {
        mat[i * 9 + j] = (float) (k * m[j]);
      }
      grey[i] = (float) ((1 - f[i].contrast()) * f[i].brightness());
    }
    Map<String, Tensor> out = new LinkedHashMap<>();
    out.put("matrix", Tensor.ofFloats(new long[] {cutn, 3, 3}, mat));
    out.put("grey", Tensor.ofFloats(new long[] {cutn, 1, 1}, grey));
    return out;
  }

  @Override
  public Value apply(GraphBuilder b, Value cutouts, String inputPrefix) {
    int[] ns = Shapes.cutouts("ColorJitter", cutouts);
    int n = ns[0];
    int s = ns[1];
    Value mat = b.input(inputPrefix + "matrix", DType.FLOAT, Shape.of(n, 3, 3));
    Value grey = b.input(inputPrefix + "grey", DType.FLOAT, Shape.of(n, 1, 1));
    Value flat = b.reshape(cutouts, n, 3, (long) s * s);
    Value mixed = b.matmul(mat, flat);
    Value luma = b.constant(Tensor.ofFloats(new long[] {1, 1, 3}, (float) LUMA[0], (float) LUMA[1], (float) LUMA[2]));
    Value meanLuma = b.matmul(luma, b.reduceMean(flat, true, 2)); // [n, 1, 1]
    return b.reshape(b.add(mixed, b.mul(meanLuma, grey)), n, 3, s, s);
  }
}
