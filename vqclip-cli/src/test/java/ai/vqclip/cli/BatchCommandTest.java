package ai.vqclip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The CLI jar has no Spark: {@code vqclip batch} says how to run it, in one line, with exit code 2. */
class BatchCommandTest {
  @Test
  void batchFromTheCliJarSaysHowToRunIt() {
    Cli.Run r = Cli.run("batch", "prompts.txt", "--seeds", "0-3", "-o", "out", "--spark", "local[*]");
    assertEquals(2, r.exit(), r.toString());
    assertTrue(r.err().contains("./vqclip batch") && r.err().contains("ai.vqclip.spark.BatchMain"), r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
  }
}
