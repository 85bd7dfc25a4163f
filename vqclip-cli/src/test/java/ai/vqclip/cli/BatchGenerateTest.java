package ai.vqclip.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.image.Images;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code vqclip generate} with several prompts and seeds in one process (one model load, the generation service). */
class BatchGenerateTest extends WithTinyModelFiles {
  static final ObjectMapper JSON = new ObjectMapper();

  static float[] pixels(Path png) {
    return Images.read(png).toFloats();
  }

  @Test
  void promptsFileAndSeedRangeWriteOneDistinctImagePerRunIdenticalToSingleRuns() throws Exception {
    Path list = dir.resolve("prompts.txt");
    Files.writeString(list, "# two runs\na red circle\n\na cat|blurry:-0.5\n");
    Path out = dir.resolve("batch");
    Cli.Run r = Cli.run(files.args("generate", "-p", "a red circle", "--prompts-file", list.toString(), "--seeds", "3-4", "-i", "3",
        "--jobs", "2", "-o", out.toString()));
    assertEquals(0, r.exit(), r.toString());
    // The same prompt twice (once by -P, once in the file) gets distinct names; every run has its own seed.
    List<String> expected = List.of("a-red-circle-3.png", "a-red-circle-4.png", "a-red-circle-2-3.png", "a-red-circle-2-4.png",
        "a-cat-3.png", "a-cat-4.png");
    for (String n : expected) {
      assertTrue(Files.isRegularFile(out.resolve(n)), n + " in " + r);
    }
    try (var s = Files.list(out)) {
      assertEquals(expected.size(), s.count());
    }
    JsonNode m = JSON.readTree(Images.readPngText(out.resolve("a-cat-4.png")).get(Runner.MANIFEST_KEY));
    assertEquals(4, m.get("seed").asLong());
    assertEquals(3, m.get("iterationsRun").asInt());
    // A batch run's pixels are those of the same run alone.
    Path single = dir.resolve("single.png");
    Cli.Run s = Cli.run(files.args("generate", "a cat|blurry:-0.5", "--seed", "4", "-i", "3", "-o", single.toString()));
    assertEquals(0, s.exit(), s.toString());
    assertArrayEquals(pixels(single), pixels(out.resolve("a-cat-4.png")));
    assertArrayEquals(pixels(out.resolve("a-red-circle-3.png")), pixels(out.resolve("a-red-circle-2-3.png")));
  }

  @Test
  void badBatchOptionsAreUsageErrors() throws Exception {
    Cli.Run r = Cli.run(files.args("generate", "a cat", "--seeds", "5-2", "-i", "1"));
    assertEquals(2, r.exit(), r.toString());
    assertTrue(r.err().contains("--seeds") && r.err().contains("5-2"), r.err());
    r = Cli.run(files.args("generate", "a cat", "--seeds", "1,x", "-i", "1"));
    assertEquals(2, r.exit(), r.toString());
    assertTrue(r.err().contains("'x'"), r.err());
    r = Cli.run(files.args("generate", "-p", "a", "-p", "b", "-o", dir.resolve("x.png").toString(), "-i", "1"));
    assertEquals(2, r.exit(), r.toString());
    assertTrue(r.err().contains("names a folder"), r.err());
    r = Cli.run(files.args("generate", "a cat", "--seeds", "1-2", "--seed", "3", "-i", "1"));
    assertEquals(2, r.exit(), r.toString());
    assertTrue(r.err().contains("--seed or --seeds"), r.err());
    Path empty = dir.resolve("empty.txt");
    Files.writeString(empty, "# nothing\n\n");
    r = Cli.run(files.args("generate", "--prompts-file", empty.toString(), "-i", "1"));
    assertEquals(2, r.exit(), r.toString());
    assertTrue(r.err().contains("no prompts"), r.err());
    r = Cli.run(files.args("generate", "-i", "1"));
    assertEquals(2, r.exit(), r.toString());
    assertTrue(r.err().contains("no prompts"), r.err());
    assertEquals(List.of(1L, 5L, 9L, 10L, 11L, 12L), BatchPlan.seeds("1,5,9-12,5"));
    assertThrows(UsageException.class, () -> BatchPlan.seeds("0-100000"));
  }
}
