package ai.vqclip.bench;

import ai.vqclip.augment.StandardCutouts;
import ai.vqclip.core.Encoder;
import ai.vqclip.core.Generator;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.optim.OptimizerConfig;
import ai.vqclip.core.pipeline.GenerationJob;
import ai.vqclip.core.pipeline.GenerationRequest;
import ai.vqclip.core.pipeline.GenerationService;
import ai.vqclip.core.pipeline.Pipeline;
import ai.vqclip.core.pipeline.RunResult;
import ai.vqclip.core.prompt.PromptSchedule;
import ai.vqclip.demo.DemoModels;
import ai.vqclip.onnx.clip.ClipEncoder;
import ai.vqclip.onnx.vqgan.VqganGenerator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * A diagnostic for batched steps ({@link ai.vqclip.core.pipeline.StepBatch}): the same N requests
 * (different seeds and prompts, one step-graph shape) run one after another ({@code
 * Pipeline.run}), then through a {@link GenerationService} with one run slot and {@code maxBatch}
 * 1, 2 and 4, in one process so that the configurations see the same machine. Prints per
 * configuration the wall time and images per hour of the measured runs, the steady step time per
 * image (from the step events, without compiling and the final decode) and the images per hour it
 * gives at the command's default iterations (after one untimed warm-up run), the peak RSS of the phase (VmHWM, reset between
 * phases where /proc allows), and whether every image is bit-identical to the serial one. On a
 * shared machine use several {@code --rounds}: the configurations then alternate, and the best
 * round of each is the least disturbed.
 *
 * <pre>
 * java -cp vqclip-bench/target/benchmarks.jar ai.vqclip.bench.BatchThroughput [--models demo|full] [--runs 4]
 *     [--steps N] [--threads N] [--batches 1,2,4] [--rounds R]
 * </pre>
 *
 * <p>{@code demo}: the bundled demo models at their size (32x32, 32 cutouts, cut_pow 0.5, Af Pe
 * Border, as {@code vqclip generate} runs them; default 20 steps). {@code full}: VQGAN f16_16384 and
 * CLIP ViT-B/32 with random weights ({@link FullModels}) at 256x256 with 32 cutouts and the
 * reference augmentations (default 3 steps).
 */
public final class BatchThroughput {
  private BatchThroughput() {}

  /** Entry point; see the class comment. */
  public static void main(String[] args) {
    String which = "demo";
    int runs = 4;
    int steps = -1;
    int threads = Runtime.getRuntime().availableProcessors();
    int cutouts = 32;
    List<Integer> batches = List.of(1, 2, 4);
    int rounds = 1;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--models" -> which = args[++i];
        case "--runs" -> runs = Integer.parseInt(args[++i]);
        case "--steps" -> steps = Integer.parseInt(args[++i]);
        case "--threads" -> threads = Integer.parseInt(args[++i]);
        case "--cutouts" -> cutouts = Integer.parseInt(args[++i]);
        case "--rounds" -> rounds = Integer.parseInt(args[++i]);
        case "--batches" -> batches = Arrays.stream(args[++i].split(",")).map(Integer::parseInt).toList();
        default -> throw new IllegalArgumentException("unknown argument " + args[i] + "; see the class comment");
      }
    }
    Generator generator;
    Encoder encoder;
    ExecutionOptions options;
    List<GenerationRequest> reqs = new ArrayList<>();
    int defaultIterations;
    String[] prompts;
    GenerationRequest base;
    if (which.equals("demo")) {
      options = ExecutionOptions.cpu().withThreads(threads);
      DemoModels.Bundle b = DemoModels.load();
      generator = VqganGenerator.load(b.vqgan(), b.vqganConfig(), options);
      encoder = ClipEncoder.load(b.clip(), b.clipConfig(), b.tokenizer(), options);
      steps = steps < 0 ? 20 : steps;
      defaultIterations = 250;
      prompts = new String[] {"a red circle on a blue background", "a green square on a yellow background", "a blue triangle",
          "a yellow circle on a black background"};
      base = GenerationRequest.builder(DemoModels.IMAGE_SIZE, DemoModels.IMAGE_SIZE, PromptSchedule.parse(prompts[0], 0)).cutouts(cutouts)
          .cutPow(0.5).augmentations(List.of("Af", "Pe", "Border")).optimizer(OptimizerConfig.adam(0.1)).build();
    } else if (which.equals("full")) {
      FullModels m = FullModels.get(threads);
      generator = m.generator();
      encoder = m.encoder();
      options = m.options();
      steps = steps < 0 ? 3 : steps;
      defaultIterations = 500;
      prompts = new String[] {FullModels.PROMPT, "a lighthouse at night", "an oil painting of a harbour", "a city in the fog"};
      base = FullModels.request(256, cutouts);
    } else {
      throw new IllegalArgumentException("--models must be demo or full, got " + which);
    }
    for (int i = 0; i < runs; i++) {
      reqs.add(base.toBuilder().prompts(PromptSchedule.parse(prompts[i % prompts.length], 0)).seed(100 + i).iterations(steps).build());
    }
    Pipeline pipeline = Pipeline.builder(generator, new StandardCutouts()).encoder(encoder).options(options).build();
    System.out.printf(Locale.ROOT, "%s models loaded: rss %.0f MB; %d runs of %dx%d, %d cutouts, %d steps, %d threads%n", which,
        ProcMemory.rssMb(), runs, base.width(), base.height(), cutouts, steps, threads);
    System.out.println("| setting | peak RSS | wall | images/hour (these runs) | step per image | images/hour at " + defaultIterations
        + " iterations | bit-identical to serial |");
    System.out.println("|---|---|---|---|---|---|---|");

    // One untimed run first, so that the serial row does not pay for the JVM's and the runtime's warm-up alone.
    pipeline.run(reqs.get(0).toBuilder().seed(99).build());
    for (int round = 1; round <= rounds; round++) {
      measure(pipeline, reqs, batches, steps, defaultIterations, rounds > 1 ? "round " + round + ": " : "");
    }
  }

  /** One round: serial, then each batch size, one table row each. */
  private static void measure(Pipeline pipeline, List<GenerationRequest> reqs, List<Integer> batches, int steps, int defaultIterations,
      String label) {
    int runs = reqs.size();
    // serial: Pipeline.run one after the other
    ProcMemory.resetPeak();
    Timing serialT = new Timing();
    long t0 = System.nanoTime();
    List<float[]> serial = new ArrayList<>();
    for (int i = 0; i < reqs.size(); i++) {
      int k = i;
      serial.add(pipeline.run(reqs.get(i), e -> serialT.event(k)).image().toFloats());
      serialT.batchOf.put(k, 1);
    }
    report(label + "serial (Pipeline.run)", t0, serialT, runs, steps, defaultIterations, "reference");

    for (int batch : batches) {
      boolean reset = ProcMemory.resetPeak();
      Timing t = new Timing();
      long t1 = System.nanoTime();
      List<RunResult> results = new ArrayList<>();
      try (GenerationService service = GenerationService.builder(pipeline).maxConcurrent(1).maxBatch(batch).queueCapacity(runs)
          .batchWait(Duration.ofSeconds(1)).build()) {
        List<GenerationJob> jobs = new ArrayList<>();
        for (int i = 0; i < reqs.size(); i++) {
          int k = i;
          jobs.add(service.submit(reqs.get(i), e -> t.event(k)));
        }
        for (int i = 0; i < jobs.size(); i++) {
          results.add(jobs.get(i).result().join());
          t.batchOf.put(i, jobs.get(i).batchSize());
        }
      }
      boolean same = true;
      for (int i = 0; i < runs; i++) {
        same &= Arrays.equals(serial.get(i), results.get(i).image().toFloats());
      }
      report(label + "batch " + batch + " (service, maxBatch " + batch + ")" + (reset ? "" : " [peak not reset]"), t1, t, runs, steps,
          defaultIterations, String.valueOf(same));
    }
  }

  /** Step-event times per run, for the steady step time. */
  private static final class Timing {
    final Map<Integer, ConcurrentLinkedQueue<Long>> times = new ConcurrentHashMap<>();
    final Map<Integer, Integer> batchOf = new ConcurrentHashMap<>();

    boolean event(int run) {
      times.computeIfAbsent(run, k -> new ConcurrentLinkedQueue<>()).add(System.nanoTime());
      return true;
    }

    /** Mean seconds per step per image: each run's time from its first to its last step event, divided by its batch's size. */
    double stepPerImage() {
      double sum = 0;
      int n = 0;
      for (Map.Entry<Integer, ConcurrentLinkedQueue<Long>> e : times.entrySet()) {
        List<Long> ts = new ArrayList<>(e.getValue());
        if (ts.size() < 2) {
          continue;
        }
        sum += (ts.get(ts.size() - 1) - ts.get(0)) / 1e9 / (ts.size() - 1) / batchOf.get(e.getKey());
        n++;
      }
      return n == 0 ? Double.NaN : sum / n;
    }
  }

  private static void report(String what, long t0, Timing t, int runs, int steps, int defaultIterations, String same) {
    double wall = (System.nanoTime() - t0) / 1e9;
    double step = t.stepPerImage();
    System.out.printf(Locale.ROOT, "| %s | %.0f MB | %.1f s | %.1f | %.3f s | %.1f | %s |%n", what, ProcMemory.peakRssMb(), wall,
        runs * 3600 / wall, step, 3600 / (defaultIterations * step), same);
    System.out.flush();
  }
}
