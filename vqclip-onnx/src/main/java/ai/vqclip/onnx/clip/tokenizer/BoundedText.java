package ai.vqclip.onnx.clip.tokenizer;

import ai.vqclip.core.ModelLoadException;
import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.zip.GZIPInputStream;

/** Size-bounded reading of untrusted vocabulary files: byte caps, line caps, strict UTF-8. */
final class BoundedText {
  private BoundedText() {}

  /**
   * The stream, decompressed when it starts with the gzip magic bytes, cut off with a {@link
   * ModelLoadException} after {@code maxBytes} (decompressed) bytes: a small gzip file can expand
   * without bound.
   */
  static InputStream maybeGunzip(InputStream in, long maxBytes, String source) throws IOException {
    BufferedInputStream buffered = new BufferedInputStream(in);
    buffered.mark(2);
    int b0 = buffered.read();
    int b1 = buffered.read();
    buffered.reset();
    InputStream raw = b0 == 0x1f && b1 == 0x8b ? new GZIPInputStream(buffered, 1 << 16) : buffered;
    return limit(raw, maxBytes, source);
  }

  /** A stream that fails with a {@link ModelLoadException} once more than maxBytes are read. */
  static InputStream limit(InputStream in, long maxBytes, String source) {
    return new FilterInputStream(in) {
      private long count;

      @Override
      public int read() throws IOException {
        int b = super.read();
        if (b >= 0) {
          count(1);
        }
        return b;
      }

      @Override
      public int read(byte[] buf, int off, int len) throws IOException {
        int n = super.read(buf, off, len);
        if (n > 0) {
          count(n);
        }
        return n;
      }

      private void count(int n) {
        count += n;
        if (count > maxBytes) {
          throw new ModelLoadException(
              source + " is larger than " + maxBytes + " bytes (decompressed), the limit for a vocabulary file");
        }
      }
    };
  }

  /** A UTF-8 reader that fails on malformed input, which is how binary files show. */
  static Reader strictUtf8(InputStream in) {
    return new InputStreamReader(
        in,
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT));
  }

  /** Reads lines ({@code \n}-terminated, a trailing {@code \r} kept) of at most maxChars each. */
  static final class LineReader {
    private final Reader reader;
    private final int maxChars;
    private final String source;
    private final char[] buf = new char[8192];
    private int pos;
    private int end;
    private int lineNumber;

    LineReader(Reader reader, int maxChars, String source) {
      this.reader = reader;
      this.maxChars = maxChars;
      this.source = source;
    }

    /** The 1-based number of the line last returned. */
    int lineNumber() {
      return lineNumber;
    }

    /** The next line without its newline, or null at the end of the input. */
    String next() throws IOException {
      StringBuilder line = null;
      while (true) {
        if (pos == end) {
          end = reader.read(buf, 0, buf.length);
          pos = 0;
          if (end <= 0) {
            end = 0;
            if (line == null) {
              return null;
            }
            lineNumber++;
            return line.toString();
          }
        }
        if (line == null) {
          line = new StringBuilder();
        }
        int start = pos;
        while (pos < end && buf[pos] != '\n') {
          pos++;
        }
        line.append(buf, start, pos - start);
        if (line.length() > maxChars) {
          throw new ModelLoadException(
              source + ": line " + (lineNumber + 1) + " is longer than " + maxChars
                  + " characters; not a BPE vocabulary file");
        }
        if (pos < end) {
          pos++; // the newline
          lineNumber++;
          return line.toString();
        }
      }
    }
  }
}
