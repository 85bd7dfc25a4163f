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

  /** A numeric value of the run settings a PNG carries. */
  static double setting(java.nio.file.Path png, String key) throws java.io.IOException {
    return DemoModelsOptionTest.JSON.readTree(ai.vqclip.core.image.Images.readPngText(png).get(Runner.SETTINGS_KEY)).get(key).asDouble();
  }

  /** The object behind a subcommand. */
  static <T> T command(CommandLine cl, String name) {
    return cl.getSubcommands().get(name).getCommand();
  }
}
