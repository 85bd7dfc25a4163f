package ai.vqclip.spark;

import ai.vqclip.augment.StandardCutouts;
import ai.vqclip.cli.OutputNames;
import ai.vqclip.cli.models.RunDefaults;
import ai.vqclip.core.optim.OptimizerConfig;
import ai.vqclip.core.pipeline.GenerationRequest;
import ai.vqclip.core.prompt.PromptSchedule;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Row;

/**
 * One request row with every empty column filled from the models' run defaults: what a run does,
 * and the deterministic name of its output.
 *
 * @param prompt the prompt text (generate.py syntax: {@code text:weight:stop}, {@code |}, {@code ^})
 * @param seed the seed
 * @param width output width
 * @param height output height
 * @param iterations optimizer steps
 * @param cutouts cutouts per step
 * @param cutPow crop-size exponent
 * @param augmentations augmentation codes
 * @param optimizer optimizer name
 * @param learningRate learning rate
 * @param tvWeight total-variation weight
 * @param frameWeight plain-frame weight (the models' default; no column sets it)
 */
record RequestSpec(String prompt, long seed, int width, int height, int iterations, int cutouts, double cutPow, List<String> augmentations,
    String optimizer, double learningRate, double tvWeight, double frameWeight) {

  /** Longest prompt accepted (characters). */
  static final int MAX_PROMPT = 10_000;

  /**
   * Reads a row of {@link Columns#REQUEST} (as {@link Columns#normalize} leaves it), filling nulls from {@code defaults}.
   *
   * @throws IllegalArgumentException naming the column for a missing or bad value
   */
  static RequestSpec of(Row r, RunDefaults defaults, int sizeStep) {
    String prompt = r.getString(0);
    if (prompt == null || prompt.isBlank()) {
      throw new IllegalArgumentException("prompt must be a non-empty text, got " + (prompt == null ? "null" : "'" + prompt + "'"));
    }
    if (prompt.length() > MAX_PROMPT) {
      throw new IllegalArgumentException("prompt has " + prompt.length() + " characters; at most " + MAX_PROMPT);
    }
    if (r.isNullAt(1) || r.getLong(1) < 0) {
      throw new IllegalArgumentException("seed must be a number >= 0, got " + (r.isNullAt(1) ? "null" : r.getLong(1)));
    }
    int width = r.isNullAt(2) ? defaults.size() : r.getInt(2);
    int height = r.isNullAt(3) ? defaults.size() : r.getInt(3);
    for (int side : new int[] {width, height}) {
      if (side < 1 || side > 8192 || side % sizeStep != 0) {
        throw new IllegalArgumentException("width and height must be multiples of " + sizeStep + " (the generator's factor) in [" + sizeStep
            + ", 8192], got " + width + "x" + height);
      }
    }
    String augs = r.isNullAt(7) ? null : r.getString(7);
    List<String> codes = augs == null ? defaults.augments()
        : Arrays.stream(augs.split("[,\\s]+")).filter(s -> !s.isEmpty()).toList();
    try {
      // Only to refuse an unknown code now, by name (with StandardCutouts' switches: Border, Pool, Noise=).
      new StandardCutouts().create(1, 32, 1.0, ai.vqclip.core.CutoutAugmentation.codes(codes));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("augmentations: " + e.getMessage(), e);
    }
    String opt = r.isNullAt(8) ? "adam" : r.getString(8).strip().toLowerCase(Locale.ROOT);
    double lr = r.isNullAt(9) ? OptimizerConfig.defaultLearningRate(kind(opt)) : r.getDouble(9);
    return new RequestSpec(prompt, r.getLong(1), width, height, r.isNullAt(4) ? defaults.iterations() : r.getInt(4),
        r.isNullAt(5) ? defaults.cutouts() : r.getInt(5), r.isNullAt(6) ? defaults.cutPow() : r.getDouble(6), codes, opt, lr,
        r.isNullAt(10) ? 0 : r.getDouble(10), defaults.frameWeight());
  }

  private static OptimizerConfig.Kind kind(String name) {
    try {
      return OptimizerConfig.Kind.parse(name);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("optimizer: " + e.getMessage(), e);
    }
  }

  /**
   * The generation request (validated).
   *
   * @throws IllegalArgumentException naming the first field out of range
   */
  GenerationRequest request() {
    if (iterations < 1 || iterations > 1_000_000) {
      throw new IllegalArgumentException("iterations must be in [1, 1000000], got " + iterations); // before the prompt schedule uses it
    }
    return GenerationRequest.builder(width, height, PromptSchedule.parse(prompt, iterations)).seed(seed).iterations(iterations).cutouts(cutouts)
        .cutPow(cutPow).augmentations(augmentations).optimizer(OptimizerConfig.of(kind(optimizer), learningRate)).tvWeight(tvWeight).frameWeight(frameWeight).build();
  }

  /** Every field but the seed, canonically: runs with equal keys differ only by seed. */
  String key() {
    return String.join("\n", prompt, width + "x" + height, "iterations " + iterations, "cutouts " + cutouts, "cut_pow " + Double.toString(cutPow),
        "augmentations " + String.join(",", augmentations), "optimizer " + optimizer, "lr " + Double.toString(learningRate),
        "tv " + Double.toString(tvWeight)) + (frameWeight > 0 ? "\nframe " + Double.toString(frameWeight) : "");
  }

  /**
   * The output's file name: {@code SLUG-HASH}, where SLUG comes from the prompt as in {@code vqclip
   * generate} and HASH is the first 12 hex digits of the SHA-256 of {@link #key()}, so that the same
   * request always gets the same name and different requests never share one.
   */
  String stem() {
    String slug = OutputNames.fromPrompt(prompt);
    return slug.substring(0, slug.length() - ".png".length()) + "-" + Stager.digest(key()).substring(0, 12);
  }

  /** {@link #stem()}{@code -SEED.png}. */
  String fileName() {
    return stem() + "-" + seed + ".png";
  }
}
