package ai.vqclip.cli;

import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

/**
 * {@code vqclip batch}: runs on Apache Spark, which this jar does not carry (Spark is large and a
 * cluster brings its own). The {@code ./vqclip} launcher runs {@code batch} from vqclip-spark with
 * Spark on the class path; this entry says so when the CLI jar is run directly.
 */
@Command(
    name = "batch",
    mixinStandardHelpOptions = true,
    description = {"Generates every prompt of a file with every seed on Apache Spark (vqclip-spark): "
        + "./vqclip batch PROMPTS_FILE --seeds 0-3 -o DIR --spark 'local[*]'. The launcher script runs it; this jar has no Spark. "
        + "See docs/scale-out.md."})
final class BatchCommand implements Callable<Integer> {
  /** The message when run from the CLI jar. */
  static final String HOW = "batch runs on Apache Spark, which this jar does not include: run it with the launcher "
      + "(./vqclip batch PROMPTS_FILE --seeds 0-3 -o DIR --spark 'local[*]'), or with spark-submit --class ai.vqclip.spark.BatchMain "
      + "vqclip-spark/target/vqclip-spark-VERSION-all.jar PROMPTS_FILE ... (docs/scale-out.md)";

  @Unmatched List<String> args;

  @Override
  public Integer call() {
    throw new UsageException(HOW);
  }
}
