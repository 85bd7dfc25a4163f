package ai.vqclip.cli.models;

import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.onnx.vqgan.VqganGenerator;

/**
 * Where the command's models come from when the command line names none ({@code --vqgan}, {@code
 * --clip}). Each part is opened on its own, so a user VQGAN can run with the built-in CLIP and the
 * other way round.
 */
public interface ModelSource {
  /** A short description for logs. */
  String description();

  /** Opens the generator; the caller closes it. */
  VqganGenerator openGenerator(ExecutionOptions options);

  /** Opens the CLIP encoder and its tokenizer; the caller closes the encoder. */
  ClipModel openClip(ExecutionOptions options);

  /**
   * The models used when none is given. Seeded random tiny models until the bundled demo models
   * (trained by vqclip) exist; switching to those is this one line.
   */
  static ModelSource builtIn() {
    return new FallbackModels();
  }
}
