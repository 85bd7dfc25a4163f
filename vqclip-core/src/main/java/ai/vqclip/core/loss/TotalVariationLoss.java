package ai.vqclip.core.loss;

import ai.vqclip.core.Loss;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Value;

/**
 * The built-in total-variation term {@code "tv"} ({@link TotalVariation}) as a {@link Loss}: what a
 * request's {@code tvWeight} adds. Immutable.
 *
 * @param weight the weight (> 0)
 */
public record TotalVariationLoss(double weight) implements Loss {
  /** The term's name. */
  public static final String NAME = "tv";

  /**
   * Checks the weight.
   *
   * @param weight the weight, finite and &gt; 0
   * @throws IllegalArgumentException for a weight that is not finite and positive
   */
  public TotalVariationLoss {
    if (!(weight > 0) || !Double.isFinite(weight)) {
      throw new IllegalArgumentException("tv weight must be a finite number > 0, got " + weight);
    }
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Value build(Context ctx) {
    return TotalVariation.loss(ctx.builder(), ctx.image(), ctx.builder().scalar(weight, DType.FLOAT));
  }
}
