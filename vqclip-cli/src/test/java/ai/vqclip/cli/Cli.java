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

  /** The object behind a subcommand. */
  static <T> T command(CommandLine cl, String name) {
    return cl.getSubcommands().get(name).getCommand();
  }
}
