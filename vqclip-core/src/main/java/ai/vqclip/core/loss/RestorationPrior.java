package ai.vqclip.core.loss;

import ai.vqclip.core.Loss;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.autodiff.GradientOverrides;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Value;
import java.util.Map;
import java.util.Objects;

/**
 * An image prior from a restorer: a network {@code R} trained to map damaged pictures of the wanted
 * kind back to clean ones. Each step the generated picture {@code x} is pulled towards its own
 * restoration, {@code weight * mean((x - sg(R(x)))^2)}, with no gradient through {@code R} (sg: stop
 * gradient), so the gradient is {@code 2 weight (x - R(x)) / N}: a picture near a clean one is moved to
 * it, and a picture the restorer leaves as it is feels nothing. This is regularization by denoising
 * (Romano, Elad and Milanfar 2017) with a restorer in place of the denoiser. It costs one forward pass
 * of {@code R} per step. Immutable; the graph is shared, not copied.
 *
 * <p>The restorer sees and returns pictures in [-1, 1] (the VQGAN convention); its input must accept
 * the run's picture [1, 3, H, W] and its output must have the same shape.
 *
 * @param restorer the restorer's forward graph (FLOAT)
 * @param input the restorer's input name
 * @param output the restorer's output name
 * @param weight the weight, finite and &gt; 0
 * @param start the first iteration with the term (before it the weight is 0: a random start is far
 *     from every clean picture, and its restoration, a smudge of average colour, is no target)
 * @param ramp iterations over which the weight then rises linearly to {@code weight} (0: at once)
 */
public record RestorationPrior(Graph restorer, String input, String output, double weight, int start, int ramp) implements Loss {
  /** The term's name. */
  public static final String NAME = "restore";

  /**
   * Checks the graph's input and output names, the weight and the schedule.
   *
   * @param restorer the restorer's forward graph (FLOAT)
   * @param input the restorer's input name
   * @param output the restorer's output name
   * @param weight the weight, finite and &gt; 0
   * @param start the first iteration with the term, &gt;= 0
   * @param ramp iterations of the linear rise to {@code weight}, &gt;= 0
   * @throws IllegalArgumentException for a name the graph lacks, a weight that is not finite and
   *     positive, or a negative start or ramp
   */
  public RestorationPrior {
    Objects.requireNonNull(restorer, "restorer");
    if (restorer.inputs().stream().noneMatch(v -> v.name().equals(input))) {
      throw new IllegalArgumentException("restorer graph '" + restorer.name() + "' has no input '" + input + "'; inputs: "
          + restorer.inputs().stream().map(Value::name).toList());
    }
    if (restorer.outputs().stream().noneMatch(v -> v.name().equals(output))) {
      throw new IllegalArgumentException("restorer graph '" + restorer.name() + "' has no output '" + output + "'; outputs: "
          + restorer.outputs().stream().map(Value::name).toList());
    }
    if (start < 0 || ramp < 0) {
      throw new IllegalArgumentException("restoration prior start and ramp must be >= 0, got " + start + " and " + ramp);
    }
    if (!(weight > 0) || !Double.isFinite(weight)) {
      throw new IllegalArgumentException("restoration prior weight must be a finite number > 0, got " + weight);
    }
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Value build(Context ctx) {
    return loss(ctx.builder(), ctx.image(), NAME);
  }

  /**
   * The scalar term for an image [1, 3, H, W] in [0, 1].
   *
   * @param b the builder
   * @param image the picture
   * @param scope a name scope for the restorer's nodes, unique in the graph
   * @return the weighted mean squared distance to the (stopped) restoration, a scalar
   */
  public Value loss(GraphBuilder b, Value image, String scope) {
    Value x = image.dtype() == DType.FLOAT ? image : b.cast(image, DType.FLOAT);
    Value signed = b.sub(b.mul(x, b.scalarLike(2, x)), b.scalarLike(1, x));
    Value r = b.include(restorer, scope, Map.of(input, signed)).get(output);
    return pullTowards(b, image, r, b.input(WEIGHT_INPUT, image.dtype(), ai.vqclip.core.graph.Shape.scalar()));
  }

  /**
   * {@code weight * mean((image - sg(clamp((restored + 1) / 2)))^2)}: the pull of a picture towards a
   * restoration of it, with no gradient through the restoration.
   *
   * @param b the builder
   * @param image the picture [1, 3, H, W] in [0, 1]
   * @param restored its restoration in [-1, 1], of the same shape
   * @param weight a scalar of the picture's type
   * @return the term, a scalar
   * @throws IllegalArgumentException when the restoration's shape does not fit the picture's
   */
  public static Value pullTowards(GraphBuilder b, Value image, Value restored, Value weight) {
    if (!restored.shape().accepts(image.shape())) {
      throw new IllegalArgumentException("restoration " + restored + " does not match the picture " + image);
    }
    Value r = restored.dtype() == DType.FLOAT ? restored : b.cast(restored, DType.FLOAT);
    Value half = b.mul(b.add(r, b.scalarLike(1, r)), b.scalarLike(0.5, r));
    Value target = b.op("Clip").in(half, b.scalarLike(0, half), b.scalarLike(1, half)).out();
    if (image.dtype() != DType.FLOAT) {
      target = b.cast(target, image.dtype());
    }
    long[] s = image.shape().toArray();
    // Stop gradient: the restoration's forward value, its gradient sent to a constant.
    Value stopped = GradientOverrides.straightThrough(b, target, b.constant(Tensor.filled(image.dtype(), s, 0)));
    Value d = b.sub(image, stopped);
    return b.mul(b.reduceMean(b.mul(d, d), false), weight);
  }

  /** The input that carries each step's weight. */
  public static final String WEIGHT_INPUT = NAME + "/weight";

  /**
   * The weight at an iteration: 0 before {@code start}, then rising linearly over {@code ramp}
   * iterations to {@code weight}.
   *
   * @param iteration the iteration, from 0
   * @return the weight
   */
  public double weightAt(int iteration) {
    return rampedWeight(weight, start, ramp, iteration);
  }

  /**
   * A weight that is 0 before {@code start} and then rises linearly over {@code ramp} iterations to
   * {@code weight} (at once when {@code ramp} is 0).
   *
   * @param weight the full weight
   * @param start the first iteration with a non-zero weight
   * @param ramp iterations of the rise
   * @param iteration the iteration, from 0
   * @return the weight at that iteration
   */
  public static double rampedWeight(double weight, int start, int ramp, int iteration) {
    if (iteration < start) {
      return 0;
    }
    return ramp == 0 ? weight : weight * Math.min(1, (iteration - start + 1) / (double) ramp);
  }

  @Override
  public Map<String, Tensor> stepInputs(int iteration) {
    return Map.of(WEIGHT_INPUT, Tensor.scalar(DType.FLOAT, weightAt(iteration)));
  }
}
