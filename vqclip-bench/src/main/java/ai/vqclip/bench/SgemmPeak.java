package ai.vqclip.bench;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.onnx.OrtExecutable;
import java.util.Map;
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
 * The float32 matrix-multiply peak of this machine as vqclip sees it: an n x n by n x n MatMul
 * (n = 2048 by default) run through {@link OrtExecutable} with every intra-op thread. GFLOP/s is
 * {@code 2 n^3 / time}; {@link BenchMain} computes it and uses it as the reference for the other
 * benchmarks. The time includes one n x n input copy into the runtime, as every vqclip run pays.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class SgemmPeak extends CompiledGraphState {
  /** Matrix size. */
  @Param("2048")
  public int n;

  /** ONNX Runtime intra-op threads; 0 means one per available processor. */
  @Param("0")
  public int threads;


  /** FLOPs of one run: {@code 2 n^3}. */
  public static double flops(int n) {
    return 2.0 * n * n * n;
  }

  /** The thread count a {@code threads} parameter means. */
  public static int resolveThreads(int threads) {
    return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
  }

  /** Compiles the graph once per trial. */
  @Setup(Level.Trial)
  public void setUp() {
    Graph g = BenchGraphs.sgemm(n, 1);
    exe = OrtExecutable.create(g, FullModels.executionOptions(resolveThreads(threads)));
    feed = Map.of(BenchGraphs.INPUT, BenchGraphs.randomInput(2, n, n));
  }

  /** One MatMul. */
  @Benchmark
  public Map<String, Tensor> matmul() {
    return exe.run(feed);
  }
}
