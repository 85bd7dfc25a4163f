package ai.vqclip.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.image.Images;
import ai.vqclip.core.pipeline.Checkpoint;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A really full disk: the run's folder on a small tmpfs that the test fills up while the child is
 * paused inside a write (ENOSPC, "No space left on device"). A checkpoint write that fails ends the
 * run with the previous checkpoint intact; a final write that fails goes to the rescue folder (the
 * child's {@code java.io.tmpdir}, on another file system), whose files hold the finished run.
 * Mounting needs root: skipped elsewhere ({@link FullDiskTest} covers the same points with a
 * per-process file-size limit, which needs nothing).
 */
class FullTmpfsTest {
  @TempDir Path dir;
  Path mount;

  @BeforeEach
  void mountTmpfs() throws Exception {
    mount = Files.createDirectory(dir.resolve("small"));
    Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", mount.toString()).redirectErrorStream(true).start();
    boolean mounted = p.waitFor() == 0;
    if (!mounted) {
      mount = null;
    }
    assumeTrue(mounted, "mounting a tmpfs needs root");
  }

  @AfterEach
  void unmount() throws Exception {
    if (mount != null) {
      new ProcessBuilder("umount", "-l", mount.toString()).inheritIO().start().waitFor();
    }
  }

  /** Fills the file system of {@code dir} to its last byte. */
  static void fill(Path dir) throws IOException {
    byte[] block = new byte[4096];
    try (OutputStream os = Files.newOutputStream(dir.resolve("filler"))) {
      for (int size = block.length; size > 0; size /= 2) {
        try {
          while (true) {
            os.write(block, 0, size);
            os.flush();
          }
        } catch (IOException full) {
          // then smaller pieces
        }
      }
    } catch (IOException e) {
      // the close's flush: nothing left to flush
    }
  }

  private static String runFull(Path run, Path rescue, String point) throws Exception {
    List<String> err;
    try (FaultProcess child = new FaultProcess(List.of(run), point, "-Djava.io.tmpdir=" + rescue)) {
      assertTrue(child.awaitPause(120), "stderr: " + child.err);
      fill(run.getParent());
      child.resume();
      assertEquals(0, child.finish(120), "child: " + child.err);
      assertEquals(Map.of(run.toString(), 1), child.exits(), "stderr: " + child.err);
      err = new ArrayList<>(child.err);
    }
    String e = String.join("\n", err);
    assertTrue(e.contains("No space left on device"), e);
    return e;
  }

  @Test
  void aFullDiskKeepsTheLastCheckpointAndTheFinalWriteIsRescuedElsewhere() throws Exception {
    Path ref = dir.resolve("ref");
    assertEquals(0, Cli.run(FaultChild.generateArgs(ref)).exit());
    Tensor refImage = Images.read(ref.resolve("out.png"));
    Checkpoint refCkpt = Checkpoint.load(ref.resolve("out.ckpt"));

    // The disk fills inside the 4th checkpoint write: the 3rd stays, and resume finishes the run.
    Path run = Files.createDirectory(mount.resolve("a"));
    Path rescue = Files.createDirectory(dir.resolve("rescue-a"));
    byte[] ckpt3;
    String err = runFull(run, rescue, "checkpoint.partial:4");
    assertTrue(err.contains("cannot write checkpoint " + run.resolve("out.ckpt")) && err.contains("(iteration 3), is intact"), err);
    ckpt3 = Files.readAllBytes(run.resolve("out.ckpt"));
    assertEquals(3, Checkpoint.load(run.resolve("out.ckpt")).iteration());
    Images.read(run.resolve("out.png"));
    Files.delete(mount.resolve("filler"));
    assertEquals(0, Cli.run(FaultChild.argsFor(run)).exit());
    assertEquals(refImage, Images.read(run.resolve("out.png")));
    assertTrue(ckpt3.length > 0);
    deleteTree(run);

    // The disk fills inside the final PNG write: the finished run goes to the rescue folder.
    run = Files.createDirectory(mount.resolve("b"));
    rescue = Files.createDirectory(dir.resolve("rescue-b"));
    err = runFull(run, rescue, "png.partial:" + (FaultChild.ITERATIONS + 1));
    Matcher m = Pattern.compile("the image was saved to (\\S+\\.png) with its checkpoint (\\S+\\.ckpt)").matcher(err);
    assertTrue(m.find(), err);
    Path png = Path.of(m.group(1));
    assertEquals(rescue, png.getParent());
    assertEquals(refImage, Images.read(png), "the rescued image is the finished run's");
    assertArrayEquals(refCkpt.latent(), Checkpoint.load(Path.of(m.group(2))).latent());
    assertEquals(6, Checkpoint.load(run.resolve("out.ckpt")).iteration(), "the last checkpoint in place stays");
    System.out.println("full tmpfs: " + err.lines().filter(l -> l.contains("error")).findFirst().orElse(""));
  }

  private static void deleteTree(Path d) throws IOException {
    try (Stream<Path> s = Files.walk(d)) {
      for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
