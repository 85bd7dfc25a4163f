package ai.vqclip.core;

/**
 * How the learning rate changes over a run (an extension point). Built-ins are in {@link
 * ai.vqclip.core.optim.Schedules}: constant, step drops, cosine, linear warm-up and plateau decay;
 * they compose with {@link #then}: {@code Schedules.warmup(10).then(Schedules.cosine(300, 0.01))}
 * warms up for ten iterations, then follows a cosine to 1 % of the base rate.
 *
 * <p><b>Contract.</b> The schedule object is an immutable description (it sits in a request); all
 * that changes lives in the {@link Run} from {@link #start}, one per run. A schedule transforms a
 * rate: {@link Run#rate} gets the rate so far (the optimizer's base rate, or what an earlier
 * schedule of a {@link #then} chain made of it) and returns the rate to use. A run's {@link
 * Run#save()} must hold everything its rates depend on besides the iteration (at most {@link
 * #MAX_STATE} values), so that a resumed run gets the same rates bit for bit.
 *
 * <p><b>Call order</b> (per run): {@link #start} once; on resume {@link Run#restore}; then per
 * iteration {@link Run#rate} once before the optimizer step and {@link Run#observe} once after the
 * iteration's loss is known; {@link Run#save} when a checkpoint is written (between iterations).
 *
 * <p><b>Threads.</b> {@link #start} may be called from several threads at once; a {@link Run}
 * belongs to one run's thread.
 *
 * <p>Example, halve the rate every 100 iterations (stateless):
 *
 * <pre>{@code
 * LearningRateSchedule halving = () -> (iteration, rate) -> rate * Math.pow(0.5, iteration / 100);
 * }</pre>
 */
@FunctionalInterface
public interface LearningRateSchedule {
  /** Largest number of values a schedule's saved state may have (all schedules of a chain together). */
  int MAX_STATE = 64;

  /**
   * A fresh per-run state.
   *
   * @return a new run state
   */
  Run start();

  /** The schedules of one run. */
  @FunctionalInterface
  interface Run {
    /**
     * The learning rate of {@code iteration} (0-based), given the rate so far.
     *
     * @param iteration the iteration, from 0
     * @param rate the rate before this schedule (the base rate, or the previous schedule's output
     *     in a chain)
     * @return the learning rate to use, finite and at least 0
     */
    double rate(int iteration, double rate);

    /**
     * Told each iteration's total loss, after it ran (for loss-driven schedules; default: ignored).
     *
     * @param iteration the iteration that ran, from 0
     * @param loss its total loss
     */
    default void observe(int iteration, double loss) {}

    /**
     * Everything the rates depend on besides the iteration (a copy; default: nothing).
     *
     * @return a new array with the state
     */
    default double[] save() {
      return new double[0];
    }

    /**
     * Restores what {@link #save} returned.
     *
     * @param state what {@link #save} returned
     * @throws IllegalArgumentException when the state does not fit
     */
    default void restore(double[] state) {
      if (state.length != 0) {
        throw new IllegalArgumentException("this schedule keeps no state, got " + state.length + " values");
      }
    }
  }

  /**
   * This schedule, then {@code next} applied to its rate.
   *
   * @param next the schedule applied after this one
   * @return a chained schedule
   */
  default LearningRateSchedule then(LearningRateSchedule next) {
    return ai.vqclip.core.optim.Schedules.chain(this, next);
  }
}
