package ai.vqclip.bench;

import ai.vqclip.core.graph.FlopCounter;
import ai.vqclip.core.graph.Graph;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.regex.Pattern;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs {@link SgemmPeak} then {@link ConvNetStep} with JMH in this JVM (forks 0, so both share one
 * process, one runtime and one thread pool setting) and writes one JSON line per benchmark to
 * {@code vqclip-bench/target/bench-summary.jsonl}: name, ms_per_step, gflop_per_step, gflops,
 * sgemm_gflops, ratio_to_sgemm, threads, device, peak_rss_mb (VmHWM of this process after the
 * benchmark), and error when a benchmark could not run.
 *
 * <pre>
 * java -cp vqclip-bench/target/benchmarks.jar ai.vqclip.bench.BenchMain [--threads N] [--quick]
 *     [--sgemm-n N] [--conv-size N] [--out FILE]
 * </pre>
 *
 * <p>Exit code 0 when every benchmark ran, 1 when one failed (its line carries the error), 2 for
 * bad arguments.
 */
public final class BenchMain {
  private static final ObjectMapper JSON = new ObjectMapper();

  private BenchMain() {}

  /** Settings from the command line. */
  record Settings(int threads, boolean quick, int sgemmN, int convSize, Path out) {}

  /** Entry point; see the class comment for the arguments. */
  public static void main(String[] args) {
    Settings s;
    try {
      s = parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("BenchMain: " + e.getMessage());
      System.exit(2);
      return;
    }
    System.exit(run(s));
  }

  static Settings parse(String[] args) {
    int threads = Runtime.getRuntime().availableProcessors();
    boolean quick = false;
    int sgemmN = 2048;
    int convSize = 128;
    Path out = Files.isDirectory(Path.of("vqclip-bench")) ? Path.of("vqclip-bench", "target", "bench-summary.jsonl")
        : Path.of("target", "bench-summary.jsonl");
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--quick" -> quick = true;
        case "--threads" -> threads = positive(a, value(args, ++i, a));
        case "--sgemm-n" -> sgemmN = positive(a, value(args, ++i, a));
        case "--conv-size" -> convSize = positive(a, value(args, ++i, a));
        case "--out" -> out = Path.of(value(args, ++i, a));
        default -> throw new IllegalArgumentException(
            "unknown argument '" + a + "'; allowed: --threads N, --quick, --sgemm-n N, --conv-size N, --out FILE");
      }
    }
    return new Settings(threads, quick, sgemmN, convSize, out);
  }

  private static String value(String[] args, int i, String option) {
    if (i >= args.length) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    return args[i];
  }

  private static int positive(String option, String v) {
    try {
      int n = Integer.parseInt(v);
      if (n < 1) {
        throw new IllegalArgumentException(option + " must be >= 1, got " + v);
      }
      return n;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(option + " must be a positive integer, got '" + v + "'");
    }
  }

  static int run(Settings s) {
    List<String> lines = new ArrayList<>();
    String device = "CPU: " + cpuModel() + ", " + Runtime.getRuntime().availableProcessors() + " logical cores";
    boolean failed = false;

    ObjectNode sgemm = line("SgemmPeak", s.threads(), device);
    double sgemmGflops = Double.NaN;
    try {
      double ms = measure(SgemmPeak.class, s, "n", Integer.toString(s.sgemmN()));
      double gflop = SgemmPeak.flops(s.sgemmN()) / 1e9;
      sgemmGflops = gflop / (ms / 1e3);
      fill(sgemm, ms, gflop, sgemmGflops, sgemmGflops);
    } catch (RuntimeException | RunnerException e) {
      failed = true;
      sgemm.put("error", String.valueOf(e.getMessage()));
    }
    number(sgemm, "peak_rss_mb", peakRssMb());
    lines.add(toJson(sgemm));

    ObjectNode conv = line("ConvNetStep", s.threads(), device);
    number(conv, "sgemm_gflops", sgemmGflops);
    try {
      // Built here first: counts its FLOPs, and a missing gradient rule becomes this line's error.
      Graph g = ConvNetStep.graph(s.convSize());
      double gflop = FlopCounter.count(g) / 1e9;
      double ms = measure(ConvNetStep.class, s, "size", Integer.toString(s.convSize()));
      double gflops = gflop / (ms / 1e3);
      fill(conv, ms, gflop, gflops, sgemmGflops);
    } catch (RuntimeException | RunnerException e) {
      failed = true;
      conv.put("error", String.valueOf(e.getMessage()));
    }
    number(conv, "peak_rss_mb", peakRssMb());
    lines.add(toJson(conv));

    try {
      Path parent = s.out().toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      Files.write(s.out(), lines, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + s.out(), e);
    }
    System.out.println("wrote " + s.out());
    lines.forEach(System.out::println);
    return failed ? 1 : 0;
  }

  private static String toJson(ObjectNode n) {
    try {
      return JSON.writeValueAsString(n);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("cannot serialize " + n.get("name"), e);
    }
  }

  private static ObjectNode line(String name, int threads, String device) {
    ObjectNode n = JSON.createObjectNode();
    n.put("name", name);
    n.putNull("ms_per_step");
    n.putNull("gflop_per_step");
    n.putNull("gflops");
    n.putNull("sgemm_gflops");
    n.putNull("ratio_to_sgemm");
    n.put("threads", threads);
    n.put("device", device);
    return n;
  }

  private static void fill(ObjectNode n, double ms, double gflop, double gflops, double sgemmGflops) {
    number(n, "ms_per_step", ms);
    number(n, "gflop_per_step", gflop);
    number(n, "gflops", gflops);
    number(n, "sgemm_gflops", sgemmGflops);
    number(n, "ratio_to_sgemm", gflops / sgemmGflops);
  }

  // JSON has no NaN: a value that could not be measured (the sgemm run failed) is null.
  private static void number(ObjectNode n, String field, double v) {
    if (Double.isFinite(v)) {
      n.put(field, v);
    } else {
      n.putNull(field);
    }
  }

  /** Runs one benchmark class with JMH in this JVM; returns its mean time in ms per operation. */
  private static double measure(Class<?> benchmark, Settings s, String param, String value) throws RunnerException {
    ChainedOptionsBuilder o = new OptionsBuilder()
        .include("^" + Pattern.quote(benchmark.getName()) + "\\.")
        .forks(0)
        .param("threads", Integer.toString(s.threads()))
        .param(param, value)
        .shouldFailOnError(true);
    if (s.quick()) {
      o = o.warmupIterations(1).warmupTime(TimeValue.seconds(1)).measurementIterations(2).measurementTime(TimeValue.seconds(1));
    }
    Collection<RunResult> results = new Runner(o.build()).run();
    if (results.isEmpty()) {
      throw new IllegalStateException("JMH returned no result for " + benchmark.getSimpleName());
    }
    RunResult r = results.iterator().next();
    String unit = r.getPrimaryResult().getScoreUnit();
    if (!unit.equals("ms/op")) {
      throw new IllegalStateException(benchmark.getSimpleName() + " reported " + unit + ", expected ms/op");
    }
    return r.getPrimaryResult().getScore();
  }

  /** VmHWM (peak resident set) of this process in MB, or NaN (written as null) without /proc. */
  static double peakRssMb() {
    try {
      for (String l : Files.readAllLines(Path.of("/proc/self/status"), StandardCharsets.UTF_8)) {
        if (l.startsWith("VmHWM:")) {
          String kb = l.substring("VmHWM:".length()).trim().split("\\s+")[0];
          return Long.parseLong(kb) / 1024.0;
        }
      }
    } catch (IOException | RuntimeException e) {
      // Not Linux: report no value rather than fail the benchmark.
    }
    return Double.NaN;
  }

  private static String cpuModel() {
    try {
      for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"), StandardCharsets.UTF_8)) {
        if (l.startsWith("model name")) {
          return l.substring(l.indexOf(':') + 1).trim();
        }
      }
    } catch (IOException | RuntimeException e) {
      // Fall through to the JVM's view.
    }
    return System.getProperty("os.arch");
  }
}
