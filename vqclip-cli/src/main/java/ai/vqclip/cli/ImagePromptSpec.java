package ai.vqclip.cli;

import ai.vqclip.core.prompt.Prompt;
import java.nio.file.Path;

/**
 * An image prompt as written on the command line, {@code FILE[:WEIGHT[:STOP]]}.
 *
 * @param file the image
 * @param weight its weight (finite, non-zero)
 * @param stop its stop value (-inf: never)
 */
record ImagePromptSpec(Path file, double weight, double stop) {
  /**
   * Parses and checks that the file is readable.
   *
   * @throws UsageException for a malformed spec or a missing file
   */
  static ImagePromptSpec parse(String spec) {
    Prompt p;
    try {
      p = Prompt.parse(spec);
    } catch (IllegalArgumentException e) {
      throw new UsageException("--image-prompts: " + e.getMessage(), e);
    }
    Path f = Path.of(p.text());
    InputFiles.requireReadable(f, "--image-prompts");
    return new ImagePromptSpec(f, p.weight(), p.stop());
  }

  /** The same prompt with an absolute path. */
  ImagePromptSpec absolute() {
    return new ImagePromptSpec(ModelOptions.abs(file), weight, stop);
  }

  @Override
  public String toString() {
    return file + ":" + weight + (stop == Double.NEGATIVE_INFINITY ? "" : ":" + stop);
  }
}
