package ai.vqclip.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Ctrl-C handling. While a run is going, SIGINT (Ctrl-C) and SIGTERM {@link #request request} a
 * stop: the run ends after its current step and the command writes its image and checkpoint, then
 * exits with code 130. A second signal exits at once.
 *
 * <p>A signal handler, not a shutdown hook: once the JVM's shutdown has begun, ONNX Runtime's own
 * shutdown hook releases its native environment, after which no graph can run (the final decode
 * would fail), so the run must finish before shutdown starts.
 */
final class StopSignal {
  private static final Logger LOG = LoggerFactory.getLogger(StopSignal.class);

  /** The signals handled. */
  static final List<String> SIGNALS = List.of("INT", "TERM");

  private final AtomicBoolean requested = new AtomicBoolean();

  /** Asks the run to stop after its current step (what the first Ctrl-C does). */
  void request() {
    requested.set(true);
  }

  /** Whether a stop was asked for. */
  boolean requested() {
    return requested.get();
  }

  /**
   * Installs the signal handlers; closing the returned handle restores the previous ones.
   *
   * @param err where the handler says that the run is stopping
   */
  Handlers install(PrintWriter err) {
    return new Handlers(err);
  }

  /** Installed signal handlers. */
  final class Handlers implements AutoCloseable {
    private final List<Signal> signals = new ArrayList<>();
    private final List<SignalHandler> previous = new ArrayList<>();

    private Handlers(PrintWriter err) {
      SignalHandler handler = sig -> {
        if (requested.getAndSet(true)) {
          err.println();
          err.println("vqclip: stopped at once; the current run's image and checkpoint are not written");
          err.flush();
          System.exit(128 + sig.getNumber());
        }
        err.println();
        err.println("vqclip: stopping after the current step (press Ctrl-C again to quit at once)");
        err.flush();
      };
      for (String name : SIGNALS) {
        try {
          Signal s = new Signal(name);
          SignalHandler before = Signal.handle(s, handler);
          if (before == SignalHandler.SIG_IGN) {
            // The process was started with the signal ignored (nohup, or a background job of a
            // non-interactive shell): the JVM then keeps it ignored and never calls our handler,
            // which is also what whoever started us asked for. Leave it ignored.
            Signal.handle(s, before);
            LOG.debug("SIG{} is ignored in this process; Ctrl-C will not stop the run", name);
            continue;
          }
          previous.add(before);
          signals.add(s);
        } catch (IllegalArgumentException e) {
          // The signal is reserved (e.g. java -Xrs) or unknown here: it keeps its default action.
          LOG.debug("cannot handle SIG{}: {}", name, e.getMessage());
        }
      }
    }

    /** Whether the handler is installed for a signal ({@code "INT"}, {@code "TERM"}). */
    boolean handles(String name) {
      return signals.stream().anyMatch(sig -> sig.getName().equals(name));
    }

    @Override
    public void close() {
      for (int i = 0; i < signals.size(); i++) {
        try {
          Signal.handle(signals.get(i), previous.get(i));
        } catch (IllegalArgumentException e) {
          LOG.debug("cannot restore the handler of {}: {}", signals.get(i), e.getMessage());
        }
      }
    }
  }
}
