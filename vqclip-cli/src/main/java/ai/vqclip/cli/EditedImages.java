package ai.vqclip.cli;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.image.Images;
import ai.vqclip.core.pipeline.Checkpoint;
import ai.vqclip.core.Generator;
import java.nio.file.Path;
import java.util.Arrays;

/** Continuing a run from an image the user edited: the image is encoded and becomes the latent. */
final class EditedImages {
  private EditedImages() {}

  /**
   * The checkpoint with the latent of {@code image} (resized to the run's size), which also becomes
   * the latent regularizer's INIT target (the edit is the run's new start: a sketch start's pull keeps
   * it instead of undoing it); the optimizer state and the iteration are kept.
   *
   * @throws UsageException when the file is unreadable or the VQGAN cannot encode
   */
  static Checkpoint continueFrom(Checkpoint c, Path image, Generator generator, String cannotEncode, int width, int height) {
    InputFiles.requireReadable(image, "--image");
    if (cannotEncode != null) {
      throw new UsageException("--image needs a generator that encodes images: " + cannotEncode);
    }
    Tensor z = generator.encode(Images.read(image, width, height));
    if (!Arrays.equals(z.shape(), c.latentShape())) {
      throw new UsageException("the edited image encodes to a latent " + Arrays.toString(z.shape()) + " but the checkpoint's is "
          + Arrays.toString(c.latentShape()));
    }
    return c.withEditedLatent(z.toFloats());
  }
}
