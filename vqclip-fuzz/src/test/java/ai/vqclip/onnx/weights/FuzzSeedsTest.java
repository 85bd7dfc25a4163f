package ai.vqclip.onnx.weights;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every fuzz target has committed seeds; with -Dvqclip.fuzz.writeSeeds=true, (re)writes them first. */
class FuzzSeedsTest {
  @Test
  void everyTargetHasSeeds(@TempDir Path tmp) throws IOException {
    if (Boolean.getBoolean("vqclip.fuzz.writeSeeds")) {
      FuzzSeeds.writeAll(FuzzSeeds.RESOURCES, tmp);
    }
    for (String t : FuzzSeeds.TARGETS) {
      Path d = FuzzSeeds.inputs(FuzzSeeds.RESOURCES, t);
      try (Stream<Path> files = Files.isDirectory(d) ? Files.list(d) : Stream.empty()) {
        assertTrue(files.findAny().isPresent(), "no seeds for " + t + " in " + d);
      }
    }
  }
}
