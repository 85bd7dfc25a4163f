package ai.vqclip.bench;

import ai.vqclip.core.Generator;
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

/** The VQGAN f16_16384 synthesis alone (quantizer and decoder), forward only, latent in and image out. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 5)
@Measurement(iterations = 3, time = 10)
@Fork(1)
public class GeneratorDecode extends CompiledGraphState {
  /** Image side in pixels. */
  @Param("256")
  public int size;

  /** ONNX Runtime intra-op threads; 0 means one per available processor. */
  @Param("0")
  public int threads;

  /** The benchmarked graph. */
  public static Graph graph(int size, int threads) {
    return FullModels.get(SgemmPeak.resolveThreads(threads)).generator().synthesisFragment(size, size);
  }

  /** Compiles once per trial. */
  @Setup(Level.Trial)
  public void setUp() {
    FullModels m = FullModels.get(SgemmPeak.resolveThreads(threads));
    exe = OrtExecutable.create(graph(size, threads), m.options());
    feed = Map.of(Generator.LATENT, m.generator().randomLatent(size, size, 3));
  }

  /** One decode. */
  @Benchmark
  public Map<String, Tensor> decode() {
    return exe.run(feed);
  }
}
