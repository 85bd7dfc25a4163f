package ai.vqclip.cli;

/**
 * The Adam optimizer (Kingma and Ba, "Adam: A Method for Stochastic Optimization", arXiv:1412.6980)
 * on a flat {@code double[]} parameter vector, with bias-corrected moment estimates.
 *
 * <p>Call order: construct, then {@link #step} once per gradient; the first step fixes the
 * parameter count. The arithmetic uses {@link StrictMath} for the bias-correction powers so a run
 * gives bit-identical parameters on every JVM and platform.
 */
public final class Adam {
  private final double learningRate;
  private final double beta1;
  private final double beta2;
  private final double epsilon;
  private double[] m;
  private double[] v;
  private int t;

  /**
   * An Adam optimizer.
   *
   * @param learningRate step size, finite and &gt; 0
   * @param beta1 decay of the first-moment estimate, in [0, 1)
   * @param beta2 decay of the second-moment estimate, in [0, 1)
   * @param epsilon added to the root of the second moment, finite and &gt; 0
   * @throws IllegalArgumentException for values outside those ranges (the message names the value)
   */
  public Adam(double learningRate, double beta1, double beta2, double epsilon) {
    if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
      throw new IllegalArgumentException("Adam learning rate must be finite and > 0, got " + learningRate);
    }
    if (!(beta1 >= 0 && beta1 < 1)) {
      throw new IllegalArgumentException("Adam beta1 must be in [0, 1), got " + beta1);
    }
    if (!(beta2 >= 0 && beta2 < 1)) {
      throw new IllegalArgumentException("Adam beta2 must be in [0, 1), got " + beta2);
    }
    if (!(epsilon > 0) || Double.isInfinite(epsilon)) {
      throw new IllegalArgumentException("Adam epsilon must be finite and > 0, got " + epsilon);
    }
    this.learningRate = learningRate;
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.epsilon = epsilon;
  }

  /** Adam with the paper's defaults: beta1 0.9, beta2 0.999, epsilon 1e-8. */
  public static Adam withDefaults(double learningRate) {
    return new Adam(learningRate, 0.9, 0.999, 1e-8);
  }

  /**
   * Moves {@code params} one step against {@code grad}, in place.
   *
   * @throws IllegalArgumentException if the lengths differ from each other or from earlier steps
   */
  public void step(double[] params, double[] grad) {
    if (params.length != grad.length) {
      throw new IllegalArgumentException(
          "Adam step: parameter length " + params.length + " differs from gradient length " + grad.length);
    }
    if (m == null) {
      m = new double[params.length];
      v = new double[params.length];
    } else if (m.length != params.length) {
      throw new IllegalArgumentException(
          "Adam step: parameter length " + params.length + " differs from the first step's " + m.length);
    }
    t++;
    double c1 = 1 - StrictMath.pow(beta1, t);
    double c2 = 1 - StrictMath.pow(beta2, t);
    for (int i = 0; i < params.length; i++) {
      double g = grad[i];
      m[i] = beta1 * m[i] + (1 - beta1) * g;
      v[i] = beta2 * v[i] + (1 - beta2) * g * g;
      double mHat = m[i] / c1;
      double vHat = v[i] / c2;
      params[i] -= learningRate * mHat / (Math.sqrt(vHat) + epsilon);
    }
  }

  /** Steps taken so far. */
  public int steps() {
    return t;
  }

  /** The learning rate. */
  public double learningRate() {
    return learningRate;
  }
}
