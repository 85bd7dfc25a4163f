package ai.vqclip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.vqclip.demo.DemoModels;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code vqclip train-demo}: its arguments and how it drives the training. The real training takes
 * about 10 minutes, so these tests replace it ({@link TrainDemoCommand#training}).
 */
class TrainDemoCommandTest {
  @TempDir Path dir;

  /** What the replaced training was called with. */
  private final List<String> calls = new ArrayList<>();

  /** Runs train-demo with {@code training} in place of the real one. */
  private static Cli.Run trainDemo(TrainDemoCommand.Training training, String... args) {
    List<String> all = new ArrayList<>(List.of("train-demo"));
    all.addAll(List.of(args));
    return Cli.run(cl -> Cli.<TrainDemoCommand>command(cl, "train-demo").training = training, all.toArray(new String[0]));
  }

  private static final TrainDemoCommand.Training MUST_NOT_RUN = (m, d, p) -> fail("training ran for " + m + " into " + d);

  @Test
  void defaultsAreAllIntoDemoModelsInTheWorkingDirectory() {
    CommandLine cl = Main.newCommandLine();
    cl.parseArgs("train-demo");
    TrainDemoCommand c = Cli.command(cl, "train-demo");
    assertEquals(TrainDemoCommand.Model.all, c.model);
    assertEquals(Path.of("demo-models"), c.output);
  }

  @Test
  void usageErrors() throws IOException {
    ErrorsTest.assertUsageError(trainDemo(MUST_NOT_RUN, "gan", "-o", dir.toString()),
        "expected one of [vqgan, clip, sketch, all] (case-insensitive) but was 'gan'");
    ErrorsTest.assertUsageError(trainDemo(MUST_NOT_RUN, "configs", "-o", dir.toString()), "but was 'configs'");
    ErrorsTest.assertUsageError(trainDemo(MUST_NOT_RUN, "vqgan", "clip"), "Unmatched argument");
    Path file = Files.writeString(dir.resolve("notes.txt"), "a file\n");
    ErrorsTest.assertUsageError(trainDemo(MUST_NOT_RUN, "clip", "-o", file.toString()), "--output: " + file + " is a file, not a folder");
    ErrorsTest.assertUsageError(trainDemo(MUST_NOT_RUN, "-o", file.resolve("sub").toString()), "--output: cannot create the folder");
  }

  @Test
  void trainsOnTheLargeStackThreadIntoTheFolderWithProgressOnStdout() {
    Path out = dir.resolve("a/b");
    Cli.Run r = trainDemo((model, d, progress) -> {
      calls.add(model + " " + d + " " + Thread.currentThread().getName());
      progress.accept("clip step 200/4000 loss 2.1");
    }, "CLIP", "-o", out.toString());
    assertEquals(0, r.exit(), r.toString());
    assertEquals(List.of("clip " + out.toAbsolutePath() + " vqclip-train"), calls);
    assertTrue(Files.isDirectory(out), "the folder is made before training");
    assertTrue(r.out().contains("training the demo CLIP into " + out.toAbsolutePath()) && r.out().contains("clip step 200/4000 loss 2.1"),
        r.out());
    // Only CLIP files: the folder cannot be used yet, and the command says so.
    assertTrue(r.out().contains("has no vqgan.safetensors yet"), r.out());
  }

  @Test
  void aCompleteFolderIsReadyForDemoModels() {
    Cli.Run r = trainDemo((model, d, progress) -> {
      try {
        DemoModels.copyBundled(d); // stands in for the files the training writes
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }, "all", "-o", dir.toString());
    assertEquals(0, r.exit(), r.toString());
    assertTrue(r.out().contains("done: use it with --demo-models " + dir), r.out());
  }

  @Test
  void aFailedTrainingIsAnErrorWithExitOne() {
    Cli.Run r = trainDemo((model, d, progress) -> {
      throw new IllegalStateException("out of patience");
    }, "vqgan", "-o", dir.toString());
    assertEquals(1, r.exit(), r.toString());
    assertTrue(r.err().contains("vqclip train-demo: error: out of patience"), r.err());
  }

  @Test
  void helpHasTheTimeAndExamples() {
    Cli.Run r = Cli.run("train-demo", "--help");
    assertEquals(0, r.exit());
    String flat = r.out().replaceAll("\\s+", " "); // picocli wraps the description
    assertTrue(flat.contains("'all' trains the three in turn: about 50 minutes on 2 CPU cores") && flat.contains("'clip' trains the CLIP in two phases")
        && r.out().contains("--demo-models DIR")
        && r.out().contains("  vqclip train-demo clip -o my-demo-models"), r.out());
  }
}
