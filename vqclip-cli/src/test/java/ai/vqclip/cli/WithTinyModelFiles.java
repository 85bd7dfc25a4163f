package ai.vqclip.cli;

import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** Command tests on the tiny model files: written once per test class; each test gets its own folder {@link #dir}. */
abstract class WithTinyModelFiles {
  @TempDir static Path models;

  static TinyModelFiles files;

  @TempDir Path dir;

  @BeforeAll
  static void writeModels() {
    files = TinyModelFiles.write(models);
  }
}
