package ai.vqclip.bench;

import ai.vqclip.core.Optimizer;
import ai.vqclip.core.optim.OptimizerConfig;
import java.util.SplittableRandom;
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
 * The host-side optimizer update of one iteration ({@link Optimizer.State#step}: ND4J's updater
 * over the flat latent, AdamW's decay, the copy in and out) at full latent size: 16x16x256
 * (256x256 images with f16_16384) and 25x25x256 (400x400), for every built-in kind. Compare with
 * {@link FullStep} (the step graph call): docs/performance.md puts both side by side.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 2)
@Fork(1)
public class OptimizerUpdate {
  /** Latent cells per side (16 or 25) times 256 channels. */
  @Param({"16", "25"})
  public int side;

  /** The optimizer kind. */
  @Param({"ADAM", "ADAMW", "ADAGRAD", "ADAMAX", "RMSPROP", "NADAM", "AMSGRAD", "SGD"})
  public String kind;

  private Optimizer.State state;
  private float[] z;
  private float[] grad;
  private double rate;

  /** A fresh state and a fixed, small random gradient (the latent drifts slowly, staying finite). */
  @Setup(Level.Trial)
  public void setUp() {
    int n = side * side * 256;
    OptimizerConfig c = OptimizerConfig.of(OptimizerConfig.Kind.valueOf(kind));
    rate = c.learningRate() * 1e-3;
    state = c.start(n);
    z = new float[n];
    grad = new float[n];
    SplittableRandom r = new SplittableRandom(1);
    for (int i = 0; i < n; i++) {
      grad[i] = (float) r.nextDouble(-1e-3, 1e-3);
    }
  }

  /** One update. */
  @Benchmark
  public float update() {
    state.step(z, grad, rate);
    return z[0];
  }
}
