package ai.vqclip.cli.models;

import java.util.List;

/**
 * The run settings that suit a set of models, used where the command line gives none.
 *
 * @param size output width and height
 * @param iterations optimizer steps
 * @param cutouts cutouts per step
 * @param augments augmentation codes
 * @param cutPow crop-size exponent
 * @param frameWeight weight of the plain-frame prior ({@link ai.vqclip.core.loss.FrameLoss}; 0: off)
 * @param captionPrior weight of the models' caption prior ({@link ModelSource#captionPrior}) for runs
 *     with a text prompt (0: off)
 * @param candidates runs per {@code generate} picture with a text prompt, the best kept ({@link
 *     ai.vqclip.core.pipeline.Reranking}; 1: one run)
 * @param sketch for runs with a text prompt and no init image: start from the models' caption sketch
 *     ({@link ModelSource#sketch}) with this pull towards it (0: off)
 */
public record RunDefaults(int size, int iterations, int cutouts, List<String> augments, double cutPow, double frameWeight,
    double captionPrior, int candidates, double sketch) {
  public RunDefaults {
    augments = List.copyOf(augments);
    ai.vqclip.core.pipeline.Reranking.checkCandidates(candidates);
  }

  /** Defaults without a sketch start. */
  public RunDefaults(int size, int iterations, int cutouts, List<String> augments, double cutPow, double frameWeight,
      double captionPrior, int candidates) {
    this(size, iterations, cutouts, augments, cutPow, frameWeight, captionPrior, candidates, 0);
  }

  /** Defaults with one run per picture. */
  public RunDefaults(int size, int iterations, int cutouts, List<String> augments, double cutPow, double frameWeight,
      double captionPrior) {
    this(size, iterations, cutouts, augments, cutPow, frameWeight, captionPrior, 1);
  }

  /** Defaults without a caption prior. */
  public RunDefaults(int size, int iterations, int cutouts, List<String> augments, double cutPow, double frameWeight) {
    this(size, iterations, cutouts, augments, cutPow, frameWeight, 0);
  }

  /** Defaults without the frame prior. */
  public RunDefaults(int size, int iterations, int cutouts, List<String> augments, double cutPow) {
    this(size, iterations, cutouts, augments, cutPow, 0);
  }

  /** nerdyrodent's generate.py defaults for real models on a CPU: 256 x 256, 500 iterations, 32 cutouts, Af Pe Ji Er, cut_pow 1. */
  public static final RunDefaults GENERATE_PY = new RunDefaults(256, 500, 32, List.of("Af", "Pe", "Ji", "Er"), 1.0);
}
