package ai.vqclip.cli;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What a batch of generate runs is made of: the prompts, the seeds, and a distinct output name per
 * run. Public for vqclip-spark's batch command (same prompt file and --seeds rules).
 */
public final class BatchPlan {
  /** Most runs one command makes. */
  static final int MAX_RUNS = 100_000;

  /** Most seeds one --seeds list gives. */
  static final int MAX_SEEDS = 10_000;

  /** Largest prompts file read. */
  static final long MAX_PROMPTS_FILE_BYTES = 4L << 20;

  private BatchPlan() {}

  /** The runs' prompts: the positional words (one run, joined with spaces), then every -p, then the file's lines. */
  public static List<String> prompts(List<String> words, List<String> more, Path file) {
    List<String> all = new ArrayList<>();
    if (words != null && !words.isEmpty()) {
      all.add(String.join(" ", words));
    }
    for (String p : more) {
      if (p.isBlank()) {
        throw new UsageException("--prompt: empty prompts");
      }
      all.add(p);
    }
    if (file != null) {
      InputFiles.requireReadable(file, "--prompts-file");
      try {
        if (Files.size(file) > MAX_PROMPTS_FILE_BYTES) {
          throw new UsageException("--prompts-file " + file + " has " + Files.size(file) + " bytes; at most " + MAX_PROMPTS_FILE_BYTES + " are read");
        }
        int before = all.size();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
          String t = line.strip();
          if (!t.isEmpty() && !t.startsWith("#")) {
            all.add(t);
          }
        }
        if (all.size() == before) {
          throw new UsageException("--prompts-file " + file + " has no prompts (every line is blank or a # comment)");
        }
      } catch (CharacterCodingException e) {
        throw new UsageException("--prompts-file " + file + " is not UTF-8 text", e);
      } catch (IOException e) {
        throw new UsageException("--prompts-file " + file + ": " + e.getMessage(), e);
      }
    }
    if (all.isEmpty()) {
      throw new UsageException("no prompts: give PROMPTS, -p PROMPTS or --prompts-file FILE");
    }
    return all;
  }

  /**
   * The seeds of a list like {@code 0-7} or {@code 1,5,9-12}: non-negative numbers and inclusive
   * ranges, in the order given, duplicates dropped.
   */
  public static List<Long> seeds(String list) {
    Set<Long> out = new LinkedHashSet<>();
    for (String part : list.split(",", -1)) {
      String p = part.strip();
      int dash = p.indexOf('-', 1);
      try {
        if (dash > 0) {
          long a = Long.parseLong(p.substring(0, dash).strip());
          long b = Long.parseLong(p.substring(dash + 1).strip());
          if (a < 0 || b < a) {
            throw new UsageException("--seeds: range '" + p + "' must be FROM-TO with 0 <= FROM <= TO");
          }
          if (b - a >= MAX_SEEDS) {
            throw new UsageException("--seeds: range '" + p + "' has " + (b - a + 1) + " seeds; at most " + MAX_SEEDS + " in all");
          }
          for (long s = a; s <= b; s++) {
            out.add(s);
          }
        } else {
          long s = Long.parseLong(p);
          if (s < 0) {
            throw new UsageException("--seeds: seeds are non-negative, got " + s);
          }
          out.add(s);
        }
      } catch (NumberFormatException e) {
        throw new UsageException("--seeds: '" + p + "' is not a seed or a range (expected e.g. 0-7 or 1,5,9-12)", e);
      }
      if (out.size() > MAX_SEEDS) {
        throw new UsageException("--seeds: more than " + MAX_SEEDS + " seeds");
      }
    }
    return List.copyOf(out);
  }

  /** The folder a batch writes to: -o when given (created if missing; must not be a .png name), else the working folder. */
  static Path outputFolder(Path output) {
    if (output == null) {
      return Path.of("");
    }
    if (output.getFileName() != null && output.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".png")) {
      throw new UsageException("-o " + output + ": with several runs -o names a folder (each run writes PROMPT-SEED.png in it)");
    }
    InputFiles.requireWritableFolder(output, "--output");
    return output;
  }

  /**
   * One PNG name per run, {@code PROMPT-SEED.png} from the run's prompt ({@link OutputNames#fromPrompt})
   * and seed; a prompt whose name an earlier prompt already took gets its 1-based position added
   * ({@code a-cat-3-7.png}), so every run's files are distinct.
   */
  static List<String> names(List<String> prompts, List<Integer> promptOf, List<Long> seedOf) {
    List<String> stems = new ArrayList<>();
    Set<String> taken = new HashSet<>();
    for (int i = 0; i < prompts.size(); i++) {
      String stem = OutputNames.stem(Path.of(OutputNames.fromPrompt(prompts.get(i))));
      String s = stem;
      for (int k = i + 1; !taken.add(s); k += prompts.size()) {
        s = stem + "-" + k;
      }
      stems.add(s);
    }
    List<String> names = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (int k = 0; k < promptOf.size(); k++) {
      String n = stems.get(promptOf.get(k)) + "-" + seedOf.get(k) + ".png";
      if (!seen.add(n)) {
        throw new IllegalStateException("duplicate output name " + n); // cannot happen: stems distinct, seeds distinct per prompt
      }
      names.add(n);
    }
    return names;
  }
}
