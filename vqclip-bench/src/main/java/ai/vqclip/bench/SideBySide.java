package ai.vqclip.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * vqclip's full step and the libtorch peer ({@code ../shared/peer-bench}, its {@code run.sh}) in one
 * run on one machine, bracketed vqclip / peer / vqclip so that drift in the machine's load shows,
 * with the ratio of vqclip's step time to the peer's best allocator variant. Each part runs in its
 * own process: vqclip's step through {@link BenchMain} {@code --quick} (the sgemm reference, then
 * the full step at 256x256 and 400x400 with 32 cutouts), then a {@link StepProfile} at 400x400/32
 * with {@code --memory-saving max} for the fresh-process peak resident memory; the peer with glibc
 * malloc, with PyTorch's transparent-huge-page allocator ({@code THP_MEM_ALLOC_ENABLE=1}) and, where
 * the library is installed, tcmalloc. vqclip's processes get the glibc tunables that the
 * {@code ./vqclip} launcher sets ({@link #LAUNCHER_GLIBC_TUNABLES}), so the peer's huge-page variant
 * is the fair match.
 *
 * <pre>
 * java -cp vqclip-bench/target/benchmarks.jar ai.vqclip.bench.SideBySide [--peer DIR] [--threads N]
 *     [--out DIR] [--peer-steps N] [--no-peak]
 * </pre>
 *
 * <p>Prints the table (both vqclip runs, both peer variants, ratios) and writes it as one JSON
 * object to {@code OUT/side-by-side.json}; the children's logs stay in {@code OUT}. Exit code 0 when
 * every part gave its figures, 1 otherwise, 2 for bad arguments.
 */
public final class SideBySide {
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * The environment's {@code GLIBC_TUNABLES} as the {@code ./vqclip} launcher sets it (keep the two
   * equal): malloc'd blocks from 1 MB up are mapped on their own with transparent huge pages, so
   * ONNX Runtime's large tensors fault in 2 MB pages and, with the arena off, go back to the system
   * when freed (docs/performance.md, Round 4).
   */
  static final String LAUNCHER_GLIBC_TUNABLES = "glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=1048576";

  /** The peer's variants besides its main glibc run, as its run.sh names them. */
  static final List<String> PEER_VARIANTS = List.of("tcmalloc", "thp");

  /** Sides measured, each with 32 cutouts. */
  static final int[] SIDES = {256, 400};

  private SideBySide() {}

  /** Settings from the command line. */
  record Settings(Path peer, int threads, Path out, int peerSteps, boolean peak) {}

  /** Entry point; see the class comment. */
  public static void main(String[] args) throws IOException, InterruptedException {
    Settings s;
    try {
      s = parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("SideBySide: " + e.getMessage());
      System.exit(2);
      return;
    }
    System.exit(run(s));
  }

  static Settings parse(String[] args) {
    Path peer = Path.of("..", "shared", "peer-bench");
    int threads = 2;
    Path out = Path.of("target", "side-by-side");
    int peerSteps = 3;
    boolean peak = true;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--peer" -> peer = Path.of(BenchMain.value(args, ++i, a));
        case "--threads" -> threads = BenchMain.positive(a, BenchMain.value(args, ++i, a));
        case "--out" -> out = Path.of(BenchMain.value(args, ++i, a));
        case "--peer-steps" -> peerSteps = BenchMain.positive(a, BenchMain.value(args, ++i, a));
        case "--no-peak" -> peak = false;
        default -> throw new IllegalArgumentException("unknown argument '" + a
            + "'; allowed: --peer DIR, --threads N, --out DIR, --peer-steps N, --no-peak");
      }
    }
    if (!Files.isRegularFile(peer.resolve("run.sh"))) {
      throw new IllegalArgumentException("--peer must be the peer-bench folder with run.sh, got '" + peer.toAbsolutePath().normalize() + "'");
    }
    return new Settings(peer, threads, out, peerSteps, peak);
  }

  static int run(Settings s) throws IOException, InterruptedException {
    Files.createDirectories(s.out());
    List<Map<String, Double>> vq = new ArrayList<>();
    List<Double> peaks = new ArrayList<>();
    List<Double> maxSteps = new ArrayList<>();
    JsonNode peer = null;
    for (String part : List.of("vqclip1", "peer", "vqclip2")) {
      if (part.equals("peer")) {
        Path log = s.out().resolve("peer.log");
        Path stdout = s.out().resolve("peer.json");
        ProcessBuilder pb = new ProcessBuilder("bash", "run.sh").directory(s.peer().toFile())
            .redirectOutput(stdout.toFile()).redirectError(log.toFile());
        pb.environment().putAll(Map.of("THREADS", Integer.toString(s.threads()), "STEPS", Integer.toString(s.peerSteps()), "WARMUP", "1",
            "COMP_STEPS", "1", "BIG_STEPS", Integer.toString(Math.max(1, s.peerSteps() - 1)), "VARIANTS", String.join(" ", PEER_VARIANTS)));
        System.err.println("SideBySide: peer (" + s.peer() + "/run.sh), log " + log);
        int rc = pb.start().waitFor();
        peer = lastJson(Files.readString(stdout, StandardCharsets.UTF_8));
        if (rc != 0 || peer == null) {
          System.err.println("SideBySide: the peer failed (exit " + rc + "), see " + log);
        }
        continue;
      }
      Path jsonl = s.out().resolve(part + ".jsonl");
      Files.deleteIfExists(jsonl);
      int rc = child(s, part + ".log", BenchMain.class, "--quick", "--threads", Integer.toString(s.threads()), "--only",
          "SgemmPeak|FullStep_(256x256|400x400)_32cutouts$", "--out", jsonl.toString());
      vq.add(stepTimes(Files.exists(jsonl) ? Files.readAllLines(jsonl, StandardCharsets.UTF_8) : List.of()));
      if (rc != 0) {
        System.err.println("SideBySide: " + part + " exited " + rc + ", see " + s.out().resolve(part + ".log"));
      }
      if (s.peak()) {
        String log = part + "-peak400.log";
        child(s, log, StepProfile.class, "--size", "400", "--cutouts", "32", "--runs", "2", "--threads", Integer.toString(s.threads()),
            "--memory-saving", "max");
        String text = Files.readString(s.out().resolve(log), StandardCharsets.UTF_8);
        peaks.add(lastPeakMb(text));
        maxSteps.add(lastRunMs(text) / 1000);
      }
    }
    Table t = new Table(vq, peaks, maxSteps, peer);
    System.out.print(t.format());
    Files.writeString(s.out().resolve("side-by-side.json"), JSON.writeValueAsString(t.json()) + "\n", StandardCharsets.UTF_8);
    return t.complete() ? 0 : 1;
  }

  /** Runs a main class of this jar in a fresh JVM (a fresh process: its own peak memory), output to OUT/log. */
  private static int child(Settings s, String log, Class<?> main, String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"), "-Xmx3g",
        "-XX:MaxDirectMemorySize=4g", "-cp", System.getProperty("java.class.path"), main.getName()));
    cmd.addAll(List.of(args));
    Path l = s.out().resolve(log);
    System.err.println("SideBySide: " + main.getSimpleName() + " " + String.join(" ", args) + ", log " + l);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(l.toFile());
    pb.environment().putIfAbsent("GLIBC_TUNABLES", LAUNCHER_GLIBC_TUNABLES);
    return pb.start().waitFor();
  }

  /** ms per step of the FullStep lines of a BenchMain summary, by side ("256", "400"), and the sgemm GFLOP/s. */
  static Map<String, Double> stepTimes(List<String> jsonLines) {
    Map<String, Double> m = new LinkedHashMap<>();
    for (String line : jsonLines) {
      if (line.isBlank()) {
        continue;
      }
      JsonNode n;
      try {
        n = JSON.readTree(line);
      } catch (IOException e) {
        throw new UncheckedIOException("not a BenchMain summary line: " + line, e);
      }
      String name = n.path("name").asText();
      if (n.has("error") || !n.has("ms_per_step")) {
        continue;
      }
      if (name.equals("SgemmPeak")) {
        m.put("sgemm_gflops", n.path("gflops").asDouble());
      }
      for (int side : SIDES) {
        if (name.equals("FullStep_" + side + "x" + side + "_32cutouts")) {
          m.put(Integer.toString(side), n.path("ms_per_step").asDouble());
        }
      }
    }
    return m;
  }

  private static final Pattern PEAK = Pattern.compile("peak\\s+([0-9.]+) MB");
  private static final Pattern RUN = Pattern.compile("run \\d+: ([0-9.]+) ms");

  /** The last "peak N MB" that {@link StepProfile} printed, in MB; NaN when there is none. */
  static double lastPeakMb(String stepProfileLog) {
    return lastNumber(PEAK, stepProfileLog);
  }

  /** The last run's time that {@link StepProfile} printed, in ms; NaN when there is none. */
  static double lastRunMs(String stepProfileLog) {
    return lastNumber(RUN, stepProfileLog);
  }

  /** The number in group 1 of the pattern's last match in the text; NaN when there is none. */
  private static double lastNumber(Pattern p, String text) {
    Matcher m = p.matcher(text);
    double v = Double.NaN;
    while (m.find()) {
      v = Double.parseDouble(m.group(1));
    }
    return v;
  }

  /** The last line of the peer's stdout that is a JSON object (run.sh prints one), or null. */
  static JsonNode lastJson(String stdout) {
    JsonNode found = null;
    for (String line : stdout.split("\n")) {
      String l = line.strip();
      if (l.startsWith("{")) {
        try {
          found = JSON.readTree(l);
        } catch (IOException e) {
          // a partial line from a crashed peer: keep the last complete one
        }
      }
    }
    return found;
  }

  /** The figures of one side-by-side run. */
  record Table(List<Map<String, Double>> vqclip, List<Double> peaksMb, List<Double> maxStepsS, JsonNode peer) {
    private double peerStep(String variant, int side) {
      if (peer == null) {
        return Double.NaN;
      }
      JsonNode v = variant.equals("glibc") ? peer : peer.path("variant_" + variant);
      JsonNode t = v.path("step" + side + "_median_s");
      return t.isNumber() ? t.asDouble() : Double.NaN;
    }

    /** The peer's fastest variant at this side, in seconds (NaN when the peer gave none). */
    double peerBest(int side) {
      double best = peerStep("glibc", side);
      for (String v : PEER_VARIANTS) {
        double t = peerStep(v, side);
        best = Double.isNaN(best) || t < best ? t : best;
      }
      return best;
    }

    double vqclipStep(int run, int side) {
      Double v = run < vqclip.size() ? vqclip.get(run).get(Integer.toString(side)) : null;
      return v == null ? Double.NaN : v / 1000;
    }

    boolean complete() {
      for (int side : SIDES) {
        if (Double.isNaN(peerBest(side)) || Double.isNaN(vqclipStep(0, side)) || Double.isNaN(vqclipStep(1, side))) {
          return false;
        }
      }
      return true;
    }

    private double peerPeakMb() {
      if (peer == null) {
        return Double.NaN;
      }
      double best = Double.NaN;
      List<JsonNode> runs = new ArrayList<>(List.of(peer));
      PEER_VARIANTS.forEach(v -> runs.add(peer.path("variant_" + v)));
      for (JsonNode v : runs) {
        JsonNode p = v.path("process_peak_rss_mb");
        if (p.isNumber()) {
          best = Double.isNaN(best) ? p.asDouble() : Math.min(best, p.asDouble());
        }
      }
      return best;
    }

    String format() {
      StringBuilder sb = new StringBuilder();
      sb.append("| step | vqclip run 1 | vqclip run 2 | libtorch glibc | libtorch tcmalloc | libtorch THP | vqclip / libtorch best (run 1, run 2) |\n");
      sb.append("|---|---:|---:|---:|---:|---:|---:|\n");
      for (int side : SIDES) {
        double best = peerBest(side);
        sb.append(String.format(Locale.ROOT, "| %dx%d/32 | %s | %s | %s | %s | %s | %s, %s |%n", side, side, sec(vqclipStep(0, side)),
            sec(vqclipStep(1, side)), sec(peerStep("glibc", side)), sec(peerStep("tcmalloc", side)), sec(peerStep("thp", side)),
            ratio(vqclipStep(0, side), best), ratio(vqclipStep(1, side), best)));
      }
      sb.append(String.format(Locale.ROOT, "| peak RSS | vqclip 400x400/32 --memory-saving max, fresh process: %s (step %s) | | libtorch process peak (lowest variant): %s | | | |%n",
          peaksMb.stream().map(p -> gb(p)).toList(), maxStepsS.stream().map(Table::sec).toList(), gb(peerPeakMb())));
      return sb.toString();
    }

    ObjectNode json() {
      ObjectNode o = JSON.createObjectNode();
      for (int side : SIDES) {
        ObjectNode r = o.putObject("step" + side + "x32");
        r.put("vqclip_run1_s", vqclipStep(0, side));
        r.put("vqclip_run2_s", vqclipStep(1, side));
        r.put("libtorch_glibc_s", peerStep("glibc", side));
        r.put("libtorch_tcmalloc_s", peerStep("tcmalloc", side));
        r.put("libtorch_thp_s", peerStep("thp", side));
        r.put("ratio_run1", vqclipStep(0, side) / peerBest(side));
        r.put("ratio_run2", vqclipStep(1, side) / peerBest(side));
      }
      var p = o.putArray("vqclip_peak400_fresh_mb");
      peaksMb.forEach(p::add);
      var ms = o.putArray("vqclip_max400_step_s");
      maxStepsS.forEach(ms::add);
      o.put("libtorch_process_peak_mb", peerPeakMb());
      var sg = o.putArray("vqclip_sgemm_gflops");
      vqclip.forEach(m -> sg.add(m.getOrDefault("sgemm_gflops", Double.NaN)));
      return o;
    }

    private static String sec(double s) {
      return Double.isNaN(s) ? "-" : String.format(Locale.ROOT, "%.2f s", s);
    }

    private static String ratio(double a, double b) {
      return Double.isNaN(a) || Double.isNaN(b) ? "-" : String.format(Locale.ROOT, "%.2f", a / b);
    }

    private static String gb(double mb) {
      return Double.isNaN(mb) ? "-" : String.format(Locale.ROOT, "%.2f GB", mb / 1024);
    }
  }
}
