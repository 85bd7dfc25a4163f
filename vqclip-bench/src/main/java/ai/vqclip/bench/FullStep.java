package ai.vqclip.bench;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.autodiff.GradientRequest;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.optim.LatentOptimizer;
import ai.vqclip.core.pipeline.Pipeline;
import ai.vqclip.onnx.OrtExecutable;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * One full optimization step of VQGAN-CLIP at full model size, built by the real {@link
 * ai.vqclip.core.pipeline.Pipeline}: VQGAN f16_16384 synthesis (quantizer and decoder), cutouts with
 * the "Af Pe Ji Er" augmentations, CLIP ViT-B/32 on every cutout, the spherical-distance loss, the
 * backward pass to z as one ONNX Runtime run, then the Adam update of z on the host, as {@code
 * Pipeline.run} does each iteration. The graph is built and compiled once per trial.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 10)
@Measurement(iterations = 3, time = 20)
@Fork(1)
public class FullStep extends CompiledGraphState {
  /** Image side in pixels (height = width). */
  @Param("256")
  public int size;

  /** Cutouts per step. */
  @Param("32")
  public int cutouts;

  /** {@link Pipeline.MemorySaving} mode: AUTO (recompute above 256x256, as real runs), ON or OFF. */
  @Param("AUTO")
  public String memorySaving;

  /** ONNX Runtime intra-op threads; 0 means one per available processor. */
  @Param("0")
  public int threads;

  private Set<String> outputs;
  private LatentOptimizer optimizer;
  private float[] z;
  private long[] zShape;

  /** The differentiated step graph benchmarked (for FLOP counting). */
  public static Graph graph(int size, int cutouts, Pipeline.MemorySaving memorySaving, int threads) {
    FullModels m = FullModels.get(SgemmPeak.resolveThreads(threads));
    return m.step(m.pipeline(memorySaving), size, cutouts).graph();
  }

  /** Builds and compiles the step once per trial. */
  @Setup(Level.Trial)
  public void setUp() {
    FullModels m = FullModels.get(SgemmPeak.resolveThreads(threads));
    FullModels.Step step = m.step(m.pipeline(Pipeline.MemorySaving.valueOf(memorySaving)), size, cutouts);
    exe = OrtExecutable.create(step.graph(), m.options());
    feed = new HashMap<>(step.inputs());
    outputs = step.outputs();
    Tensor z0 = feed.get("z");
    zShape = z0.shape();
    z = z0.toFloats();
    optimizer = (LatentOptimizer) FullModels.request(size, cutouts).optimizer().start(z.length);
  }

  /** Forward, backward and the optimizer update, as one pipeline iteration. */
  @Benchmark
  public double step() {
    feed.put("z", Tensor.ofFloats(zShape, z));
    Map<String, Tensor> out = exe.run(feed, outputs);
    optimizer.step(z, out.get(GradientRequest.gradName("z")).toFloats());
    return out.get("loss").toDoubles()[0];
  }
}
