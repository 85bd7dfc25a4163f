package ai.vqclip.augment;

/** Argument checks with messages that name the parameter, the value found and what is allowed. */
final class Checks {
  private Checks() {}

  static void probability(String name, double p) {
    if (!(p >= 0 && p <= 1)) {
      throw new IllegalArgumentException(name + " must be a probability in [0, 1], got " + p);
    }
  }

  static void range(String name, double v, double min, double max) {
    if (!(v >= min && v <= max)) {
      throw new IllegalArgumentException(name + " must be in [" + min + ", " + max + "], got " + v);
    }
  }

  static void range(String name, long v, long min, long max) {
    if (v < min || v > max) {
      throw new IllegalArgumentException(name + " must be in [" + min + ", " + max + "], got " + v);
    }
  }

  static void interval(String name, double lo, double hi, double min, double max) {
    if (!(lo >= min && hi <= max && lo <= hi)) {
      throw new IllegalArgumentException(
          name + " must be an interval [lo, hi] with " + min + " <= lo <= hi <= " + max + ", got [" + lo + ", " + hi + "]");
    }
  }

  /** U[lo, hi). */
  static double uniform(java.util.random.RandomGenerator rng, double lo, double hi) {
    return lo + (hi - lo) * rng.nextDouble();
  }
}
