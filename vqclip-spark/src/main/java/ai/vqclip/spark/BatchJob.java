package ai.vqclip.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.to_json;

import ai.vqclip.cli.ContactSheet;
import ai.vqclip.cli.OutputNames;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import javax.imageio.ImageIO;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;

/**
 * A whole batch into one output folder: the pictures in {@code images/}, the results table as
 * Parquet ({@code results.parquet}) and CSV ({@code results.csv}, {@code final_losses} as JSON),
 * and a contact sheet per prompt in {@code sheets/} (its seeds side by side). The results are
 * computed once (written to Parquet and read back); running the job again skips every picture
 * already there and rewrites the table and sheets.
 *
 * @param generation the models and executor settings
 * @param outputDir the output folder (local path on a shared file system, or a Hadoop URI)
 * @param partitions how many tasks the requests are split into (0: keep the Dataset's partitions)
 */
public record BatchJob(SparkGeneration generation, String outputDir, int partitions) {
  /** Pictures' folder under the output folder. */
  public static final String IMAGES = "images";

  /** Contact sheets' folder under the output folder. */
  public static final String SHEETS = "sheets";

  /** The results table as Parquet. */
  public static final String RESULTS_PARQUET = "results.parquet";

  /** The results table as CSV (a folder with one part file). */
  public static final String RESULTS_CSV = "results.csv";

  /**
   * Validates.
   *
   * @param generation the models and executor settings
   * @param outputDir the output folder
   * @param partitions how many tasks the requests are split into, in [0, 100000] (0: as they are)
   * @throws IllegalArgumentException for partitions out of range
   */
  public BatchJob {
    Objects.requireNonNull(generation, "generation");
    Objects.requireNonNull(outputDir, "outputDir");
    if (partitions < 0 || partitions > 100_000) {
      throw new IllegalArgumentException("partitions must be in [0, 100000], got " + partitions);
    }
  }

  /**
   * Runs the requests and writes the table and sheets.
   *
   * @param requests with the {@link Columns#REQUEST} columns
   * @return the results, as written to {@code results.parquet}
   */
  public Dataset<Row> run(Dataset<Row> requests) {
    var spark = requests.sparkSession();
    String base = outputDir.endsWith("/") ? outputDir : outputDir + "/";
    String images = base + IMAGES;
    Dataset<Row> in = partitions > 0 ? requests.repartition(partitions) : requests;
    generation.generate(in, images).write().mode(SaveMode.Overwrite).parquet(base + RESULTS_PARQUET);
    Dataset<Row> results = spark.read().parquet(base + RESULTS_PARQUET);
    results.withColumn("final_losses", to_json(col("final_losses"))).coalesce(1).write().mode(SaveMode.Overwrite).option("header", "true")
        .option("escape", "\"").csv(base + RESULTS_CSV);
    Map<String, String> conf = SparkGeneration.hadoopConf(spark);
    // Every task has ended: what is left in the temporary folder belongs to killed attempts.
    new OutputStore(images, conf).removeTemporary();
    OutputStore sheets = new OutputStore(base + SHEETS, conf);
    writeSheets(results, sheets, new OutputStore(images, conf));
    sheets.removeTemporary();
    return results;
  }

  /** One contact sheet per prompt, its seeds in order, read from the pictures written. */
  private static void writeSheets(Dataset<Row> results, OutputStore sheets, OutputStore images) {
    Map<String, List<Row>> byPrompt = new LinkedHashMap<>();
    for (Row r : results.select("prompt", "seed", "status", "output", "error").orderBy("prompt", "seed").collectAsList()) {
      if (r.getString(0) != null) {
        byPrompt.computeIfAbsent(r.getString(0), k -> new ArrayList<>()).add(r);
      }
    }
    for (var e : byPrompt.entrySet()) {
      List<ContactSheet.Cell> cells = new ArrayList<>();
      for (Row r : e.getValue().subList(0, Math.min(e.getValue().size(), ContactSheet.MAX_CELLS))) {
        BufferedImage img = null;
        if (r.getString(3) != null) {
          String name = r.getString(3).substring(r.getString(3).lastIndexOf('/') + 1);
          img = decode(images.read(name));
        }
        String caption = "seed " + r.getLong(1) + (Columns.FAILED.equals(r.getString(2)) ? ": " + r.getString(4) : "");
        cells.add(new ContactSheet.Cell(img, caption));
      }
      BufferedImage sheet = ContactSheet.compose(cells, Math.min(cells.size(), 8));
      String slug = OutputNames.fromPrompt(e.getKey());
      String name = slug.substring(0, slug.length() - 4) + "-" + Stager.digest(e.getKey()).substring(0, 12) + ".png";
      sheets.replace(name, encode(sheet), "sheet");
    }
  }

  private static BufferedImage decode(byte[] png) {
    try {
      return ImageIO.read(new ByteArrayInputStream(png));
    } catch (IOException e) {
      return null; // the cell says "missing"
    }
  }

  private static byte[] encode(BufferedImage img) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ImageIO.write(img, "png", out);
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot encode a contact sheet: " + e.getMessage(), e);
    }
  }

  /**
   * A one-line summary of results.
   *
   * @param results rows of {@link Columns#RESULT}
   * @return how many were generated, skipped and failed
   */
  public static String summary(Dataset<Row> results) {
    Map<String, Long> n = new LinkedHashMap<>();
    for (String s : List.of(Columns.GENERATED, Columns.SKIPPED, Columns.FAILED)) {
      n.put(s, 0L);
    }
    for (Row r : results.groupBy("status").count().collectAsList()) {
      n.put(r.getString(0), r.getLong(1));
    }
    return String.format(Locale.ROOT, "%d generated, %d skipped (already there), %d failed", n.get(Columns.GENERATED), n.get(Columns.SKIPPED),
        n.get(Columns.FAILED));
  }
}
