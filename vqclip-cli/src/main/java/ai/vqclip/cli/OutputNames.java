package ai.vqclip.cli;

import java.nio.file.Path;
import java.text.Normalizer;
import java.util.Locale;

/** File names derived from prompts and from the output image. */
final class OutputNames {
  /** Longest name made from a prompt, before the extension. */
  static final int MAX_STEM = 60;

  private OutputNames() {}

  /**
   * A PNG name from the first prompt's text: {@code "A red circle:1.5|blue"} gives {@code
   * a-red-circle.png}; a prompt with no letters or digits gives {@code vqclip.png}.
   */
  static String fromPrompt(String prompts) {
    String first = prompts.split("[|^]", 2)[0];
    int colon = first.indexOf(':');
    if (colon >= 0 && !first.matches("(?i)^https?://.*")) {
      first = first.substring(0, colon);
    }
    String ascii = Normalizer.normalize(first, Normalizer.Form.NFKD).replaceAll("\\p{M}", "");
    String slug = ascii.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-+|-+$", "");
    if (slug.length() > MAX_STEM) {
      slug = slug.substring(0, MAX_STEM).replaceAll("-+$", "");
    }
    return (slug.isEmpty() ? "vqclip" : slug) + ".png";
  }

  /** The name without its last extension. */
  static String stem(Path p) {
    String n = p.getFileName().toString();
    int dot = n.lastIndexOf('.');
    return dot > 0 ? n.substring(0, dot) : n;
  }

  /** A sibling of {@code output} named {@code STEM + suffix}. */
  static Path sibling(Path output, String suffix) {
    return output.resolveSibling(stem(output) + suffix);
  }

  /** The checkpoint written beside an output image. */
  static Path checkpoint(Path output) {
    return sibling(output, ".ckpt");
  }

  /** The run settings written beside an output image. */
  static Path settings(Path output) {
    return sibling(output, ".run.json");
  }

  /** The run settings that belong to a checkpoint ({@code NAME.ckpt} -> {@code NAME.run.json}). */
  static Path settingsOfCheckpoint(Path checkpoint) {
    return sibling(checkpoint, ".run.json");
  }
}
