package ai.vqclip.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.image.Images;
import ai.vqclip.core.pipeline.Checkpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A full disk during checkpoint and PNG writes (issue 16). A child JVM ({@link FaultChild}) is
 * paused at a named point inside a write ({@link ai.vqclip.core.FaultPoints}), its file-size limit
 * is then lowered to 1 KiB ({@code prlimit --fsize}, the per-process form of {@code ulimit -f}: every
 * file write past 1 KiB fails with EFBIG, "File too large", as on a full disk), and it goes on. The
 * run must end with exit 1 and one line naming the file that could not be written; the files
 * written before stay as they were (the checkpoint loads, the PNG reads, byte for byte the same);
 * no temporary file is left; and {@code vqclip resume} (with room again) ends bit-identical to a
 * run that never met a full disk. {@code -Dvqclip.faults.diskPositions} sets how many positions
 * (4 here, 100 with {@code -Pfaults}).
 */
class FullDiskTest {
  static final int POSITIONS = Integer.getInteger("vqclip.faults.diskPositions", 4);
  /** Runs per child JVM: 1 (each checked byte for byte) here; the profile runs 4 at once. */
  static final int RUNS_PER_CHILD = Integer.getInteger("vqclip.faults.diskRunsPerChild", 1);
  static final String[] POINTS = {"checkpoint.partial", "png.partial", "checkpoint.written", "png.written"};
  static final List<String> FILES = List.of("out.ckpt", "out.png", "out.run.json");

  @TempDir Path dir;

  static boolean prlimitWorks() {
    try {
      return new ProcessBuilder("prlimit", "--version").redirectErrorStream(true).start().waitFor() == 0;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  @Test
  void aFullDiskDuringWritesKeepsThePreviousFilesAndResumeFinishesTheRun() throws Exception {
    assumeTrue(prlimitWorks(), "prlimit (util-linux) is needed to limit a running process's file size");
    Path ref = dir.resolve("ref");
    Cli.Run r = Cli.run(FaultChild.generateArgs(ref));
    assertEquals(0, r.exit(), r.toString());
    Tensor refImage = Images.read(ref.resolve("out.png"));
    Checkpoint refCkpt = Checkpoint.load(ref.resolve("out.ckpt"));
    Random rnd = new Random(Long.getLong("vqclip.faults.seed", 16));
    Map<String, Integer> covered = new TreeMap<>();
    int positions = 0;
    int serial = 0;
    for (int p = 0; positions < POSITIONS; p++) {
      String point = POINTS[p % POINTS.length];
      // Each run writes a checkpoint and an image every iteration, and both once more at the end.
      // From each run's second write on there are previous files to keep. With one run a child,
      // every other position is the final write, the others in between (the next round of the
      // points swaps them).
      int reaches = RUNS_PER_CHILD * (FaultChild.ITERATIONS + 1);
      int n = RUNS_PER_CHILD == 1 && (p + p / POINTS.length) % 2 == 1 ? reaches
          : RUNS_PER_CHILD + 1 + rnd.nextInt(reaches - RUNS_PER_CHILD);
      List<Path> runs = new ArrayList<>();
      for (int k = 0; k < RUNS_PER_CHILD; k++) {
        runs.add(dir.resolve("run" + serial++));
      }
      Map<Path, Map<String, byte[]>> before = new LinkedHashMap<>();
      Map<String, Integer> exits;
      String err;
      try (FaultProcess child = new FaultProcess(runs, point + ":" + n)) {
        assertTrue(child.awaitPause(120), "the child reached " + point + ":" + n + "; stderr: " + child.err);
        for (Path run : runs) {
          Map<String, byte[]> files = new LinkedHashMap<>();
          for (String f : FILES) {
            if (Files.exists(run.resolve(f))) {
              files.put(f, Files.readAllBytes(run.resolve(f)));
            }
          }
          before.put(run, files);
        }
        Process limit = new ProcessBuilder("prlimit", "--pid", Long.toString(child.process.pid()), "--fsize=1024:").inheritIO().start();
        assertEquals(0, limit.waitFor(), "prlimit");
        child.resume();
        assertEquals(0, child.finish(120), "child: " + child.err);
        exits = child.exits();
        err = String.join("\n", child.err);
      }
      List<Path> unfinished = new ArrayList<>();
      for (Path run : runs) {
        Integer exit = exits.get(run.toString());
        assertTrue(exit != null && (exit == 0 || exit == 1), run + " ended with " + exit + "; stderr: " + err);
        if (exit == 1) {
          positions++;
          covered.merge(point, 1, Integer::sum);
          unfinished.add(run);
          assertTrue(err.contains("cannot write checkpoint " + run.resolve("out.ckpt")) || err.contains("cannot write PNG " + run.resolve("out.png")),
              "the error names the file: " + err);
          if (Files.exists(run.resolve("out.ckpt"))) {
            assertTrue(err.contains("continue with: vqclip resume " + run.resolve("out.ckpt")), "the error says how to continue: " + err);
          }
        }
        checkFiles(run, before.get(run), point);
        assertEquals(List.of(), KillResumeTest.Snapshot.temporaryFiles(run), "temporary files left");
      }
      if (!unfinished.isEmpty()) {
        assertTrue(err.contains("File too large"), err);
      }
      System.out.printf("full disk at %s:%d: %d of %d runs stopped; %s%n", point, n, unfinished.size(), runs.size(),
          err.lines().filter(l -> l.contains("error:")).findFirst().orElse("").replace(dir.toString(), "DIR"));

      // With room again, resume (or, where no checkpoint was left, start again).
      if (unfinished.size() == 1) {
        Cli.Run resumed = Cli.run(FaultChild.argsFor(unfinished.get(0)));
        assertEquals(0, resumed.exit(), resumed.toString());
      } else if (!unfinished.isEmpty()) {
        try (FaultProcess child = new FaultProcess(unfinished, null)) {
          assertEquals(0, child.finish(300), "child: " + child.err);
          for (Path run : unfinished) {
            assertEquals(0, child.exits().get(run.toString()), run + "; stderr: " + child.err);
          }
        }
      }
      for (Path run : runs) {
        assertEquals(refImage, Images.read(run.resolve("out.png")), run + ": final image");
        Checkpoint c = Checkpoint.load(run.resolve("out.ckpt"));
        assertEquals(FaultChild.ITERATIONS, c.iteration());
        assertArrayEquals(refCkpt.latent(), c.latent(), run + ": final latent");
      }
    }
    System.out.println("full disk: " + positions + " positions (runs stopped by it) " + covered);
  }

  /**
   * What the full disk left of a run: with one run a child (paused at the point itself) every file
   * is byte for byte the one from before, except the write under way at a {@code *.written} point
   * (its bytes were all written; the rename needs no room). With several runs, the others were
   * anywhere, so: every file there before is still there and whole, and no checkpoint went back.
   */
  private static void checkFiles(Path run, Map<String, byte[]> before, String point) throws IOException {
    String inFlight = point.startsWith("checkpoint") ? "out.ckpt" : "out.png";
    for (String f : FILES) {
      Path file = run.resolve(f);
      if (RUNS_PER_CHILD == 1 && !(point.endsWith(".written") && f.equals(inFlight))) {
        assertArrayEquals(before.get(f), Files.exists(file) ? Files.readAllBytes(file) : null, run + ": " + f + " changed (" + point + ")");
      }
      if (before.containsKey(f)) {
        assertTrue(Files.exists(file), file + " is gone");
      }
      if (Files.exists(file)) {
        switch (f) {
          case "out.ckpt" -> {
            int it = Checkpoint.load(file).iteration();
            if (before.containsKey(f)) {
              Path old = Files.createTempFile(run, "before", ".ckpt.old");
              Files.write(old, before.get(f));
              assertTrue(it >= Checkpoint.load(old).iteration(), file + " went back");
              Files.delete(old);
            }
          }
          case "out.png" -> Images.read(file);
          default -> RunSettings.load(file);
        }
      }
    }
  }
}
