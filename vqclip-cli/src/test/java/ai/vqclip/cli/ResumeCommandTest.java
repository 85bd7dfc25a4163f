package ai.vqclip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.image.Images;
import ai.vqclip.core.pipeline.Checkpoint;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Ctrl-C (through the stop flag its signal handler sets) and {@code vqclip resume}. */
class ResumeCommandTest extends WithTinyModelFiles {
  private Cli.Run generate(Path out, int iterations, int stopAfter, String... extra) {
    String[] base = files.args("generate", "a red circle|a cat:0.5", "-o", out.toString(), "-i", Integer.toString(iterations), "--seed", "9");
    String[] args = java.util.stream.Stream.concat(java.util.Arrays.stream(base), java.util.Arrays.stream(extra)).toArray(String[]::new);
    return Cli.run(cl -> {
      GenerateCommand g = Cli.command(cl, "generate");
      g.listeners.add(e -> {
        if (e.iteration() == stopAfter) {
          g.stop.request(); // what the Ctrl-C signal handler does
        }
        return true;
      });
    }, args);
  }

  @Test
  void ctrlCWritesImageAndCheckpointAndResumingEqualsAnUninterruptedRun() throws IOException {
    Path whole = dir.resolve("whole.png");
    assertEquals(0, generate(whole, 8, -1).exit());
    Path part = dir.resolve("part.png");
    Cli.Run stopped = generate(part, 8, 3);
    assertEquals(Runner.EXIT_INTERRUPTED, stopped.exit(), stopped.toString());
    assertTrue(stopped.err().contains("stopped after iteration 4") && stopped.err().contains("vqclip resume"), stopped.err());
    Path ckpt = dir.resolve("part.ckpt");
    assertEquals(4, Checkpoint.load(ckpt).iteration());
    assertTrue(Files.exists(dir.resolve("part.run.json")));
    Tensor atStop = Images.read(part);
    assertNotEquals(Images.read(whole), atStop, "the image at the stop is not the finished one");

    Cli.Run resumed = Cli.run("resume", ckpt.toString(), "-q");
    assertEquals(0, resumed.exit(), resumed.toString());
    assertEquals(Images.read(whole), Images.read(part));
    String manifest = Images.readPngText(part).get(Runner.MANIFEST_KEY);
    assertEquals(8, new ObjectMapper().readTree(manifest).get("iterationsRun").asInt());
  }

  @Test
  void aCheckpointedRunExtendedByResumeEqualsALongerRun() {
    Path longer = dir.resolve("long.png");
    assertEquals(0, generate(longer, 7, -1).exit());
    Path shorter = dir.resolve("short.png");
    assertEquals(0, generate(shorter, 4, -1, "--save-every", "2").exit());
    Path extended = dir.resolve("extended.png");
    Cli.Run r = Cli.run("resume", dir.resolve("short.ckpt").toString(), "--iterations", "7", "-o", extended.toString(), "-q");
    assertEquals(0, r.exit(), r.toString());
    assertEquals(Images.read(longer), Images.read(extended));
    // The resumed run checkpoints beside its own output, as the original did.
    assertEquals(7, Checkpoint.load(dir.resolve("extended.ckpt")).iteration());
  }

  @Test
  void resumeFromAnEditedImage() throws IOException {
    Path out = dir.resolve("edited.png");
    assertEquals(0, generate(out, 3, -1, "--checkpoint").exit());
    Path touched = dir.resolve("touched.png");
    Images.writePng(GenerateCommandTest.gradient(32, 32), touched, java.util.Map.of());
    Path next = dir.resolve("next.png");
    Cli.Run r = Cli.run("resume", dir.resolve("edited.ckpt").toString(), "--image", touched.toString(), "--iterations", "5", "-o",
        next.toString(), "-q");
    assertEquals(0, r.exit(), r.toString());
    assertEquals(5, new ObjectMapper().readTree(Images.readPngText(next).get(Runner.MANIFEST_KEY)).get("iterationsRun").asInt());
    // Without the edit the same continuation gives another image.
    Path plain = dir.resolve("plain.png");
    assertEquals(0, Cli.run("resume", dir.resolve("edited.ckpt").toString(), "--iterations", "5", "-o", plain.toString(), "-q").exit());
    assertNotEquals(Images.read(plain), Images.read(next));
  }

  /**
   * A checkpoint at the run's last iteration is written before the final image: a crash between the
   * two (KillResumeTest found it) must not leave a run that resume refuses. Resuming it writes the
   * run's image without a step.
   */
  @Test
  void resumingAFinishedRunWritesItsImageAgain() throws IOException {
    Path out = dir.resolve("finished.png");
    assertEquals(0, generate(out, 3, -1, "--save-every", "1").exit());
    Tensor image = Images.read(out);
    Files.delete(out); // as if killed before the final write
    Cli.Run r = Cli.run("resume", dir.resolve("finished.ckpt").toString(), "-q");
    assertEquals(0, r.exit(), r.toString());
    assertEquals(image, Images.read(out));
    assertEquals(3, Checkpoint.load(dir.resolve("finished.ckpt")).iteration());
  }

  @Test
  void resumeErrorsAreUsageErrors() {
    Path out = dir.resolve("done.png");
    assertEquals(0, generate(out, 2, -1, "--checkpoint").exit());
    Path ckpt = dir.resolve("done.ckpt");
    ErrorsTest.assertUsageError(Cli.run("resume", ckpt.toString(), "--iterations", "1"), "past the end of a 1-iteration run");
    ErrorsTest.assertUsageError(Cli.run("resume", dir.resolve("missing.ckpt").toString()), "file not found");
    ErrorsTest.assertUsageError(Cli.run("resume", ckpt.toString(), "--iterations", "4", "--image", dir.resolve("nope.png").toString()),
        "--image: file not found");
    ErrorsTest.assertUsageError(Cli.run("resume", ckpt.toString(), "--settings", dir.resolve("none.json").toString()), "file not found");
    Path lonely = dir.resolve("lonely.ckpt");
    Cli.Run r;
    try {
      Files.copy(ckpt, lonely);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    r = Cli.run("resume", lonely.toString());
    ErrorsTest.assertUsageError(r, "no run settings");
    ErrorsTest.assertUsageError(Cli.run("resume", out.toString(), "--settings", dir.resolve("done.run.json").toString()),
        "cannot read checkpoint " + out);
  }
}
