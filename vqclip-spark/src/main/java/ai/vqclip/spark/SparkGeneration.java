package ai.vqclip.spark;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;

/**
 * Generation as a Spark transformation: a Dataset of requests ({@link Columns#REQUEST}) becomes a
 * Dataset of results ({@link Columns#RESULT}), one row per request, in the same partitions.
 *
 * <pre>{@code
 * SparkGeneration gen = new SparkGeneration(ModelSet.demo("hdfs:///models/demo"), ServiceSettings.defaults());
 * Dataset<Row> requests = SparkGeneration.requests(spark, List.of("a red circle", "a blue square"), List.of(0L, 1L));
 * Dataset<Row> results = gen.generate(requests, "hdfs:///out/images");
 * results.write().parquet("hdfs:///out/results.parquet");
 * }</pre>
 *
 * <p>Each executor JVM loads the models once (lazily, per model set) and runs its partitions
 * through one shared {@link ai.vqclip.core.pipeline.GenerationService}, which batches runs of the
 * same shape. Outputs are written atomically under deterministic names ({@code
 * SLUG-HASH-SEED.png}: the hash covers the prompt and every setting but the seed), so a retried task
 * or a re-run skips what is done ({@code status} {@code skipped}) and never leaves a partial or
 * duplicate file; a request that fails becomes a row with its {@code error}, not a failed job. The
 * pictures are bit-identical to the same requests run in one process with the same thread count.
 *
 * <p>The transformation is lazy and every evaluation runs it again (a second one skips everything
 * the first wrote): write the results out once, as {@link BatchJob} does.
 *
 * @param models the models every executor loads
 * @param settings how each executor runs the requests
 */
public record SparkGeneration(ModelSet models, ServiceSettings settings) {
  /**
   * Validates.
   *
   * @param models the models every executor loads
   * @param settings how each executor runs the requests
   * @throws NullPointerException for a null argument
   */
  public SparkGeneration {
    Objects.requireNonNull(models, "models");
    Objects.requireNonNull(settings, "settings");
  }

  /**
   * The results of running {@code requests}, writing the pictures into {@code outputDir} (lazy).
   *
   * @param requests with the {@link Columns#REQUEST} columns ({@code prompt} and {@code seed} at least)
   * @param outputDir a folder every executor can write (local path on a shared file system, or a Hadoop URI)
   * @return one {@link Columns#RESULT} row per request
   * @throws IllegalArgumentException when a required column is missing
   */
  public Dataset<Row> generate(Dataset<Row> requests, String outputDir) {
    Objects.requireNonNull(outputDir, "outputDir");
    JobSpec job = new JobSpec(models, settings, outputDir, hadoopConf(requests.sparkSession()));
    return Columns.normalize(requests).mapPartitions((MapPartitionsFunction<Row, Row>) rows -> new PartitionRun(rows, job),
        Encoders.row(Columns.RESULT));
  }

  /**
   * Every prompt with every seed, the other columns empty (the models' defaults), prompt by prompt.
   *
   * @param spark the session
   * @param prompts prompt texts
   * @param seeds seeds
   * @return a Dataset with the {@link Columns#REQUEST} columns
   */
  public static Dataset<Row> requests(SparkSession spark, List<String> prompts, List<Long> seeds) {
    List<Row> rows = new ArrayList<>(prompts.size() * seeds.size());
    for (String p : prompts) {
      for (long s : seeds) {
        rows.add(RowFactory.create(p, s, null, null, null, null, null, null, null, null, null));
      }
    }
    return spark.createDataFrame(rows, Columns.REQUEST);
  }

  /** The session's Hadoop settings as a serializable map, for executors to reach the same file systems. */
  static Map<String, String> hadoopConf(SparkSession spark) {
    Map<String, String> m = new HashMap<>();
    for (Map.Entry<String, String> e : spark.sparkContext().hadoopConfiguration()) {
      m.put(e.getKey(), e.getValue());
    }
    return m;
  }
}
