package ai.vqclip.study;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * The records of an {@link OptimizerStudy}, with per-variant statistics, the CSV and the report.
 *
 * @param variants the variant labels, in study order
 * @param runs every run
 * @param iterations iterations per run
 */
public record StudyResult(List<String> variants, List<OptimizerStudy.Run> runs, int iterations) {
  /** How many final iterations the "final loss" averages (the loss is noisy from step to step: random cutouts). */
  public static final int FINAL_WINDOW = 5;

  public StudyResult {
    variants = List.copyOf(variants);
    runs = List.copyOf(runs);
  }

  /**
   * One variant over its runs (seeds x prompts).
   *
   * @param label the variant
   * @param runs how many runs
   * @param meanLoss mean over runs of each iteration's loss
   * @param spreadLoss standard deviation over runs of each iteration's loss (0 for one run)
   * @param meanSeconds mean over runs of the wall time up to the end of each iteration, setup excluded, s
   * @param finalLoss mean over runs of the mean loss of the last {@link #FINAL_WINDOW} iterations
   * @param finalLossSpread its standard deviation over runs
   * @param similarity mean final CLIP similarity
   * @param stepMillis mean wall time of an iteration, ms
   * @param setupMillis mean setup time (graph build and compile), ms
   */
  public record Summary(String label, int runs, double[] meanLoss, double[] spreadLoss, double[] meanSeconds, double finalLoss,
      double finalLossSpread, double similarity, double stepMillis, double setupMillis) {}

  /** The summary of each variant, in study order. */
  public List<Summary> summaries() {
    List<Summary> out = new ArrayList<>();
    for (String v : variants) {
      List<OptimizerStudy.Run> rs = runs.stream().filter(r -> r.variant().equals(v)).toList();
      int n = iterations;
      double[] mean = new double[n];
      double[] spread = new double[n];
      double[] secs = new double[n];
      double[] finals = new double[rs.size()];
      double sim = 0;
      double step = 0;
      double setup = 0;
      for (int k = 0; k < rs.size(); k++) {
        OptimizerStudy.Run r = rs.get(k);
        double t = 0;
        for (int i = 0; i < n; i++) {
          mean[i] += r.loss()[i] / rs.size();
          t += r.stepMillis()[i] / 1000;
          secs[i] += t / rs.size();
          step += r.stepMillis()[i] / (n * rs.size());
        }
        for (int i = Math.max(0, n - FINAL_WINDOW); i < n; i++) {
          finals[k] += r.loss()[i] / Math.min(n, FINAL_WINDOW);
        }
        sim += r.similarity() / rs.size();
        setup += r.setupMillis() / rs.size();
      }
      for (int i = 0; i < n; i++) {
        double ss = 0;
        for (OptimizerStudy.Run r : rs) {
          ss += (r.loss()[i] - mean[i]) * (r.loss()[i] - mean[i]);
        }
        spread[i] = rs.size() > 1 ? Math.sqrt(ss / (rs.size() - 1)) : 0;
      }
      double fm = java.util.Arrays.stream(finals).average().orElse(Double.NaN);
      double fs = rs.size() > 1 ? Math.sqrt(java.util.Arrays.stream(finals).map(f -> (f - fm) * (f - fm)).sum() / (rs.size() - 1)) : 0;
      out.add(new Summary(v, rs.size(), mean, spread, secs, fm, fs, sim, step, setup));
    }
    return out;
  }

  /** The summaries ranked: lowest final loss first. */
  public List<Summary> ranking() {
    return summaries().stream().sorted(Comparator.comparingDouble(Summary::finalLoss)).toList();
  }

  /** One row per run and iteration: variant, prompt, seed, iteration, loss, step_ms, setup_ms, final_similarity. */
  public void writeCsv(Path file) {
    StringBuilder sb = new StringBuilder("variant,prompt,seed,iteration,loss,step_ms,setup_ms,final_similarity\n");
    for (OptimizerStudy.Run r : runs) {
      for (int i = 0; i < r.loss().length; i++) {
        sb.append(csv(r.variant())).append(',').append(csv(r.prompt())).append(',').append(r.seed()).append(',').append(i).append(',')
            .append(r.loss()[i]).append(',').append(String.format(Locale.ROOT, "%.3f", r.stepMillis()[i])).append(',')
            .append(String.format(Locale.ROOT, "%.1f", r.setupMillis())).append(',').append(r.similarity()).append('\n');
      }
    }
    write(file, sb.toString());
  }

  /** A Markdown report: the ranking table, then the plots by file name (relative to the report). */
  public void writeReport(Path file, String title, List<String> plots) {
    StringBuilder sb = new StringBuilder("# " + title + "\n\n");
    int seeds = (int) runs.stream().map(OptimizerStudy.Run::seed).distinct().count();
    int prompts = (int) runs.stream().map(OptimizerStudy.Run::prompt).distinct().count();
    sb.append(String.format(Locale.ROOT, "%d variants x %d seeds x %d prompts, %d iterations each. Ranked by the final loss (mean of the "
        + "last %d iterations, then over runs; lower is better); +- is the standard deviation over runs. Step time excludes the setup "
        + "(graph build, differentiation, compile).%n%n", variants.size(), seeds, prompts, iterations, FINAL_WINDOW));
    sb.append("| rank | variant | final loss | +- | first loss | CLIP similarity | step ms | setup ms |\n");
    sb.append("|---:|---|---:|---:|---:|---:|---:|---:|\n");
    int rank = 1;
    for (Summary s : ranking()) {
      sb.append(String.format(Locale.ROOT, "| %d | %s | %.4f | %.4f | %.4f | %.4f | %.1f | %.0f |%n", rank++, s.label(), s.finalLoss(),
          s.finalLossSpread(), s.meanLoss()[0], s.similarity(), s.stepMillis(), s.setupMillis()));
    }
    sb.append('\n');
    for (String p : plots) {
      sb.append("![").append(p).append("](").append(p).append(")\n\n");
    }
    write(file, sb.toString());
  }

  private static String csv(String s) {
    return s.contains(",") || s.contains("\"") || s.contains("\n") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
  }

  /** A file-name-safe form of a label. */
  static String slug(String s) {
    String t = s.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9.@]+", "-").replaceAll("^-+|-+$", "");
    return t.isEmpty() ? "x" : t.length() > 60 ? t.substring(0, 60) : t;
  }

  private static void write(Path file, String text) {
    try {
      Path parent = file.toAbsolutePath().getParent();
      Files.createDirectories(parent);
      Files.writeString(file, text);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }
}
