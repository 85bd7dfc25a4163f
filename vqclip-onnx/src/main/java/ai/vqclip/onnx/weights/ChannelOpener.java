package ai.vqclip.onnx.weights;

import ai.vqclip.core.ModelLoadException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Opens a weight file's channel and hands it to a parser; if parsing fails the channel is closed
 * and I/O errors become {@link ModelLoadException}s naming the file. On success the parsed object
 * owns the channel.
 */
final class ChannelOpener {
  private ChannelOpener() {}

  /** Parses an open channel; may throw I/O errors. */
  @FunctionalInterface
  interface Parser<T> {
    T parse(FileChannel channel) throws IOException;
  }

  /**
   * @param what how messages name the file, e.g. {@code "safetensors file"}
   */
  static <T> T open(Path file, String what, Parser<T> parser) {
    FileChannel ch;
    try {
      ch = FileChannel.open(file, StandardOpenOption.READ);
    } catch (IOException e) {
      throw new ModelLoadException("cannot open " + what + " " + file + ": " + e.getMessage(), e);
    }
    try {
      return parser.parse(ch);
    } catch (RuntimeException e) {
      closeQuietly(ch);
      throw e;
    } catch (IOException e) {
      closeQuietly(ch);
      throw new ModelLoadException("cannot read " + what + " " + file + ": " + e.getMessage(), e);
    }
  }

  private static void closeQuietly(FileChannel ch) {
    try {
      ch.close();
    } catch (IOException ignored) {
      // already failing; the original error matters more
    }
  }
}
