package ai.vqclip.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Argument parsing and helpers only: benchmarks never run in the test suite. */
class BenchMainTest {
  @Test
  void parsesArguments() {
    BenchMain.Settings s = BenchMain.parse(new String[] {"--threads", "3", "--quick", "--sgemm-n", "256", "--conv-size", "32", "--out", "x.jsonl"});
    assertEquals(3, s.threads());
    assertTrue(s.quick());
    assertEquals(256, s.sgemmN());
    assertEquals(32, s.convSize());
    assertEquals(Path.of("x.jsonl"), s.out());
  }

  @Test
  void rejectsBadArguments() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BenchMain.parse(new String[] {"--threads", "0"}));
    assertTrue(e.getMessage().contains("--threads must be >= 1, got 0"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> BenchMain.parse(new String[] {"--bogus"}));
    assertTrue(e.getMessage().contains("'--bogus'"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> BenchMain.parse(new String[] {"--out"}));
  }

  @Test
  void peakRssIsReadOnLinux() {
    double mb = BenchMain.peakRssMb();
    if (System.getProperty("os.name").toLowerCase().contains("linux")) {
      assertTrue(mb > 1, "VmHWM " + mb);
    } else {
      assertTrue(Double.isNaN(mb));
    }
  }
}
