package ai.vqclip.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.image.Images;
import ai.vqclip.core.pipeline.Reranking;
import ai.vqclip.demo.DemoModels;
import ai.vqclip.demo.eval.DemoGeneration;
import ai.vqclip.onnx.clip.ClipEncoder;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --candidates N}: the best of N runs at the seed and seeds derived from it, ranked by the
 * CLIPs' agreement with the first text prompt ({@link Reranking}); the demo's default is {@link
 * DemoGeneration#CANDIDATES}.
 */
class CandidatesOptionTest {
  private static final String PROMPT = "a green triangle on a purple background";
  private static final int ITERATIONS = 4;

  @TempDir Path dir;

  private static Cli.Run generate(Path out, long seed, String... extra) {
    List<String> args = new ArrayList<>(List.of("generate", PROMPT, "-o", out.toString(), "-i", Integer.toString(ITERATIONS), "--cutouts", "4",
        "--seed", Long.toString(seed), "--threads", "1", "-q"));
    args.addAll(List.of(extra));
    return Cli.run(args.toArray(new String[0]));
  }

  private static JsonNode settings(Path png) throws IOException {
    return DemoModelsOptionTest.JSON.readTree(Images.readPngText(png).get(Runner.SETTINGS_KEY));
  }

  @Test
  void twoCandidatesKeepTheRunTheClipsRankFirst() throws IOException {
    Path first = dir.resolve("first.png");
    Path second = dir.resolve("second.png");
    assertEquals(0, generate(first, 11, "--candidates", "1").exit());
    assertEquals(0, generate(second, Reranking.candidateSeed(11, 1), "--candidates", "1").exit());
    float[] a = Images.read(first).toFloats();
    float[] b = Images.read(second).toFloats();
    assertFalse(java.util.Arrays.equals(a, b), "the two seeds drew the same picture: nothing to choose");
    Path best = dir.resolve("best.png");
    Cli.Run r = generate(best, 11, "--candidates", "2");
    assertEquals(0, r.exit(), r.toString());
    // The CLIPs' scores of the two lone runs, computed here from the bundled CLIPs: the higher one's picture is kept.
    double sa;
    double sb;
    try (DemoModels.Bundle m = DemoModels.load()) {
      List<ClipEncoder> clips = m.clips().stream().map(c -> c.open(ExecutionOptions.cpu().withThreads(1))).toList();
      try {
        Reranking.Scorer scorer = new Reranking.Scorer(clips, PROMPT);
        sa = scorer.score(Images.read(first));
        sb = scorer.score(Images.read(second));
      } finally {
        clips.forEach(ClipEncoder::close);
      }
    }
    assertTrue(Math.abs(sa - sb) > 1e-4, "scores too close to tell from 8-bit pictures: " + sa + ", " + sb);
    assertArrayEquals(sa > sb ? a : b, Images.read(best).toFloats(), "kept the lower-ranked run (scores " + sa + ", " + sb + ")");
    // The picture's settings are the request's, which draw it again: its seed, two candidates.
    JsonNode s = settings(best);
    assertEquals(11, s.get("seed").asLong());
    assertEquals(2, s.get("candidates").asInt());
    // The batch path (--seeds) chooses the same.
    Path out = Files.createDirectories(dir.resolve("batch"));
    Cli.Run batch = Cli.run("generate", PROMPT, "--seeds", "11", "-o", out + "/", "-i", Integer.toString(ITERATIONS),
        "--cutouts", "4", "--threads", "1", "--candidates", "2", "-q");
    assertEquals(0, batch.exit(), batch.toString());
    try (var files = Files.list(out)) {
      List<Path> pngs = files.filter(p -> p.toString().endsWith(".png")).toList();
      assertEquals(1, pngs.size(), pngs.toString());
      assertArrayEquals(Images.read(best).toFloats(), Images.read(pngs.get(0)).toFloats(), "the batch path kept another run");
    }
  }

  @Test
  void aStopDuringACandidateWritesItAndResumeFinishesThatCandidate() throws IOException {
    Path lone = dir.resolve("lone.png");
    assertEquals(0, generate(lone, Reranking.candidateSeed(11, 1), "--candidates", "1").exit());
    Path part = dir.resolve("part.png");
    int[] firstIterations = {0};
    List<String> args = new ArrayList<>(List.of("generate", PROMPT, "-o", part.toString(), "-i", Integer.toString(ITERATIONS), "--cutouts", "4",
        "--seed", "11", "--threads", "1", "-q", "--candidates", "3"));
    Cli.Run stopped = Cli.run(cl -> {
      GenerateCommand g = Cli.command(cl, "generate");
      g.listeners.add(e -> {
        // Iteration 1 of the second candidate: Ctrl-C there.
        if (e.iteration() == 1 && ++firstIterations[0] == 2) {
          g.stop.request();
        }
        return true;
      });
    }, args.toArray(new String[0]));
    assertEquals(Runner.EXIT_INTERRUPTED, stopped.exit(), stopped.toString());
    assertTrue(stopped.err().contains("vqclip resume"), stopped.err());
    // The stopped candidate's own settings: its seed, one run; resume finishes it as that lone run.
    JsonNode s = DemoModelsOptionTest.JSON.readTree(Files.readString(dir.resolve("part.run.json")));
    assertEquals(Reranking.candidateSeed(11, 1), s.get("seed").asLong());
    assertEquals(1, s.get("candidates").asInt());
    Cli.Run resumed = Cli.run("resume", dir.resolve("part.ckpt").toString(), "-q");
    assertEquals(0, resumed.exit(), resumed.toString());
    assertArrayEquals(Images.read(lone).toFloats(), Images.read(part).toFloats(), "resume did not finish the stopped candidate");
  }

  @Test
  void theDemoDefaultIsThreeRunsAndCheckpointsMeanOne() throws IOException {
    Path d = dir.resolve("default.png");
    assertEquals(0, generate(d, 5).exit());
    assertEquals(DemoGeneration.CANDIDATES, settings(d).get("candidates").asInt());
    // Checkpoints belong to one run: asking for one makes the default a single run.
    Path c = dir.resolve("ckpt.png");
    assertEquals(0, generate(c, 5, "--checkpoint").exit());
    assertEquals(1, settings(c).get("candidates").asInt());
    assertTrue(Files.isRegularFile(dir.resolve("ckpt.ckpt")));
  }

  @Test
  void badCountsAndCombinationsAreUsageErrors() {
    ErrorsTest.assertUsageError(generate(dir.resolve("x.png"), 1, "--candidates", "0"), "--candidates must be in [1, 64], got 0");
    ErrorsTest.assertUsageError(generate(dir.resolve("x.png"), 1, "--candidates", "65"), "--candidates must be in [1, 64], got 65");
    ErrorsTest.assertUsageError(generate(dir.resolve("x.png"), 1, "--candidates", "2", "--save-every", "2"),
        "checkpoints (--save-every, --checkpoint) are written for one run");
    // A negative prompt alone: no text to rank against.
    ErrorsTest.assertUsageError(Cli.run("generate", "a blur:-1", "-o", dir.resolve("y.png").toString(), "-i", "1", "--candidates", "2", "-q"),
        "ranks the pictures by their agreement with the first text prompt of positive weight");
  }
}
