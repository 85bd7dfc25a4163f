package ai.vqclip.study;

import ai.vqclip.core.Encoder;
import ai.vqclip.core.LearningRateSchedule;
import ai.vqclip.core.Optimizer;
import ai.vqclip.core.StepEvent;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.image.Images;
import ai.vqclip.core.optim.OptimizerConfig;
import ai.vqclip.core.optim.Schedules;
import ai.vqclip.core.pipeline.GenerationRequest;
import ai.vqclip.core.pipeline.Pipeline;
import ai.vqclip.core.pipeline.RunResult;
import ai.vqclip.core.prompt.PromptSchedule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Compares optimizer variants on the same models: every variant runs every prompt with every seed,
 * from the same base request, so the initial latent, the cutouts and the augmentations of a (prompt,
 * seed) pair are the same for all variants and only the optimizer differs. For every run it records
 * the loss and the wall time of each iteration (the setup, i.e. graph build and compile, separately),
 * the final CLIP similarity between the image and the prompt, and images at chosen iterations.
 * {@link StudyResult} writes the CSV and the Markdown report; {@link StudyPlots} the PNG plots.
 *
 * <pre>{@code
 * StudyResult result = OptimizerStudy.builder(pipeline, encoder, baseRequest)
 *     .variants(OptimizerStudy.grid(List.of(OptimizerConfig.of(Kind.ADAM), OptimizerConfig.of(Kind.SGD)), List.of()))
 *     .seeds(List.of(0L, 1L)).prompts(List.of("a red circle")).build().run(run -> {});
 * }</pre>
 *
 * Runs one run at a time (timings are then comparable). Not thread-safe.
 */
public final class OptimizerStudy {
  /** Largest number of runs in one study. */
  public static final int MAX_RUNS = 10_000;

  /**
   * One optimizer variant.
   *
   * @param label its name in tables and plots (unique in a study)
   * @param optimizer the optimizer
   * @param schedule its learning-rate schedule
   */
  public record Variant(String label, Optimizer optimizer, LearningRateSchedule schedule) {
    public Variant {
      Objects.requireNonNull(label, "label");
      Objects.requireNonNull(optimizer, "optimizer");
      Objects.requireNonNull(schedule, "schedule");
    }
  }

  /**
   * The variants of optimizers x learning rates: each optimizer at each rate of {@code rates}, or
   * at its own rate when {@code rates} is empty. A built-in optimizer takes the rate as its base
   * rate; any other gets it from a schedule that sets it from iteration 0.
   */
  public static List<Variant> grid(List<? extends Optimizer> optimizers, List<Double> rates) {
    List<Variant> out = new ArrayList<>();
    for (Optimizer o : optimizers) {
      if (rates.isEmpty()) {
        out.add(new Variant(o.name(), o, Schedules.constant()));
      }
      for (double r : rates) {
        if (o instanceof OptimizerConfig c) {
          OptimizerConfig at = c.withLearningRate(r);
          out.add(new Variant(at.name(), at, Schedules.constant()));
        } else {
          out.add(new Variant(o.name() + "@" + r, o, Schedules.drops(List.of(new Schedules.Drop(0, r)))));
        }
      }
    }
    return out;
  }

  /**
   * One run's record.
   *
   * @param variant the variant's label
   * @param seed the seed
   * @param prompt the prompt
   * @param loss the total loss of each iteration
   * @param stepMillis the wall time of each iteration (step graph call and optimizer update), ms
   * @param setupMillis the time before the first iteration (graph build, differentiation, compile, embeddings), ms
   * @param similarity the cosine similarity between the final image's and the prompt's embeddings
   */
  public record Run(String variant, long seed, String prompt, double[] loss, double[] stepMillis, double setupMillis, double similarity) {}

  private final Pipeline pipeline;
  private final Encoder scorer;
  private final GenerationRequest base;
  private final List<Variant> variants;
  private final List<Long> seeds;
  private final List<String> prompts;
  private final List<Integer> imagesAt;
  private final Path imageDir;

  private OptimizerStudy(Builder b) {
    pipeline = Objects.requireNonNull(b.pipeline, "pipeline");
    scorer = Objects.requireNonNull(b.scorer, "scorer");
    base = Objects.requireNonNull(b.base, "base");
    variants = List.copyOf(b.variants);
    seeds = List.copyOf(b.seeds);
    prompts = List.copyOf(b.prompts);
    imagesAt = List.copyOf(b.imagesAt);
    imageDir = b.imageDir;
    if (variants.isEmpty() || seeds.isEmpty() || prompts.isEmpty()) {
      throw new IllegalArgumentException("a study needs at least one variant, seed and prompt; got " + variants.size() + ", " + seeds.size()
          + ", " + prompts.size());
    }
    if (variants.stream().map(Variant::label).distinct().count() != variants.size()) {
      throw new IllegalArgumentException("variant labels must be unique, got " + variants.stream().map(Variant::label).toList());
    }
    long runs = (long) variants.size() * seeds.size() * prompts.size();
    if (runs > MAX_RUNS) {
      throw new IllegalArgumentException("the study has " + runs + " runs; at most " + MAX_RUNS + " are allowed");
    }
    for (int i : imagesAt) {
      if (i < 0 || i >= base.iterations()) {
        throw new IllegalArgumentException("image iteration " + i + " is outside [0, " + base.iterations() + ")");
      }
    }
    if (!imagesAt.isEmpty()) {
      Objects.requireNonNull(imageDir, "imageDir (imagesAt given)");
    }
  }

  /** A study of runs derived from {@code base} (its size, iterations, cutouts, augmentations, losses), scored by {@code scorer}. */
  public static Builder builder(Pipeline pipeline, Encoder scorer, GenerationRequest base) {
    return new Builder(pipeline, scorer, base);
  }

  /** Runs every variant x prompt x seed, in that order of nesting from the inside out, calling {@code progress} after each run. */
  public StudyResult run(Consumer<Run> progress) {
    List<Run> runs = new ArrayList<>();
    for (String prompt : prompts) {
      for (long seed : seeds) {
        for (Variant v : variants) {
          Run r = runOne(v, prompt, seed);
          runs.add(r);
          progress.accept(r);
        }
      }
    }
    return new StudyResult(variants.stream().map(Variant::label).toList(), runs, base.iterations());
  }

  private Run runOne(Variant v, String prompt, long seed) {
    GenerationRequest.Builder rb = base.toBuilder().prompts(PromptSchedule.parse(prompt, base.prompts().every())).seed(seed)
        .optimizer(v.optimizer()).schedule(v.schedule());
    if (!imagesAt.isEmpty()) {
      rb.saveEvery(Math.max(1, imagesAt.stream().reduce(0, OptimizerStudy::gcd)));
    }
    GenerationRequest r = rb.build();
    int n = r.iterations();
    double[] loss = new double[n];
    double[] step = new double[n];
    Duration[] setup = {Duration.ZERO};
    Duration[] last = {null};
    RunResult res = pipeline.run(r, (StepEvent e) -> {
      loss[e.iteration()] = e.loss();
      Duration before = last[0] == null ? e.setup() : last[0];
      step[e.iteration()] = (e.elapsed().toNanos() - before.toNanos()) / 1e6;
      setup[0] = e.setup();
      last[0] = e.elapsed();
      if (e.image() != null && imagesAt.contains(e.iteration())) {
        writeImage(e.image(), v, prompt, seed, e.iteration());
      }
      return true;
    });
    // The last step's time includes its optimizer update only up to the event; the update is
    // measured with the next event, so the last one lacks it (one update: microseconds to ms).
    return new Run(v.label(), seed, prompt, loss, step, setup[0].toNanos() / 1e6, similarity(res.image(), r));
  }

  private void writeImage(Tensor image, Variant v, String prompt, long seed, int iteration) {
    try {
      Files.createDirectories(imageDir);
      Images.writePng(image, imageDir.resolve(StudyResult.slug(v.label()) + "-" + StudyResult.slug(prompt) + "-seed" + seed + "-it" + iteration
          + ".png"), Map.of());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot write study image in " + imageDir + ": " + e.getMessage(), e);
    }
  }

  /** Cosine similarity of the image (resized to the encoder's input) and the first prompt's text. */
  private double similarity(Tensor image, GenerationRequest r) {
    int s = scorer.inputResolution();
    Tensor in = Images.toTensor(Images.resize(Images.toImage(image), s, s), 3);
    double[] a = scorer.embedImages(in).toDoubles();
    double[] t = scorer.embedText(r.prompts().sets().get(0).get(0).text()).toDoubles();
    double dot = 0;
    double na = 0;
    double nt = 0;
    for (int i = 0; i < a.length; i++) {
      dot += a[i] * t[i];
      na += a[i] * a[i];
      nt += t[i] * t[i];
    }
    return dot / Math.sqrt(na * nt);
  }

  private static int gcd(int a, int b) {
    return b == 0 ? a : gcd(b, a % b);
  }

  /** Fluent builder. */
  public static final class Builder {
    private final Pipeline pipeline;
    private final Encoder scorer;
    private final GenerationRequest base;
    private List<Variant> variants = List.of();
    private List<Long> seeds = List.of(0L);
    private List<String> prompts;
    private List<Integer> imagesAt = List.of();
    private Path imageDir;

    private Builder(Pipeline pipeline, Encoder scorer, GenerationRequest base) {
      this.pipeline = pipeline;
      this.scorer = scorer;
      this.base = base;
      this.prompts = base == null ? List.of() : List.of(base.prompts().sets().get(0).get(0).text());
    }

    /** The variants (see {@link OptimizerStudy#grid}). */
    public Builder variants(List<Variant> v) {
      variants = v;
      return this;
    }

    /** The seeds (default: 0). */
    public Builder seeds(List<Long> s) {
      seeds = s;
      return this;
    }

    /** The prompts, each in the command's PROMPTS syntax (default: the base request's first prompt). */
    public Builder prompts(List<String> p) {
      prompts = p;
      return this;
    }

    /** Writes each run's image at these iterations into {@code dir}. */
    public Builder imagesAt(List<Integer> iterations, Path dir) {
      imagesAt = iterations;
      imageDir = dir;
      return this;
    }

    /** Validates and builds. */
    public OptimizerStudy build() {
      return new OptimizerStudy(this);
    }
  }
}
