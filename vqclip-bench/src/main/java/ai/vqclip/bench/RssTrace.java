package ai.vqclip.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Samples this process's resident set every few milliseconds on a daemon thread, so a diagnostic
 * can say when within an ONNX Runtime run the peak falls (forward or backward pass) and, with the
 * runtime's profile, which nodes were running then. Linux only; elsewhere it records nothing.
 */
final class RssTrace implements AutoCloseable {
  private static final Path STATM = Path.of("/proc/self/statm");
  private static final long PAGE_KB = 4;
  private final Thread thread;
  private final List<long[]> samples = new ArrayList<>();
  private volatile boolean running = true;

  private RssTrace() {
    thread = new Thread(this::loop, "rss-trace");
    thread.setDaemon(true);
  }

  /** Starts sampling. */
  static RssTrace start() {
    RssTrace t = new RssTrace();
    t.thread.start();
    return t;
  }

  private void loop() {
    while (running) {
      long kb = rssKb();
      if (kb >= 0) {
        synchronized (samples) {
          samples.add(new long[] {System.nanoTime(), kb});
        }
      }
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private static long rssKb() {
    try {
      String[] f = Files.readString(STATM, StandardCharsets.US_ASCII).trim().split("\\s+");
      return Long.parseLong(f[1]) * PAGE_KB;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** The samples taken between two System.nanoTime() values. */
  private List<long[]> between(long from, long to) {
    List<long[]> out = new ArrayList<>();
    synchronized (samples) {
      for (long[] s : samples) {
        if (s[0] >= from && s[0] <= to) {
          out.add(s);
        }
      }
    }
    return out;
  }

  /** Prints the run's resident-set curve in 20 slices (max per slice) and where its peak fell. */
  void printRun(int run, long from, long to) {
    List<long[]> s = between(from, to);
    if (s.isEmpty()) {
      return;
    }
    long[] peak = s.get(0);
    long[] slices = new long[20];
    for (long[] x : s) {
      if (x[1] > peak[1]) {
        peak = x;
      }
      int k = (int) Math.min(19, 20 * (x[0] - from) / Math.max(1, to - from));
      slices[k] = Math.max(slices[k], x[1]);
    }
    StringBuilder b = new StringBuilder();
    for (long v : slices) {
      b.append(v >> 10).append(' ');
    }
    // Not worded "peak N MB": SideBySide reads the last such line of StepProfile as the process's VmHWM.
    System.out.printf("[rss] run %d: highest sample %d MB at %.0f %% of the run; MB per 5 %% slice: %s%n", run, peak[1] >> 10,
        100.0 * (peak[0] - from) / (to - from), b.toString().trim());
  }

  /**
   * With ONNX Runtime's profile of the same runs: the nodes that ran within 50 ms of the last run's
   * peak (the profile's clock is aligned on the model_run events' starts).
   */
  void printPeakNodes(String profileFile, List<long[]> runSpans) throws IOException {
    JsonNode events = new ObjectMapper().readTree(Path.of(profileFile).toFile());
    List<Long> runStarts = new ArrayList<>();
    for (JsonNode e : events) {
      if ("model_run".equals(e.path("name").asText())) {
        runStarts.add(e.path("ts").asLong());
      }
    }
    if (runStarts.size() != runSpans.size()) {
      return;
    }
    int last = runSpans.size() - 1;
    long[] span = runSpans.get(last);
    long[] peak = null;
    for (long[] x : between(span[0], span[1])) {
      if (peak == null || x[1] > peak[1]) {
        peak = x;
      }
    }
    if (peak == null) {
      return;
    }
    long peakUs = runStarts.get(last) + (peak[0] - span[0]) / 1000;
    System.out.printf("[rss] nodes running within 50 ms of the last run's highest sample (%d MB):%n", peak[1] >> 10);
    for (JsonNode e : events) {
      if (!"Node".equals(e.path("cat").asText()) || !e.path("name").asText().endsWith("_kernel_time")) {
        continue;
      }
      long ts = e.path("ts").asLong();
      long end = ts + e.path("dur").asLong();
      if (end >= peakUs - 50_000 && ts <= peakUs + 50_000) {
        System.out.printf("  %+8.1f ms  %s (%s)%n", (ts - peakUs) / 1e3, e.path("name").asText().replace("_kernel_time", ""),
            e.path("args").path("op_name").asText());
      }
    }
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
  }
}
