package ai.vqclip.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Argument parsing, benchmark selection and the JSON lines only: benchmarks never run in the test suite. */
class BenchMainTest {
  @TempDir Path dir;

  @Test
  void parsesArguments() {
    BenchMain.Settings s = BenchMain.parse(
        new String[] {"--threads", "3", "--quick", "--sgemm-n", "256", "--conv-size", "32", "--out", "x.jsonl", "--only", "Full"});
    assertEquals(3, s.threads());
    assertTrue(s.quick());
    assertEquals(256, s.sgemmN());
    assertEquals(32, s.convSize());
    assertEquals(Path.of("x.jsonl"), s.out());
    assertEquals("Full", s.only().pattern());
  }

  @Test
  void rejectsBadArguments() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BenchMain.parse(new String[] {"--threads", "0"}));
    assertTrue(e.getMessage().contains("--threads must be >= 1, got 0"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> BenchMain.parse(new String[] {"--bogus"}));
    assertTrue(e.getMessage().contains("'--bogus'"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> BenchMain.parse(new String[] {"--only", "("}));
    assertTrue(e.getMessage().contains("--only"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> BenchMain.parse(new String[] {"--device", "gpu"}));
    assertTrue(e.getMessage().contains("--device must be cpu or cuda, got 'gpu'"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> BenchMain.parse(new String[] {"--out"}));
  }

  @Test
  void quickRunsTheIssuesBenchmarksAndFullAddsTheFitPoints() {
    List<String> quick = BenchMain.specs(BenchMain.parse(new String[] {"--quick"})).stream().map(BenchMain.Spec::name).toList();
    assertEquals(List.of("FullStep_256x256_8cutouts", "FullStep_256x256_32cutouts", "FullStep_400x400_32cutouts",
        "GeneratorDecode_256x256", "EncoderImages_32cutouts", "TextEmbedding", "BuildSession_256x256_32cutouts"), quick);
    List<String> full = BenchMain.specs(BenchMain.parse(new String[0])).stream().map(BenchMain.Spec::name).toList();
    assertTrue(full.containsAll(quick), full.toString());
    assertTrue(full.contains("FullStep_320x320_32cutouts") && full.contains("ConvNetStep_128"), full.toString());
    List<String> only = BenchMain.specs(BenchMain.parse(new String[] {"--only", "^FullStep_4"})).stream().map(BenchMain.Spec::name).toList();
    assertEquals(List.of("FullStep_400x400_32cutouts"), only);
  }

  @Test
  void scalingRunsTwoSweepsWithOneMemoryModeAndFitsThem() {
    List<String> names = BenchMain.specs(BenchMain.parse(new String[] {"--scaling", "--quick"})).stream().map(BenchMain.Spec::name).toList();
    assertEquals(List.of("ScaleCutouts_256x256_8cutouts_recomputeOFF", "ScaleCutouts_256x256_16cutouts_recomputeOFF",
        "ScaleCutouts_256x256_24cutouts_recomputeOFF", "ScaleCutouts_256x256_32cutouts_recomputeOFF", "ScalePixels_192x192_32cutouts_recomputeOFF",
        "ScalePixels_256x256_32cutouts_recomputeOFF", "ScalePixels_320x320_32cutouts_recomputeOFF", "ScalePixels_400x400_32cutouts_recomputeOFF"),
        names);
    List<ObjectNode> lines = new java.util.ArrayList<>();
    for (int c : new int[] {8, 16, 24}) {
      ObjectNode n = BenchMain.line(BenchMain.CUTOUT_SWEEP + c, Map.of("size", "256", "cutouts", Integer.toString(c)), 2, "CPU: test");
      // 1000 ms + 100 ms per cutout, measured while the machine ran at half speed for the last point.
      double slow = c == 24 ? 2 : 1;
      BenchMain.fill(n, new BenchMain.Measured((1000 + 100 * c) * slow, 2), 50 + 18 * c, 100 / slow);
      BenchMain.number(n, "sgemm_gflops_first", 100);
      lines.add(n);
    }
    lines.add(BenchMain.line("Other", Map.of(), 2, "CPU: test"));
    ObjectNode f = BenchMain.fitLine(lines, BenchMain.CUTOUT_SWEEP, "cutouts", n -> n.get("params").get("cutouts").asDouble()).orElseThrow();
    assertEquals("Fit_cutouts", f.get("name").asText());
    assertEquals(3, f.get("ms_time").get("points").asInt());
    assertEquals(1000, f.get("ms_time_load_corrected").get("intercept").asDouble(), 1e-9);
    assertEquals(100, f.get("ms_time_load_corrected").get("slope").asDouble(), 1e-9);
    assertEquals(1, f.get("ms_time_load_corrected").get("r2").asDouble(), 1e-12);
    assertTrue(f.get("ms_time").get("r2").asDouble() < 0.99, f.toString());
    assertEquals(18, f.get("gflop").get("slope").asDouble(), 1e-9);
    assertTrue(BenchMain.fitLine(lines, BenchMain.PIXEL_SWEEP, "pixels", n -> 0).isEmpty());
  }

  @Test
  void lineHasTheIssuesFieldsAndNullForWhatWasNotMeasured() throws Exception {
    ObjectNode n = BenchMain.line("X", Map.of("size", "256"), 2, "CPU: test");
    BenchMain.fill(n, new BenchMain.Measured(500, 3), 10, 40);
    BenchMain.number(n, "peak_rss_mb", Double.NaN);
    Path out = dir.resolve("sub/summary.jsonl");
    BenchMain.writeLines(out, List.of(), false);
    BenchMain.writeLines(out, List.of(BenchMain.toJson(n)), true);
    BenchMain.writeLines(out, List.of(BenchMain.toJson(n)), true);
    List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
    assertEquals(2, lines.size());
    JsonNode j = new ObjectMapper().readTree(lines.get(0));
    for (String f : List.of("name", "ms_per_step", "gflop_per_step", "gflops", "sgemm_gflops", "ratio_to_sgemm", "peak_rss_mb", "threads",
        "device")) {
      assertTrue(j.has(f), f + " missing in " + j);
    }
    assertEquals(500, j.get("ms_per_step").asDouble());
    assertEquals(20, j.get("gflops").asDouble(), 1e-12);
    assertEquals(0.5, j.get("ratio_to_sgemm").asDouble(), 1e-12);
    assertTrue(j.get("peak_rss_mb").isNull());
    assertEquals("256", j.get("params").get("size").asText());
    assertFalse(j.has("error"));
  }

  @Test
  void memoryIsReadAndThePeakResetOnLinux() {
    if (!System.getProperty("os.name").toLowerCase().contains("linux")) {
      assertTrue(Double.isNaN(ProcMemory.peakRssMb()));
      return;
    }
    double rss = ProcMemory.rssMb();
    assertTrue(rss > 1, "VmRSS " + rss);
    assertTrue(ProcMemory.peakRssMb() >= rss, "VmHWM below VmRSS");
    if (ProcMemory.resetPeak()) {
      // After a reset the peak is the current set again, give or take what ran in between.
      assertTrue(ProcMemory.peakRssMb() < ProcMemory.rssMb() + 64, "peak after reset " + ProcMemory.peakRssMb());
    }
  }

  @Test
  void procFieldParsingIsStrict() throws Exception {
    Path f = dir.resolve("status");
    Files.writeString(f, "Name:\tjava\nVmHWM:\t  2048 kB\nVmRSS:\t12 MB\n");
    assertEquals(2.0, ProcMemory.field(f, "VmHWM"));
    assertTrue(Double.isNaN(ProcMemory.field(f, "VmRSS")), "unknown unit");
    assertTrue(Double.isNaN(ProcMemory.field(f, "VmPeak")), "absent field");
    assertTrue(Double.isNaN(ProcMemory.field(dir.resolve("missing"), "VmHWM")));
  }
}
