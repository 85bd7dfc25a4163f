package ai.vqclip.bench;

import ai.vqclip.core.Encoder;
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

/** The CLIP ViT-B/32 image tower alone on a batch of 224 x 224 cutouts, forward only. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 5)
@Measurement(iterations = 3, time = 10)
@Fork(1)
public class EncoderImages extends CompiledGraphState {
  /** Cutouts per batch. */
  @Param("32")
  public int cutouts;

  /** ONNX Runtime intra-op threads; 0 means one per available processor. */
  @Param("0")
  public int threads;

  /** The benchmarked graph. */
  public static Graph graph(int cutouts, int threads) {
    return FullModels.get(SgemmPeak.resolveThreads(threads)).encoder().imageFragment(cutouts);
  }

  /** Compiles once per trial; the cutouts are seeded uniform [0, 1) pixels. */
  @Setup(Level.Trial)
  public void setUp() {
    FullModels m = FullModels.get(SgemmPeak.resolveThreads(threads));
    exe = OrtExecutable.create(graph(cutouts, threads), m.options());
    int s = FullModels.CLIP.imageResolution();
    float[] px = new float[cutouts * 3 * s * s];
    java.util.SplittableRandom rnd = new java.util.SplittableRandom(5);
    for (int i = 0; i < px.length; i++) {
      px[i] = (float) rnd.nextDouble();
    }
    feed = Map.of(Encoder.IMAGES, Tensor.ofFloats(new long[] {cutouts, 3, s, s}, px));
  }

  /** One batch. */
  @Benchmark
  public Map<String, Tensor> encode() {
    return exe.run(feed);
  }
}
