package ai.vqclip.bench;

import ai.vqclip.core.graph.FlopCounter;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.onnx.OrtExecutable;
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
 * One optimization step of a conv-heavy graph: forward and backward (gradient with respect to the
 * input) of six 3x3 128 -> 128 convolutions with GroupNorm(32) and swish at 128 x 128, batch 1,
 * loss {@code sum(y^2)}, as one ONNX Runtime run. This is the shape of a VQGAN decoder block. The
 * FLOPs per step come from the differentiated graph ({@link FlopCounter}), so the backward
 * convolutions are counted as they are emitted.
 *
 * <p>Needs gradient rules for Conv, Reshape, InstanceNormalization and ReduceSum; without them the
 * setup fails with the engine's "no gradient rule" message.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 3, time = 5)
@Fork(1)
public class ConvNetStep extends CompiledGraphState {
  /** Conv blocks. */
  public static final int LAYERS = 6;
  /** Channels of every conv. */
  public static final int CHANNELS = 128;
  /** GroupNorm groups. */
  public static final int GROUPS = 32;

  /** Spatial size (height = width). */
  @Param("128")
  public int size;

  /** ONNX Runtime intra-op threads; 0 means one per available processor. */
  @Param("0")
  public int threads;


  /** The benchmarked graph. */
  public static Graph graph(int size) {
    return BenchGraphs.convNetStep(LAYERS, CHANNELS, GROUPS, size, 1);
  }

  /** Compiles the graph once per trial. */
  @Setup(Level.Trial)
  public void setUp() {
    exe = OrtExecutable.create(graph(size), FullModels.executionOptions(SgemmPeak.resolveThreads(threads)));
    feed = Map.of(BenchGraphs.INPUT, BenchGraphs.randomInput(2, 1, CHANNELS, size, size));
  }

  /** Forward and backward, returning the loss and the input gradient. */
  @Benchmark
  public Map<String, Tensor> step() {
    return exe.run(feed, Set.of(BenchGraphs.LOSS, BenchGraphs.GRAD));
  }
}
