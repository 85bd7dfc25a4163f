package ai.vqclip.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.image.Images;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code vqclip generate --batch N}: several runs advanced in one batched step give the images they give alone. */
class BatchedStepGenerateTest extends WithTinyModelFiles {

  @Test
  void batchedRunsWriteTheImagesOfTheSameRunsAlone() throws Exception {
    Path out = dir.resolve("batch");
    Cli.Run r = Cli.run(files.args("generate", "-p", "a red circle", "-p", "a cat|blurry:-0.5", "--seeds", "3-4", "-i", "3",
        "--batch", "4", "--progress", "-o", out.toString()));
    assertEquals(0, r.exit(), r.toString());
    assertEquals(4, r.out().split("in a batch of 4", -1).length - 1, "all four runs advanced together: " + r.out());
    List<String> names = List.of("a-red-circle-3.png", "a-red-circle-4.png", "a-cat-3.png", "a-cat-4.png");
    for (String n : names) {
      assertTrue(Files.isRegularFile(out.resolve(n)), n + " in " + r);
    }
    for (String[] run : new String[][] {{"a cat|blurry:-0.5", "4", "a-cat-4.png"}, {"a red circle", "3", "a-red-circle-3.png"}}) {
      Path single = dir.resolve("single-" + run[2]);
      Cli.Run s = Cli.run(files.args("generate", run[0], "--seed", run[1], "-i", "3", "-o", single.toString()));
      assertEquals(0, s.exit(), s.toString());
      assertArrayEquals(Images.read(single).toFloats(), Images.read(out.resolve(run[2])).toFloats(), run[2]);
    }
  }

  @Test
  void badBatchValuesAreUsageErrors() {
    Cli.Run r = Cli.run(files.args("generate", "a cat", "--batch", "2", "-i", "1"));
    assertEquals(2, r.exit(), r.toString());
    assertTrue(r.err().contains("--batch applies to several runs"), r.err());
    r = Cli.run(files.args("generate", "a cat", "--seeds", "1-2", "--batch", "0", "-i", "1"));
    assertEquals(2, r.exit(), r.toString());
    assertTrue(r.err().contains("--batch must be in [1, 64], got 0"), r.err());
  }
}
