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
    for (int p = 0; p < POSITIONS; p++) {
      String point = POINTS[p % POINTS.length];
      // Each iteration writes a checkpoint and an image; the end writes both once more. From the
      // second write on there are previous files to keep.
      int reaches = FaultChild.ITERATIONS + 1;
      // Every other position the final write (after the last step), the others between; the next
      // round of the points swaps them.
      int n = (p + p / POINTS.length) % 2 == 1 ? reaches : 2 + rnd.nextInt(reaches - 1);
      // After the final checkpoint only the settings (under 1 KiB) are written: the run succeeds.
      boolean fails = !(point.equals("checkpoint.written") && n == reaches);
      Path run = dir.resolve("run" + p);
      Map<String, byte[]> before = new LinkedHashMap<>();
      String err;
      try (FaultProcess child = new FaultProcess(List.of(run), point + ":" + n)) {
        assertTrue(child.awaitPause(120), "the child reached " + point + ":" + n + "; stderr: " + child.err);
        for (String f : FILES) {
          before.put(f, Files.readAllBytes(run.resolve(f)));
        }
        Process limit = new ProcessBuilder("prlimit", "--pid", Long.toString(child.process.pid()), "--fsize=1024:").inheritIO().start();
        assertEquals(0, limit.waitFor(), "prlimit");
        child.resume();
        assertEquals(0, child.finish(120), "child: " + child.err);
        assertEquals(Map.of(run.toString(), fails ? 1 : 0), child.exits(), "stderr: " + child.err);
        err = String.join("\n", child.err);
      }
      if (fails) {
        assertTrue(err.contains("File too large"), err);
        assertTrue(err.contains("continue with: vqclip resume " + run.resolve("out.ckpt")), "the error says how to continue: " + err);
      }
      String inFlight = point.startsWith("checkpoint") ? "out.ckpt" : "out.png";
      for (String f : FILES) {
        byte[] now = Files.readAllBytes(run.resolve(f));
        // A write whose bytes were all written before the disk filled (*.written) completes (its
        // rename needs no room); every other file is the one from before.
        if (!(point.endsWith(".written") && f.equals(inFlight))) {
          assertArrayEquals(before.get(f), now, run + ": " + f + " changed (" + point + ":" + n + ")");
        }
      }
      assertTrue(!fails || err.contains("cannot write checkpoint " + run.resolve("out.ckpt"))
          || err.contains("cannot write PNG " + run.resolve("out.png")), "the error names the file: " + err);
      int at = Checkpoint.load(run.resolve("out.ckpt")).iteration();
      Images.read(run.resolve("out.png"));
      assertEquals(List.of(), KillResumeTest.Snapshot.temporaryFiles(run), "temporary files left");
      System.out.printf("full disk at %s:%d: checkpoint kept at iteration %d; %s%n", point, n, at, err.lines().filter(l -> !l.isBlank())
          .reduce((a, b) -> b).orElse(""));
      covered.merge(point, 1, Integer::sum);

      Cli.Run resumed = Cli.run(FaultChild.argsFor(run));
      assertEquals(0, resumed.exit(), resumed.toString());
      assertEquals(refImage, Images.read(run.resolve("out.png")), run + ": final image");
      Checkpoint c = Checkpoint.load(run.resolve("out.ckpt"));
      assertEquals(FaultChild.ITERATIONS, c.iteration());
      assertArrayEquals(refCkpt.latent(), c.latent(), run + ": final latent");
    }
    System.out.println("full disk: " + POSITIONS + " positions " + covered);
  }
}
