package ai.vqclip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Every help text is clean: picocli reports a bad description (e.g. an unescaped {@code %}) as a
 * {@code [picocli WARN]} line on the process's stderr, which only a separate JVM sees as a user
 * does, so the help of every command is printed in a child JVM and its stderr must stay empty.
 */
class HelpTextTest {

  /** Prints the main help and every subcommand's help; run in a child JVM by the test. */
  public static void main(String[] args) {
    CommandLine root = Main.newCommandLine();
    List<String> names = new ArrayList<>(root.getSubcommands().keySet());
    System.out.println("commands: " + names);
    Main.newCommandLine().execute("--help");
    for (String name : names) {
      System.out.println("=== " + name);
      Main.newCommandLine().execute(name, "--help");
      System.out.println("=== help " + name);
      Main.newCommandLine().execute("help", name);
    }
  }

  @Test
  void noCommandsHelpWritesToStderr() throws IOException, InterruptedException {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process p = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"), HelpTextTest.class.getName()).start();
    p.getOutputStream().close();
    // Read both streams fully (help texts are small, but never let a pipe fill up).
    var out = new java.util.concurrent.CompletableFuture<String>();
    Thread reader = new Thread(() -> {
      try {
        out.complete(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
      } catch (IOException e) {
        out.completeExceptionally(e);
      }
    });
    reader.start();
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "help printing did not finish");
    String stdout = out.join();
    assertEquals("", err, "stderr of the help texts");
    assertEquals(0, p.exitValue());
    for (String cmd : List.of("generate", "edit", "video", "resume", "inspect", "tokenize", "train-demo", "generate-completion")) {
      assertTrue(stdout.contains("=== " + cmd + "\nUsage: vqclip " + cmd), cmd + " --help missing:\n" + stdout);
      assertTrue(stdout.contains("=== help " + cmd + "\nUsage: vqclip " + cmd), "vqclip help " + cmd + " missing:\n" + stdout);
    }
  }

  @Test
  void helpCommandPrintsTheCommandsUsage() {
    Cli.Run r = Cli.run("help", "generate");
    assertEquals(0, r.exit(), r.toString());
    assertTrue(r.out().startsWith("Usage: vqclip generate"), r.toString());
  }

  @Test
  void completionScriptNamesTheCommands() {
    Cli.Run r = Cli.run("generate-completion");
    assertEquals(0, r.exit(), r.toString());
    assertTrue(r.out().contains("complete -F _complete_vqclip") && r.out().contains("generate") && r.out().contains("--seed"), r.out());
  }
}
