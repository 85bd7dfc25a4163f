package ai.vqclip.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LinearFitTest {
  @Test
  void recoversAnExactLine() {
    LinearFit f = LinearFit.of(new double[] {8, 16, 24, 32}, new double[] {5.2 + 0.19 * 8, 5.2 + 0.19 * 16, 5.2 + 0.19 * 24, 5.2 + 0.19 * 32});
    assertEquals(5.2, f.intercept(), 1e-12);
    assertEquals(0.19, f.slope(), 1e-12);
    assertEquals(1, f.r2(), 1e-12);
    assertEquals(0, f.maxRelativeResidual(), 1e-12);
    assertEquals(4, f.points());
  }

  @Test
  void measuresTheMisfitOfACurve() {
    // y = x^2 at 1..4: least squares gives y = -5 + 5x, residuals 1, -1, -1, 1; SSE 4; mean 7.5, SYY 129.
    LinearFit f = LinearFit.of(new double[] {1, 2, 3, 4}, new double[] {1, 4, 9, 16});
    assertEquals(5, f.slope(), 1e-12);
    assertEquals(-5, f.intercept(), 1e-12);
    assertEquals(1 - 4.0 / 129, f.r2(), 1e-12);
    assertEquals(1.0, f.maxRelativeResidual(), 1e-12); // at x = 1: |1 - 0| / 1
  }

  @Test
  void refusesWhatCannotBeFitted() {
    assertTrue(assertThrows(IllegalArgumentException.class, () -> LinearFit.of(new double[] {1}, new double[] {1})).getMessage().contains("two"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> LinearFit.of(new double[] {2, 2}, new double[] {1, 3})).getMessage()
        .contains("every x"));
    assertThrows(IllegalArgumentException.class, () -> LinearFit.of(new double[] {1, Double.NaN}, new double[] {1, 3}));
  }
}
