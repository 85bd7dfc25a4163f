package ai.vqclip.cli.models;

import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.demo.DemoModels;
import ai.vqclip.onnx.vqgan.VqganGenerator;

/**
 * Where the command's models come from when the command line names none ({@code --vqgan}, {@code
 * --clip}). Each part is opened on its own, so a user VQGAN can run with the built-in CLIP and the
 * other way round. Closing the source releases what it holds for the models it opened (close it
 * after them).
 */
public interface ModelSource extends AutoCloseable {
  /** A short description for logs and manifests. */
  String description();

  /** Opens the generator; the caller closes it. */
  VqganGenerator openGenerator(ExecutionOptions options);

  /** Opens the CLIP encoder and its tokenizer; the caller closes the encoder. */
  ClipModel openClip(ExecutionOptions options);

  /**
   * Opens every CLIP that guides generation with these models (an ensemble where there are
   * several; default: {@link #openClip} alone); the caller closes the encoders.
   */
  default java.util.List<ClipModel> openClips(ExecutionOptions options) {
    return java.util.List.of(openClip(options));
  }

  /** The run settings that suit these models. */
  RunDefaults defaults();

  /**
   * The models' caption prior as a loss term (for pictures of any size): it pulls the picture
   * towards the prior's redrawing of it for the run's first text prompt, as the first CLIP of
   * {@link #openClips} embeds it (default: none).
   *
   * @param weight the term's full weight, > 0
   * @return the term, or null where these models have no caption prior
   */
  default ai.vqclip.core.Loss captionPrior(double weight) {
    return null;
  }

  /**
   * The models' caption sketch: a starting picture that draws the text at a layout chosen by the
   * seed, for the first CLIP of {@link #openClips} (default: none).
   *
   * @param firstClip the first CLIP of {@link #openClips}, which reads the text
   * @param text the run's first text prompt of positive weight
   * @param seed the run's seed
   * @param size picture side (square pictures only)
   * @return the picture [1, 3, size, size] in [0, 1], or null where these models have no sketcher
   */
  default ai.vqclip.core.Tensor sketch(ai.vqclip.core.Encoder firstClip, String text, long seed, int size) {
    return null;
  }

  @Override
  default void close() {}

  /**
   * The models used when none is given: the bundled demo models (trained by vqclip), or seeded
   * random tiny models in a build without them.
   */
  static ModelSource builtIn() {
    return DemoModels.available() ? new DemoModelSource(null) : new FallbackModels();
  }

  /**
   * The models for the parts {@code selection} does not name: the demo models in its {@link
   * ModelSelection#demoModels() folder} when it gives one, else {@link #builtIn()}.
   */
  static ModelSource of(ModelSelection selection) {
    return selection.demoModels() != null ? new DemoModelSource(selection.demoModels()) : builtIn();
  }
}
