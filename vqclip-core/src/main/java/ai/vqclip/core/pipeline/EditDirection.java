package ai.vqclip.core.pipeline;

import java.util.Objects;

/**
 * Text-directed editing of an init image (METHOD.md §3, after the NB-SST notebook): the loss pulls
 * the cutouts from {@code from} toward {@code to}, {@code scale * mean_i(d(E_i, to) - d(E_i, from))},
 * while a content-preservation term {@code contentWeight * mean_i(d(E_i, S_i) * (1 - m_i))} keeps
 * each cutout close to the same cutout of the source image, weighted by how little of the cutout
 * lies in the edit region ({@code m_i}, the mask's mean over the cutout). When the request has no
 * mask, the edit region comes from CLIP itself: {@code maskSamples} random crops of the source are
 * scored against {@code from} and averaged per pixel (self-masking).
 *
 * @param from the text describing the region to change
 * @param to the text describing what it should become
 * @param scale weight of the direction term (NB-SST: 1.25)
 * @param contentWeight weight of the content-preservation term (0 disables it)
 * @param maskSamples crops scored for self-masking, in [16, 100000]
 */
public record EditDirection(String from, String to, double scale, double contentWeight, int maskSamples) {
  /**
   * Validates.
   *
   * @param from the text describing the region to change
   * @param to the text describing what it should become
   * @param scale weight of the direction term (NB-SST: 1.25)
   * @param contentWeight weight of the content-preservation term (0 disables it)
   * @param maskSamples crops scored for self-masking, in [16, 100000]
   * @throws IllegalArgumentException for a value out of range (the message names it)
   * @throws NullPointerException for a null value that is required
   */
  public EditDirection {
    Objects.requireNonNull(from, "from");
    Objects.requireNonNull(to, "to");
    if (from.isBlank() || to.isBlank()) {
      throw new IllegalArgumentException("edit from/to texts must not be blank, got '" + from + "' -> '" + to + "'");
    }
    if (!(scale > 0) || !Double.isFinite(scale)) {
      throw new IllegalArgumentException("edit direction scale must be a finite number > 0, got " + scale);
    }
    if (!(contentWeight >= 0) || !Double.isFinite(contentWeight)) {
      throw new IllegalArgumentException("edit content weight must be a finite number >= 0, got " + contentWeight);
    }
    if (maskSamples < 16 || maskSamples > 100_000) {
      throw new IllegalArgumentException("mask samples must be in [16, 100000], got " + maskSamples);
    }
  }

  /**
   * NB-SST's settings (scale 1.25, content weight 1) with a CPU-friendly sample count (1024).
   *
   * @param from the text describing the region to change
   * @param to the text describing what it should become
   * @return the edit
   */
  public static EditDirection of(String from, String to) {
    return new EditDirection(from, to, 1.25, 1.0, 1024);
  }
}
