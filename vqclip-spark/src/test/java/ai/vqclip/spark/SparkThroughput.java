package ai.vqclip.spark;

import ai.vqclip.core.pipeline.GenerationJob;
import ai.vqclip.demo.eval.DemoPrompts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;

/**
 * Benchmark run by hand (not a test): images per minute of the same requests through the
 * in-process generation service and through Spark on {@code local[2]}, in one JVM, after a warm-up
 * that loads the models; and Spark's overhead per task, (Spark's time - in-process time) / tasks.
 * Both go through the same loaded models and service ({@link ExecutorModels}), so the difference
 * is Spark's: scheduling, (de)serialization, the output checks and the PNG commits.
 *
 * <p>How to run it: docs/scale-out.md (Measured).
 */
public final class SparkThroughput {
  private SparkThroughput() {}

  /**
   * Runs the benchmark and prints the numbers.
   *
   * @param args prompts, seeds, iterations, partitions (defaults 8 2 10 4)
   * @throws Exception on failure
   */
  public static void main(String[] args) throws Exception {
    int prompts = args.length > 0 ? Integer.parseInt(args[0]) : 8;
    int seeds = args.length > 1 ? Integer.parseInt(args[1]) : 2;
    int iterations = args.length > 2 ? Integer.parseInt(args[2]) : 10;
    int partitions = args.length > 3 ? Integer.parseInt(args[3]) : 4;
    ServiceSettings settings = ServiceSettings.defaults();
    SparkGeneration gen = new SparkGeneration(ModelSet.bundledDemo(), settings);
    SparkSession spark = SparkSessions.start("local[2]");
    try {
      List<Row> rows = new ArrayList<>();
      List<RequestSpec> specs = new ArrayList<>();
      for (String p : DemoPrompts.test().subList(0, prompts)) {
        for (long s = 0; s < seeds; s++) {
          rows.add(RowFactory.create(p, s, null, null, iterations, null, null, null, null, null, null));
        }
      }
      Dataset<Row> requests = spark.createDataFrame(rows, Columns.REQUEST).repartition(partitions).cache();
      requests.count();
      Path tmp = Files.createTempDirectory("vqclip-spark-bench");
      // Warm-up: loads the models into this JVM's cache and compiles the step graphs.
      long tw = System.nanoTime();
      gen.generate(requests.limit(2), tmp.resolve("warm").toString()).collectAsList();
      double warm = (System.nanoTime() - tw) / 1e9;

      ExecutorModels.Loaded loaded = ExecutorModels.get(ModelSet.bundledDemo(), settings, SparkGeneration.hadoopConf(spark));
      for (Row r : Columns.normalize(spark.createDataFrame(rows, Columns.REQUEST)).collectAsList()) {
        specs.add(RequestSpec.of(r, loaded.defaults(), loaded.sizeStep()));
      }
      long t0 = System.nanoTime();
      List<GenerationJob> jobs = new ArrayList<>();
      for (RequestSpec s : specs) {
        jobs.add(loaded.service().submit(s.request()));
      }
      for (GenerationJob j : jobs) {
        j.result().join();
      }
      double inProcess = (System.nanoTime() - t0) / 1e9;

      long t1 = System.nanoTime();
      List<Row> out = gen.generate(requests, tmp.resolve("spark").toString()).collectAsList();
      double onSpark = (System.nanoTime() - t1) / 1e9;
      long generated = out.stream().filter(r -> Columns.GENERATED.equals(r.getAs("status"))).count();

      long t2 = System.nanoTime();
      gen.generate(requests, tmp.resolve("spark").toString()).collectAsList();
      double rerun = (System.nanoTime() - t2) / 1e9;

      int n = specs.size();
      System.out.printf(Locale.ROOT, "requests %d (%d prompts x %d seeds, %d iterations, demo models), %d partitions, %s%n", n, prompts, seeds,
          iterations, partitions, settings);
      System.out.printf(Locale.ROOT, "warm-up (model load + first runs): %.1f s%n", warm);
      System.out.printf(Locale.ROOT, "in-process service: %.1f s, %.1f images/min%n", inProcess, n * 60 / inProcess);
      System.out.printf(Locale.ROOT, "spark local[2]:     %.1f s, %.1f images/min (%d generated), ratio %.2f of in-process%n", onSpark,
          n * 60 / onSpark, generated, inProcess / onSpark);
      System.out.printf(Locale.ROOT, "spark overhead per task: %.2f s ((spark - in-process) / %d tasks)%n", (onSpark - inProcess) / partitions,
          partitions);
      System.out.printf(Locale.ROOT, "re-run, everything skipped: %.1f s (%.2f s per task)%n", rerun, rerun / partitions);
    } finally {
      spark.stop();
      ExecutorModels.closeAll();
    }
  }
}
