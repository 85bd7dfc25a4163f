package ai.vqclip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code vqclip study} on the bundled demo models, as a user runs it (tiny: 2 variants, 3 iterations, 2 cutouts). */
class StudyCommandTest {
  @TempDir Path dir;

  @Test
  void studyWritesCsvPlotsReportAndImages() throws Exception {
    Path out = dir.resolve("study");
    Cli.Run r = Cli.run("study", "a red circle on a blue background", "--optimizers", "adam,sgd", "--seeds", "0", "-i", "3",
        "--cutouts", "2", "--images-at", "0,2", "-o", out.toString());
    assertEquals(0, r.exit(), r.err() + r.out());
    assertTrue(r.out().contains("adam@0.1") && r.out().contains("sgd@10.0"), r.out());
    List<String> csv = Files.readAllLines(out.resolve("study.csv"));
    assertEquals(1 + 2 * 3, csv.size(), csv.toString());
    assertTrue(Files.size(out.resolve("loss-vs-iteration.png")) > 1000);
    assertTrue(Files.size(out.resolve("loss-vs-time.png")) > 1000);
    String report = Files.readString(out.resolve("report.md"));
    assertTrue(report.contains("| 1 | ") && report.contains("| 2 | "), report);
    assertTrue(Files.isRegularFile(out.resolve("images/sgd@10.0-a-red-circle-on-a-blue-background-seed0-it2.png")));
  }

  @Test
  void singularOptimizerAndLrAreAliasesOfTheLists() throws Exception {
    Path out = dir.resolve("alias");
    Cli.Run r = Cli.run("study", "a red circle", "--optimizer", "sgd", "--lr", "5", "--seeds", "0", "-i", "2", "--cutouts", "2",
        "-o", out.toString());
    assertEquals(0, r.exit(), r.err() + r.out());
    List<String> csv = Files.readAllLines(out.resolve("study.csv"));
    assertEquals(1 + 2, csv.size(), csv.toString()); // one variant x one seed x 2 iterations
    assertTrue(csv.get(1).contains("sgd@5.0") && csv.stream().noneMatch(l -> l.contains("adam")), csv.toString());
    ErrorsTest.assertUsageError(Cli.run("study", "a cat", "--optimizer", "sgd", "--optimizers", "adam", "-o", dir.toString()),
        "--optimizer");
    ErrorsTest.assertUsageError(Cli.run("study", "a cat", "--lr", "0.1", "--lrs", "0.2", "-o", dir.toString()), "--lr");
    ErrorsTest.assertUsageError(Cli.run("study", "a cat", "--lr=0", "-o", dir.toString()), "--lr: a learning rate");
    ErrorsTest.assertUsageError(Cli.run("study", "a cat", "-opt", "lion", "-o", dir.toString()), "--optimizer: ");
  }

  @Test
  void badListsAreUsageErrors() {
    ErrorsTest.assertUsageError(Cli.run("study", "a cat", "--optimizers", "adam,lion", "-o", dir.toString()), "lion");
    ErrorsTest.assertUsageError(Cli.run("study", "a cat", "--lrs", "0.1,x", "-o", dir.toString()), "--lrs");
    ErrorsTest.assertUsageError(Cli.run("study", "a cat", "--lrs=0", "-o", dir.toString()), "--lrs");
    ErrorsTest.assertUsageError(Cli.run("study", "a cat", "-i", "5", "--images-at", "7", "-o", dir.toString()), "image iteration 7");
  }
}
