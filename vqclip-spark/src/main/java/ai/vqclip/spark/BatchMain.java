package ai.vqclip.spark;

import ai.vqclip.cli.BatchPlan;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code vqclip batch}: every prompt of a file with every seed, on Spark. The spark-submit main
 * class ({@code spark-submit --class ai.vqclip.spark.BatchMain vqclip-spark-VERSION-all.jar
 * PROMPTS_FILE ...}); {@code ./vqclip batch} runs it with Spark on the class path. Exit codes: 0
 * every request done, 1 some failed (their rows say why), 2 bad usage.
 */
@Command(name = "vqclip batch", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Generates every prompt of PROMPTS_FILE with every seed on Apache Spark: the pictures in DIR/images/, the results table "
        + "in DIR/results.parquet and DIR/results.csv, a contact sheet per prompt in DIR/sheets/. Pictures already there are skipped, "
        + "so a failed or stopped job continues where it ended when run again."},
    footerHeading = "%nExamples:%n",
    footer = {"  ./vqclip batch docs/demo-prompts-test.txt --seeds 0-3 -o out --spark 'local[*]'",
        "  spark-submit --master spark://host:7077 --class ai.vqclip.spark.BatchMain vqclip-spark-all.jar prompts.txt --seeds 0-99 "
            + "-o hdfs:///out --vqgan hdfs:///models/vqgan.ckpt --vqgan-config hdfs:///models/model.yaml --clip hdfs:///models/ViT-B-32.pt "
            + "--vocab hdfs:///models/bpe_simple_vocab_16e6.txt.gz"})
public final class BatchMain implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "PROMPTS_FILE", description = "UTF-8 text, one prompt per line (blank lines and # comments skipped).")
  Path promptsFile;

  @Option(names = "--seeds", defaultValue = "0", paramLabel = "LIST", description = "Seeds, e.g. 0-3 or 1,5,9-12 (default: ${DEFAULT-VALUE}).")
  String seeds;

  @Option(names = {"-o", "--output"}, required = true, paramLabel = "DIR", description = "Output folder: a local path (shared by every "
      + "executor) or a Hadoop URI (hdfs://, s3a://).")
  String output;

  @Option(names = "--spark", paramLabel = "MASTER", description = "Spark master, e.g. local[*], spark://host:7077, k8s://https://host:443 "
      + "(default: spark-submit's --master, else local[*]).")
  String master;

  @Option(names = {"-i", "--iterations"}, paramLabel = "N", description = "Iterations (default: the models').")
  Integer iterations;

  @Option(names = "--cutouts", paramLabel = "N", description = "Cutouts per step (default: the models').")
  Integer cutouts;

  @Option(names = {"-s", "--size"}, arity = "2", paramLabel = "PX", description = "Width and height (default: the models').")
  List<Integer> size;

  @Option(names = "--cut-pow", paramLabel = "X", description = "Crop-size exponent (default: the models').")
  Double cutPow;

  @Option(names = "--augments", paramLabel = "CODES", description = "Augmentation codes, e.g. Af,Pe,Ji,Er (default: the models').")
  String augments;

  @Option(names = "--optimizer", paramLabel = "NAME", description = "Optimizer (default: adam).")
  String optimizer;

  @Option(names = "--lr", paramLabel = "X", description = "Learning rate (default: the optimizer's).")
  Double lr;

  @Option(names = "--demo-models", paramLabel = "DIR", description = "Demo models written by vqclip train-demo, instead of the bundled ones.")
  String demoModels;

  @Option(names = "--vqgan", paramLabel = "FILE", description = "VQGAN weights.")
  String vqgan;

  @Option(names = "--vqgan-config", paramLabel = "FILE", description = "taming model.yaml of the VQGAN.")
  String vqganConfig;

  @Option(names = "--clip", paramLabel = "FILE", description = "CLIP weights (repeat for an ensemble).")
  List<String> clip = new ArrayList<>();

  @Option(names = "--vocab", paramLabel = "FILE", description = "CLIP BPE vocabulary.")
  String vocab;

  @Option(names = "--device", defaultValue = "cpu", paramLabel = "DEV", description = "cpu, cuda or cuda:N on every executor (default: ${DEFAULT-VALUE}).")
  String device;

  @Option(names = "--threads", defaultValue = "0", paramLabel = "N", description = "Threads per ONNX Runtime op on each executor (0: the runtime's choice).")
  int threads;

  @Option(names = "--jobs", defaultValue = "1", paramLabel = "N", description = "Runs at once per executor (default: ${DEFAULT-VALUE}).")
  int jobs;

  @Option(names = "--batch", defaultValue = "8", paramLabel = "N", description = "Runs of the same shape advanced together (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--partitions", defaultValue = "0", paramLabel = "N", description = "Tasks the requests are split into (0: as many as "
      + "prompts, at most Spark's default parallelism x 4).")
  int partitions;

  /** Public for picocli. */
  public BatchMain() {}

  /**
   * Runs the command and exits the JVM with its exit code.
   *
   * @param args the command line
   */
  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** @return the command line, with errors printed as one line (exit 2 for usage errors) */
  static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new BatchMain());
    cl.setExecutionExceptionHandler((e, c, parsed) -> {
      boolean usage = e instanceof IllegalArgumentException || e.getClass().getSimpleName().equals("UsageException");
      c.getErr().println("vqclip batch: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
      return usage ? 2 : 1;
    });
    return cl;
  }

  @Override
  public Integer call() {
    List<String> prompts = BatchPlan.prompts(List.of(), List.of(), promptsFile);
    List<Long> seedList = BatchPlan.seeds(seeds);
    ModelSet models = new ModelSet(demoModels, vqgan, vqganConfig, clip, vocab);
    ServiceSettings settings = new ServiceSettings(device, threads, jobs, batch);
    SparkSession.Builder b = SparkSession.builder().appName("vqclip batch");
    if (master != null) {
      b.master(master);
    } else if (System.getProperty("spark.master") == null) {
      b.master("local[*]");
    }
    // Under spark-submit or in a test the session may exist already: then it is not ours to stop.
    boolean own = SparkSession.getDefaultSession().isEmpty();
    SparkSession spark = b.getOrCreate();
    try {
      List<Row> rows = new ArrayList<>();
      for (String p : prompts) {
        for (long s : seedList) {
          rows.add(RowFactory.create(p, s, size == null ? null : size.get(0), size == null ? null : size.get(1), iterations, cutouts, cutPow, augments,
              optimizer, lr, null));
        }
      }
      Dataset<Row> requests = spark.createDataFrame(rows, Columns.REQUEST);
      int parts = partitions > 0 ? partitions : Math.max(1, Math.min(prompts.size(), spark.sparkContext().defaultParallelism() * 4));
      Dataset<Row> results = new BatchJob(new SparkGeneration(models, settings), output, parts).run(requests);
      System.out.println(String.format(Locale.ROOT, "vqclip batch: %d requests (%d prompts x %d seeds) in %s: %s", rows.size(), prompts.size(),
          seedList.size(), output, BatchJob.summary(results)));
      for (Row r : results.filter("status = 'failed'").select("prompt", "seed", "error").limit(20).collectAsList()) {
        System.err.println("vqclip batch: failed: '" + r.getString(0) + "' seed " + r.get(1) + ": " + r.getString(2));
      }
      return results.filter("status = 'failed'").isEmpty() ? 0 : 1;
    } finally {
      if (own) {
        spark.stop();
      }
    }
  }
}
