package ai.vqclip.cli;

import java.nio.file.Path;

/** Checks on the files named on a command line (reported as usage errors), and the mode of the files written. */
final class InputFiles {
  private InputFiles() {}

  /** Fails unless {@code p} (when not null) is a readable regular file; {@code option} names where it came from. */
  static void requireReadable(Path p, String option) {
    if (p == null) {
      return;
    }
    if (!java.nio.file.Files.exists(p)) {
      throw new UsageException(option + ": file not found: " + p);
    }
    if (!java.nio.file.Files.isRegularFile(p)) {
      throw new UsageException(option + ": not a regular file: " + p);
    }
    if (!java.nio.file.Files.isReadable(p)) {
      throw new UsageException(option + ": file is not readable: " + p);
    }
  }

  /**
   * Fails unless {@code p}'s folder exists or can be made and is writable, so a run does not fail
   * only at its end; {@code option} names where the path came from.
   */
  static void requireWritable(Path p, String option) {
    if (p == null) {
      return;
    }
    Path dir = p.toAbsolutePath().getParent();
    try {
      java.nio.file.Files.createDirectories(dir);
    } catch (java.io.IOException | SecurityException e) {
      throw new UsageException(option + ": cannot create the folder " + dir + " (" + e.getClass().getSimpleName() + ")");
    }
    if (!java.nio.file.Files.isWritable(dir)) {
      throw new UsageException(option + ": cannot write to the folder " + dir);
    }
    if (java.nio.file.Files.isDirectory(p)) {
      throw new UsageException(option + ": " + p + " is a folder");
    }
  }
}
