package ai.vqclip.cli;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.autodiff.Autodiff;
import ai.vqclip.core.autodiff.GradientRequest;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import java.util.Random;

/**
 * The demo network: a two-layer tanh MLP with seeded random weights, and a mean-squared-error loss
 * against a target fed at run time. The training graph adds the gradient of the loss with respect
 * to the network <em>input</em> {@code x}, which the demo optimizes.
 *
 * <p>It uses only ops whose gradient rules exist in every build of the engine (MatMul, Add, Sub,
 * Mul, Tanh, Identity). That is why the loss sums squares with two MatMuls against ones instead of
 * ReduceSum. A convolutional variant replaces it once the Conv rule lands.
 */
final class DemoNet {
  /** The optimized input, shape [batch, inputs]. */
  static final String INPUT = "x";
  /** The target of the network output, shape [batch, outputs]. */
  static final String TARGET = "target";
  /** The network output. */
  static final String OUTPUT = "y";
  /** The scalar loss, shape [1, 1]. */
  static final String LOSS = "loss";
  /** The gradient output of the training graph. */
  static final String GRAD = GradientRequest.gradName(INPUT);

  /**
   * Layer sizes.
   *
   * @param batch rows of {@code x}
   * @param inputs features of {@code x}
   * @param hidden units of the tanh layer
   * @param outputs features of {@code y}
   */
  record Size(int batch, int inputs, int hidden, int outputs) {
    Size {
      if (batch < 1 || inputs < 1 || hidden < 1 || outputs < 1) {
        throw new IllegalArgumentException(
            "demo net sizes must be >= 1, got batch " + batch + ", inputs " + inputs + ", hidden " + hidden + ", outputs " + outputs);
      }
    }

    /** Elements of {@code x}. */
    int inputCount() {
      return batch * inputs;
    }

    /** Elements of {@code y}. */
    int outputCount() {
      return batch * outputs;
    }
  }

  /** The size {@code vqclip demo} uses. */
  static final Size DEMO = new Size(8, 32, 64, 16);

  private DemoNet() {}

  /**
   * The forward graph: {@code y = tanh(x W1 + b1) W2 + b2}, {@code loss = mean((y - target)^2)}.
   * Weights are drawn from {@code seed}: N(0, 1/fan_in) for matrices, N(0, 0.1^2) for biases.
   */
  static Graph forward(DType dtype, Size size, long seed) {
    Random rnd = new Random(seed);
    GraphBuilder b = new GraphBuilder("demo_mlp");
    Value x = b.input(INPUT, dtype, Shape.of(size.batch(), size.inputs()));
    Value target = b.input(TARGET, dtype, Shape.of(size.batch(), size.outputs()));
    Value w1 = b.initializer("w1", gaussian(dtype, rnd, 1 / Math.sqrt(size.inputs()), size.inputs(), size.hidden()));
    Value b1 = b.initializer("b1", gaussian(dtype, rnd, 0.1, size.hidden()));
    Value w2 = b.initializer("w2", gaussian(dtype, rnd, 1 / Math.sqrt(size.hidden()), size.hidden(), size.outputs()));
    Value b2 = b.initializer("b2", gaussian(dtype, rnd, 0.1, size.outputs()));
    Value h = b.op("Tanh").in(b.add(b.matmul(x, w1), b1)).out();
    Value y = b.output(OUTPUT, b.add(b.matmul(h, w2), b2));
    Value d = b.sub(y, target);
    // sum of squares as ones[1,batch] . (d*d) . ones[outputs,1]: MatMul has a rule everywhere.
    Value rowSums = b.matmul(b.mul(d, d), b.constant(Tensor.filled(dtype, new long[] {size.outputs(), 1}, 1)));
    Value total = b.matmul(b.constant(Tensor.filled(dtype, new long[] {1, size.batch()}, 1)), rowSums);
    b.output(LOSS, b.mul(total, b.scalar(1.0 / size.outputCount(), dtype)));
    return b.build();
  }

  /** The forward graph plus {@link #GRAD}, the gradient of {@link #LOSS} with respect to {@link #INPUT}. */
  static Graph training(DType dtype, Size size, long seed) {
    return Autodiff.differentiate(forward(dtype, size, seed), GradientRequest.ofLoss(LOSS, INPUT));
  }

  /** {@code n} standard normal draws times {@code scale}. */
  static double[] gaussian(Random rnd, double scale, int n) {
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = rnd.nextGaussian() * scale;
    }
    return v;
  }

  private static Tensor gaussian(DType dtype, Random rnd, double scale, long... shape) {
    long n = 1;
    for (long s : shape) {
      n *= s;
    }
    return Tensor.fromDoubles(dtype, shape, gaussian(rnd, scale, Math.toIntExact(n)));
  }
}
