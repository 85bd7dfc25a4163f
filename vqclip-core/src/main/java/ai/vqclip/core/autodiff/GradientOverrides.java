package ai.vqclip.core.autodiff;

import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Node;
import ai.vqclip.core.graph.ShapeInference;
import ai.vqclip.core.graph.Value;
import java.util.List;
import java.util.Map;
import ai.vqclip.core.ops.OpTable;

/**
 * Graph-level gradient overrides (ops in the {@link Graph#VQCLIP_DOMAIN} domain), lowered to plain
 * ONNX by {@link #lower} once differentiation is done:
 *
 * <ul>
 *   <li>{@code StraightThrough(value, target)}: forward returns {@code value}; the backward pass
 *       routes the incoming gradient to {@code target} unchanged (summed to its shape) and gives
 *       {@code value} none. This is VQGAN-CLIP's straight-through quantizer (replace_grad).
 *   <li>{@code ClampWithGrad(x, min, max)}: forward is Clip; backward passes {@code g} where {@code
 *       g * (x - clamp(x)) >= 0}, so outside the range only a descent step that moves {@code x}
 *       back toward it gets a gradient (METHOD.md B.4).
 * </ul>
 */
public final class GradientOverrides {
  /** The straight-through op type. */
  public static final String STRAIGHT_THROUGH = "StraightThrough";

  /** The clamp-with-gradient op type. */
  public static final String CLAMP_WITH_GRAD = "ClampWithGrad";

  private GradientOverrides() {}

  /**
   * Forward value of {@code value}, gradient routed to {@code gradientTarget}.
   *
   * @param b the builder
   * @param value the value whose forward value is used
   * @param gradientTarget the value that receives the gradient (same type and shape)
   * @return the override node's output
   * @throws IllegalArgumentException when the two differ in type or shape
   */
  public static Value straightThrough(GraphBuilder b, Value value, Value gradientTarget) {
    if (value.dtype() != gradientTarget.dtype()) {
      throw new IllegalArgumentException("straight-through value " + value + " and target " + gradientTarget + " differ in type");
    }
    if (value.shape().hasRank() && gradientTarget.shape().hasRank() && !value.shape().accepts(gradientTarget.shape())) {
      throw new IllegalArgumentException("straight-through value " + value + " and target " + gradientTarget + " differ in shape");
    }
    return b.op(Graph.VQCLIP_DOMAIN, STRAIGHT_THROUGH).in(value, gradientTarget).out();
  }

  /**
   * Clamp to [min, max] with the clamp-with-gradient backward rule.
   *
   * @param b the builder
   * @param x the value to clamp
   * @param min lower bound
   * @param max upper bound, at least {@code min}
   * @return the clamped value
   * @throws IllegalArgumentException when {@code min > max} or either is NaN
   */
  public static Value clampWithGrad(GraphBuilder b, Value x, double min, double max) {
    if (!(min <= max)) {
      throw new IllegalArgumentException("clamp range must have min <= max, got [" + min + ", " + max + "]");
    }
    return b.op(Graph.VQCLIP_DOMAIN, CLAMP_WITH_GRAD).in(x, b.scalarLike(min, x), b.scalarLike(max, x)).out();
  }

  /**
   * Defines the override ops (shape and gradient rules) in an op table.
   *
   * @param t the op table to define the ops in
   */
  public static void define(OpTable t) {
    t.op(Graph.VQCLIP_DOMAIN + "." + STRAIGHT_THROUGH).shape(ShapeInference::same)
        .grad(c -> c.setGrad(1, c.unbroadcast(c.gradOutput(0), c.input(1))));
    t.op(Graph.VQCLIP_DOMAIN + "." + CLAMP_WITH_GRAD).shape(ShapeInference::same).grad(c -> {
      GraphBuilder b = c.b();
      Value g = c.gradOutput(0);
      Value moved = b.sub(c.input(0), c.output(0));
      Value ok = b.op("GreaterOrEqual").in(b.mul(g, moved), b.scalarLike(0, g)).out();
      c.setGrad(0, b.op("Where").in(ok, g, b.scalarLike(0, g)).out());
    });
  }

  /**
   * Replaces gradient-override ops by their forward meaning (Identity, Clip).
   *
   * @param g a graph that may hold override ops
   * @return a copy whose override nodes are replaced by Identity or Clip nodes
   */
  public static Graph lower(Graph g) {
    return g.mapNodes(n -> {
      if (!n.domain().equals(Graph.VQCLIP_DOMAIN)) {
        return n;
      }
      return switch (n.opType()) {
        case STRAIGHT_THROUGH -> new Node(n.name(), "Identity", "", List.of(n.inputs().get(0)), n.outputs(), Map.of());
        case CLAMP_WITH_GRAD -> new Node(n.name(), "Clip", "", n.inputs(), n.outputs(), Map.of());
        default -> throw new IllegalArgumentException("unknown vqclip op " + n.describe());
      };
    });
  }
}
