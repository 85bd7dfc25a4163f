package ai.vqclip.core.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import ai.vqclip.core.Optimizer;
import ai.vqclip.core.pipeline.Checkpoint;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every built-in optimizer, stopped mid-run, saved in a checkpoint file and restored, continues bit for bit. */
class OptimizerResumeTest {
  @TempDir Path dir;

  private static float[] gradient(int step, int n) {
    SplittableRandom r = new SplittableRandom(step * 31L + 7);
    float[] g = new float[n];
    for (int i = 0; i < n; i++) {
      g[i] = (float) (r.nextDouble(-1, 1) * Math.pow(10, -r.nextInt(4)));
    }
    return g;
  }

  @Test
  void everyKindResumesBitIdenticallyThroughACheckpointFile() {
    int n = 64;
    for (OptimizerConfig.Kind k : OptimizerConfig.Kind.values()) {
      Optimizer opt = OptimizerConfig.of(k);
      float[] z = new float[n];
      Optimizer.State whole = opt.start(n);
      float[] atStop = null;
      Checkpoint ckpt = null;
      for (int s = 0; s < 10; s++) {
        if (s == 4) {
          atStop = z.clone();
          ckpt = new Checkpoint(s, new long[] {1, n}, z, z, whole.save(), whole.steps(), 1, 0, "");
        }
        whole.step(z, gradient(s, n), opt.learningRate() * (s < 6 ? 1 : 0.5)); // a drop on the way
      }
      Path file = dir.resolve(k + ".ckpt");
      ckpt.save(file);
      Checkpoint loaded = Checkpoint.load(file);
      Optimizer.State resumed = opt.start(n);
      resumed.restore(loaded.optimizerState(), loaded.optimizerSteps());
      float[] z2 = loaded.latent();
      assertArrayEquals(atStop, z2);
      for (int s = 4; s < 10; s++) {
        resumed.step(z2, gradient(s, n), opt.learningRate() * (s < 6 ? 1 : 0.5));
      }
      assertArrayEquals(z, z2, k + " resumed");
      assertFalse(java.util.Arrays.equals(atStop, z), k + " moved after the checkpoint");
    }
  }
}
