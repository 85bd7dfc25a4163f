package ai.vqclip.bench;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.onnx.clip.ClipEncoder;
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
 * One text prompt through the CLIP ViT-B/32 text tower (77 tokens), through {@link
 * ClipEncoder#embedText}, whose session is compiled at setup by a first call.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 2)
@Measurement(iterations = 3, time = 4)
@Fork(1)
public class TextEmbedding {
  /** ONNX Runtime intra-op threads; 0 means one per available processor. */
  @Param("0")
  public int threads;

  private ClipEncoder encoder;

  /** The benchmarked graph. */
  public static Graph graph(int threads) {
    return FullModels.get(SgemmPeak.resolveThreads(threads)).encoder().textGraph(1);
  }

  /** Compiles the text session. */
  @Setup(Level.Trial)
  public void setUp() {
    encoder = FullModels.get(SgemmPeak.resolveThreads(threads)).encoder();
    encoder.embedText(FullModels.PROMPT);
  }

  /** One prompt. */
  @Benchmark
  public Tensor embed() {
    return encoder.embedText(FullModels.PROMPT);
  }

  /** Nothing: the shared encoder keeps its session for the next trial. */
  @TearDown(Level.Trial)
  public void tearDown() {
    // The session belongs to the shared encoder (closed with the JVM).
  }
}
