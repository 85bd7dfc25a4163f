package ai.vqclip.bench;

import ai.vqclip.augment.StandardCutouts;
import ai.vqclip.core.pipeline.GenerationJob;
import ai.vqclip.core.pipeline.GenerationRequest;
import ai.vqclip.core.pipeline.GenerationService;
import ai.vqclip.core.pipeline.Pipeline;
import ai.vqclip.core.pipeline.RunResult;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * A diagnostic for serving: N runs of the full-size models (random weights, {@link FullModels}) at
 * once through one {@link GenerationService}, against the same runs one after another, in one
 * process. Prints the resident memory (VmRSS) with the models loaded, the peak (VmHWM) over the
 * serial runs and over the concurrent ones, the wall times and images per hour, and whether every
 * concurrent image is bit-identical to its serial twin. Run it in a fresh JVM per setting: the peak
 * of the concurrent phase is the process's peak since the serial phase's (reset between them
 * where /proc allows; memory freed by the serial phase may stay resident, so for memory figures run
 * {@code --mode serial --runs 1} and {@code --mode concurrent --runs N} in separate processes).
 *
 * <pre>
 * java -cp vqclip-bench/target/benchmarks.jar ai.vqclip.bench.ConcurrentRuns [--runs 4] [--size 256] [--cutouts 8]
 *     [--steps 2] [--threads N] [--parallel-steps P] [--memory-saving auto|on|off] [--mode both|serial|concurrent]
 * </pre>
 */
public final class ConcurrentRuns {
  private ConcurrentRuns() {}

  /** Entry point; see the class comment. */
  public static void main(String[] args) {
    int runs = 4;
    int size = 256;
    int cutouts = 8;
    int steps = 2;
    int threads = Runtime.getRuntime().availableProcessors();
    int parallelSteps = 0;
    Pipeline.MemorySaving saving = Pipeline.MemorySaving.AUTO;
    String mode = "both";
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--runs" -> runs = Integer.parseInt(args[++i]);
        case "--size" -> size = Integer.parseInt(args[++i]);
        case "--cutouts" -> cutouts = Integer.parseInt(args[++i]);
        case "--steps" -> steps = Integer.parseInt(args[++i]);
        case "--threads" -> threads = Integer.parseInt(args[++i]);
        case "--parallel-steps" -> parallelSteps = Integer.parseInt(args[++i]);
        case "--mode" -> mode = args[++i];
        case "--memory-saving" -> saving = Pipeline.MemorySaving.valueOf(args[++i].toUpperCase(Locale.ROOT));
        default -> throw new IllegalArgumentException("unknown argument " + args[i] + "; see the class comment");
      }
    }
    FullModels m = FullModels.get(threads);
    Pipeline pipeline = Pipeline.builder(m.generator(), new StandardCutouts()).encoder(m.encoder()).options(m.options()).memorySaving(saving)
        .maxParallelSteps(parallelSteps).build();
    List<GenerationRequest> reqs = new ArrayList<>();
    for (int i = 0; i < runs; i++) {
      reqs.add(FullModels.request(size, cutouts).toBuilder().iterations(steps).seed(100 + i).build());
    }
    double loaded = ProcMemory.rssMb();
    System.out.printf(Locale.ROOT, "models loaded: rss %.0f MB; %d runs of %dx%d, %d cutouts, %d steps, %d threads, parallel steps %s%n",
        loaded, runs, size, size, cutouts, steps, threads, parallelSteps == 0 ? "unbounded" : parallelSteps);
    ProcMemory.resetPeak();
    long t0 = System.nanoTime();
    List<float[]> serial = new ArrayList<>();
    for (GenerationRequest r : mode.equals("concurrent") ? List.<GenerationRequest>of() : reqs) {
      serial.add(pipeline.run(r).image().toFloats());
      if (serial.size() == 1) {
        System.out.printf(Locale.ROOT, "one run: peak rss %.0f MB, %.1f s%n", ProcMemory.peakRssMb(), (System.nanoTime() - t0) / 1e9);
      }
    }
    double serialS = (System.nanoTime() - t0) / 1e9;
    double serialPeak = ProcMemory.peakRssMb();
    System.out.printf(Locale.ROOT, "serial: %d runs, peak rss %.0f MB, %.1f s, %.0f images/hour%n", runs, serialPeak, serialS,
        runs * 3600 / serialS);
    if (mode.equals("serial")) {
      return;
    }
    boolean reset = ProcMemory.resetPeak();
    long t1 = System.nanoTime();
    List<RunResult> results = new ArrayList<>();
    try (GenerationService service = GenerationService.builder(pipeline).maxConcurrent(runs).queueCapacity(runs).build()) {
      List<GenerationJob> jobs = new ArrayList<>();
      for (GenerationRequest r : reqs) {
        jobs.add(service.submit(r));
      }
      for (GenerationJob j : jobs) {
        results.add(j.result().join());
      }
    }
    double concS = (System.nanoTime() - t1) / 1e9;
    boolean same = true;
    for (int i = 0; i < serial.size(); i++) {
      same &= Arrays.equals(serial.get(i), results.get(i).image().toFloats());
    }
    System.out.printf(Locale.ROOT, "concurrent: %d runs, peak rss %.0f MB%s, %.1f s, %.0f images/hour; bit-identical to serial: %s%n", runs,
        ProcMemory.peakRssMb(), reset ? "" : " (peak not reset: includes the serial phase)", concS, runs * 3600 / concS, serial.isEmpty() ? "not compared" : same);
  }
}
