package ai.vqclip.onnx.clip.tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * Finds OpenAI's {@code bpe_simple_vocab_16e6.txt.gz} for tests: the system property {@code
 * vqclip.clip.vocab}, else {@code shared/data/clip/} in the working directory or one above it. The
 * file is never copied into the project; tests that need it skip when it is absent.
 */
final class RealVocab {
  static final String PROPERTY = "vqclip.clip.vocab";
  static final String RELATIVE = "shared/data/clip/bpe_simple_vocab_16e6.txt.gz";
  static final String SKIP_MESSAGE = skipMessage();

  private static String skipMessage() {
    String property = System.getProperty(PROPERTY);
    String where =
        property != null && !property.isBlank()
            ? "-D" + PROPERTY + "=" + property + " is not a file"
            : "CLIP vocabulary " + RELATIVE + " not found in or above the working directory"
                + " (set -D" + PROPERTY + " to its path)";
    return where + "; skipping tests that need the real vocabulary";
  }

  private RealVocab() {}

  /** The file, or null. */
  static Path find() {
    String property = System.getProperty(PROPERTY);
    if (property != null && !property.isBlank()) {
      Path p = Paths.get(property);
      return Files.isRegularFile(p) ? p : null;
    }
    for (Path dir = Paths.get("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path p = dir.resolve(RELATIVE);
      if (Files.isRegularFile(p)) {
        return p;
      }
    }
    return null;
  }
}
