package ai.vqclip.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class MainTest {
  /** Exit code, stdout and stderr of one command. */
  private record Run(int exit, String out, String err) {
    List<String> lossLines() {
      return out.lines().filter(l -> l.startsWith("step ")).toList();
    }
  }

  private static Run run(CommandLine cl, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int exit = cl.execute(args);
    return new Run(exit, out.toString(), err.toString());
  }

  private static Run vqclip(String... args) {
    return run(Main.newCommandLine(), args);
  }

  @Test
  void demoReducesTheLoss() {
    Run r = vqclip("demo", "--steps", "80", "--seed", "3", "--threads", "1");
    assertEquals(0, r.exit(), r.err());
    Matcher m = Pattern.compile("done: loss (\\S+) -> (\\S+) \\(").matcher(r.out());
    assertTrue(m.find(), r.out());
    double first = Double.parseDouble(m.group(1));
    double last = Double.parseDouble(m.group(2));
    assertTrue(last < 0.1 * first, "loss " + first + " -> " + last);
    assertTrue(r.out().contains("ms/step"), r.out());
    assertEquals(11, r.lossLines().size(), r.out()); // steps 0, 8, ..., 80
  }

  @Test
  void sameSeedGivesBitIdenticalLosses() {
    DemoCommand.Result a = DemoCommand.run(40, 7, 0.05, 2, 1000, new PrintWriter(new StringWriter()));
    DemoCommand.Result b = DemoCommand.run(40, 7, 0.05, 2, 1000, new PrintWriter(new StringWriter()));
    assertArrayEquals(a.losses(), b.losses()); // Arrays.equals on doubles compares bits
    DemoCommand.Result c = DemoCommand.run(40, 8, 0.05, 2, 1000, new PrintWriter(new StringWriter()));
    assertFalse(Arrays.equals(a.losses(), c.losses()), "another seed must give another run");
  }

  @Test
  void sameSeedGivesIdenticalPrintedLosses() {
    Run a = vqclip("demo", "--steps", "20", "--seed", "11", "--log-every", "1", "--threads", "1");
    Run b = vqclip("demo", "--steps", "20", "--seed", "11", "--log-every", "1", "--threads", "1");
    assertEquals(0, a.exit(), a.err());
    assertEquals(21, a.lossLines().size());
    assertEquals(a.lossLines(), b.lossLines());
  }

  @Test
  void selftestPassesAndFailsOnAnImpossibleTolerance() {
    Run ok = vqclip("selftest", "--threads", "1");
    assertEquals(0, ok.exit(), ok.out() + ok.err());
    Matcher m = Pattern.compile("max relative error (\\S+) ").matcher(ok.out());
    assertTrue(m.find(), ok.out());
    assertTrue(Double.parseDouble(m.group(1)) < 1e-6, ok.out());
    Run bad = vqclip("selftest", "--threads", "1", "--tolerance", "1e-300");
    assertEquals(1, bad.exit(), bad.out());
    assertTrue(bad.out().contains("FAIL"), bad.out());
  }

  @Test
  void unknownOptionIsExitTwoWithOneLine() {
    Run r = vqclip("demo", "--no-such-option");
    assertEquals(2, r.exit());
    assertEquals(1, r.err().lines().count(), r.err());
    assertTrue(r.err().contains("--no-such-option"), r.err());
    assertEquals("", r.out());
  }

  @Test
  void badValuesAreExitTwo() {
    for (String[] args : List.of(
        new String[] {"demo", "--steps", "many"},
        new String[] {"demo", "--steps", "0"},
        new String[] {"demo", "--lr", "-1"},
        new String[] {"demo", "--threads", "-3"},
        new String[] {"selftest", "--eps", "0"},
        new String[] {"no-such-command"},
        new String[] {})) {
      Run r = vqclip(args);
      assertEquals(2, r.exit(), Arrays.toString(args) + ": " + r.err());
      assertEquals(1, r.err().lines().count(), Arrays.toString(args) + ": " + r.err());
      assertFalse(r.err().contains("\tat "), r.err());
    }
  }

  @Test
  void verboseAddsTheStackTrace() {
    Run r = vqclip("demo", "--steps", "0", "--verbose");
    assertEquals(2, r.exit());
    assertTrue(r.err().contains("--steps must be in [1, 10000000], got 0"), r.err());
    assertTrue(r.err().contains("\tat "), r.err());
  }

  @Test
  void plainPicocliCommandLineAlsoRejectsBadOptionsWithTwo() {
    Run r = run(new CommandLine(new Main()), "demo", "--bogus");
    assertEquals(2, r.exit());
    assertTrue(r.err().contains("--bogus"), r.err());
  }

  @Test
  void helpListsTheSubcommands() {
    Run r = vqclip("--help");
    assertEquals(0, r.exit());
    assertTrue(r.out().contains("demo") && r.out().contains("selftest"), r.out());
  }

  @Test
  void everyRunCommandHasHelpWithExamples() {
    for (String cmd : List.of("generate", "edit", "video", "resume", "study", "tokenize", "inspect", "train-demo")) {
      Run r = vqclip(cmd, "--help");
      assertEquals(0, r.exit(), cmd);
      assertTrue(r.out().contains("Usage: vqclip " + cmd) && r.out().contains("Examples:") && r.out().contains("  vqclip " + cmd + " "),
          r.out());
    }
    Run top = vqclip("--help");
    for (String cmd : List.of("generate", "edit", "video", "resume", "study", "tokenize", "inspect", "train-demo", "demo", "selftest")) {
      assertTrue(top.out().contains("  " + cmd + " ") || top.out().contains("  " + cmd + "\n"), cmd + " in " + top.out());
    }
    assertTrue(top.out().contains("Examples:"), top.out());
  }

  @Test
  void generateHelpNamesEveryOptionOfTheIssue() {
    String help = vqclip("generate", "--help").out();
    for (String opt : List.of("--output", "--size", "--iterations", "--seed", "--cutouts", "--cut-pow", "--augments", "--optimizer", "--lr",
        "--image-prompts", "--noise-prompts", "--change-prompts-every", "--init-image", "--init-noise", "--init-weight", "--init-decay",
        "--save-every", "--device", "--threads", "--vqgan", "--vqgan-config", "--clip", "--vocab", "--manifest", "--demo-models", "--quiet", "--verbose")) {
      assertTrue(help.contains(opt), opt + " missing from: " + help);
    }
  }
}
