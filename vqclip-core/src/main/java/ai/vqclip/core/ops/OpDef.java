package ai.vqclip.core.ops;

import ai.vqclip.core.autodiff.VjpRule;
import ai.vqclip.core.graph.ShapeInference;
import java.util.Objects;

/**
 * Everything vqclip knows about one op type, registered in one place: its shape rule, its gradient
 * and its FLOP count.
 *
 * @param key the op type for the ONNX domain, {@code "domain.OpType"} otherwise
 * @param since the first default-domain opset that has the op (1 for ops as old as ONNX); vqclip's
 *     import accepts opsets 7 to 26, so an op is usable from {@code max(7, since)}
 * @param shape the shape rule, or null (outputs then get the first input's type and unknown shapes)
 * @param gradient what the autodiff does with the op
 * @param vjp the gradient rule when {@code gradient} is {@link Gradient#RULE}, else null
 * @param flops the FLOP count, or null when the op is not counted (memory-bound ops)
 */
public record OpDef(String key, int since, ShapeInference.Rule shape, Gradient gradient, VjpRule vjp, FlopRule flops) {
  /** What the autodiff does with an op. */
  public enum Gradient {
    /** No gradient rule: differentiating through the op is refused (the message says how to add one). */
    MISSING,
    /** A vector-Jacobian product rule. */
    RULE,
    /** The outputs carry no gradient at all (Shape, comparisons, integer or constant outputs). */
    NONE,
    /**
     * The true gradient is zero almost everywhere (Round, Floor, ArgMax, ...): refused unless the
     * caller chooses zero or straight-through ({@link ai.vqclip.core.autodiff.VjpRegistry#chooseGradient}).
     */
    PIECEWISE_CONSTANT
  }

  /**
   * Checks the definition.
   *
   * @param key the op type for the ONNX domain, {@code "domain.OpType"} otherwise (not null)
   * @param since the first default-domain opset that has the op, at least 1
   * @param shape the shape rule, or null
   * @param gradient what the autodiff does with the op (not null)
   * @param vjp the gradient rule, given exactly when {@code gradient} is {@link Gradient#RULE}
   * @param flops the FLOP count, or null
   * @throws IllegalArgumentException for {@code since} below 1 or a {@code vjp} that does not match
   *     {@code gradient}
   * @throws NullPointerException when {@code key} or {@code gradient} is null
   */
  public OpDef {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(gradient, "gradient");
    if (since < 1) {
      throw new IllegalArgumentException("since must be >= 1, got " + since + " for " + key);
    }
    if ((gradient == Gradient.RULE) != (vjp != null)) {
      throw new IllegalArgumentException("op " + key + ": a vjp rule is given exactly when gradient is RULE (gradient " + gradient + ")");
    }
  }

  /**
   * The op's default domain-opset range accepted on import ({@code max(7, since)} to 26).
   *
   * @return the accepted opsets, e.g. {@code "13-26"}
   */
  public String opsetRange() {
    return Math.max(OpTable.MIN_IMPORT_OPSET, since) + "-" + OpTable.MAX_OPSET;
  }
}
