package ai.vqclip.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.function.Consumer;
import picocli.CommandLine;

/** Runs the vqclip command in process, capturing its output. */
final class Cli {
  private Cli() {}

  /** Exit code, stdout and stderr of one command. */
  record Run(int exit, String out, String err) {
    @Override
    public String toString() {
      return "exit " + exit + "\nstdout:\n" + out + "\nstderr:\n" + err;
    }
  }

  /** Runs {@code args}. */
  static Run run(String... args) {
    return run(cl -> {}, args);
  }

  /** Runs {@code args} after {@code setup} has seen the command line (to reach a subcommand's object). */
  static Run run(Consumer<CommandLine> setup, String... args) {
    CommandLine cl = Main.newCommandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    setup.accept(cl);
    int exit = cl.execute(args);
    return new Run(exit, out.toString(), err.toString());
  }

  /**
   * A small demo {@code generate} run (4 cutouts, one thread, quiet) of {@code prompt} at {@code seed}
   * into {@code out}, with {@code extra} options.
   */
  static Run generate(String prompt, long seed, java.nio.file.Path out, int iterations, String... extra) {
    java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("generate", prompt, "-o", out.toString(), "-i",
        Integer.toString(iterations), "--cutouts", "4", "--seed", Long.toString(seed), "--threads", "1", "-q"));
    args.addAll(java.util.List.of(extra));
    return run(args.toArray(new String[0]));
  }

  /**
   * Asserts that a run stopped at a checkpoint and resumed draws what the whole run drew: {@code run}
   * writes the whole run's picture for {@code iterations} into its path argument, and the run with
   * {@code --checkpoint} for {@code stopAt}; the second is resumed to {@code iterations}.
   */
  static void assertResumeEqualsWhole(java.nio.file.Path dir, java.util.function.BiFunction<java.nio.file.Path, Integer, Run> whole,
      java.util.function.BiFunction<java.nio.file.Path, Integer, Run> checkpointed, int stopAt, int iterations, String why)
      throws java.io.IOException {
    java.nio.file.Path all = dir.resolve("whole.png");
    org.junit.jupiter.api.Assertions.assertEquals(0, whole.apply(all, iterations).exit());
    java.nio.file.Path part = dir.resolve("part.png");
    org.junit.jupiter.api.Assertions.assertEquals(0, checkpointed.apply(part, stopAt).exit());
    Run resumed = run("resume", dir.resolve("part.ckpt").toString(), "--iterations", Integer.toString(iterations), "-q");
    org.junit.jupiter.api.Assertions.assertEquals(0, resumed.exit(), resumed.toString());
    org.junit.jupiter.api.Assertions.assertArrayEquals(ai.vqclip.core.image.Images.read(all).toFloats(),
        ai.vqclip.core.image.Images.read(part).toFloats(), why);
  }

  /**
   * Asserts that a demo-models folder whose file {@code name} is hostile makes a run a usage error
   * naming it: a safetensors header that claims more bytes than the file has, then another model's
   * weights under that name ({@code wrongKey}: what the error must say). {@code run} runs with the
   * folder's path.
   */
  static void assertHostileModelFileRefused(java.nio.file.Path dir, String name, String wrongKey,
      java.util.function.Function<String, Run> run) throws java.io.IOException {
    java.nio.file.Path models = java.nio.file.Files.createDirectories(dir.resolve("hostile"));
    ai.vqclip.demo.DemoModels.copyBundled(models);
    java.nio.file.Path file = models.resolve(name);
    java.nio.file.Files.write(file, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0, 0, '{', '}'});
    ErrorsTest.assertUsageError(run.apply(models.toString()), name + ": header length");
    java.nio.file.Files.copy(models.resolve(ai.vqclip.demo.DemoModels.VQGAN_WEIGHTS), file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    ErrorsTest.assertUsageError(run.apply(models.toString()), wrongKey);
  }

  /** A numeric value of the run settings a PNG carries. */
  static double setting(java.nio.file.Path png, String key) throws java.io.IOException {
    return DemoModelsOptionTest.JSON.readTree(ai.vqclip.core.image.Images.readPngText(png).get(Runner.SETTINGS_KEY)).get(key).asDouble();
  }

  /** The object behind a subcommand. */
  static <T> T command(CommandLine cl, String name) {
    return cl.getSubcommands().get(name).getCommand();
  }
}
