package ai.vqclip.cli;

/**
 * A noise prompt as written on the command line, {@code SEED[:WEIGHT]}.
 *
 * @param seed the seed of the random target embedding
 * @param weight its weight (finite, non-zero; default 1)
 */
record NoisePromptSpec(long seed, double weight) {
  /**
   * Parses a spec.
   *
   * @throws UsageException naming the malformed part
   */
  static NoisePromptSpec parse(String spec) {
    String[] p = spec.strip().split(":", -1);
    if (p.length > 2) {
      throw new UsageException("--noise-prompts: '" + spec + "' must be SEED or SEED:WEIGHT");
    }
    long seed;
    try {
      seed = Long.parseLong(p[0].strip());
    } catch (NumberFormatException e) {
      throw new UsageException("--noise-prompts: seed '" + p[0] + "' in '" + spec + "' is not an integer");
    }
    double w = 1;
    if (p.length == 2) {
      try {
        w = Double.parseDouble(p[1].strip());
      } catch (NumberFormatException e) {
        throw new UsageException("--noise-prompts: weight '" + p[1] + "' in '" + spec + "' is not a number");
      }
      if (!Double.isFinite(w) || w == 0) {
        throw new UsageException("--noise-prompts: weight in '" + spec + "' must be finite and non-zero");
      }
    }
    return new NoisePromptSpec(seed, w);
  }

  @Override
  public String toString() {
    return seed + ":" + weight;
  }
}
