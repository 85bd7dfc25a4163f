package ai.vqclip.onnx.weights;

import ai.vqclip.core.ModelLoadException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/** Bytes for the unpickler: an array, or a region of a file read through a small buffer. */
abstract class PickleInput {
  /** Where the bytes come from, for messages. */
  abstract String source();

  /** Offset of the next byte. */
  abstract long position();

  /** Bytes left. */
  abstract long remaining();

  /** The next byte (0-255). */
  abstract int read();

  /** Fills {@code dst}. */
  abstract void readFully(byte[] dst);

  ModelLoadException truncated(long needed) {
    return new ModelLoadException(
        source() + ": pickle truncated at byte " + position() + ": needs " + needed + " more bytes, "
            + remaining() + " left");
  }

  static PickleInput of(byte[] bytes, String source) {
    return new PickleInput() {
      int pos;

      @Override
      String source() {
        return source;
      }

      @Override
      long position() {
        return pos;
      }

      @Override
      long remaining() {
        return bytes.length - pos;
      }

      @Override
      int read() {
        if (pos >= bytes.length) {
          throw truncated(1);
        }
        return bytes[pos++] & 0xff;
      }

      @Override
      void readFully(byte[] dst) {
        if (dst.length > bytes.length - pos) {
          throw truncated(dst.length);
        }
        System.arraycopy(bytes, pos, dst, 0, dst.length);
        pos += dst.length;
      }
    };
  }

  /** A file region [start, end) read sequentially through a 64 KiB buffer. */
  static final class OfChannel extends PickleInput {
    private final FileChannel ch;
    private final String source;
    private final long end;
    private long pos;
    private final ByteBuffer buf = ByteBuffer.allocate(1 << 16);
    private long bufStart;

    OfChannel(FileChannel ch, long start, long end, String source) {
      this.ch = ch;
      this.pos = start;
      this.end = end;
      this.source = source;
      buf.limit(0);
      bufStart = start;
    }

    @Override
    String source() {
      return source;
    }

    @Override
    long position() {
      return pos;
    }

    @Override
    long remaining() {
      return end - pos;
    }

    /** Moves to an absolute offset (used to skip storage data in legacy streams). */
    void seek(long p) {
      if (p < 0 || p > end) {
        throw new ModelLoadException(source + ": offset " + p + " is outside the file (size " + end + ")");
      }
      pos = p;
      buf.limit(0);
      bufStart = p;
    }

    private void fill() {
      buf.clear();
      bufStart = pos;
      int want = (int) Math.min(buf.capacity(), end - pos);
      buf.limit(want);
      try {
        while (buf.hasRemaining()) {
          int r = ch.read(buf, bufStart + buf.position());
          if (r < 0) {
            break;
          }
        }
      } catch (IOException e) {
        throw new ModelLoadException(source + ": read failed at byte " + pos + ": " + e.getMessage(), e);
      }
      buf.flip();
    }

    @Override
    int read() {
      if (pos >= end) {
        throw truncated(1);
      }
      if (pos < bufStart || pos >= bufStart + buf.limit()) {
        fill();
        if (buf.limit() == 0) {
          throw truncated(1);
        }
      }
      int b = buf.get((int) (pos - bufStart)) & 0xff;
      pos++;
      return b;
    }

    @Override
    void readFully(byte[] dst) {
      if (dst.length > end - pos) {
        throw truncated(dst.length);
      }
      for (int i = 0; i < dst.length; i++) {
        dst[i] = (byte) read();
      }
    }
  }
}
