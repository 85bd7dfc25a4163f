package ai.vqclip.bench;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.autodiff.Autodiff;
import ai.vqclip.core.autodiff.GradientRequest;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import java.util.Random;

/** The graphs the benchmarks run, built with seeded random weights (cost does not depend on values). */
public final class BenchGraphs {
  /** Input of both graphs. */
  public static final String INPUT = "x";
  /** The scalar output of both graphs. */
  public static final String LOSS = "loss";
  /** The gradient output of the conv-net step. */
  public static final String GRAD = GradientRequest.gradName(INPUT);

  private BenchGraphs() {}

  /**
   * {@code sum(x @ W)} for {@code x, W} of shape [n, n] float32, {@code W} an initializer. The sum
   * keeps the n^2 output inside the runtime, so the run time is the product plus one input copy;
   * its n^2 additions are negligible next to the 2 n^3 of the product.
   */
  public static Graph sgemm(int n, long seed) {
    if (n < 1) {
      throw new IllegalArgumentException("sgemm size n must be >= 1, got " + n);
    }
    GraphBuilder b = new GraphBuilder("sgemm_" + n);
    Value x = b.input(INPUT, DType.FLOAT, Shape.of(n, n));
    Value w = b.initializer("w", gaussian(new Random(seed), 1 / Math.sqrt(n), n, n));
    b.output(LOSS, b.reduceSum(b.matmul(x, w), false));
    return b.build();
  }

  /**
   * The forward conv net: {@code layers} times [3x3 conv {@code channels -> channels} with pads 1
   * and bias, GroupNorm with {@code groups} groups, swish], then {@code loss = sum(h^2)}. Input
   * {@code x} is [1, channels, size, size] float32.
   *
   * <p>GroupNorm is written the way exporters emit it: Reshape to [N, groups, -1],
   * InstanceNormalization with unit scale and zero bias, Reshape back, Mul gamma, Add beta.
   */
  public static Graph convNet(int layers, int channels, int groups, int size, long seed) {
    if (layers < 1 || channels < 1 || size < 1) {
      throw new IllegalArgumentException(
          "conv net needs layers, channels and size >= 1, got " + layers + ", " + channels + ", " + size);
    }
    if (groups < 1 || channels % groups != 0) {
      throw new IllegalArgumentException("GroupNorm groups must divide channels " + channels + ", got " + groups);
    }
    Random rnd = new Random(seed);
    GraphBuilder b = new GraphBuilder("convnet_" + layers + "x" + channels + "_" + size);
    Value h = b.input(INPUT, DType.FLOAT, Shape.of(1, channels, size, size));
    Value ones = b.constant(Tensor.filled(DType.FLOAT, new long[] {groups}, 1));
    Value zeros = b.constant(Tensor.filled(DType.FLOAT, new long[] {groups}, 0));
    for (int l = 0; l < layers; l++) {
      b.pushScope("layer" + l);
      Value w = b.initializer("w" + l, gaussian(rnd, 1 / Math.sqrt(channels * 9.0), channels, channels, 3, 3));
      Value bias = b.initializer("b" + l, gaussian(rnd, 0.1, channels));
      h = b.op("Conv").in(h, w, bias).ints("kernel_shape", 3, 3).ints("pads", 1, 1, 1, 1).out();
      Value grouped = b.reshape(h, 1, groups, -1);
      Value normed = b.op("InstanceNormalization").in(grouped, ones, zeros).attr("epsilon", 1e-5f).out();
      h = b.reshape(normed, 1, channels, size, size);
      Value gamma = b.initializer("gamma" + l, affine(rnd, 1, channels));
      Value beta = b.initializer("beta" + l, affine(rnd, 0, channels));
      h = b.add(b.mul(h, gamma), beta);
      h = b.mul(h, b.op("Sigmoid").in(h).out());
      b.popScope();
    }
    b.output(LOSS, b.reduceSum(b.mul(h, h), false));
    return b.build();
  }

  /**
   * The conv net with its backward pass: outputs {@link #LOSS} and {@link #GRAD}.
   *
   * @throws IllegalArgumentException when an op on the path has no gradient rule
   */
  public static Graph convNetStep(int layers, int channels, int groups, int size, long seed) {
    return Autodiff.differentiate(convNet(layers, channels, groups, size, seed), GradientRequest.ofLoss(LOSS, INPUT));
  }

  /** A seeded float32 input of the given shape. */
  public static Tensor randomInput(long seed, long... shape) {
    return gaussian(new Random(seed), 1, shape);
  }

  private static Tensor affine(Random rnd, double center, int channels) {
    double[] v = new double[channels];
    for (int i = 0; i < channels; i++) {
      v[i] = center + 0.1 * rnd.nextGaussian();
    }
    return Tensor.fromDoubles(DType.FLOAT, new long[] {channels, 1, 1}, v);
  }

  private static Tensor gaussian(Random rnd, double scale, long... shape) {
    long n = 1;
    for (long s : shape) {
      n = Math.multiplyExact(n, s);
    }
    float[] v = new float[Math.toIntExact(n)];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (rnd.nextGaussian() * scale);
    }
    return Tensor.ofFloats(shape, v);
  }
}
