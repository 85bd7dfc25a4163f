package ai.vqclip.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/** The columns of request and result Datasets. */
public final class Columns {
  private Columns() {}

  /**
   * Request columns: {@code prompt} and {@code seed} are required; every other one may be missing
   * or null, and then takes the models' run default (as {@code vqclip generate} does): {@code
   * width}, {@code height}, {@code iterations}, {@code cutouts}, {@code cut_pow}, {@code
   * augmentations} (codes separated by commas, e.g. {@code "Af,Pe,Border"}; empty: none), {@code
   * optimizer} (default adam), {@code learning_rate} (default: the optimizer's) and {@code tv_weight}
   * (default 0).
   */
  public static final StructType REQUEST = new StructType()
      .add("prompt", DataTypes.StringType, false)
      .add("seed", DataTypes.LongType, false)
      .add("width", DataTypes.IntegerType)
      .add("height", DataTypes.IntegerType)
      .add("iterations", DataTypes.IntegerType)
      .add("cutouts", DataTypes.IntegerType)
      .add("cut_pow", DataTypes.DoubleType)
      .add("augmentations", DataTypes.StringType)
      .add("optimizer", DataTypes.StringType)
      .add("learning_rate", DataTypes.DoubleType)
      .add("tv_weight", DataTypes.DoubleType);

  /**
   * Result columns, one row per request: the request's {@code prompt} and {@code seed}; {@code
   * status} ({@code generated}, {@code skipped}: its output was already there, or {@code failed});
   * {@code output} (the PNG's location); {@code sha256} (of the PNG file) and {@code pixels_sha256}
   * (of its 8-bit RGB pixels, row by row: equal for bit-identical pictures whatever their metadata);
   * {@code width}, {@code height}, {@code iterations} (run); {@code final_loss} and {@code
   * final_losses} (each term by name) of the last step; the timings {@code model_load_ms} (the
   * task's wait for its executor's models, on one row of the task, 0 on the others and once loaded), {@code run_ms} (the run itself), {@code
   * write_ms} and {@code total_ms} (from the row's arrival to its output written); {@code manifest}
   * (the run manifest as JSON); {@code error} (why it failed, else null); {@code attempt} (Spark's
   * task attempt number) and {@code executor}.
   */
  public static final StructType RESULT = new StructType()
      .add("prompt", DataTypes.StringType)
      .add("seed", DataTypes.LongType)
      .add("status", DataTypes.StringType, false)
      .add("output", DataTypes.StringType)
      .add("sha256", DataTypes.StringType)
      .add("pixels_sha256", DataTypes.StringType)
      .add("width", DataTypes.IntegerType)
      .add("height", DataTypes.IntegerType)
      .add("iterations", DataTypes.IntegerType)
      .add("final_loss", DataTypes.DoubleType)
      .add("final_losses", DataTypes.createMapType(DataTypes.StringType, DataTypes.DoubleType))
      .add("model_load_ms", DataTypes.LongType)
      .add("run_ms", DataTypes.LongType)
      .add("write_ms", DataTypes.LongType)
      .add("total_ms", DataTypes.LongType)
      .add("manifest", DataTypes.StringType)
      .add("error", DataTypes.StringType)
      .add("attempt", DataTypes.IntegerType)
      .add("executor", DataTypes.StringType);

  /** Status of a run that wrote its output. */
  public static final String GENERATED = "generated";

  /** Status of a request whose output was already there. */
  public static final String SKIPPED = "skipped";

  /** Status of a request that failed (its {@code error} says why). */
  public static final String FAILED = "failed";

  /**
   * The requests with exactly the {@link #REQUEST} columns, in order, each cast to its type;
   * missing optional columns are added as nulls, other columns are dropped.
   *
   * @param requests a Dataset with at least {@code prompt} and {@code seed}
   * @return the normalized Dataset
   * @throws IllegalArgumentException when {@code prompt} or {@code seed} is missing
   */
  public static Dataset<Row> normalize(Dataset<Row> requests) {
    List<String> have = Arrays.asList(requests.columns());
    List<Column> cols = new ArrayList<>();
    for (var f : REQUEST.fields()) {
      if (have.contains(f.name())) {
        cols.add(col(f.name()).cast(f.dataType()).as(f.name()));
      } else if (f.nullable()) {
        cols.add(lit(null).cast(f.dataType()).as(f.name()));
      } else {
        throw new IllegalArgumentException("requests: column '" + f.name() + "' is required; the Dataset has " + have);
      }
    }
    return requests.select(cols.toArray(new Column[0]));
  }
}
