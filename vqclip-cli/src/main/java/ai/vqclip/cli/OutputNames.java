package ai.vqclip.cli;

import java.nio.file.Path;
import java.text.Normalizer;
import java.util.Locale;

/** File names derived from prompts and from the output image. */
public final class OutputNames {
  /** Longest name made from a prompt, before the extension. */
  static final int MAX_STEM = 60;

  private OutputNames() {}

  /**
   * A PNG name from the first prompt's text: {@code "A red circle:1.5|blue"} gives {@code
   * a-red-circle.png}; a prompt with no letters or digits gives {@code vqclip.png}.
   */
  public static String fromPrompt(String prompts) {
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

  /** How many numbered names {@link #free} tries. */
  static final int MAX_NUMBERED = 10_000;

  /**
   * {@code output} when neither it nor its checkpoint or settings exist, else the first free {@code
   * STEM-2.png}, {@code STEM-3.png}, ...: a second run of the same prompt never replaces the
   * first's image (pass {@code --overwrite} for that). {@code taken} holds names other runs of the
   * same command will write; the result is added to it.
   *
   * @throws UsageException when {@value #MAX_NUMBERED} numbered names are all taken
   */
  static Path free(Path output, java.util.Set<Path> taken) {
    Path p = output.toAbsolutePath().normalize();
    if (java.nio.file.Files.isDirectory(p)) {
      return p; // not an image name: the writability check reports it
    }
    String stem = stem(p);
    String ext = p.getFileName().toString().substring(stem.length());
    for (int k = 1; k <= MAX_NUMBERED; k++) {
      Path c = k == 1 ? p : p.resolveSibling(stem + "-" + k + ext);
      if (!taken.contains(c) && !java.nio.file.Files.exists(c) && !java.nio.file.Files.exists(checkpoint(c))
          && !java.nio.file.Files.exists(settings(c))) {
        taken.add(c);
        return c;
      }
    }
    throw new UsageException("--output: " + output + " and its numbered names up to -" + MAX_NUMBERED + " all exist; choose another name "
        + "or pass --overwrite");
  }
}
