package ai.vqclip.onnx;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * The one ONNX Runtime environment of the process, created on a thread whose stack is large enough
 * for it, and a way to run other ONNX Runtime calls (session creation) on such a thread.
 *
 * <p>Why: creating the environment makes ONNX Runtime read {@code /proc/self/cmdline} and walk it
 * recursively on the calling thread; its stack use grows with the command line's length (measured
 * with 1.29.0: a 5,000-byte command line overflows a 1 MB Java thread stack, 50,000 bytes a 4 MB
 * one, 1.3 MB needs between 256 and 512 MB). The overflow is a SIGSEGV that kills the JVM without
 * a message or an error file. {@link #stackBytes()} sizes the thread from the actual command line
 * (at most {@code ARG_MAX}, 2 MB on Linux), so any command line and any caller thread work. The
 * stack is reserved, not committed: only the pages touched cost memory.
 *
 * <p>Call {@link #environment()} instead of {@link OrtEnvironment#getEnvironment()} everywhere.
 */
public final class OrtRuntime {
  /** Stack of the ONNX Runtime threads before the command line's share is added. */
  static final long BASE_STACK_BYTES = 64L << 20;

  /** Stack bytes added per byte of the command line (twice the ~250 bytes measured). */
  static final long STACK_BYTES_PER_CMDLINE_BYTE = 512;

  private static volatile OrtEnvironment env;

  private OrtRuntime() {}

  /**
   * The process's ONNX Runtime environment, created on a large-stack thread on first use.
   *
   * @return the shared environment (created once, never closed)
   */
  public static OrtEnvironment environment() {
    OrtEnvironment e = env;
    if (e == null) {
      synchronized (OrtRuntime.class) {
        e = env;
        if (e == null) {
          e = onLargeStack("vqclip-ort-env", OrtEnvironment::getEnvironment);
          env = e;
        }
      }
    }
    return e;
  }

  /**
   * Creates a session on a large-stack thread (see the class comment).
   *
   * @param model serialized ModelProto
   * @param options session options (execution providers, threads, external initializers)
   * @return the new session; the caller closes it
   * @throws OrtException when ONNX Runtime rejects the model or the options
   */
  public static OrtSession createSession(byte[] model, OrtSession.SessionOptions options) throws OrtException {
    OrtEnvironment e = environment();
    try {
      return onLargeStack("vqclip-ort-session", () -> e.createSession(model, options));
    } catch (IllegalStateException x) {
      if (x.getCause() instanceof OrtException o) {
        throw o;
      }
      throw x;
    }
  }

  /**
   * The stack size of the threads that call into ONNX Runtime's setup code: {@link
   * #BASE_STACK_BYTES} plus {@link #STACK_BYTES_PER_CMDLINE_BYTE} per byte of this process's
   * command line.
   *
   * @return the stack size in bytes for threads that set up ONNX Runtime sessions
   */
  public static long stackBytes() {
    return BASE_STACK_BYTES + STACK_BYTES_PER_CMDLINE_BYTE * commandLineBytes();
  }

  /** Length of {@code /proc/self/cmdline}; 0 where there is none (not Linux). */
  static long commandLineBytes() {
    Path p = Path.of("/proc/self/cmdline");
    try {
      // The kernel reports size 0 for /proc files: read it (at most ARG_MAX bytes).
      return Files.isReadable(p) ? Files.readAllBytes(p).length : 0;
    } catch (IOException | SecurityException e) {
      // Unreadable: the runtime cannot read it either.
      return 0;
    }
  }

  /**
   * Runs {@code task} on a new thread with a {@link #stackBytes()} stack and waits for it; its
   * unchecked exceptions and errors are rethrown here, a checked one wrapped in an {@link
   * IllegalStateException}.
   *
   * @param <T> the task's result type
   * @param name name of the thread (shows in thread dumps)
   * @param task the work to run
   * @return what {@code task} returned
   * @throws IllegalStateException wrapping a checked exception thrown by {@code task} (an interrupt
   *     while waiting is kept as the thread flag, not thrown)
   */
  public static <T> T onLargeStack(String name, Callable<T> task) {
    Object[] result = new Object[1];
    Throwable[] failure = new Throwable[1];
    Thread t = new Thread(null, () -> {
      try {
        result[0] = task.call();
      } catch (Throwable x) {
        failure[0] = x;
      }
    }, name, stackBytes());
    t.setDaemon(true);
    t.start();
    boolean interrupted = false;
    while (true) {
      try {
        t.join();
        break;
      } catch (InterruptedException ie) {
        // The native call cannot be abandoned half way: finish it, then restore the flag.
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    Throwable f = failure[0];
    if (f instanceof RuntimeException r) {
      throw r;
    }
    if (f instanceof Error err) {
      throw err;
    }
    if (f != null) {
      throw new IllegalStateException(f.getMessage(), f);
    }
    @SuppressWarnings("unchecked")
    T r = (T) result[0];
    return r;
  }
}
