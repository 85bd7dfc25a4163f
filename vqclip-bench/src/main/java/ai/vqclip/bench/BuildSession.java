package ai.vqclip.bench;

import ai.vqclip.core.pipeline.Pipeline;
import ai.vqclip.onnx.OrtExecutable;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Graph build and session creation of the full step: the pipeline's step graph (generator,
 * cutouts, encoder, loss), its differentiation, ONNX export and ONNX Runtime session creation with
 * graph optimizations, for full-size models whose weights are already in memory. This is the fixed
 * cost a run pays once, before its first iteration.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 3)
@Fork(1)
public class BuildSession {
  /** Image side in pixels. */
  @Param("256")
  public int size;

  /** Cutouts per step. */
  @Param("32")
  public int cutouts;

  /** ONNX Runtime intra-op threads; 0 means one per available processor. */
  @Param("0")
  public int threads;

  private FullModels models;
  private Pipeline pipeline;

  /** The shared models and a pipeline whose text embedding is already cached. */
  @Setup(Level.Trial)
  public void setUp() {
    models = FullModels.get(SgemmPeak.resolveThreads(threads));
    pipeline = models.pipeline();
    models.step(pipeline, size, cutouts);
  }

  /** Build, differentiate, export and compile; the session is closed again (not timed separately). */
  @Benchmark
  public int buildAndCompile() {
    FullModels.Step step = models.step(pipeline, size, cutouts);
    try (OrtExecutable exe = OrtExecutable.create(step.graph(), models.options())) {
      return exe.graph().nodes().size();
    }
  }

  /** Nothing to free: the models are shared. */
  @TearDown(Level.Trial)
  public void tearDown() {
    // Shared models live until the JVM ends.
  }
}
