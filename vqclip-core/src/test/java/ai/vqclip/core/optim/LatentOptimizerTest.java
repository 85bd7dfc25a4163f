package ai.vqclip.core.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class LatentOptimizerTest {
  /** Gradient of 0.5 * sum((x - t)^2). */
  private static float[] grad(float[] x, float[] t) {
    float[] g = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      g[i] = x[i] - t[i];
    }
    return g;
  }

  @Test
  void adamMatchesTheTextbookUpdate() {
    // Kingma & Ba (arXiv:1412.6980), Algorithm 1, computed independently in double.
    OptimizerConfig c = OptimizerConfig.adam(0.1);
    LatentOptimizer opt = new LatentOptimizer(c, 3);
    float[] x = {1f, -2f, 0.5f};
    double[] ref = {1, -2, 0.5};
    double[] m = new double[3];
    double[] v = new double[3];
    float[] target = {0.2f, 0.3f, -0.4f};
    for (int t = 1; t <= 5; t++) {
      float[] g = grad(x, target);
      opt.step(x, g);
      for (int i = 0; i < 3; i++) {
        double gi = ref[i] - target[i];
        m[i] = 0.9 * m[i] + 0.1 * gi;
        v[i] = 0.999 * v[i] + 0.001 * gi * gi;
        double mh = m[i] / (1 - Math.pow(0.9, t));
        double vh = v[i] / (1 - Math.pow(0.999, t));
        ref[i] -= 0.1 * mh / (Math.sqrt(vh) + 1e-8);
      }
      for (int i = 0; i < 3; i++) {
        assertEquals(ref[i], x[i], 1e-5, "step " + t + " element " + i);
      }
    }
  }

  @ParameterizedTest
  @EnumSource(OptimizerConfig.Kind.class)
  void everyKindMinimisesAQuadratic(OptimizerConfig.Kind kind) {
    double lr = switch (kind) {
      case SGD -> 0.05;
      case ADAGRAD -> 0.5;
      default -> 0.05;
    };
    LatentOptimizer opt = new LatentOptimizer(OptimizerConfig.of(kind, lr), 16);
    SplittableRandom rnd = new SplittableRandom(3);
    float[] x = new float[16];
    float[] t = new float[16];
    for (int i = 0; i < 16; i++) {
      x[i] = (float) rnd.nextDouble(-2, 2);
      t[i] = (float) rnd.nextDouble(-1, 1);
    }
    double before = loss(x, t);
    for (int s = 0; s < 300; s++) {
      opt.step(x, grad(x, t));
    }
    double after = loss(x, t);
    assertTrue(after < 0.05 * before, kind + ": loss " + before + " -> " + after);
    assertEquals(300, opt.steps());
  }

  private static double loss(float[] x, float[] t) {
    double s = 0;
    for (int i = 0; i < x.length; i++) {
      s += 0.5 * (x[i] - t[i]) * (x[i] - t[i]);
    }
    return s;
  }

  @ParameterizedTest
  @EnumSource(OptimizerConfig.Kind.class)
  void restoredStateContinuesBitForBit(OptimizerConfig.Kind kind) {
    float[] t = {0.5f, -0.25f, 1f, 2f};
    float[] a = {1, 1, 1, 1};
    LatentOptimizer full = new LatentOptimizer(OptimizerConfig.of(kind, 0.05), 4);
    for (int s = 0; s < 10; s++) {
      full.step(a, grad(a, t));
    }
    float[] b = {1, 1, 1, 1};
    LatentOptimizer first = new LatentOptimizer(OptimizerConfig.of(kind, 0.05), 4);
    for (int s = 0; s < 4; s++) {
      first.step(b, grad(b, t));
    }
    LatentOptimizer resumed = new LatentOptimizer(OptimizerConfig.of(kind, 0.05), 4);
    resumed.restore(first.state(), first.steps());
    for (int s = 4; s < 10; s++) {
      resumed.step(b, grad(b, t));
    }
    assertArrayEquals(a, b, kind.toString());
  }

  @Test
  void adamWShrinksTowardZeroMoreThanAdam() {
    float[] a = {3f};
    float[] w = {3f};
    LatentOptimizer adam = new LatentOptimizer(OptimizerConfig.adam(0.01), 1);
    LatentOptimizer adamW = new LatentOptimizer(new OptimizerConfig(OptimizerConfig.Kind.ADAMW, 0.01, 0.9, 0.999, 1e-8, 0.5), 1);
    for (int s = 0; s < 20; s++) {
      adam.step(a, new float[] {0f});
      adamW.step(w, new float[] {0f});
    }
    assertEquals(3f, a[0]);
    assertEquals(3 * Math.pow(1 - 0.01 * 0.5, 20), w[0], 1e-5);
  }

  @Test
  void learningRateDropKeepsMoments() {
    float[] x = {1f};
    LatentOptimizer opt = new LatentOptimizer(OptimizerConfig.adam(0.1), 1);
    opt.step(x, new float[] {1f});
    assertEquals(0.9f, x[0], 1e-6);
    opt.setLearningRate(0.01);
    opt.step(x, new float[] {1f});
    // Adam's first steps with a constant gradient move by exactly lr.
    assertEquals(0.89f, x[0], 1e-6);
    assertEquals(0.01, opt.config().learningRate());
  }

  @Test
  void rejectsBadInput() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OptimizerConfig.adam(0));
    assertTrue(e.getMessage().contains("learning rate") && e.getMessage().contains("0.0"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> OptimizerConfig.Kind.parse("adamz"));
    assertTrue(e.getMessage().contains("adamz") && e.getMessage().contains("adamw"), e.getMessage());
    LatentOptimizer opt = new LatentOptimizer(OptimizerConfig.adam(0.1), 2);
    e = assertThrows(IllegalArgumentException.class, () -> opt.step(new float[2], new float[] {0f, Float.NaN}));
    assertTrue(e.getMessage().contains("element 1") && e.getMessage().contains("NaN"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> opt.step(new float[3], new float[3]));
    assertTrue(e.getMessage().contains("expected 2"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> opt.restore(new float[1], 0));
    assertTrue(e.getMessage().contains("needs 4"), e.getMessage());
  }
}
