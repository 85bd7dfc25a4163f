package ai.vqclip.cli;

import ai.vqclip.core.pipeline.RunResult;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Saves a finished run whose outputs could not be written where asked (the disk filled, the folder
 * went away): the image, its checkpoint and settings go to a fallback folder, so hours of work are
 * not lost. The folders tried are the system's temporary folder, the home folder and the working
 * folder, in that order.
 */
final class OutputRescue {
  private OutputRescue() {}

  /** Folders tried in order. */
  static List<Path> fallbackFolders() {
    List<Path> dirs = new ArrayList<>();
    for (String p : new String[] {System.getProperty("java.io.tmpdir"), System.getProperty("user.home"), System.getProperty("user.dir")}) {
      if (p != null && !p.isBlank()) {
        dirs.add(Path.of(p).toAbsolutePath());
      }
    }
    return dirs;
  }

  /**
   * Writes the result as {@code STEM-rescued-TIME.png} with {@code .ckpt} and {@code .run.json}
   * beside it in the first fallback folder that takes them, and returns the PNG's path.
   *
   * @throws RuntimeException {@code failure} (with the rescue's own failures suppressed) when no folder takes them
   */
  static Path save(RunSettings s, RunResult result, Path output, RuntimeException failure) {
    String name = OutputNames.stem(output) + "-rescued-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT));
    for (Path dir : fallbackFolders()) {
      Path png = dir.resolve(name + ".png");
      try {
        InputFiles.probe(dir, "rescue");
        RunSettings r = s.withRun(s.iterations(), png.toString(), null, s.device(), s.threads());
        Runner.writePng(result.image(), png, Runner.text(r, result.manifest()));
        result.checkpoint().save(OutputNames.checkpoint(png));
        r.save(OutputNames.settings(png));
        return png;
      } catch (RuntimeException e) {
        failure.addSuppressed(e);
      }
    }
    throw failure;
  }
}
