package ai.vqclip.fuzz;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Shared pieces of the fuzz targets: the fuzzing time per target and a scratch file for readers
 * that take a path.
 */
public final class FuzzFiles {
  /** How long {@code -Pfuzz} fuzzes one target (issue 16's acceptance: 2 minutes per target). */
  public static final String DURATION = "2m";

  private static final ThreadLocal<Path> DIR = ThreadLocal.withInitial(() -> {
    try {
      Path d = Files.createTempDirectory("vqclip-fuzz");
      d.toFile().deleteOnExit();
      return d;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  });

  private FuzzFiles() {}

  /** Writes {@code data} to a scratch file named {@code name} (the same file each call) and returns it. */
  public static Path write(String name, byte[] data) {
    Path p = DIR.get().resolve(name);
    try {
      Files.write(p, data);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    p.toFile().deleteOnExit();
    return p;
  }
}
