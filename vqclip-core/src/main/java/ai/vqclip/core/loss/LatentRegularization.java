package ai.vqclip.core.loss;

import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Value;
import java.util.Objects;

/**
 * The latent regularizer {@code weight(i) * mean((z - target)^2) / 2} (METHOD.md B.9). The target is
 * zero or the initial latent; the weight's schedule over iterations is a {@link Decay}, computed on
 * the host and fed as a scalar input each step.
 */
public final class LatentRegularization {
  private LatentRegularization() {}

  /** How the regularization weight changes with the iteration {@code i}. */
  public sealed interface Decay {
    /**
     * The weight at iteration {@code i} for a base weight.
     *
     * @param base the base weight
     * @param i the iteration, from 0
     * @return the weight to use at that iteration
     */
    double weightAt(double base, int i);

    /** Constant weight. */
    record Constant() implements Decay {
      @Override
      public double weightAt(double base, int i) {
        return base;
      }
    }

    /** {@code base / (2i + 1)}, as in the widely used Colab and nerdyrodent's generate.py. */
    record Harmonic() implements Decay {
      @Override
      public double weightAt(double base, int i) {
        return base / (2.0 * i + 1);
      }
    }

    /**
     * Linear steps: every {@code every} iterations the weight drops by {@code base/steps}, reaching
     * 0 after {@code steps} drops.
     *
     * @param every iterations between drops, at least 1
     * @param steps number of drops until the weight is 0, at least 1
     */
    record LinearSteps(int every, int steps) implements Decay {
      /**
       * Checks the values.
       *
       * @param every iterations between drops, at least 1
       * @param steps number of drops until the weight is 0, at least 1
       * @throws IllegalArgumentException when either is below 1
       */
      public LinearSteps {
        if (every <= 0 || steps <= 0) {
          throw new IllegalArgumentException("linear decay needs every > 0 and steps > 0, got every=" + every + ", steps=" + steps);
        }
      }

      @Override
      public double weightAt(double base, int i) {
        long drops = Math.min(steps, i / every);
        return drops >= steps ? 0 : base * (steps - drops) / steps;
      }
    }

    /**
     * Parses {@code none|constant}, {@code harmonic} or {@code linear:EVERY:STEPS}.
     *
     * @param s the decay text
     * @return the decay
     * @throws IllegalArgumentException naming the accepted forms
     */
    static Decay parse(String s) {
      Objects.requireNonNull(s, "decay");
      String l = s.strip().toLowerCase(java.util.Locale.ROOT);
      if (l.equals("constant") || l.equals("none")) {
        return new Constant();
      }
      if (l.equals("harmonic")) {
        return new Harmonic();
      }
      if (l.startsWith("linear")) {
        String[] p = l.split(":");
        try {
          return p.length == 1 ? new LinearSteps(50, 5) : new LinearSteps(Integer.parseInt(p[1]), Integer.parseInt(p[2]));
        } catch (RuntimeException e) {
          throw new IllegalArgumentException("linear decay must be 'linear' or 'linear:EVERY:STEPS', got '" + s + "'", e);
        }
      }
      throw new IllegalArgumentException("decay must be one of constant, harmonic, linear[:EVERY:STEPS], got '" + s + "'");
    }
  }

  /**
   * {@code weight * mean((z - target)^2) / 2}, a scalar; {@code weight} is a scalar value.
   *
   * @param b the builder
   * @param z the latent
   * @param target the latent's target (zeros or the initial latent), same shape
   * @param weight the weight, a scalar value
   * @return the loss, a scalar
   */
  public static Value loss(GraphBuilder b, Value z, Value target, Value weight) {
    Value d = b.sub(z, target);
    Value mse = b.reduceMean(b.mul(d, d), false);
    return b.mul(b.mul(mse, weight), b.scalarLike(0.5, mse));
  }
}
