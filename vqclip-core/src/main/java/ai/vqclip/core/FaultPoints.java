package ai.vqclip.core;

import java.io.BufferedReader;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Named points inside vqclip's file writes where the fault tests (kill -9, full disk; see
 * docs/faults.md) stop a process. Inert unless the JVM is started with the system property
 * {@value #PROPERTY}{@code =NAME:N}: then the N-th time any thread reaches point NAME, it prints
 * {@value #MARKER}{@code  NAME N} on stderr and waits for a line on stdin (or its end), so that
 * the test can kill the process or take its disk space away at exactly that point and then let
 * it go on. Timing alone almost never lands inside a write of a few kilobytes; these points do.
 *
 * <p>Points: {@code checkpoint.partial} and {@code png.partial} (the temporary file holds part of
 * its bytes), {@code checkpoint.written} and {@code png.written} (the temporary file is complete,
 * not yet renamed over the previous file), {@code settings.written} (the same for run settings).
 */
public final class FaultPoints {
  /** The system property naming the point and the count, {@code NAME:N}. */
  public static final String PROPERTY = "vqclip.faultPoint";

  /** What a paused process prints on stderr, followed by the point's name and count. */
  public static final String MARKER = "vqclip-fault-point";

  // Read once: without the property every call is a comparison with null.
  private static final String NAME;
  private static final int AT;

  static {
    String spec = System.getProperty(PROPERTY);
    String name = null;
    int at = 0;
    if (spec != null && spec.lastIndexOf(':') > 0) {
      try {
        at = Integer.parseInt(spec.substring(spec.lastIndexOf(':') + 1));
        name = spec.substring(0, spec.lastIndexOf(':'));
      } catch (NumberFormatException e) {
        name = null;
      }
    }
    NAME = at > 0 ? name : null;
    AT = at;
  }

  private static final AtomicInteger REACHED = new AtomicInteger();

  private FaultPoints() {}

  /**
   * Marks point {@code name}; pauses there when it is the configured point's N-th reach.
   *
   * @param name the point's name
   */
  public static void reach(String name) {
    if (NAME == null || !NAME.equals(name)) {
      return;
    }
    int n = REACHED.incrementAndGet();
    if (n != AT) {
      return;
    }
    System.err.println(MARKER + " " + name + " " + n);
    System.err.flush();
    try {
      new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
    } catch (IOException e) {
      // stdin gone: go on.
    }
  }

  /**
   * {@code out} itself, or, when point {@code name} is configured, a stream whose first write
   * writes half its bytes, flushes them and reaches {@code name} before writing the rest: the
   * file then holds part of its content at the point.
   *
   * @param name the point's name
   * @param out the stream to wrap
   * @return {@code out} or the wrapping stream
   */
  public static OutputStream partial(String name, OutputStream out) {
    if (NAME == null || !NAME.equals(name)) {
      return out;
    }
    return new FilterOutputStream(out) {
      private boolean first = true;

      @Override
      public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        if (first && len > 1) {
          first = false;
          out.write(b, off, len / 2);
          out.flush();
          reach(name);
          out.write(b, off + len / 2, len - len / 2);
        } else {
          out.write(b, off, len);
        }
      }
    };
  }
}
