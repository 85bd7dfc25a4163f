package ai.vqclip.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import sun.misc.Signal;

/** The Ctrl-C handler, with a real SIGINT raised in this JVM. */
class StopSignalTest {
  @Test
  void firstSigintRequestsAStopAndSaysSo() throws InterruptedException {
    StopSignal stop = new StopSignal();
    StringWriter text = new StringWriter();
    try (StopSignal.Handlers h = stop.install(new PrintWriter(text, true))) {
      // Raising SIGINT without our handler would shut this JVM down: only when it is ours (not when
      // the JVM was started with SIGINT ignored, e.g. as a background job of a script).
      Assumptions.assumeTrue(h.handles("INT"), "SIGINT cannot be handled in this JVM");
      assertFalse(stop.requested());
      Signal.raise(new Signal("INT"));
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (!stop.requested() && System.nanoTime() < deadline) {
        Thread.sleep(10); // the JVM delivers signals on its own thread
      }
      assertTrue(stop.requested());
      deadline = System.nanoTime() + 10_000_000_000L;
      while (!text.toString().contains("stopping") && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertTrue(text.toString().contains("vqclip: stopping after the current step (press Ctrl-C again to quit at once)"), text.toString());
    }
  }
}
