package ai.vqclip.core.pipeline;

import ai.vqclip.core.Tensor;
import java.util.Objects;

/**
 * An image used as a prompt: its cutouts are embedded once at the start of the run (as
 * nerdyrodent's generate.py does) and their embeddings become the prompt's targets.
 *
 * @param name a label for step events and the manifest (e.g. the file name)
 * @param image [1, 3, H, W] in [0, 1], any size of at least the encoder's input resolution
 * @param weight finite, non-zero
 * @param stop stop value (-inf: never)
 */
public record ImagePrompt(String name, Tensor image, double weight, double stop) {
  /**
   * Validates.
   *
   * @param name a label for step events and the manifest (e.g. the file name)
   * @param image [1, 3, H, W] in [0, 1], any size of at least the encoder's input resolution
   * @param weight finite, non-zero
   * @param stop stop value (-inf: never)
   * @throws IllegalArgumentException for a value out of range (the message names it)
   * @throws NullPointerException for a null value that is required
   */
  public ImagePrompt {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(image, "image");
    long[] s = image.shape();
    if (s.length != 4 || s[0] != 1 || s[1] != 3) {
      throw new IllegalArgumentException("image prompt '" + name + "' must be [1,3,H,W], got " + java.util.Arrays.toString(s));
    }
    GenerationRequest.requireUnitRange("image prompt '" + name + "'", image);
    if (!Double.isFinite(weight) || weight == 0) {
      throw new IllegalArgumentException("image prompt '" + name + "' weight must be finite and non-zero, got " + weight);
    }
    if (Double.isNaN(stop) || stop == Double.POSITIVE_INFINITY) {
      throw new IllegalArgumentException("image prompt '" + name + "' stop must be a number or -inf, got " + stop);
    }
  }
}
