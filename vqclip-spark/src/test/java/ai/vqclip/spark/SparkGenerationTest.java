package ai.vqclip.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.image.Images;
import ai.vqclip.core.pipeline.RunResult;
import ai.vqclip.demo.DemoModels;
import ai.vqclip.demo.eval.DemoGeneration;
import ai.vqclip.demo.eval.DemoPrompts;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * vqclip-spark on {@code local[2,3]} (two task threads, a task tried up to three times) with the
 * bundled demo models at a few iterations and cutouts (the request's columns).
 */
class SparkGenerationTest {
  static final int ITERATIONS = 3;
  static final int CUTOUTS = 2;
  /** One intra-op thread on both sides, so that runs are comparable bit for bit. */
  static final ServiceSettings SETTINGS = new ServiceSettings("cpu", 1, 1, 4);

  static SparkSession spark;
  static final SparkGeneration GEN = new SparkGeneration(ModelSet.bundledDemo(), SETTINGS);

  @BeforeAll
  static void start() {
    spark = SparkSessions.start("local[2,3]");
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  /** prompts x seeds with the test's iterations and cutouts, in {@code partitions} partitions. */
  static Dataset<Row> requests(List<String> prompts, List<Long> seeds, int partitions) {
    List<Row> rows = new ArrayList<>();
    for (String p : prompts) {
      for (long s : seeds) {
        rows.add(RowFactory.create(p, s, ITERATIONS, CUTOUTS));
      }
    }
    var schema = new org.apache.spark.sql.types.StructType().add("prompt", "string").add("seed", "long").add("iterations", "int")
        .add("cutouts", "int");
    return spark.createDataFrame(rows, schema).repartition(partitions);
  }

  static List<Path> pngs(Path dir) throws Exception {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(p -> p.toString().endsWith(".png")).sorted().toList();
    }
  }

  static int[] pixels(BufferedImage img) {
    return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
  }

  @Test
  void picturesAreBitIdenticalToInProcessRuns(@TempDir Path out) throws Exception {
    List<String> prompts = DemoPrompts.test().subList(0, 12);
    List<Row> rows = GEN.generate(requests(prompts, List.of(0L, 1L), 2), out.toString()).collectAsList();
    assertEquals(24, rows.size());
    assertEquals(24, pngs(out).size(), "one picture per request");
    DemoGeneration.Settings s = new DemoGeneration.Settings(ITERATIONS, CUTOUTS, DemoGeneration.CUT_POW, DemoGeneration.AUGMENTATIONS,
        DemoGeneration.LEARNING_RATE, DemoModels.IMAGE_SIZE, 0, DemoGeneration.INIT, DemoGeneration.FRAME_WEIGHT);
    try (DemoModels.Bundle m = DemoModels.load(); DemoGeneration g = new DemoGeneration(m, ExecutionOptions.cpu().withThreads(1))) {
      for (Row r : rows) {
        assertEquals(Columns.GENERATED, r.getAs("status"), () -> "row " + r);
        assertNull(r.getAs("error"));
        RunResult in = g.run(DemoGeneration.request(r.getAs("prompt"), r.<Long>getAs("seed"), s).build());
        BufferedImage expected = Images.toImage(in.image());
        Path file = Path.of(java.net.URI.create(r.getAs("output")));
        BufferedImage written = Images.toImage(Images.read(file));
        assertArrayEquals(pixels(expected), pixels(written), () -> "pixels of " + file);
        assertEquals(PartitionRun.pixelsSha256(expected), r.getAs("pixels_sha256"));
        assertEquals(PartitionRun.sha256(Files.readAllBytes(file)), r.getAs("sha256"));
        assertEquals(ITERATIONS, (int) r.<Integer>getAs("iterations"));
        assertTrue(Double.isFinite(r.<Double>getAs("final_loss")));
        Map<String, Double> terms = scala.jdk.javaapi.CollectionConverters.asJava(r.<scala.collection.Map<String, Double>>getAs("final_losses"));
        assertTrue(!terms.isEmpty(), "loss terms by name");
      }
    }
  }

  /** Passes {@code n} rows on, then fails the task on its first attempt (Spark then retries it). */
  static final class FailFirstAttemptAfter implements java.util.Iterator<Row> {
    final java.util.Iterator<Row> in;
    final int n;
    int passed;

    FailFirstAttemptAfter(java.util.Iterator<Row> in, int n) {
      this.in = in;
      this.n = n;
    }

    @Override
    public boolean hasNext() {
      return in.hasNext();
    }

    @Override
    public Row next() {
      if (passed == n && TaskContext.get().attemptNumber() == 0) {
        throw new IllegalStateException("task failed on purpose after " + n + " outputs");
      }
      passed++;
      return in.next();
    }
  }

  @Test
  void aTaskFailedMidPartitionIsRetriedAndEveryOutputIsWrittenOnce(@TempDir Path out) throws Exception {
    Dataset<Row> requests = requests(DemoPrompts.test().subList(12, 16), List.of(0L, 1L), 2);
    Dataset<Row> failing = GEN.generate(requests, out.toString())
        .mapPartitions((MapPartitionsFunction<Row, Row>) rows -> new FailFirstAttemptAfter(rows, 2), Encoders.row(Columns.RESULT));
    List<Row> rows = failing.collectAsList();
    assertEquals(8, rows.size());
    int skipped = 0;
    for (Row r : rows) {
      assertEquals(1, (int) r.<Integer>getAs("attempt"), () -> "every task was retried once: " + r);
      assertTrue(List.of(Columns.GENERATED, Columns.SKIPPED).contains(r.<String>getAs("status")), () -> "row " + r);
      Path file = Path.of(java.net.URI.create(r.getAs("output")));
      assertEquals(PartitionRun.sha256(Files.readAllBytes(file)), r.getAs("sha256"));
      skipped += Columns.SKIPPED.equals(r.getAs("status")) ? 1 : 0;
    }
    // The failed attempts committed two outputs each before failing; their retries found them.
    assertEquals(4, skipped, "outputs of the failed attempts, skipped by the retries");
    List<Path> files = pngs(out);
    assertEquals(8, files.size(), "each output exactly once: " + files);
    assertEquals(8, rows.stream().map(r -> r.<String>getAs("output")).distinct().count());
    assertTrue(files.stream().noneMatch(f -> f.toString().contains(OutputStore.TEMPORARY)), "no temporary file left: " + files);

    // A re-run skips everything and leaves the files as they were.
    Map<Path, Long> times = new java.util.HashMap<>();
    for (Path f : files) {
      times.put(f, Files.getLastModifiedTime(f).toMillis());
    }
    List<Row> again = GEN.generate(requests, out.toString()).collectAsList();
    assertEquals(8, again.size());
    for (Row r : again) {
      assertEquals(Columns.SKIPPED, r.getAs("status"), () -> "row " + r);
      Row first = rows.stream().filter(x -> x.getAs("output").equals(r.getAs("output"))).findFirst().orElseThrow();
      assertEquals(first.<String>getAs("sha256"), r.getAs("sha256"));
      assertEquals(first.<String>getAs("pixels_sha256"), r.getAs("pixels_sha256"));
      assertEquals(first.<Double>getAs("final_loss"), r.<Double>getAs("final_loss"), "losses read back from the picture");
    }
    assertEquals(files, pngs(out));
    for (Path f : files) {
      assertEquals(times.get(f), Files.getLastModifiedTime(f).toMillis(), "unchanged: " + f);
    }
  }

  @Test
  void badRequestsBecomeErrorRowsAndTheRestComplete(@TempDir Path out) throws Exception {
    String p = "a red circle on a blue background";
    List<Row> in = List.of(
        RowFactory.create(p, 0L, null, null, ITERATIONS, CUTOUTS, null, null, null, null, null),
        RowFactory.create("", 0L, null, null, ITERATIONS, CUTOUTS, null, null, null, null, null),
        RowFactory.create(p, -1L, null, null, ITERATIONS, CUTOUTS, null, null, null, null, null),
        RowFactory.create(p, 1L, 33, 32, ITERATIONS, CUTOUTS, null, null, null, null, null),
        RowFactory.create(p, 2L, null, null, 0, CUTOUTS, null, null, null, null, null),
        RowFactory.create(p, 3L, null, null, ITERATIONS, CUTOUTS, null, null, "nope", null, null),
        RowFactory.create(p, 4L, null, null, ITERATIONS, 5000, null, null, null, null, null),
        RowFactory.create(p, 5L, null, null, ITERATIONS, CUTOUTS, null, "Af,Xx", null, null, null),
        RowFactory.create(p, 6L, null, null, ITERATIONS, CUTOUTS, null, null, null, null, null));
    List<Row> rows = GEN.generate(spark.createDataFrame(in, Columns.REQUEST).coalesce(1), out.toString()).collectAsList();
    assertEquals(in.size(), rows.size());
    String[] mentions = {null, "prompt", "seed", "width", "iterations", "optimizer", "cutouts", "Xx", null};
    for (int i = 0; i < rows.size(); i++) {
      Row r = rows.get(i);
      if (mentions[i] == null) {
        assertEquals(Columns.GENERATED, r.getAs("status"), () -> "row " + r);
      } else {
        String m = mentions[i];
        assertEquals(Columns.FAILED, r.getAs("status"), () -> "row " + r);
        assertNull(r.getAs("output"));
        assertTrue(r.<String>getAs("error").contains(m), () -> "error names " + m + ": " + r.getAs("error"));
      }
    }
    assertEquals(2, pngs(out).size());
  }

  @Test
  void batchCommandWritesPicturesTableAndSheetsAndARerunSkipsAll(@TempDir Path dir) throws Exception {
    Path prompts = dir.resolve("prompts.txt");
    Files.writeString(prompts, "# two prompts\na red circle on a blue background\n\na green star on a cyan background\n");
    Path out = dir.resolve("out");
    String[] args = {prompts.toString(), "--seeds", "0-1", "-o", out.toString(), "-i", "" + ITERATIONS, "--cutouts", "" + CUTOUTS,
        "--threads", "1", "--batch", "4"};
    java.io.StringWriter err = new java.io.StringWriter();
    var cl = BatchMain.commandLine();
    cl.setErr(new java.io.PrintWriter(err));
    assertEquals(0, cl.execute(args), () -> "stderr: " + err);
    assertEquals(4, pngs(out.resolve(BatchJob.IMAGES)).size());
    assertEquals(2, pngs(out.resolve(BatchJob.SHEETS)).size(), "a contact sheet per prompt");
    assertTrue(Files.notExists(out.resolve(BatchJob.IMAGES).resolve(OutputStore.TEMPORARY)));
    assertTrue(Files.notExists(out.resolve(BatchJob.SHEETS).resolve(OutputStore.TEMPORARY)));
    Dataset<Row> table = spark.read().parquet(out.resolve(BatchJob.RESULTS_PARQUET).toString());
    assertEquals(4, table.filter("status = 'generated'").count());
    List<Path> csv;
    try (Stream<Path> s = Files.list(out.resolve(BatchJob.RESULTS_CSV))) {
      csv = s.filter(p -> p.toString().endsWith(".csv")).toList();
    }
    assertEquals(1, csv.size());
    assertEquals(4, spark.read().option("header", "true").option("multiLine", "true").option("escape", "\"").csv(csv.get(0).toString())
        .filter("status = 'generated'").count());

    assertEquals(0, BatchMain.commandLine().execute(args));
    assertEquals(4, spark.read().parquet(out.resolve(BatchJob.RESULTS_PARQUET).toString()).filter("status = 'skipped'").count());
    assertEquals(4, pngs(out.resolve(BatchJob.IMAGES)).size());

    java.io.StringWriter usage = new java.io.StringWriter();
    var bad = BatchMain.commandLine();
    bad.setErr(new java.io.PrintWriter(usage));
    assertEquals(2, bad.execute(prompts.toString(), "--seeds", "3-1", "-o", out.toString()));
    assertTrue(usage.toString().contains("--seeds"), usage::toString);
  }
}
