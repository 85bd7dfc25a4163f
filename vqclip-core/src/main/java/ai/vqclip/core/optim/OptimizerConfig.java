package ai.vqclip.core.optim;

import java.util.Locale;
import java.util.Objects;

/**
 * An optimizer for the latent, validated. Defaults follow the common VQGAN-CLIP settings: Adam with
 * beta 0.9/0.999 and epsilon 1e-8 (METHOD.md B.7).
 *
 * @param kind the update rule
 * @param learningRate step size, in latent units (> 0)
 * @param beta1 first-moment decay (Adam family), or momentum for SGD, in [0, 1)
 * @param beta2 second-moment decay (Adam family) or RMSProp decay, in [0, 1)
 * @param epsilon denominator guard (> 0)
 * @param weightDecay decoupled weight decay for {@link Kind#ADAMW} (>= 0; 0 for the others)
 */
public record OptimizerConfig(Kind kind, double learningRate, double beta1, double beta2, double epsilon, double weightDecay)
    implements ai.vqclip.core.Optimizer {
  /** Update rules. */
  public enum Kind {
    /**
     * Adam (Kingma and Ba, arXiv:1412.6980).
     */
    ADAM,
    /**
     * AdamW: Adam with decoupled weight decay (Loshchilov and Hutter, arXiv:1711.05101).
     */
    ADAMW,
    /**
     * Adagrad (Duchi, Hazan and Singer, JMLR 2011).
     */
    ADAGRAD,
    /**
     * AdaMax, Adam's infinity-norm variant (from the Adam paper).
     */
    ADAMAX,
    /**
     * RMSProp (Tieleman and Hinton, 2012).
     */
    RMSPROP,
    /**
     * Nadam, Adam with Nesterov momentum (Dozat, 2016).
     */
    NADAM,
    /**
     * AMSGrad, Adam with a non-decreasing second moment (Reddi, Kale and Kumar, 2018).
     */
    AMSGRAD,
    /**
     * Stochastic gradient descent, with Nesterov momentum when {@code beta1} is above 0.
     */
    SGD;

    /**
     * The kind for a case-insensitive name such as {@code "adamw"}.
     *
     * @param name the kind's name in any case, e.g. {@code "adamw"}
     * @return the kind
     * @throws IllegalArgumentException naming the accepted names
     */
    public static Kind parse(String name) {
      Objects.requireNonNull(name, "optimizer name");
      try {
        return valueOf(name.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "optimizer must be one of " + java.util.Arrays.toString(values()).toLowerCase(Locale.ROOT) + ", got '" + name + "'");
      }
    }
  }

  /**
   * Checks the values.
   *
   * @param kind the update rule (not null)
   * @param learningRate step size, finite and &gt; 0
   * @param beta1 first-moment decay or SGD momentum, in [0, 1)
   * @param beta2 second-moment decay or RMSProp decay, in [0, 1)
   * @param epsilon denominator guard, &gt; 0
   * @param weightDecay decoupled weight decay, finite and at least 0; non-zero only for {@link
   *     Kind#ADAMW}
   * @throws IllegalArgumentException naming the first value out of range
   */
  public OptimizerConfig {
    Objects.requireNonNull(kind, "kind");
    if (!(learningRate > 0) || !Double.isFinite(learningRate)) {
      throw new IllegalArgumentException("learning rate must be a finite number > 0, got " + learningRate);
    }
    if (!(beta1 >= 0 && beta1 < 1)) {
      throw new IllegalArgumentException("beta1 (momentum) must be in [0, 1), got " + beta1);
    }
    if (!(beta2 >= 0 && beta2 < 1)) {
      throw new IllegalArgumentException("beta2 must be in [0, 1), got " + beta2);
    }
    if (!(epsilon > 0)) {
      throw new IllegalArgumentException("epsilon must be > 0, got " + epsilon);
    }
    if (!(weightDecay >= 0) || !Double.isFinite(weightDecay)) {
      throw new IllegalArgumentException("weight decay must be a finite number >= 0, got " + weightDecay);
    }
    if (weightDecay > 0 && kind != Kind.ADAMW) {
      throw new IllegalArgumentException("weight decay applies to ADAMW only, got " + weightDecay + " for " + kind);
    }
  }

  /**
   * The defaults of a kind at a learning rate (Adam family 0.9/0.999/1e-8; RMSProp decay 0.95; SGD
   * momentum 0.9).
   *
   * @param kind the update rule
   * @param learningRate step size, finite and &gt; 0
   * @return the configuration
   * @throws IllegalArgumentException for a learning rate that is not finite and positive
   */
  public static OptimizerConfig of(Kind kind, double learningRate) {
    return switch (kind) {
      case RMSPROP -> new OptimizerConfig(kind, learningRate, 0, 0.95, 1e-8, 0);
      case SGD -> new OptimizerConfig(kind, learningRate, 0.9, 0, 1e-8, 0);
      case ADAGRAD -> new OptimizerConfig(kind, learningRate, 0, 0, 1e-6, 0);
      case ADAMW -> new OptimizerConfig(kind, learningRate, 0.9, 0.999, 1e-8, 0.01);
      default -> new OptimizerConfig(kind, learningRate, 0.9, 0.999, 1e-8, 0);
    };
  }

  /**
   * The default learning rate of a kind, in latent units: 0.1 for the Adam family (VQGAN-CLIP's
   * usual rate; their first step moves each value by about the rate), 0.5 for Adagrad (whose steps
   * shrink as squared gradients accumulate), 0.05 for RMSProp (its first step is about 4.5 times the
   * rate with decay 0.95; a sweep on the demo models ranked 0.1 and 0.05 above Adam's 0.1 and 0.02
   * far below, and 0.05 keeps the first step near twice Adam's) and 10 for SGD, whose step is the rate times the raw gradient: CLIP-loss
   * gradients per latent value are around 1e-3 to 1e-2, so at Adam's 0.1 SGD barely moves.
   * docs/optimizers.md compares them on the demo models.
   *
   * @param kind the update rule
   * @return the default learning rate
   */
  public static double defaultLearningRate(Kind kind) {
    return switch (kind) {
      case SGD -> 10;
      case ADAGRAD -> 0.5;
      case RMSPROP -> 0.05;
      default -> 0.1;
    };
  }

  /**
   * A kind with its default settings and {@link #defaultLearningRate default learning rate}.
   *
   * @param kind the update rule
   * @return the configuration
   */
  public static OptimizerConfig of(Kind kind) {
    return of(kind, defaultLearningRate(kind));
  }

  @Override
  public LatentOptimizer start(int size) {
    return new LatentOptimizer(this, size);
  }

  @Override
  public String name() {
    return kind.name().toLowerCase(Locale.ROOT) + "@" + learningRate;
  }

  /**
   * Adam, the default.
   *
   * @param learningRate step size, finite and &gt; 0
   * @return an Adam configuration with the default betas and epsilon
   * @throws IllegalArgumentException for a learning rate that is not finite and positive
   */
  public static OptimizerConfig adam(double learningRate) {
    return of(Kind.ADAM, learningRate);
  }

  /**
   * The same settings at another learning rate (learning-rate drops).
   *
   * @param lr the new learning rate, finite and &gt; 0
   * @return a copy with this learning rate
   * @throws IllegalArgumentException for a learning rate that is not finite and positive
   */
  public OptimizerConfig withLearningRate(double lr) {
    return new OptimizerConfig(kind, lr, beta1, beta2, epsilon, weightDecay);
  }
}
