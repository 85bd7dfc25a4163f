package ai.vqclip.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The side-by-side command's parsing of its children's output and its table (no child is run). */
class SideBySideTest {
  @Test
  void readsStepTimesAndSgemmFromTheSummary() {
    Map<String, Double> m = SideBySide.stepTimes(List.of(
        "{\"name\":\"SgemmPeak\",\"ms_per_step\":45.6,\"gflops\":377.1}",
        "{\"name\":\"FullStep_256x256_32cutouts\",\"ms_per_step\":3919.0}",
        "{\"name\":\"FullStep_256x256_8cutouts\",\"ms_per_step\":2520.0}",
        "{\"name\":\"FullStep_400x400_32cutouts\",\"error\":\"boom\"}",
        ""));
    assertEquals(Map.of("sgemm_gflops", 377.1, "256", 3919.0), m);
  }

  @Test
  void takesTheLastPeakThatStepProfilePrinted() {
    String log = "[mem] start            rss     44 MB, peak     44 MB (JVM heap committed   382 MB)\n"
        + "run 0: 7000 ms\n[mem] after run 1      rss   3900 MB, peak   5766 MB (JVM heap committed   382 MB)\n";
    assertEquals(5766, SideBySide.lastPeakMb(log));
    assertEquals(7000, SideBySide.lastRunMs(log));
    assertTrue(Double.isNaN(SideBySide.lastRunMs("no figures")));
    assertTrue(Double.isNaN(SideBySide.lastPeakMb("no figures")));
  }

  @Test
  void ratiosUseThePeersFasterVariant() {
    var peer = SideBySide.lastJson("building...\n{\"step256_median_s\": 12.0, \"step400_median_s\": 20.0, \"process_peak_rss_mb\": 6000,"
        + " \"variant_tcmalloc\": {\"step256_median_s\": 8.0, \"step400_median_s\": 25.0, \"process_peak_rss_mb\": 5700},"
        + " \"variant_thp\": {\"step256_median_s\": 9.0, \"step400_median_s\": 19.0, \"process_peak_rss_mb\": 5900}}\n");
    var t = new SideBySide.Table(List.of(Map.of("256", 4000.0, "400", 8000.0), Map.of("256", 6000.0, "400", 10000.0)), List.of(4096.0),
        List.of(10.5), peer);
    assertEquals(8.0, t.peerBest(256));
    assertEquals(19.0, t.peerBest(400));
    assertTrue(t.complete());
    String table = t.format();
    assertTrue(table.contains("| 256x256/32 | 4.00 s | 6.00 s | 12.00 s | 8.00 s | 9.00 s | 0.50, 0.75 |"), table);
    assertTrue(table.contains("| 400x400/32 | 8.00 s | 10.00 s | 20.00 s | 25.00 s | 19.00 s | 0.42, 0.53 |"), table);
    assertTrue(table.contains("[4.00 GB] (step [10.50 s])") && table.contains("5.57 GB"), table);
    assertEquals(0.5, t.json().path("step256x32").path("ratio_run1").asDouble());
  }

  @Test
  void aMissingPartLeavesTheTableIncomplete() {
    assertNull(SideBySide.lastJson("peer crashed\n{\"step256_med"));
    var t = new SideBySide.Table(List.of(Map.of("256", 4000.0)), List.of(), List.of(), null);
    assertFalse(t.complete());
    assertTrue(t.format().contains("| 256x256/32 | 4.00 s | - | - | - | - | -, - |"), t.format());
  }

  @Test
  void refusesAFolderWithoutThePeer(@TempDir Path dir) throws Exception {
    var e = assertThrows(IllegalArgumentException.class, () -> SideBySide.parse(new String[] {"--peer", dir.toString()}));
    assertTrue(e.getMessage().contains("--peer"), e.getMessage());
    Files.writeString(dir.resolve("run.sh"), "#!/bin/sh\n");
    assertEquals(3, SideBySide.parse(new String[] {"--peer", dir.toString(), "--threads", "2"}).peerSteps());
    assertThrows(IllegalArgumentException.class, () -> SideBySide.parse(new String[] {"--peer", dir.toString(), "--threads", "0"}));
  }
}
