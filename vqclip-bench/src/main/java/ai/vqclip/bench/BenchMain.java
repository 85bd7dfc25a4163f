package ai.vqclip.bench;

import ai.vqclip.core.graph.FlopCounter;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.pipeline.Pipeline;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.IntFunction;
import java.util.function.ToDoubleFunction;
import java.util.regex.Pattern;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs the benchmarks with JMH in this JVM (forks 0: one process, one runtime, one thread setting,
 * so every ratio compares figures measured side by side) and writes one JSON line per benchmark to
 * {@code vqclip-bench/target/bench-summary.jsonl} as each finishes. First {@link SgemmPeak}, the
 * reference; then the full-size benchmarks: {@link FullStep} at 256x256 with 8 and 32 cutouts and at
 * 400x400 with 32, {@link GeneratorDecode}, {@link EncoderImages} on 32 cutouts, {@link
 * TextEmbedding}, {@link BuildSession}; and (not with {@code --quick}) {@link FullStep} at 320x320/32
 * for the pixel fit and the small {@link ConvNetStep}. With {@code --scaling}, instead: two sweeps
 * of the full step without recompute, cutouts 8/16/24/32 at 256x256 and sides 192/256/320/400 at 32
 * cutouts, then a {@code Fit_cutouts} and a {@code Fit_pixels} line with least-squares lines
 * ({@link LinearFit}) of time and FLOPs per step.
 *
 * <p>Fields of a line: name, params, ms_per_step, gflop_per_step (counted from the graph by {@link
 * FlopCounter}), gflops, sgemm_gflops (the sgemm reference measured again just before this
 * benchmark; sgemm_gflops_first is the first line's), ratio_to_sgemm, peak_rss_mb (VmHWM while the benchmark,
 * its setup included, ran: the peak is reset before each), rss_before_mb (resident set when it
 * started: the shared models and the JVM), threads, device, samples, error when it failed.
 *
 * <pre>
 * mvn -B -q package -pl vqclip-core,vqclip-onnx,vqclip-augment,vqclip-bench -am -DskipTests
 * java -Xmx6g -jar vqclip-bench/target/benchmarks.jar ... (plain JMH), or
 * java -Xmx6g -cp vqclip-bench/target/benchmarks.jar ai.vqclip.bench.BenchMain [--quick] [--scaling] [--threads N] [--device cpu|cuda]
 *     [--only REGEX] [--sgemm-n N] [--conv-size N] [--out FILE]
 * </pre>
 *
 * <p>Exit code 0 when every benchmark ran, 1 when one failed (its line carries the error), 2 for
 * bad arguments.
 */
public final class BenchMain {
  private static final ObjectMapper JSON = new ObjectMapper();

  private BenchMain() {}

  /** Settings from the command line; {@code only} selects benchmarks by name (null: all). */
  record Settings(int threads, boolean quick, boolean scaling, int sgemmN, int convSize, Path out, Pattern only) {}

  /**
   * One benchmark to run: a JMH class with parameters, and the graph whose FLOPs one operation
   * costs (null when FLOPs do not apply, as for graph build and session creation).
   */
  record Spec(String name, Class<?> benchmark, Map<String, String> params, IntFunction<Graph> flopGraph, boolean quickToo) {}

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
    boolean scaling = false;
    int sgemmN = 2048;
    int convSize = 128;
    Pattern only = null;
    Path out = Files.isDirectory(Path.of("vqclip-bench")) ? Path.of("vqclip-bench", "target", "bench-summary.jsonl")
        : Path.of("target", "bench-summary.jsonl");
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--quick" -> quick = true;
        case "--scaling" -> scaling = true;
        case "--device" -> {
          String d = value(args, ++i, a);
          if (!d.equals("cpu") && !d.equals("cuda")) {
            throw new IllegalArgumentException("--device must be cpu or cuda, got '" + d + "'");
          }
          // Read by FullModels.executionOptions in this JVM (JMH runs with forks 0).
          System.setProperty(FullModels.DEVICE_PROPERTY, d);
        }
        case "--threads" -> threads = positive(a, value(args, ++i, a));
        case "--sgemm-n" -> sgemmN = positive(a, value(args, ++i, a));
        case "--conv-size" -> convSize = positive(a, value(args, ++i, a));
        case "--out" -> out = Path.of(value(args, ++i, a));
        case "--only" -> {
          String re = value(args, ++i, a);
          try {
            only = Pattern.compile(re);
          } catch (java.util.regex.PatternSyntaxException e) {
            throw new IllegalArgumentException("--only needs a regular expression, got '" + re + "': " + e.getDescription());
          }
        }
        default -> throw new IllegalArgumentException("unknown argument '" + a
            + "'; allowed: --threads N, --quick, --scaling, --device cpu|cuda, --only REGEX, --sgemm-n N, --conv-size N, --out FILE");
      }
    }
    return new Settings(threads, quick, scaling, sgemmN, convSize, out, only);
  }

  /** Argument {@code i}, the value of {@code option}; a clear error when it is missing. */
  static String value(String[] args, int i, String option) {
    if (i >= args.length) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    return args[i];
  }

  /** {@code v} as an integer >= 1; a clear error naming {@code option} otherwise. */
  static int positive(String option, String v) {
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

  /** Cutout counts of the cutout sweep (at {@link #SCALING_CUTOUT_SIZE}) with {@code --scaling}. */
  static final int[] SCALING_CUTOUTS = {8, 16, 24, 32};

  /** Image side of the cutout sweep. */
  static final int SCALING_CUTOUT_SIZE = 256;

  /** Image sides of the pixel sweep (at 32 cutouts) with {@code --scaling}. */
  static final int[] SCALING_SIZES = {192, 256, 320, 400};

  /** Name prefixes of the two sweeps' lines. */
  static final String CUTOUT_SWEEP = "ScaleCutouts_";

  static final String PIXEL_SWEEP = "ScalePixels_";

  /** The benchmarks after the sgemm reference, in the order they run. */
  static List<Spec> specs(Settings s) {
    List<Spec> l = new ArrayList<>();
    if (s.scaling()) {
      // One memory mode (OFF) for every point: AUTO switches recompute on above 256x256, a kink in the line.
      for (int c : SCALING_CUTOUTS) {
        l.add(fullStep(CUTOUT_SWEEP, SCALING_CUTOUT_SIZE, c, Pipeline.MemorySaving.OFF, true));
      }
      for (int z : SCALING_SIZES) {
        l.add(fullStep(PIXEL_SWEEP, z, 32, Pipeline.MemorySaving.OFF, true));
      }
      return select(s, l);
    }
    for (int[] sc : new int[][] {{256, 8}, {256, 32}, {320, 32}, {400, 32}}) {
      l.add(fullStep("FullStep_", sc[0], sc[1], Pipeline.MemorySaving.AUTO, sc[0] != 320));
    }
    l.add(new Spec("GeneratorDecode_256x256", GeneratorDecode.class, Map.of("size", "256"), t -> GeneratorDecode.graph(256, t), true));
    l.add(new Spec("EncoderImages_32cutouts", EncoderImages.class, Map.of("cutouts", "32"), t -> EncoderImages.graph(32, t), true));
    l.add(new Spec("TextEmbedding", TextEmbedding.class, Map.of(), TextEmbedding::graph, true));
    l.add(new Spec("BuildSession_256x256_32cutouts", BuildSession.class, Map.of("size", "256", "cutouts", "32"), null, true));
    String conv = Integer.toString(s.convSize());
    l.add(new Spec("ConvNetStep_" + conv, ConvNetStep.class, Map.of("size", conv), t -> ConvNetStep.graph(s.convSize()), false));
    return select(s, l);
  }

  private static Spec fullStep(String prefix, int size, int cutouts, Pipeline.MemorySaving mode, boolean quickToo) {
    String name = prefix + size + "x" + size + "_" + cutouts + "cutouts" + (mode == Pipeline.MemorySaving.AUTO ? "" : "_recompute" + mode);
    return new Spec(name, FullStep.class, Map.of("size", Integer.toString(size), "cutouts", Integer.toString(cutouts), "memorySaving",
        mode.name()), t -> FullStep.graph(size, cutouts, mode, t), quickToo);
  }

  private static List<Spec> select(Settings s, List<Spec> l) {
    List<Spec> chosen = new ArrayList<>();
    for (Spec sp : l) {
      if ((sp.quickToo() || !s.quick()) && (s.only() == null || s.only().matcher(sp.name()).find())) {
        chosen.add(sp);
      }
    }
    return chosen;
  }

  static int run(Settings s) {
    String device = "cuda".equals(System.getProperty(FullModels.DEVICE_PROPERTY))
        ? "CUDA device 0 (ONNX Runtime CUDA provider, CPU fallback disabled); host " + cpuModel()
        : "CPU: " + cpuModel() + ", " + Runtime.getRuntime().availableProcessors() + " logical cores";
    boolean failed = false;
    writeLines(s.out(), List.of(), false);

    ObjectNode sgemm = line("SgemmPeak", Map.of("n", Integer.toString(s.sgemmN())), s.threads(), device);
    double sgemmGflops = Double.NaN;
    beginMemory(sgemm);
    try {
      Measured m = measure(SgemmPeak.class, s, Map.of("n", Integer.toString(s.sgemmN())));
      sgemmGflops = sgemmGflops(s, m);
      fill(sgemm, m, SgemmPeak.flops(s.sgemmN()) / 1e9, sgemmGflops);
    } catch (RuntimeException | RunnerException e) {
      failed = true;
      sgemm.put("error", String.valueOf(e));
    }
    endMemory(sgemm);
    emit(s.out(), sgemm);

    List<Spec> specs = specs(s);
    if (specs.stream().anyMatch(sp -> sp.benchmark() != ConvNetStep.class)) {
      // Made once, before any peak is reset: weight generation is not part of any benchmark.
      long t0 = System.nanoTime();
      FullModels.get(s.threads());
      System.out.printf("full-size models with random weights made in %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }
    List<ObjectNode> done = new ArrayList<>();
    for (Spec sp : specs) {
      ObjectNode n = line(sp.name(), sp.params(), s.threads(), device);
      // The reference is measured again right before each benchmark: on a shared machine the
      // available compute drifts, and a ratio is only meaningful between neighbouring measurements.
      double reference = sgemmGflops;
      try {
        reference = sgemmGflops(s, measureSgemmBriefly(s));
      } catch (RuntimeException | RunnerException e) {
        n.put("sgemm_error", String.valueOf(e));
      }
      number(n, "sgemm_gflops", reference);
      number(n, "sgemm_gflops_first", sgemmGflops);
      beginMemory(n);
      try {
        double gflop = Double.NaN;
        if (sp.flopGraph() != null) {
          // Built here first: counts the FLOPs, and a graph that cannot be built becomes this line's error.
          gflop = FlopCounter.count(sp.flopGraph().apply(s.threads())) / 1e9;
        }
        Measured m = measure(sp.benchmark(), s, sp.params());
        fill(n, m, gflop, reference);
      } catch (RuntimeException | RunnerException e) {
        failed = true;
        n.put("error", String.valueOf(e));
      }
      endMemory(n);
      emit(s.out(), n);
      done.add(n);
    }
    if (s.scaling()) {
      fitLine(done, CUTOUT_SWEEP, "cutouts", n -> n.get("params").get("cutouts").asDouble()).ifPresent(f -> emit(s.out(), f));
      fitLine(done, PIXEL_SWEEP, "pixels", n -> Math.pow(n.get("params").get("size").asDouble(), 2)).ifPresent(f -> emit(s.out(), f));
    }
    System.out.println("wrote " + s.out());
    return failed ? 1 : 0;
  }

  /**
   * A line {@code Fit_<axis>} through the measured lines of one sweep: time per step against the
   * axis, raw and load-corrected (each time scaled by its neighbouring sgemm over the first sgemm,
   * i.e. as if the machine had stayed as fast as at the start), and FLOPs per step (exact).
   */
  static Optional<ObjectNode> fitLine(List<ObjectNode> lines, String prefix, String axis,
      ToDoubleFunction<ObjectNode> x) {
    List<ObjectNode> pts = lines.stream().filter(n -> n.get("name").asText().startsWith(prefix) && n.get("ms_per_step").isNumber()).toList();
    if (pts.size() < 2) {
      return Optional.empty();
    }
    double[] xs = pts.stream().mapToDouble(x).toArray();
    double[] ms = pts.stream().mapToDouble(n -> n.get("ms_per_step").asDouble()).toArray();
    double[] gf = pts.stream().mapToDouble(n -> n.get("gflop_per_step").asDouble()).toArray();
    double[] corrected = pts.stream().mapToDouble(n -> n.get("sgemm_gflops").isNumber() && n.get("sgemm_gflops_first").isNumber()
        ? n.get("ms_per_step").asDouble() * n.get("sgemm_gflops").asDouble() / n.get("sgemm_gflops_first").asDouble() : Double.NaN).toArray();
    ObjectNode f = JSON.createObjectNode();
    f.put("name", "Fit_" + axis);
    f.put("axis", axis);
    f.set("x", JSON.valueToTree(xs));
    f.set("ms_per_step", JSON.valueToTree(ms));
    f.set("ms_time", fitNode(xs, ms));
    if (Arrays.stream(corrected).allMatch(Double::isFinite)) {
      f.set("ms_time_load_corrected", fitNode(xs, corrected));
    }
    if (Arrays.stream(gf).allMatch(Double::isFinite)) {
      f.set("gflop", fitNode(xs, gf));
    }
    return Optional.of(f);
  }

  private static ObjectNode fitNode(double[] x, double[] y) {
    LinearFit fit = LinearFit.of(x, y);
    ObjectNode o = JSON.createObjectNode();
    number(o, "intercept", fit.intercept());
    number(o, "slope", fit.slope());
    number(o, "r2", fit.r2());
    number(o, "max_relative_residual", fit.maxRelativeResidual());
    o.put("points", fit.points());
    return o;
  }

  private static double sgemmGflops(Settings s, Measured m) {
    return SgemmPeak.flops(s.sgemmN()) / 1e9 / (m.ms() / 1e3);
  }

  /** The sgemm reference with one warm-up and three measured one-second iterations. */
  private static Measured measureSgemmBriefly(Settings s) throws RunnerException {
    return measure(SgemmPeak.class, new Settings(s.threads(), true, false, s.sgemmN(), s.convSize(), s.out(), s.only()),
        Map.of("n", Integer.toString(s.sgemmN())), 3);
  }

  /** A JMH result: mean ms per operation and the number of measured operations or iterations. */
  record Measured(double ms, long samples) {}

  private static void beginMemory(ObjectNode n) {
    System.gc();
    ProcMemory.resetPeak();
    number(n, "rss_before_mb", ProcMemory.rssMb());
  }

  private static void endMemory(ObjectNode n) {
    number(n, "peak_rss_mb", ProcMemory.peakRssMb());
  }

  private static void emit(Path out, ObjectNode n) {
    String json = toJson(n);
    System.out.println(json);
    writeLines(out, List.of(json), true);
  }

  static void writeLines(Path out, List<String> lines, boolean append) {
    try {
      Path parent = out.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      if (append) {
        Files.write(out, lines, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
      } else {
        Files.write(out, lines, StandardCharsets.UTF_8);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + out, e);
    }
  }

  static String toJson(ObjectNode n) {
    try {
      return JSON.writeValueAsString(n);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("cannot serialize " + n.get("name"), e);
    }
  }

  static ObjectNode line(String name, Map<String, String> params, int threads, String device) {
    ObjectNode n = JSON.createObjectNode();
    n.put("name", name);
    ObjectNode p = n.putObject("params");
    new java.util.TreeMap<>(params).forEach(p::put);
    n.putNull("ms_per_step");
    n.putNull("gflop_per_step");
    n.putNull("gflops");
    n.putNull("sgemm_gflops");
    n.putNull("ratio_to_sgemm");
    n.putNull("peak_rss_mb");
    n.put("threads", threads);
    n.put("device", device);
    return n;
  }

  static void fill(ObjectNode n, Measured m, double gflop, double sgemmGflops) {
    double gflops = gflop / (m.ms() / 1e3);
    number(n, "ms_per_step", m.ms());
    number(n, "gflop_per_step", gflop);
    number(n, "gflops", gflops);
    number(n, "sgemm_gflops", sgemmGflops);
    number(n, "ratio_to_sgemm", gflops / sgemmGflops);
    n.put("samples", m.samples());
  }

  // JSON has no NaN: a value that could not be measured (the sgemm run failed, no /proc) is null.
  static void number(ObjectNode n, String field, double v) {
    if (Double.isFinite(v)) {
      n.put(field, v);
    } else {
      n.putNull(field);
    }
  }

  /** Runs one benchmark class with JMH in this JVM; returns its mean time in ms per operation. */
  private static Measured measure(Class<?> benchmark, Settings s, Map<String, String> params) throws RunnerException {
    return measure(benchmark, s, params, 2);
  }

  private static Measured measure(Class<?> benchmark, Settings s, Map<String, String> params, int quickIterations)
      throws RunnerException {
    ChainedOptionsBuilder o = new OptionsBuilder()
        .include("^" + Pattern.quote(benchmark.getName()) + "\\.")
        .forks(0)
        .param("threads", Integer.toString(s.threads()))
        .shouldFailOnError(true);
    for (Map.Entry<String, String> p : new LinkedHashMap<>(params).entrySet()) {
      o = o.param(p.getKey(), p.getValue());
    }
    if (s.quick()) {
      // One warm-up and two measured iterations; an operation longer than the iteration time runs once per iteration.
      o = o.warmupIterations(1).warmupTime(TimeValue.seconds(1)).measurementIterations(quickIterations).measurementTime(TimeValue.seconds(1));
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
    return new Measured(r.getPrimaryResult().getScore(), r.getPrimaryResult().getSampleCount());
  }

  /** VmHWM of this process in MB, or NaN without /proc. */
  static double peakRssMb() {
    return ProcMemory.peakRssMb();
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
