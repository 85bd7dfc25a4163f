package ai.vqclip.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Resident memory of this process from Linux's {@code /proc/self}: the current set (VmRSS), the
 * peak (VmHWM), and a reset of the peak so each benchmark reports its own. Elsewhere the values are
 * NaN and the reset does nothing.
 */
public final class ProcMemory {
  private static final Path STATUS = Path.of("/proc/self/status");
  private static final Path CLEAR_REFS = Path.of("/proc/self/clear_refs");

  private ProcMemory() {}

  /** VmHWM, the peak resident set since start or the last {@link #resetPeak()}, in MB (NaN without /proc). */
  public static double peakRssMb() {
    return field(STATUS, "VmHWM");
  }

  /** VmRSS, the resident set now, in MB (NaN without /proc). */
  public static double rssMb() {
    return field(STATUS, "VmRSS");
  }

  /**
   * Sets the peak back to the current resident set (writes 5 to {@code /proc/self/clear_refs},
   * Linux 4.0 and later).
   *
   * @return whether the kernel accepted the reset
   */
  public static boolean resetPeak() {
    try {
      Files.writeString(CLEAR_REFS, "5");
      return true;
    } catch (IOException | RuntimeException e) {
      // Not Linux, or /proc is read-only here: the peak then covers the whole process.
      return false;
    }
  }

  /** A "Name: value kB" field of a /proc status file in MB, or NaN when absent or unreadable. */
  static double field(Path status, String name) {
    try {
      for (String l : Files.readAllLines(status, StandardCharsets.UTF_8)) {
        if (l.startsWith(name + ":")) {
          String[] parts = l.substring(name.length() + 1).trim().split("\\s+");
          if (parts.length != 2 || !parts[1].equals("kB")) {
            return Double.NaN;
          }
          return Long.parseLong(parts[0]) / 1024.0;
        }
      }
    } catch (IOException | RuntimeException e) {
      // Missing /proc or an unexpected format: no value rather than a failed benchmark.
    }
    return Double.NaN;
  }
}
