package ai.vqclip.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.FlopCounter;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.Node;
import ai.vqclip.core.pipeline.Pipeline;
import ai.vqclip.onnx.OnnxExport;
import ai.vqclip.onnx.OnnxModel;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * A diagnostic, not a benchmark: builds the full step at a size and cutout count, compiles it in an
 * ONNX Runtime session with chosen options, runs it a few times and prints where the time and the
 * memory go: resident memory after each phase, and with {@code --ort-profile} the time per op type
 * from ONNX Runtime's profiler with the FLOPs of those op types. The defaults are a real run's:
 * the memory pattern off, the weights outside the arena and the matrix weights fed as inputs as in {@code OrtExecutable}, memory saving {@code auto} as in {@link
 * Pipeline}, and the helper sessions released before the step's session is created.
 *
 * <pre>
 * java -cp vqclip-bench/target/benchmarks.jar ai.vqclip.bench.StepProfile [--size 256] [--cutouts 32]
 *     [--runs 3] [--threads N] [--ort-profile PREFIX] [--arena|--no-arena] [--no-fed-weights] [--initializers-in-arena] [--mem-pattern] [--memory-saving auto|on|max|off]
 *     [--config KEY=VALUE] [--opt-level all|extended|basic|none]
 * </pre>
 */
public final class StepProfile {
  private StepProfile() {}

  /** Entry point; see the class comment. */
  public static void main(String[] args) throws OrtException, java.io.IOException {
    int size = 256;
    int cutouts = 32;
    int runs = 3;
    int threads = Runtime.getRuntime().availableProcessors();
    String profile = null;
    // As Pipeline compiles the step: the arena off for --memory-saving max, on otherwise.
    Boolean arenaFlag = null;
    // As OrtExecutable creates every CPU session (unless -Dvqclip.ort.fedWeights=off).
    boolean fedWeights = ai.vqclip.onnx.OrtExecutable.fedWeights();
    // As OrtExecutable creates every session: weights outside the arena.
    boolean initializersInArena = false;
    // Off by default, as OrtExecutable creates every session.
    boolean memPattern = false;
    Pipeline.MemorySaving memorySaving = Pipeline.MemorySaving.AUTO;
    OrtSession.SessionOptions.OptLevel level = OrtSession.SessionOptions.OptLevel.ALL_OPT;
    Map<String, String> config = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--size" -> size = Integer.parseInt(args[++i]);
        case "--cutouts" -> cutouts = Integer.parseInt(args[++i]);
        case "--runs" -> runs = Integer.parseInt(args[++i]);
        case "--threads" -> threads = Integer.parseInt(args[++i]);
        case "--ort-profile" -> profile = args[++i];
        case "--no-arena" -> arenaFlag = false;
        case "--arena" -> arenaFlag = true;
        case "--no-fed-weights" -> fedWeights = false;
        case "--initializers-in-arena" -> initializersInArena = true;
        case "--mem-pattern" -> memPattern = true;
        case "--no-mem-pattern" -> memPattern = false;
        case "--memory-saving" -> memorySaving = Pipeline.MemorySaving.valueOf(args[++i].toUpperCase(java.util.Locale.ROOT));
        case "--config" -> {
          String[] kv = args[++i].split("=", 2);
          config.put(kv[0], kv.length > 1 ? kv[1] : "");
        }
        case "--opt-level" -> level = switch (args[++i]) {
          case "none" -> OrtSession.SessionOptions.OptLevel.NO_OPT;
          case "basic" -> OrtSession.SessionOptions.OptLevel.BASIC_OPT;
          case "extended" -> OrtSession.SessionOptions.OptLevel.EXTENDED_OPT;
          case "all" -> OrtSession.SessionOptions.OptLevel.ALL_OPT;
          default -> throw new IllegalArgumentException("--opt-level must be all, extended, basic or none, got " + args[i]);
        };
        default -> throw new IllegalArgumentException("unknown argument '" + args[i]
            + "'; allowed: --size N, --cutouts N, --runs N, --threads N, --ort-profile PREFIX, --arena, --no-arena, --no-fed-weights, --initializers-in-arena, --mem-pattern, --no-mem-pattern, --memory-saving auto|on|max|off, --config KEY=VALUE, --opt-level L");
      }
    }
    boolean arena = arenaFlag != null ? arenaFlag : memorySaving != Pipeline.MemorySaving.MAX;
    phase("start");
    FullModels m = FullModels.get(threads);
    phase("models made");
    long t0 = System.nanoTime();
    FullModels.Step step = m.step(m.pipeline(memorySaving), size, cutouts);
    Graph g = step.graph();
    // As Pipeline.run does before compiling its step: the helper sessions (here the text tower's) go.
    m.encoder().releaseCaches();
    m.generator().releaseCaches();
    System.out.printf("graph: %d nodes, %.1f GFLOP, built in %.1f s%n", g.nodes().size(), FlopCounter.count(g) / 1e9, (System.nanoTime() - t0) / 1e9);
    phase("graph built");
    t0 = System.nanoTime();
    OnnxModel model = OnnxExport.export(g, OnnxExport.DEFAULT_EXTERNAL_THRESHOLD_BYTES);
    Map<String, Tensor> fed = Map.of();
    if (fedWeights) {
      ai.vqclip.onnx.FedWeights.Split split = ai.vqclip.onnx.FedWeights.split(model);
      model = split.model();
      fed = split.fed();
    }
    System.out.printf("exported %d MB in %.1f s, %d initializers handed over from memory, %d weights fed as inputs%n", model.bytes().length >> 20,
        (System.nanoTime() - t0) / 1e9, model.externalInitializers().size(), fed.size());
    phase("exported");
    OrtEnvironment env = ai.vqclip.onnx.OrtRuntime.environment();
    // As OrtExecutable does it: off-heap weights are used in place, the tensors must outlive the session.
    Map<String, OnnxTensor> external = new LinkedHashMap<>();
    for (Map.Entry<String, Tensor> e : model.externalInitializers().entrySet()) {
      external.put(e.getKey(), toOrt(env, e.getValue()));
    }
    try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
      so.addExternalInitializers(new LinkedHashMap<>(external));
      so.setOptimizationLevel(level);
      so.setIntraOpNumThreads(threads);
      so.setInterOpNumThreads(1);
      so.setCPUArenaAllocator(arena);
      so.setMemoryPatternOptimization(memPattern);
      if (!initializersInArena) {
        so.addConfigEntry(ai.vqclip.onnx.OrtExecutable.INITIALIZERS_OUT_OF_ARENA, "1");
      }
      so.addConfigEntry(ai.vqclip.onnx.OrtExecutable.DISABLE_OPTIMIZERS, ai.vqclip.onnx.OrtExecutable.DISABLED_OPTIMIZERS);
      for (Map.Entry<String, String> c : config.entrySet()) {
        so.addConfigEntry(c.getKey(), c.getValue());
      }
      if (profile != null) {
        so.enableProfiling(profile);
      }
      t0 = System.nanoTime();
      try (OrtSession session = ai.vqclip.onnx.OrtRuntime.createSession(model.bytes(), so)) {
        System.out.printf("session created in %.1f s%n", (System.nanoTime() - t0) / 1e9);
        model = null;
        phase("session created");
        Map<String, OnnxTensor> feed = new HashMap<>();
        for (Map.Entry<String, Tensor> e : step.inputs().entrySet()) {
          feed.put(e.getKey(), toOrt(env, e.getValue()));
        }
        for (Map.Entry<String, Tensor> e : fed.entrySet()) {
          feed.put(e.getKey(), toOrt(env, e.getValue()));
        }
        List<long[]> runSpans = new ArrayList<>();
        try (RssTrace trace = RssTrace.start()) {
          for (int r = 0; r < runs; r++) {
            t0 = System.nanoTime();
            try (OrtSession.Result res = session.run(feed, step.outputs())) {
              long t1 = System.nanoTime();
              runSpans.add(new long[] {t0, t1});
              // The gradient's bytes, hashed: runs with different memory options must print the same.
              java.nio.FloatBuffer grad = ((OnnxTensor) res.get(ai.vqclip.core.autodiff.GradientRequest.gradName("z")).get()).getFloatBuffer();
              java.nio.ByteBuffer gb = java.nio.ByteBuffer.allocate(grad.remaining() * 4).order(ByteOrder.LITTLE_ENDIAN);
              gb.asFloatBuffer().put(grad);
              String sha = java.util.HexFormat.of().formatHex(sha256(gb.array()));
              System.out.printf("run %d: %.0f ms, loss %s, dL/dz sha256 %s%n", r, (t1 - t0) / 1e6, res.get("loss").get().getValue(), sha.substring(0, 16));
            }
            phase("after run " + r);
            trace.printRun(r, t0, runSpans.get(r)[1]);
          }
          feed.values().forEach(OnnxTensor::close);
          if (profile != null) {
            String file = session.endProfiling();
            summarize(file, g);
            trace.printPeakNodes(file, runSpans);
          }
        }
      }
    } finally {
      external.values().forEach(OnnxTensor::close);
    }
  }

  /** Resident memory now and at peak, and the JVM's share of it: committed heap, direct buffers (weights). */
  private static void phase(String what) {
    long direct = 0;
    for (java.lang.management.BufferPoolMXBean p : java.lang.management.ManagementFactory.getPlatformMXBeans(
        java.lang.management.BufferPoolMXBean.class)) {
      direct += p.getMemoryUsed();
    }
    System.out.printf("[mem] %-16s rss %6.0f MB, peak %6.0f MB (JVM heap committed %5d MB, direct buffers %5d MB)%n", what,
        ProcMemory.rssMb(), ProcMemory.peakRssMb(), Runtime.getRuntime().totalMemory() >> 20, direct >> 20);
  }

  private static byte[] sha256(byte[] b) {
    try {
      return java.security.MessageDigest.getInstance("SHA-256").digest(b);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static OnnxTensor toOrt(OrtEnvironment env, Tensor t) throws OrtException {
    ByteBuffer src = t.data();
    ByteBuffer d = src;
    if (!src.isDirect() || ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
      d = ByteBuffer.allocateDirect(src.remaining()).order(ByteOrder.nativeOrder());
      d.put(src.order(ByteOrder.LITTLE_ENDIAN)).flip();
    }
    ai.onnxruntime.OnnxJavaType jt = switch (t.dtype()) {
      case FLOAT -> ai.onnxruntime.OnnxJavaType.FLOAT;
      case INT64 -> ai.onnxruntime.OnnxJavaType.INT64;
      case INT32 -> ai.onnxruntime.OnnxJavaType.INT32;
      case BOOL -> ai.onnxruntime.OnnxJavaType.BOOL;
      default -> throw new IllegalArgumentException("input dtype " + t.dtype() + " not handled by this diagnostic");
    };
    return OnnxTensor.createTensor(env, d, t.shape(), jt);
  }

  /** Per op type: kernel time summed over the last run, share of the run, and FLOPs per the graph. */
  private static void summarize(String file, Graph g) throws java.io.IOException {
    JsonNode events = new ObjectMapper().readTree(Path.of(file).toFile());
    // Only the last model_run: earlier ones include warm-up.
    long lastRunStart = -1;
    for (JsonNode e : events) {
      if ("model_run".equals(e.path("name").asText())) {
        lastRunStart = e.path("ts").asLong();
      }
    }
    Map<String, long[]> byOp = new TreeMap<>();
    Map<String, Long> byNode = new HashMap<>();
    long total = 0;
    for (JsonNode e : events) {
      if (!"Node".equals(e.path("cat").asText()) || e.path("ts").asLong() < lastRunStart || !e.path("name").asText().endsWith("_kernel_time")) {
        continue;
      }
      String op = e.path("args").path("op_name").asText();
      long dur = e.path("dur").asLong();
      byOp.computeIfAbsent(op, k -> new long[2])[0] += dur;
      byOp.get(op)[1]++;
      byNode.merge(e.path("name").asText().replace("_kernel_time", ""), dur, Long::sum);
      total += dur;
    }
    Map<String, Long> flopsByOp = new HashMap<>();
    for (Node n : g.nodes()) {
      flopsByOp.merge(n.opType(), FlopCounter.count(g, n), Long::sum);
    }
    System.out.printf("ORT profile %s: kernel time of the last run %.0f ms%n", file, total / 1e3);
    System.out.printf("%-28s %10s %6s %6s %10s %8s%n", "op (after ORT fusion)", "ms", "share", "calls", "GFLOP(ir)", "GFLOP/s");
    LinkedHashMap<String, long[]> sorted = new LinkedHashMap<>();
    byOp.entrySet().stream().sorted((a, b) -> Long.compare(b.getValue()[0], a.getValue()[0])).forEach(e -> sorted.put(e.getKey(), e.getValue()));
    for (Map.Entry<String, long[]> e : sorted.entrySet()) {
      long fl = flopsByOp.getOrDefault(e.getKey(), 0L);
      double ms = e.getValue()[0] / 1e3;
      System.out.printf("%-28s %10.1f %5.1f%% %6d %10.1f %8s%n", e.getKey(), ms, 100.0 * e.getValue()[0] / total, e.getValue()[1], fl / 1e9,
          fl > 0 ? String.format("%.0f", fl / 1e6 / ms) : "");
    }
    System.out.println("slowest nodes:");
    byNode.entrySet().stream().sorted((a, b) -> Long.compare(b.getValue(), a.getValue())).limit(25)
        .forEach(e -> System.out.printf("  %8.1f ms  %s%n", e.getValue() / 1e3, e.getKey()));
  }
}
