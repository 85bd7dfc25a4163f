package ai.vqclip.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;

/**
 * The child JVM of the fault tests ({@link KillResumeTest}, {@link FullDiskTest}): runs several
 * runs at once, one thread each, every run in its own folder ({@code DIR/out.png}, checkpoint and
 * image every iteration), so that one kill -9 interrupts each of them at another point. A folder
 * that holds a checkpoint is resumed ({@code vqclip resume DIR/out.ckpt}), any other is started
 * afresh, as a user would after a crash. Prints {@code step DIR I} after each step and
 * {@code exit DIR CODE} when a run ends.
 */
final class FaultChild {
  /** Iterations of every run. */
  static final int ITERATIONS = 6;

  private FaultChild() {}

  /**
   * The demo-model run of every fault test: 32x32, 4 cutouts, a checkpoint and image each
   * iteration; {@code --overwrite}, as a user restarting a run that left no checkpoint passes.
   */
  static String[] generateArgs(Path dir) {
    return new String[] {"generate", "a red circle", "-o", dir.resolve("out.png").toString(), "-i", Integer.toString(ITERATIONS), "--cutouts",
        "4", "--seed", "1", "--threads", "1", "--save-every", "1", "--overwrite", "-q"};
  }

  /** What a user runs after a crash: resume when a checkpoint is there, otherwise start again. */
  static String[] argsFor(Path dir) {
    Path ckpt = dir.resolve("out.ckpt");
    return Files.exists(ckpt) ? new String[] {"resume", ckpt.toString(), "-q"} : generateArgs(dir);
  }

  public static void main(String[] args) throws InterruptedException {
    Main.configureLogging(new String[] {"-q"});
    javax.imageio.ImageIO.setUseCache(false);
    List<Thread> threads = new ArrayList<>();
    for (String d : args) {
      Path dir = Path.of(d);
      Thread t = new Thread(() -> {
        String[] a = argsFor(dir);
        CommandLine cl = Main.newCommandLine();
        List<ai.vqclip.core.StepListener> listeners = a[0].equals("resume")
            ? Cli.<ResumeCommand>command(cl, "resume").listeners : Cli.<GenerateCommand>command(cl, "generate").listeners;
        listeners.add(e -> {
          System.out.println("step " + d + " " + e.iteration());
          return true;
        });
        int exit = cl.execute(a);
        System.out.println("exit " + d + " " + exit);
      }, "run-" + dir.getFileName());
      threads.add(t);
      t.start();
    }
    for (Thread t : threads) {
      t.join();
    }
    System.out.flush();
    System.exit(0);
  }
}
