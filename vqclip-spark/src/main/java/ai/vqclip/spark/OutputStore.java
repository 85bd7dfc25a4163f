package ai.vqclip.spark;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The output folder of a job, on any Hadoop file system. A file is committed by writing it whole
 * under {@link #TEMPORARY}{@code /} and renaming it to its final name, so a final name only ever
 * holds a complete file: a task killed mid-write leaves at most a temporary file (removed by {@link
 * #removeTemporary()} when the job ends), and a retried or concurrent attempt that finds the name
 * taken drops its own copy (the same request gives the same bytes' pixels).
 */
final class OutputStore {
  /** Folder of files being written, under the output folder. */
  static final String TEMPORARY = "_vqclip_temporary";

  /** Largest existing output read back (a picture of 8192x8192 is below 256 MB as PNG). */
  static final long MAX_READ_BYTES = 256L << 20;

  private final FileSystem fs;
  private final Path dir;

  OutputStore(String dir, Map<String, String> hadoopConf) {
    Configuration conf = new Configuration(false);
    hadoopConf.forEach(conf::set);
    try {
      Path p = new Path(dir);
      FileSystem f = p.getFileSystem(conf);
      // The local file system's checksummed view would add a .crc file beside every output.
      this.fs = f instanceof LocalFileSystem l ? l.getRaw() : f;
      this.dir = fs.makeQualified(p);
    } catch (IOException e) {
      throw new UncheckedIOException("output folder " + dir + ": " + e.getMessage(), e);
    }
  }

  /** @return the qualified location of a file in the folder */
  String location(String name) {
    return new Path(dir, name).toString();
  }

  /** @return whether the final file is there */
  boolean exists(String name) {
    try {
      return fs.isFile(new Path(dir, name));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot look for " + location(name) + ": " + e.getMessage(), e);
    }
  }

  /** @return the bytes of a final file (at most {@link #MAX_READ_BYTES}) */
  byte[] read(String name) {
    Path p = new Path(dir, name);
    try {
      long len = fs.getFileStatus(p).getLen();
      if (len > MAX_READ_BYTES) {
        throw new IllegalStateException(location(name) + " has " + len + " bytes; an output read back may have at most " + MAX_READ_BYTES);
      }
      try (InputStream in = fs.open(p)) {
        return in.readNBytes((int) len);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + location(name) + ": " + e.getMessage(), e);
    }
  }

  /**
   * Writes {@code bytes} under {@code name} atomically.
   *
   * @param attempt names the writer in the temporary file (for someone looking at a stuck job)
   * @return false when the name was already taken (the file there is kept; ours dropped)
   */
  boolean commit(String name, byte[] bytes, String attempt) {
    Path fin = new Path(dir, name);
    Path tmp = new Path(new Path(dir, TEMPORARY), name + "." + attempt + "." + UUID.randomUUID());
    try {
      try (OutputStream out = fs.create(tmp, false)) {
        out.write(bytes);
      }
      try {
        if (fs.exists(fin)) {
          return false;
        }
        // HDFS and object stores refuse to rename onto an existing name; the local file system
        // replaces it, with the same pixels, so either way one complete file stays.
        fs.mkdirs(fin.getParent());
        return fs.rename(tmp, fin) || !fs.exists(fin) && failRename(tmp, fin);
      } finally {
        fs.delete(tmp, false);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + location(name) + ": " + e.getMessage(), e);
    }
  }

  /**
   * Writes {@code bytes} under {@code name}, replacing what is there (for files that every run
   * rewrites, such as contact sheets): the new file appears whole, but on file systems that refuse to
   * rename onto a taken name the old one is deleted first, so the name is briefly absent.
   *
   * @param attempt names the writer in the temporary file
   */
  void replace(String name, byte[] bytes, String attempt) {
    try {
      if (!commit(name, bytes, attempt)) {
        fs.delete(new Path(dir, name), false);
        if (!commit(name, bytes, attempt)) {
          throw new IOException("another writer took the name meanwhile");
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot replace " + location(name) + ": " + e.getMessage(), e);
    }
  }

  private static boolean failRename(Path tmp, Path fin) throws IOException {
    throw new IOException("rename of " + tmp + " to " + fin + " failed");
  }

  /** Removes the folder of temporary files left by killed attempts (when no task of the job runs any more). */
  void removeTemporary() {
    try {
      fs.delete(new Path(dir, TEMPORARY), true);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot remove " + location(TEMPORARY) + ": " + e.getMessage(), e);
    }
  }
}
