package ai.vqclip.core.optim;

import ai.vqclip.core.LearningRateSchedule;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The built-in learning-rate schedules. Each is an immutable record (its {@code toString} names its
 * settings, for manifests); compose them with {@link LearningRateSchedule#then}.
 */
public final class Schedules {
  private Schedules() {}

  /**
   * The base rate throughout.
   *
   * @return a schedule that leaves the rate unchanged
   */
  public static LearningRateSchedule constant() {
    return new Constant();
  }

  /**
   * From iteration {@code at} on, the rate is {@code rate} (absolute; later drops win).
   *
   * @param at the first iteration of the new rate, from 0
   * @param rate the new rate, finite and &gt; 0
   */
  public record Drop(int at, double rate) {
    /**
     * Checks the values.
     *
     * @param at the first iteration of the new rate, at least 0
     * @param rate the new rate, finite and &gt; 0
     * @throws IllegalArgumentException for a negative iteration or a rate that is not finite and
     *     positive
     */
    public Drop {
      if (at < 0) {
        throw new IllegalArgumentException("learning-rate drop iteration must be >= 0, got " + at);
      }
      requireRate("learning-rate drop rate", rate);
    }
  }

  /**
   * Absolute drops at given iterations, in increasing order (the request's {@code
   * learningRateDrop}).
   *
   * @param drops the drops, in strictly increasing iteration order
   * @return a schedule that replaces the rate from each drop's iteration on
   * @throws IllegalArgumentException when the drops are not in increasing order
   */
  public static LearningRateSchedule drops(List<Drop> drops) {
    return new Drops(drops);
  }

  /**
   * Multiplies the rate by {@code gamma} every {@code every} iterations.
   *
   * @param every the interval in iterations, at least 1
   * @param gamma the factor, in (0, 1]
   * @return the schedule; iteration i gets {@code rate * gamma^(i / every)}
   * @throws IllegalArgumentException for values out of range
   */
  public static LearningRateSchedule stepDecay(int every, double gamma) {
    return new StepDecay(every, gamma);
  }

  /**
   * Cosine annealing over {@code iterations}: the rate goes from the base rate to {@code
   * minFactor} times it, along half a cosine, and stays there after.
   *
   * @param iterations the length of the annealing, at least 1
   * @param minFactor the final fraction of the rate, in [0, 1]
   * @return the schedule
   * @throws IllegalArgumentException for values out of range
   */
  public static LearningRateSchedule cosine(int iterations, double minFactor) {
    return new Cosine(iterations, minFactor);
  }

  /**
   * Linear warm-up: iteration i gets {@code (i + 1) / iterations} of the rate until it reaches 1.
   *
   * @param iterations the warm-up length, at least 1
   * @return the schedule
   * @throws IllegalArgumentException when {@code iterations} is below 1
   */
  public static LearningRateSchedule warmup(int iterations) {
    return new Warmup(iterations);
  }

  /**
   * Multiplies the rate by {@code factor} whenever the loss has not improved on its best by more
   * than {@code minDelta} for {@code patience} iterations (then waits another {@code patience}),
   * never below {@code minFactor} of the rate it gets.
   *
   * @param patience iterations without improvement before a reduction, at least 1
   * @param factor the reduction factor, in (0, 1]
   * @param minDelta the improvement that counts, finite and at least 0
   * @param minFactor the floor as a fraction of the incoming rate, in [0, 1]
   * @return the schedule (it keeps per-run state: best loss, wait and multiplier)
   * @throws IllegalArgumentException for values out of range
   */
  public static LearningRateSchedule plateau(int patience, double factor, double minDelta, double minFactor) {
    return new Plateau(patience, factor, minDelta, minFactor);
  }

  /**
   * {@code first}, then {@code second} applied to its rate.
   *
   * @param first the schedule applied first
   * @param second the schedule applied to {@code first}'s rate
   * @return the chained schedule
   */
  public static LearningRateSchedule chain(LearningRateSchedule first, LearningRateSchedule second) {
    return new Chain(first, second);
  }

  /**
   * Parses a schedule for the command line: {@code constant}, {@code cosine[:MINFACTOR]} (over the
   * run's iterations), {@code warmup:N}, {@code step:EVERY:GAMMA}, {@code plateau:PATIENCE:FACTOR},
   * joined with {@code +} to chain ({@code warmup:10+cosine:0.05}).
   *
   * @param spec the schedule text
   * @param iterations the run's iterations (the length of a cosine without its own)
   * @return the schedule
   * @throws IllegalArgumentException naming the accepted forms
   */
  public static LearningRateSchedule parse(String spec, int iterations) {
    Objects.requireNonNull(spec, "schedule");
    LearningRateSchedule out = null;
    for (String part : spec.strip().split("\\+")) {
      String[] p = part.strip().toLowerCase(java.util.Locale.ROOT).split(":");
      LearningRateSchedule s;
      try {
        s = switch (p[0]) {
          case "constant" -> constant();
          case "cosine" -> cosine(iterations, p.length > 1 ? Double.parseDouble(p[1]) : 0);
          case "warmup" -> warmup(Integer.parseInt(p[1]));
          case "step" -> stepDecay(Integer.parseInt(p[1]), Double.parseDouble(p[2]));
          case "plateau" -> plateau(Integer.parseInt(p[1]), Double.parseDouble(p[2]), 0, 0.001);
          default -> throw new IllegalArgumentException("unknown schedule '" + p[0] + "'");
        };
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("schedule must be constant, cosine[:MINFACTOR], warmup:N, step:EVERY:GAMMA or "
            + "plateau:PATIENCE:FACTOR, joined with '+', got '" + spec + "'", e);
      }
      out = out == null ? s : chain(out, s);
    }
    return out;
  }

  private static void requireRate(String what, double r) {
    if (!(r > 0) || !Double.isFinite(r)) {
      throw new IllegalArgumentException(what + " must be a finite number > 0, got " + r);
    }
  }

  private static void requireFactor(String what, double f, boolean zeroAllowed) {
    if (!(zeroAllowed ? f >= 0 : f > 0) || !(f <= 1)) {
      throw new IllegalArgumentException(what + " must be in " + (zeroAllowed ? "[0, 1]" : "(0, 1]") + ", got " + f);
    }
  }

  /** See {@link #constant()}. */
  public record Constant() implements LearningRateSchedule {
    @Override
    public Run start() {
      return (i, rate) -> rate;
    }
  }

  /**
   * See {@link #drops(List)}.
   *
   * @param drops the drops, in strictly increasing iteration order
   */
  public record Drops(List<Drop> drops) implements LearningRateSchedule {
    /**
     * Copies the drops and checks their order.
     *
     * @param drops the drops, in strictly increasing iteration order
     * @throws IllegalArgumentException when the drops are not in increasing order
     */
    public Drops {
      drops = List.copyOf(drops);
      for (int i = 1; i < drops.size(); i++) {
        if (drops.get(i).at() <= drops.get(i - 1).at()) {
          throw new IllegalArgumentException("learning-rate drops must be in increasing iteration order, got " + drops);
        }
      }
    }

    @Override
    public Run start() {
      return (iteration, rate) -> {
        double r = rate;
        for (Drop d : drops) {
          if (d.at() <= iteration) {
            r = d.rate();
          }
        }
        return r;
      };
    }
  }

  /**
   * See {@link #stepDecay(int, double)}.
   *
   * @param every the interval in iterations, at least 1
   * @param gamma the factor, in (0, 1]
   */
  public record StepDecay(int every, double gamma) implements LearningRateSchedule {
    /**
     * Checks the values.
     *
     * @param every the interval in iterations, at least 1
     * @param gamma the factor, in (0, 1]
     * @throws IllegalArgumentException for values out of range
     */
    public StepDecay {
      if (every < 1) {
        throw new IllegalArgumentException("step decay interval must be >= 1, got " + every);
      }
      requireFactor("step decay gamma", gamma, false);
    }

    @Override
    public Run start() {
      return (i, rate) -> rate * Math.pow(gamma, i / every);
    }
  }

  /**
   * See {@link #cosine(int, double)}.
   *
   * @param iterations the length of the annealing, at least 1
   * @param minFactor the final fraction of the rate, in [0, 1]
   */
  public record Cosine(int iterations, double minFactor) implements LearningRateSchedule {
    /**
     * Checks the values.
     *
     * @param iterations the length of the annealing, at least 1
     * @param minFactor the final fraction of the rate, in [0, 1]
     * @throws IllegalArgumentException for values out of range
     */
    public Cosine {
      if (iterations < 1) {
        throw new IllegalArgumentException("cosine schedule iterations must be >= 1, got " + iterations);
      }
      requireFactor("cosine minFactor", minFactor, true);
    }

    @Override
    public Run start() {
      return (i, rate) -> rate * (minFactor + (1 - minFactor) * 0.5 * (1 + Math.cos(Math.PI * Math.min(i, iterations) / iterations)));
    }
  }

  /**
   * See {@link #warmup(int)}.
   *
   * @param iterations the warm-up length, at least 1
   */
  public record Warmup(int iterations) implements LearningRateSchedule {
    /**
     * Checks the value.
     *
     * @param iterations the warm-up length, at least 1
     * @throws IllegalArgumentException when {@code iterations} is below 1
     */
    public Warmup {
      if (iterations < 1) {
        throw new IllegalArgumentException("warm-up iterations must be >= 1, got " + iterations);
      }
    }

    @Override
    public Run start() {
      return (i, rate) -> rate * Math.min(1.0, (i + 1.0) / iterations);
    }
  }

  /**
   * See {@link #plateau(int, double, double, double)}.
   *
   * @param patience iterations without improvement before a reduction, at least 1
   * @param factor the reduction factor, in (0, 1]
   * @param minDelta the improvement that counts, finite and at least 0
   * @param minFactor the floor as a fraction of the incoming rate, in [0, 1]
   */
  public record Plateau(int patience, double factor, double minDelta, double minFactor) implements LearningRateSchedule {
    /**
     * Checks the values.
     *
     * @param patience iterations without improvement before a reduction, at least 1
     * @param factor the reduction factor, in (0, 1]
     * @param minDelta the improvement that counts, finite and at least 0
     * @param minFactor the floor as a fraction of the incoming rate, in [0, 1]
     * @throws IllegalArgumentException for values out of range
     */
    public Plateau {
      if (patience < 1) {
        throw new IllegalArgumentException("plateau patience must be >= 1, got " + patience);
      }
      requireFactor("plateau factor", factor, false);
      if (!(minDelta >= 0) || !Double.isFinite(minDelta)) {
        throw new IllegalArgumentException("plateau minDelta must be a finite number >= 0, got " + minDelta);
      }
      requireFactor("plateau minFactor", minFactor, true);
    }

    @Override
    public Run start() {
      return new Run() {
        double best = Double.POSITIVE_INFINITY;
        double waited;
        double multiplier = 1;

        @Override
        public double rate(int iteration, double rate) {
          return rate * multiplier;
        }

        @Override
        public void observe(int iteration, double loss) {
          if (loss < best - minDelta) {
            best = loss;
            waited = 0;
          } else if (++waited >= patience) {
            multiplier = Math.max(minFactor, multiplier * factor);
            waited = 0;
          }
        }

        @Override
        public double[] save() {
          return new double[] {best, waited, multiplier};
        }

        @Override
        public void restore(double[] s) {
          if (s.length != 3 || Double.isNaN(s[0]) || !(s[1] >= 0 && s[1] < patience) || !(s[2] > 0 && s[2] <= 1)) {
            throw new IllegalArgumentException("plateau schedule state must be [best, waited in [0, patience), multiplier in (0, 1]], got "
                + Arrays.toString(s));
          }
          best = s[0];
          waited = s[1];
          multiplier = s[2];
        }
      };
    }
  }

  /**
   * See {@link #chain}.
   *
   * @param first the schedule applied first
   * @param second the schedule applied to {@code first}'s rate
   */
  public record Chain(LearningRateSchedule first, LearningRateSchedule second) implements LearningRateSchedule {
    /**
     * Checks the schedules.
     *
     * @param first the schedule applied first (not null)
     * @param second the schedule applied to {@code first}'s rate (not null)
     * @throws NullPointerException when either is null
     */
    public Chain {
      Objects.requireNonNull(first, "first");
      Objects.requireNonNull(second, "second");
    }

    @Override
    public Run start() {
      Run a = first.start();
      Run b = second.start();
      return new Run() {
        @Override
        public double rate(int iteration, double rate) {
          return b.rate(iteration, a.rate(iteration, rate));
        }

        @Override
        public void observe(int iteration, double loss) {
          a.observe(iteration, loss);
          b.observe(iteration, loss);
        }

        @Override
        public double[] save() {
          double[] x = a.save();
          double[] y = b.save();
          double[] s = new double[1 + x.length + y.length];
          s[0] = x.length;
          System.arraycopy(x, 0, s, 1, x.length);
          System.arraycopy(y, 0, s, 1 + x.length, y.length);
          return s;
        }

        @Override
        public void restore(double[] s) {
          if (s.length < 1 || !(s[0] >= 0 && s[0] <= s.length - 1) || s[0] != Math.floor(s[0])) {
            throw new IllegalArgumentException("chained schedule state must start with the first schedule's length, got " + Arrays.toString(s));
          }
          int n = (int) s[0];
          a.restore(Arrays.copyOfRange(s, 1, 1 + n));
          b.restore(Arrays.copyOfRange(s, 1 + n, s.length));
        }
      };
    }
  }
}
