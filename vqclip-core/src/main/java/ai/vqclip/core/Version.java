package ai.vqclip.core;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * The version of the vqclip jars, as the build wrote it (a resource filtered from the pom's {@code
 * project.version}), so manifests and PNG text chunks name the release that made them without a
 * hand-kept constant.
 */
public final class Version {
  private static final String VERSION = read();

  private Version() {}

  /**
   * The vqclip version, e.g. {@code 0.1.0-SNAPSHOT}.
   *
   * @return the version from the build, or {@code "unknown"} when the classes were built without
   *     Maven
   */
  public static String get() {
    return VERSION;
  }

  private static String read() {
    try (InputStream in = Version.class.getResourceAsStream("version.properties")) {
      if (in == null) {
        // Only when the classes were compiled without Maven's resource step (e.g. an IDE build).
        return "unknown";
      }
      Properties p = new Properties();
      p.load(in);
      String v = p.getProperty("version", "unknown");
      return v.startsWith("${") ? "unknown" : v;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read vqclip's version resource", e);
    }
  }
}
