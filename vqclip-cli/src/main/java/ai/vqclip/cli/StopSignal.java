package ai.vqclip.cli;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Ctrl-C handling: a JVM shutdown hook {@link #request requests} a stop, the run ends after its
 * current step, and the hook waits until the command has written its image and checkpoint (the JVM
 * would otherwise exit as soon as the hook returns).
 */
final class StopSignal {
  /** How long the hook waits for the outputs to be written. */
  static final Duration WAIT = Duration.ofMinutes(2);

  private final AtomicBoolean requested = new AtomicBoolean();

  /** Asks the run to stop after its current step (what the shutdown hook does). */
  void request() {
    requested.set(true);
  }

  /** Whether a stop was asked for. */
  boolean requested() {
    return requested.get();
  }

  /**
   * Installs the shutdown hook; closing the returned handle (after the outputs are written)
   * removes it and releases a hook that is waiting.
   */
  Hook install() {
    return new Hook();
  }

  /** An installed shutdown hook. */
  final class Hook implements AutoCloseable {
    private final CountDownLatch written = new CountDownLatch(1);
    private final Thread thread;

    private Hook() {
      thread = new Thread(() -> {
        request();
        try {
          written.await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }, "vqclip-stop");
      Runtime.getRuntime().addShutdownHook(thread);
    }

    @Override
    public void close() {
      try {
        Runtime.getRuntime().removeShutdownHook(thread);
      } catch (IllegalStateException shuttingDown) {
        // The hook is running: releasing the latch below lets the JVM exit.
      } finally {
        written.countDown();
      }
    }
  }
}
