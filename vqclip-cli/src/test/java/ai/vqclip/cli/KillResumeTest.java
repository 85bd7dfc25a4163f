package ai.vqclip.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.image.Images;
import ai.vqclip.core.pipeline.Checkpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 at many points of runs with checkpoints (issue 16): after every kill the files left are
 * whole (the checkpoint loads, the PNG reads, neither went back in time), and resuming, as often as
 * it takes, always works and ends bit-identical to a run never killed.
 *
 * <p>Each child JVM ({@link FaultChild}) runs {@value #RUNS_PER_CHILD} runs at once, so one real
 * SIGKILL interrupts several runs, each at its own point. The kill comes in turn at one of the
 * named points inside the checkpoint, PNG and settings writes ({@link ai.vqclip.core.FaultPoints},
 * the N-th time with N drawn at random), or after a random delay (anywhere: JVM start, model
 * loading, graph building, a step, a write). A position is one unfinished run in one killed child.
 * {@code -Dvqclip.faults.positions} sets how many (20 here, 100 with {@code -Pfaults}).
 */
class KillResumeTest {
  static final int POSITIONS = Integer.getInteger("vqclip.faults.positions", 20);
  static final int RUNS_PER_CHILD = 4;
  static final String[] POINTS = {"checkpoint.partial", "checkpoint.written", "png.partial", "png.written", "settings.written", null};

  @TempDir Path dir;

  /** A run's folder and what the test knows of it. */
  private static final class Run {
    final Path dir;
    int checkpointIteration = -1;
    boolean finished;

    Run(Path dir) {
      this.dir = dir;
    }
  }

  @Test
  void resumeAfterKill9AnywhereIsBitIdenticalToAnUninterruptedRun() throws Exception {
    Path ref = dir.resolve("ref");
    long t0 = System.nanoTime();
    Cli.Run r = Cli.run(FaultChild.generateArgs(ref));
    assertEquals(0, r.exit(), r.toString());
    long refMillis = (System.nanoTime() - t0) / 1_000_000;
    Tensor refImage = Images.read(ref.resolve("out.png"));
    Checkpoint refCkpt = Checkpoint.load(ref.resolve("out.ckpt"));

    Random rnd = new Random(Long.getLong("vqclip.faults.seed", 16));
    List<Run> runs = new ArrayList<>();
    int positions = 0;
    int kills = 0;
    long lifetimeMillis = 1500 + refMillis * RUNS_PER_CHILD;
    Map<String, Integer> byPoint = new TreeMap<>();
    Map<String, Integer> byStep = new TreeMap<>();
    int midWrite = 0;
    int serial = 0;
    while (positions < POSITIONS) {
      List<Run> active = new ArrayList<>();
      for (Run run : runs) {
        if (!run.finished && active.size() < RUNS_PER_CHILD) {
          active.add(run);
        }
      }
      while (active.size() < RUNS_PER_CHILD) {
        Run run = new Run(dir.resolve("run" + serial++));
        runs.add(run);
        active.add(run);
      }
      String point = POINTS[kills % POINTS.length];
      String spec = null;
      if (point != null) {
        int reaches = 0;
        for (Run run : active) {
          reaches += point.startsWith("settings") ? 2 : FaultChild.ITERATIONS - Math.max(0, run.checkpointIteration) + 1;
        }
        spec = point + ":" + (1 + rnd.nextInt(reaches));
      }
      Map<Path, Snapshot> before = new HashMap<>();
      for (Run run : active) {
        before.put(run.dir, Snapshot.of(run.dir));
      }
      boolean killed;
      try (FaultProcess child = new FaultProcess(active.stream().map(x -> x.dir).toList(), spec)) {
        if (spec != null) {
          killed = child.awaitPause(120);
        } else {
          killed = !child.awaitExit((long) (rnd.nextDouble() * lifetimeMillis));
        }
        Map<String, Integer> steps = child.lastSteps();
        List<Path> tmps = new ArrayList<>();
        if (killed) {
          for (Run run : active) {
            tmps.addAll(Snapshot.temporaryFiles(run.dir));
          }
          assertEquals(128 + 9, child.kill9(), "killed by SIGKILL");
          kills++;
        } else {
          assertEquals(0, child.finish(120), "child: " + child.err);
          lifetimeMillis = (System.nanoTime() - child.started) / 1_000_000;
        }
        Map<String, Integer> exits = child.exits();
        for (Run run : active) {
          Integer exit = exits.get(run.dir.toString());
          if (exit != null) {
            assertEquals(0, exit, run.dir + " ended with " + exit + "; stderr: " + child.err);
            run.finished = true;
          } else if (killed) {
            positions++;
            byPoint.merge(spec == null ? "random delay" : point, 1, Integer::sum);
            Integer step = steps.get(run.dir.toString());
            byStep.merge(step == null ? "before the first step" : "after step " + step, 1, Integer::sum);
          }
          // What the kill left: whole files, never older than before this child.
          int it = before.get(run.dir).check(run.dir);
          assertTrue(it >= run.checkpointIteration, run.dir + ": checkpoint went back from " + run.checkpointIteration + " to " + it);
          run.checkpointIteration = it;
        }
        midWrite += tmps.isEmpty() ? 0 : 1;
      }
    }
    // Resume everything left, without faults.
    List<Run> left = runs.stream().filter(x -> !x.finished).toList();
    for (int from = 0; from < left.size(); from += RUNS_PER_CHILD) {
      List<Run> batch = left.subList(from, Math.min(left.size(), from + RUNS_PER_CHILD));
      try (FaultProcess child = new FaultProcess(batch.stream().map(x -> x.dir).toList(), null)) {
        assertEquals(0, child.finish(300), "child: " + child.err);
        Map<String, Integer> exits = child.exits();
        for (Run run : batch) {
          assertEquals(0, exits.get(run.dir.toString()), run.dir + "; stderr: " + child.err);
        }
      }
    }
    for (Run run : runs) {
      assertEquals(refImage, Images.read(run.dir.resolve("out.png")), run.dir + ": final image");
      Checkpoint c = Checkpoint.load(run.dir.resolve("out.ckpt"));
      assertEquals(FaultChild.ITERATIONS, c.iteration());
      assertArrayEquals(refCkpt.latent(), c.latent(), run.dir + ": final latent");
      assertArrayEquals(refCkpt.optimizerState(), c.optimizerState(), run.dir + ": final optimizer state");
    }
    System.out.printf("kill -9: %d kills, %d positions over %d runs; by kill point %s; runs by progress %s; %d kills left a temporary file "
        + "(inside a write)%n", kills, positions, runs.size(), byPoint, byStep, midWrite);
    assertTrue(positions >= POSITIONS);
  }

  /** A run folder's finished files, to check what a fault left. */
  record Snapshot(Integer checkpointIteration) {
    static Snapshot of(Path dir) throws IOException {
      Path c = dir.resolve("out.ckpt");
      return new Snapshot(Files.exists(c) ? Checkpoint.load(c).iteration() : null);
    }

    /** The run's temporary files (a write under way). */
    static List<Path> temporaryFiles(Path dir) throws IOException {
      if (!Files.isDirectory(dir)) {
        return List.of();
      }
      try (Stream<Path> s = Files.list(dir)) {
        return s.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList();
      }
    }

    /** Checks that the folder's files are whole; returns the checkpoint's iteration (-1: none). */
    int check(Path dir) {
      Path c = dir.resolve("out.ckpt");
      Path png = dir.resolve("out.png");
      if (checkpointIteration != null && !Files.exists(c)) {
        fail(dir + ": the checkpoint is gone");
      }
      int it = -1;
      if (Files.exists(c)) {
        it = Checkpoint.load(c).iteration(); // throws when partial or damaged
      }
      if (Files.exists(png)) {
        Tensor t = Images.read(png);
        assertEquals(32, t.shape()[t.shape().length - 1], png.toString());
      }
      if (Files.exists(c)) {
        assertTrue(Files.exists(dir.resolve("out.run.json")), dir + ": a checkpoint without its settings");
        RunSettings.load(dir.resolve("out.run.json"));
      }
      return it;
    }
  }
}
