package ai.vqclip.core.pipeline;

import ai.vqclip.core.Tensor;
import java.util.Objects;

/** How the latent starts (METHOD.md B.3). */
public sealed interface Init {
  /** Random codebook entries per latent cell (the default). */
  record RandomCodes() implements Init {}

  /**
   * The encoding of an image (editing, init images).
   *
   * @param image [1, 3, H, W] in [0, 1] at the run's size
   */
  record FromImage(Tensor image) implements Init {
    /**
     * Checks the image is given.
     *
     * @param image [1, 3, H, W] in [0, 1] at the run's size
     */
    public FromImage {
      Objects.requireNonNull(image, "image");
    }
  }

  /** The encoding of uniform random pixels. */
  record NoisePixels() implements Init {}

  /** The encoding of a random smooth colour gradient. */
  record NoiseGradient() implements Init {}
}
