package ai.vqclip.augment;

import ai.vqclip.core.Augmentation;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * Random sharpening (code {@code Sh}), after PIL/kornia sharpness: {@code y = x + f (x - blur(x))}
 * on interior pixels, with the fixed smoothing kernel [[1,1,1],[1,5,1],[1,1,1]] / 13 applied as a
 * depthwise Conv and border pixels left unchanged (as PIL does). f ~ U(0, sharpness) with
 * probability p, else 0 (input {@code factor} [cutn, 1, 1, 1]).
 *
 * <p>Draws per cutout: coin, f (both always).
 *
 * @param sharpness the largest sharpening factor, in [0, 10]
 * @param p probability of sharpening a cutout, in [0, 1]
 */
public record Sharpness(double sharpness, double p) implements Augmentation {
  /**
   * Validates the parameters.
   *
   * @param sharpness the largest sharpening factor, in [0, 10]
   * @param p probability of sharpening a cutout, in [0, 1]
   * @throws IllegalArgumentException if a parameter is outside its range
   */
  public Sharpness {
    Checks.range("Sharpness sharpness", sharpness, 0, 10);
    Checks.probability("Sharpness p", p);
  }

  /** The smoothing kernel, row-major 3x3. */
  static final double[] KERNEL = {1 / 13.0, 1 / 13.0, 1 / 13.0, 1 / 13.0, 5 / 13.0, 1 / 13.0, 1 / 13.0, 1 / 13.0, 1 / 13.0};

  /** The factors, consuming the generator as {@link #sample} does. */
  double[] draw(RandomGenerator rng, int cutn) {
    double[] f = new double[cutn];
    for (int i = 0; i < cutn; i++) {
      boolean on = rng.nextDouble() < p;
      double v = rng.nextDouble() * sharpness;
      f[i] = on ? v : 0;
    }
    return f;
  }

  @Override
  public Map<String, Tensor> sample(RandomGenerator rng, int cutn, int size) {
    double[] f = draw(rng, cutn);
    return Map.of("factor", Tensor.fromDoubles(DType.FLOAT, new long[] {cutn, 1, 1, 1}, f));
  }

  @Override
  public Value apply(GraphBuilder b, Value cutouts, String inputPrefix) {
    int[] ns = Shapes.cutouts("Sharpness", cutouts);
    int s = ns[1];
    Value factor = b.input(inputPrefix + "factor", DType.FLOAT, Shape.of(ns[0], 1, 1, 1));
    double[] w = new double[27];
    for (int c = 0; c < 3; c++) {
      System.arraycopy(KERNEL, 0, w, 9 * c, 9);
    }
    Value kernel = b.constant(Tensor.fromDoubles(DType.FLOAT, new long[] {3, 1, 3, 3}, w));
    Value blur = b.op("Conv").in(cutouts, kernel).attr("group", 3L).ints("kernel_shape", 3, 3).ints("pads", 1, 1, 1, 1).out();
    double[] interior = new double[s * s];
    for (int y = 1; y < s - 1; y++) {
      for (int x = 1; x < s - 1; x++) {
        interior[y * s + x] = 1;
      }
    }
    Value mask = b.constant(Tensor.fromDoubles(DType.FLOAT, new long[] {1, 1, s, s}, interior));
    Value detail = b.mul(b.sub(cutouts, blur), mask);
    return b.add(cutouts, b.mul(factor, detail));
  }
}
