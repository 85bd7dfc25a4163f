package ai.vqclip.cli;

import ai.vqclip.demo.DemoModels;
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
   * Fails unless {@code dir} (when not null) is a folder holding every file {@link
   * DemoModels#load(Path)} reads, so a missing one is named before any model is opened; {@code
   * option} names where the folder came from.
   */
  static void requireDemoModels(Path dir, String option) {
    if (dir == null) {
      return;
    }
    if (!java.nio.file.Files.isDirectory(dir)) {
      throw new UsageException(option + ": " + (java.nio.file.Files.exists(dir) ? "not a folder: " : "folder not found: ") + dir);
    }
    for (String f : DemoModels.FILES) {
      if (!java.nio.file.Files.isRegularFile(dir.resolve(f))) {
        // A folder from 'train-demo clip' alone has no VQGAN: the likeliest reason for a missing file.
        throw new UsageException(option + ": " + dir + " has no " + f + "; a demo model folder needs both models "
            + "(vqclip train-demo all -o DIR, or copy the missing files into it)");
      }
      requireReadable(dir.resolve(f), option);
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
    createWritableFolder(p.toAbsolutePath().getParent(), option);
    if (java.nio.file.Files.isDirectory(p)) {
      throw new UsageException(option + ": " + p + " is a folder");
    }
  }

  /**
   * Fails unless {@code dir} is a folder, or does not exist and can be made, and is writable (it is
   * made); {@code option} names where the path came from.
   */
  static void requireWritableFolder(Path dir, String option) {
    if (java.nio.file.Files.exists(dir) && !java.nio.file.Files.isDirectory(dir)) {
      throw new UsageException(option + ": " + dir + " is a file, not a folder");
    }
    createWritableFolder(dir, option);
  }

  private static void createWritableFolder(Path dir, String option) {
    try {
      java.nio.file.Files.createDirectories(dir);
    } catch (java.io.IOException | SecurityException e) {
      throw new UsageException(option + ": cannot create the folder " + dir + " (" + e.getClass().getSimpleName() + ")");
    }
    if (!java.nio.file.Files.isWritable(dir)) {
      throw new UsageException(option + ": cannot write to the folder " + dir);
    }
    probe(dir, option);
  }

  /**
   * Writes and deletes a small file in {@code dir}: the permission bits do not tell whether a file
   * system accepts writes (read-only mounts, /proc, root's view of permissions, a full disk), and a
   * run must not find out only at its end.
   */
  static void probe(Path dir, String option) {
    Path probe = null;
    try {
      probe = java.nio.file.Files.createTempFile(dir, ".vqclip-probe-", ".tmp");
      java.nio.file.Files.write(probe, new byte[] {'v'});
    } catch (java.io.IOException | SecurityException e) {
      throw new UsageException(option + ": cannot write to the folder " + dir + " (a test file could not be written: "
          + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + " " + e.getMessage()) + ")");
    } finally {
      if (probe != null) {
        try {
          java.nio.file.Files.deleteIfExists(probe);
        } catch (java.io.IOException e) {
          // a probe file left behind is harmless (hidden, one byte)
        }
      }
    }
  }
}
