package ai.vqclip.core.pipeline;

/**
 * A random direction in embedding space used as a prompt (nerdyrodent's noise prompts): the target
 * is a standard normal vector drawn from {@code seed}.
 *
 * @param seed the noise seed
 * @param weight finite, non-zero
 */
public record NoisePrompt(long seed, double weight) {
  /**
   * Validates.
   *
   * @param seed the noise seed
   * @param weight finite, non-zero
   * @throws IllegalArgumentException for a value out of range (the message names it)
   */
  public NoisePrompt {
    if (!Double.isFinite(weight) || weight == 0) {
      throw new IllegalArgumentException("noise prompt " + seed + " weight must be finite and non-zero, got " + weight);
    }
  }
}
