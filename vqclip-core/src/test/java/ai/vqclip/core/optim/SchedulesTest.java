package ai.vqclip.core.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.LearningRateSchedule;
import java.util.List;
import org.junit.jupiter.api.Test;

class SchedulesTest {
  private static double[] rates(LearningRateSchedule s, int n, double base, double[] losses) {
    LearningRateSchedule.Run r = s.start();
    double[] out = new double[n];
    for (int i = 0; i < n; i++) {
      out[i] = r.rate(i, base);
      r.observe(i, losses == null ? 1 : losses[i]);
    }
    return out;
  }

  @Test
  void builtInsFollowTheirFormulas() {
    assertArrayEquals(new double[] {0.1, 0.1, 0.1}, rates(Schedules.constant(), 3, 0.1, null));
    assertArrayEquals(new double[] {1, 1, 0.5, 0.5, 0.2}, rates(Schedules.drops(List.of(new Schedules.Drop(2, 0.5), new Schedules.Drop(4, 0.2))), 5, 1, null));
    assertArrayEquals(new double[] {0.25, 0.5, 0.75, 1, 1}, rates(Schedules.warmup(4), 5, 1, null));
    assertArrayEquals(new double[] {1, 1, 0.5, 0.5, 0.25}, rates(Schedules.stepDecay(2, 0.5), 5, 1, null));
    double[] cos = rates(Schedules.cosine(4, 0.1), 6, 1, null);
    assertEquals(1, cos[0], 1e-12);
    assertEquals(0.1 + 0.9 * 0.5, cos[2], 1e-12);
    assertEquals(0.1, cos[4], 1e-12);
    assertEquals(0.1, cos[5], 1e-12);
    // Plateau: the loss stops improving after iteration 1; patience 2 halves the rate every 2 flat steps.
    double[] plateau = rates(Schedules.plateau(2, 0.5, 0, 0.1), 8, 1, new double[] {5, 4, 4, 4, 4, 4, 4, 4});
    assertArrayEquals(new double[] {1, 1, 1, 1, 0.5, 0.5, 0.25, 0.25}, plateau);
  }

  @Test
  void chainsApplyInOrderAndSaveAndRestoreEveryPart() {
    LearningRateSchedule s = Schedules.warmup(2).then(Schedules.plateau(1, 0.5, 0, 0.01));
    double[] losses = {3, 3, 3, 3, 3, 3};
    double[] all = rates(s, 6, 1, losses);
    assertArrayEquals(new double[] {0.5, 1, 0.5, 0.25, 0.125, 0.0625}, all);
    LearningRateSchedule.Run a = s.start();
    for (int i = 0; i < 3; i++) {
      a.rate(i, 1);
      a.observe(i, losses[i]);
    }
    LearningRateSchedule.Run b = s.start();
    b.restore(a.save());
    for (int i = 3; i < 6; i++) {
      assertEquals(all[i], b.rate(i, 1));
      b.observe(i, losses[i]);
    }
  }

  @Test
  void parseAndBadSettings() {
    assertEquals(Schedules.chain(Schedules.warmup(10), Schedules.cosine(100, 0.05)), Schedules.parse("warmup:10+cosine:0.05", 100));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Schedules.parse("linear", 10));
    assertTrue(e.getMessage().contains("cosine"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Schedules.cosine(0, 0.1));
    assertThrows(IllegalArgumentException.class, () -> Schedules.plateau(2, 1.5, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> Schedules.plateau(2, 0.5, 0, 0).start().restore(new double[] {1, 5, 0.5}));
  }
}
