package ai.vqclip.demo.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What a training run did, written next to the weights as JSON so the run can be checked and
 * repeated: model, seed, steps, batch, learning rate, the loss curve (mean per logging interval),
 * wall time, the model and training settings, and evaluation figures.
 *
 * @param model which model ("vqgan" or "clip")
 * @param seed the seed everything random derives from
 * @param steps optimizer steps taken
 * @param batch pictures per step
 * @param learningRate peak learning rate
 * @param logEvery steps per entry of {@code losses}
 * @param losses mean loss of each logging interval
 * @param seconds wall time of the training loop
 * @param parameters trained scalars
 * @param settings model and training settings
 * @param metrics evaluation figures (e.g. held-out reconstruction error, zero-shot accuracy)
 * @param runtime backend name and version, Java version, threads
 */
public record TrainingManifest(
    String model,
    long seed,
    int steps,
    int batch,
    double learningRate,
    int logEvery,
    List<Double> losses,
    double seconds,
    long parameters,
    Map<String, Object> settings,
    Map<String, Object> metrics,
    Map<String, String> runtime) {

  public TrainingManifest {
    losses = List.copyOf(losses);
    settings = Map.copyOf(settings);
    metrics = Map.copyOf(metrics);
    runtime = Map.copyOf(runtime);
  }

  /** Writes the manifest as indented JSON with sorted keys. */
  public void write(Path file) {
    try {
      ObjectMapper m = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);
      Files.createDirectories(file.toAbsolutePath().getParent());
      m.writeValue(file.toFile(), this);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write training manifest " + file, e);
    }
  }

  /** Reads a manifest written by {@link #write}. */
  public static TrainingManifest read(Path file) {
    try {
      return new ObjectMapper().readValue(file.toFile(), TrainingManifest.class);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read training manifest " + file, e);
    }
  }
}
