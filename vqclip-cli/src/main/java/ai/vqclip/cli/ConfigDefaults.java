package ai.vqclip.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Option defaults from the user's environment, so that a real-model run need not repeat its model
 * paths: an option's value comes from, in order, the command line, the environment variable {@code
 * VQCLIP_NAME} (the long name upper-cased, dashes as underscores: {@code VQCLIP_VQGAN_CONFIG}), the
 * defaults file (key = the long name without dashes: {@code vqgan-config=/models/model.yaml}), and
 * last the built-in default. The file is {@code $VQCLIP_CONFIG}, else {@code
 * $XDG_CONFIG_HOME/vqclip/config.properties}, else {@code ~/.config/vqclip/config.properties}; a
 * leading {@code ~/} in a value is the home folder. {@code vqclip config} shows what is in effect.
 */
final class ConfigDefaults implements IDefaultValueProvider {
  /** Largest defaults file read. */
  static final long MAX_BYTES = 1 << 16;

  private final Map<String, String> env;
  private final Path file;
  private final Properties props = new Properties();
  private final String problem;

  /** Defaults from this process's environment and its defaults file. */
  static ConfigDefaults fromEnvironment() {
    return new ConfigDefaults(System.getenv(), System.getProperty("user.home"));
  }

  ConfigDefaults(Map<String, String> env, String home) {
    this.env = Map.copyOf(env);
    this.file = file(env, home);
    this.problem = read(file, props);
  }

  /** Why the defaults file could not be read (then none of it applies), or null. */
  String problem() {
    return problem;
  }

  /** Where the defaults file is (it may not exist). */
  Path file() {
    return file;
  }

  /** The file's entries. */
  Properties fileEntries() {
    return (Properties) props.clone();
  }

  /** The environment variables that start with {@code VQCLIP_} (except VQCLIP_CONFIG and the launcher's own). */
  Map<String, String> environmentEntries() {
    java.util.TreeMap<String, String> m = new java.util.TreeMap<>();
    env.forEach((k, v) -> {
      if (k.startsWith("VQCLIP_") && !k.equals("VQCLIP_CONFIG") && !k.equals("VQCLIP_NO_REBUILD")) {
        m.put(k, v);
      }
    });
    return m;
  }

  /** The environment variable that sets an option (by its long name). */
  static String variable(String longName) {
    return "VQCLIP_" + key(longName).toUpperCase(Locale.ROOT).replace('-', '_');
  }

  /** The defaults-file key of an option (by its long name). */
  static String key(String longName) {
    return longName.replaceFirst("^-+", "");
  }

  @Override
  public String defaultValue(ArgSpec arg) {
    if (!(arg instanceof OptionSpec o) || o.usageHelp() || o.versionHelp()) {
      return null;
    }
    String name = o.longestName();
    String v = env.get(variable(name));
    if (v == null) {
      v = props.getProperty(key(name));
    }
    if (v == null) {
      return null;
    }
    v = v.strip();
    String home = env.getOrDefault("HOME", System.getProperty("user.home"));
    return v.startsWith("~/") && home != null ? home + v.substring(1) : v;
  }

  private static Path file(Map<String, String> env, String home) {
    String explicit = env.get("VQCLIP_CONFIG");
    if (explicit != null && !explicit.isBlank()) {
      return Path.of(explicit);
    }
    String xdg = env.get("XDG_CONFIG_HOME");
    Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(Objects.requireNonNullElse(home, "."), ".config");
    return base.resolve("vqclip").resolve("config.properties");
  }

  /** Reads {@code file} into {@code p}; returns what went wrong, or null. */
  private static String read(Path file, Properties p) {
    if (!Files.isRegularFile(file)) {
      return null;
    }
    try {
      if (Files.size(file) > MAX_BYTES) {
        return "defaults file " + file + " is over " + MAX_BYTES + " bytes; it holds a few option=value lines";
      }
      try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
        p.load(r);
      }
      return null;
    } catch (IOException | IllegalArgumentException e) {
      p.clear();
      return "cannot read the defaults file " + file + ": " + e.getMessage();
    }
  }
}
