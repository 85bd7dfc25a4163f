package ai.vqclip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class AdamTest {
  @Test
  void firstStepMovesEachParameterByTheLearningRate() {
    // After bias correction the first step is lr * g / (|g| + eps): a step of lr against the sign.
    Adam adam = Adam.withDefaults(0.1);
    double[] p = {1, -2, 3};
    adam.step(p, new double[] {5, -0.01, 100});
    assertEquals(0.9, p[0], 1e-9);
    assertEquals(-1.9, p[1], 1e-6);
    assertEquals(2.9, p[2], 1e-9);
    assertEquals(1, adam.steps());
  }

  @Test
  void minimizesAQuadratic() {
    Adam adam = Adam.withDefaults(0.05);
    double[] p = {3, -4};
    for (int i = 0; i < 2000; i++) {
      adam.step(p, new double[] {2 * (p[0] - 1), 2 * (p[1] + 2)});
    }
    assertEquals(1, p[0], 1e-3);
    assertEquals(-2, p[1], 1e-3);
  }

  @Test
  void rejectsBadSettingsAndLengths() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Adam.withDefaults(0));
    assertTrue(e.getMessage().contains("learning rate"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new Adam(0.1, 1, 0.999, 1e-8));
    assertThrows(IllegalArgumentException.class, () -> new Adam(0.1, 0.9, 0.999, 0));
    Adam adam = Adam.withDefaults(0.1);
    assertThrows(IllegalArgumentException.class, () -> adam.step(new double[2], new double[3]));
    adam.step(new double[2], new double[2]);
    e = assertThrows(IllegalArgumentException.class, () -> adam.step(new double[3], new double[3]));
    assertTrue(e.getMessage().contains("first step's 2"), e.getMessage());
  }
}
