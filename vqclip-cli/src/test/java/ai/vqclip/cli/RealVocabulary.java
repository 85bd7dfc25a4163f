package ai.vqclip.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * OpenAI's {@code bpe_simple_vocab_16e6.txt.gz} for tests: the system property {@code
 * vqclip.clip.vocab}, else {@code shared/data/clip/} in or above the working directory. Never
 * copied into the project; tests that need it skip when it is absent.
 */
final class RealVocabulary {
  static final String RELATIVE = "shared/data/clip/bpe_simple_vocab_16e6.txt.gz";

  private RealVocabulary() {}

  /** The file, or null. */
  static Path find() {
    String property = System.getProperty("vqclip.clip.vocab");
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
