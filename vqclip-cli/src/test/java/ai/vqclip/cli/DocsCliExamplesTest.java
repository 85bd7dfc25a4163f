package ai.vqclip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The command lines in docs/cli.md and the README are what the command accepts: each is parsed by
 * the real command line (option names, arities and value types), and the cheap ones run as
 * written, their printed output compared with the document's.
 */
class DocsCliExamplesTest {

  /** Every {@code ./vqclip ...} line of the fenced blocks of a Markdown file, continuations joined, comments dropped. */
  static List<String> examples(Path md) throws IOException {
    List<String> out = new ArrayList<>();
    boolean fenced = false;
    StringBuilder cur = null;
    for (String line : Files.readAllLines(md, StandardCharsets.UTF_8)) {
      if (line.startsWith("```")) {
        fenced = !fenced;
        continue;
      }
      if (!fenced) {
        continue;
      }
      String l = line.strip().replaceFirst("^\\$ ", "");
      if (cur != null) {
        cur.append(' ').append(l);
      } else if (l.startsWith("./vqclip ")) {
        cur = new StringBuilder(l);
      } else {
        continue;
      }
      if (cur.toString().endsWith("\\")) {
        cur.setLength(cur.length() - 1);
      } else {
        out.add(cur.toString().replaceFirst("\\s+#\\s.*$", "").strip());
        cur = null;
      }
    }
    return out;
  }

  /** Splits a command line as a POSIX shell would for plain words, '...' and "..." (no expansions). */
  static List<String> words(String line) {
    List<String> w = new ArrayList<>();
    StringBuilder b = null;
    char quote = 0;
    for (char c : line.toCharArray()) {
      if (quote != 0) {
        if (c == quote) {
          quote = 0;
        } else {
          b.append(c);
        }
      } else if (c == '"' || c == '\'') {
        quote = c;
        b = b == null ? new StringBuilder() : b;
      } else if (Character.isWhitespace(c)) {
        if (b != null) {
          w.add(b.toString());
          b = null;
        }
      } else {
        b = b == null ? new StringBuilder() : b;
        b.append(c);
      }
    }
    if (quote != 0) {
      throw new IllegalArgumentException("unbalanced quote in: " + line);
    }
    if (b != null) {
      w.add(b.toString());
    }
    return w;
  }

  @Test
  void everyDocumentedCommandLineParses() throws IOException {
    Path root = docsRoot();
    int n = 0;
    for (Path md : List.of(root.resolve("docs/cli.md"), root.resolve("README.md"))) {
      for (String ex : examples(md)) {
        List<String> w = words(ex);
        List<String> args = w.subList(1, w.size());
        try {
          Main.newCommandLine().parseArgs(args.toArray(String[]::new));
        } catch (CommandLine.ParameterException e) {
          fail(md.getFileName() + ": '" + ex + "' does not parse: " + e.getMessage());
        }
        n++;
      }
    }
    assertTrue(n >= 25, "found only " + n + " examples");
  }

  @Test
  void helpExamplesRun() throws IOException {
    for (String ex : examples(docsRoot().resolve("docs/cli.md"))) {
      if (ex.endsWith("--help")) {
        List<String> w = words(ex);
        Cli.Run r = Cli.run(w.subList(1, w.size()).toArray(String[]::new));
        assertEquals(0, r.exit(), ex + ": " + r);
        assertTrue(r.out().startsWith("Usage: vqclip"), ex + ": " + r.out());
      }
    }
  }

  @Test
  void tokenizeExamplePrintsWhatTheDocumentShows() throws IOException {
    Path vocab = RealVocabulary.find();
    Assumptions.assumeTrue(vocab != null, "the real CLIP vocabulary is not on this machine");
    List<String> lines = Files.readAllLines(docsRoot().resolve("docs/cli.md"), StandardCharsets.UTF_8);
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).startsWith("$ ./vqclip tokenize ")) {
        List<String> w = words(lines.get(i).substring(2));
        w.set(w.indexOf("--vocab") + 1, vocab.toString());
        Cli.Run r = Cli.run(w.subList(1, w.size()).toArray(String[]::new));
        assertEquals(lines.get(i + 1), r.out().strip(), r.toString());
        return;
      }
    }
    fail("docs/cli.md has no tokenize example");
  }

  static Path docsRoot() {
    for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
      if (Files.isRegularFile(d.resolve("docs/cli.md"))) {
        return d;
      }
    }
    throw new IllegalStateException("no docs/cli.md above " + Path.of("").toAbsolutePath());
  }
}
