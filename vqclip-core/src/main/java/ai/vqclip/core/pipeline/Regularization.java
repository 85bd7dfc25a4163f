package ai.vqclip.core.pipeline;

import ai.vqclip.core.loss.LatentRegularization;
import java.util.Objects;

/**
 * The latent regularizer of a run (METHOD.md B.9): {@code weight(i) * mean((z - target)^2) / 2}.
 *
 * @param weight base weight (>= 0; 0 disables it)
 * @param target what z is pulled toward
 * @param decay how the weight changes with the iteration
 */
public record Regularization(double weight, Target target, LatentRegularization.Decay decay) {
  /** Pull z toward zero or toward its initial value. */
  public enum Target {
    /** Toward the zero latent. */
    ZERO,
    /** Toward the run's initial latent. */
    INIT
  }

  /**
   * Validates.
   *
   * @param weight base weight (>= 0; 0 disables it)
   * @param target what z is pulled toward
   * @param decay how the weight changes with the iteration
   * @throws IllegalArgumentException for a value out of range (the message names it)
   * @throws NullPointerException for a null value that is required
   */
  public Regularization {
    if (!(weight >= 0) || !Double.isFinite(weight)) {
      throw new IllegalArgumentException("regularization weight must be a finite number >= 0, got " + weight);
    }
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(decay, "decay");
  }

  /** @return no regularization */
  public static Regularization none() {
    return new Regularization(0, Target.ZERO, new LatentRegularization.Decay.Constant());
  }
}
