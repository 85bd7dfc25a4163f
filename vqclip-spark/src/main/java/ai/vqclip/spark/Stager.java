package ai.vqclip.spark;

import ai.vqclip.demo.DemoModels;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;

/**
 * Makes model files local on an executor: a plain path or {@code file:} URI is used in place; any
 * other Hadoop file system URI is copied once into {@code cacheDir/<digest of the URI>/NAME}
 * (written to a temporary name and moved, so concurrent tasks and a killed copy leave no half
 * file under the final name).
 */
final class Stager {
  private final Configuration conf;
  private final Path cacheDir;

  Stager(Configuration conf, Path cacheDir) {
    this.conf = conf;
    this.cacheDir = cacheDir;
  }

  /** A local path for {@code location}, or null for null. */
  Path file(String location) {
    if (location == null) {
      return null;
    }
    URI uri = uri(location);
    if (uri.getScheme() == null || "file".equals(uri.getScheme())) {
      return uri.getScheme() == null ? Path.of(location) : Path.of(uri);
    }
    return copy(uri, folderFor(parent(uri)));
  }

  /** Like {@link #file}, and for a Hugging Face {@code vocab.json} also its {@code merges.txt} beside it. */
  Path vocab(String location) {
    Path p = file(location);
    if (p != null && location.endsWith("vocab.json") && uri(location).getScheme() != null && !"file".equals(uri(location).getScheme())) {
      copy(parent(uri(location)).resolve("merges.txt"), p.getParent());
    }
    return p;
  }

  /** A local folder holding the demo model files of {@code location}, or null for null. */
  Path demoFolder(String location) {
    if (location == null) {
      return null;
    }
    URI uri = uri(location.endsWith("/") ? location : location + "/");
    if (uri.getScheme() == null || "file".equals(uri.getScheme())) {
      return uri.getScheme() == null ? Path.of(location) : Path.of(uri);
    }
    Path dir = folderFor(uri);
    for (String f : DemoModels.FILES) {
      copy(uri.resolve(f), dir);
    }
    for (String f : DemoModels.OPTIONAL_FILES) { // a second CLIP, the caption prior, the sketcher: where the folder has them
      if (exists(uri.resolve(f))) {
        copy(uri.resolve(f), dir);
      }
    }
    return dir;
  }

  private boolean exists(URI src) {
    try {
      return FileSystem.get(src, conf).exists(new org.apache.hadoop.fs.Path(src));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot look up " + src, e);
    }
  }

  private Path folderFor(URI dir) {
    return cacheDir.resolve(digest(dir.toString()));
  }

  private Path copy(URI src, Path dir) {
    String name = Path.of(src.getPath()).getFileName().toString();
    Path dst = dir.resolve(name);
    if (Files.isRegularFile(dst)) {
      return dst;
    }
    try {
      Files.createDirectories(dir);
      FileSystem fs = FileSystem.get(src, conf);
      Path tmp = Files.createTempFile(dir, name, ".part");
      try (InputStream in = fs.open(new org.apache.hadoop.fs.Path(src))) {
        Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
        Files.move(tmp, dst, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } finally {
        Files.deleteIfExists(tmp);
      }
      return dst;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot copy model file " + src + " to " + dst + ": " + e.getMessage(), e);
    }
  }

  private static URI parent(URI uri) {
    return uri.resolve(".");
  }

  private static URI uri(String location) {
    try {
      URI u = URI.create(location);
      // A Windows drive letter or a relative path is a local path, not a scheme.
      return u.getScheme() != null && u.getScheme().length() == 1 ? URI.create("file:///" + location.replace('\\', '/')) : u;
    } catch (IllegalArgumentException e) {
      return Path.of(location).toUri();
    }
  }

  static String digest(String s) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("no SHA-256", e);
    }
  }
}
