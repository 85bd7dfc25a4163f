package ai.vqclip.core.pipeline;

import ai.vqclip.core.CutoutAugmentation;
import ai.vqclip.core.LearningRateSchedule;
import ai.vqclip.core.Optimizer;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.optim.OptimizerConfig;
import ai.vqclip.core.optim.Schedules;
import ai.vqclip.core.prompt.PromptSchedule;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Everything one generation or edit run needs, validated on construction. Build it with {@link
 * #builder(int, int, PromptSchedule)}; {@link #toBuilder()} makes variants.
 *
 * @param width output width in pixels (the generator may require a multiple of its downsampling factor)
 * @param height output height in pixels
 * @param prompts the text prompts over time (story mode when there are several sets)
 * @param imagePrompts image prompts
 * @param noisePrompts noise prompts
 * @param seed drives every random choice of the run
 * @param iterations optimizer steps, in [1, 1000000]
 * @param optimizer the optimizer (built-in: an {@link OptimizerConfig}; or a user {@link Optimizer})
 * @param schedule how the learning rate changes from the optimizer's base rate (learning-rate drops
 *     included)
 * @param plateau stop early when the loss stops improving, or null
 * @param cutouts cutouts per step, in [1, 1024]
 * @param cutPow crop-size exponent (> 0)
 * @param augmentations augmentation stages: objects, or {@link CutoutAugmentation.Code codes} of
 *     built-in ones (empty: plain crops)
 * @param regularization latent regularizer
 * @param tvWeight total-variation weight on the image (>= 0)
 * @param init how the latent starts
 * @param mask editable region [1, 1, H, W] in [0, 1] (>= 0.5: may change), or null for everywhere
 * @param saveEvery attach the image to every Nth step event (0: none but the last)
 * @param edit text-directed editing of the init image, or null
 * @param imagePromptsLockstep re-augment image prompts every step with the same cutout parameters as
 *     the generated image and compare cutout i with cutout i (pixray's way), instead of embedding
 *     them once (nerdyrodent's way)
 */
public record GenerationRequest(
    int width,
    int height,
    PromptSchedule prompts,
    List<ImagePrompt> imagePrompts,
    List<NoisePrompt> noisePrompts,
    long seed,
    int iterations,
    Optimizer optimizer,
    LearningRateSchedule schedule,
    PlateauStop plateau,
    int cutouts,
    double cutPow,
    List<CutoutAugmentation> augmentations,
    Regularization regularization,
    double tvWeight,
    Init init,
    Tensor mask,
    int saveEvery,
    EditDirection edit,
    boolean imagePromptsLockstep) {

  /**
   * Stop when the best loss has not improved by more than {@code minDelta} for {@code patience}
   * iterations.
   */
  public record PlateauStop(int patience, double minDelta) {
    public PlateauStop {
      if (patience < 1) {
        throw new IllegalArgumentException("plateau patience must be >= 1, got " + patience);
      }
      if (!(minDelta >= 0)) {
        throw new IllegalArgumentException("plateau minDelta must be >= 0, got " + minDelta);
      }
    }
  }

  public GenerationRequest {
    if (width < 1 || height < 1 || width > 8192 || height > 8192) {
      throw new IllegalArgumentException("image size must be in [1, 8192] x [1, 8192], got " + width + "x" + height);
    }
    Objects.requireNonNull(prompts, "prompts");
    imagePrompts = List.copyOf(imagePrompts);
    noisePrompts = List.copyOf(noisePrompts);
    if (iterations < 1 || iterations > 1_000_000) {
      throw new IllegalArgumentException("iterations must be in [1, 1000000], got " + iterations);
    }
    Objects.requireNonNull(optimizer, "optimizer");
    if (!(optimizer.learningRate() > 0) || !Double.isFinite(optimizer.learningRate())) {
      throw new IllegalArgumentException("optimizer " + optimizer.name() + ": learning rate must be a finite number > 0, got "
          + optimizer.learningRate());
    }
    Objects.requireNonNull(schedule, "schedule");
    if (cutouts < 1 || cutouts > 1024) {
      throw new IllegalArgumentException("cutouts must be in [1, 1024], got " + cutouts);
    }
    if (!(cutPow > 0) || !Double.isFinite(cutPow)) {
      throw new IllegalArgumentException("cut_pow must be a finite number > 0, got " + cutPow);
    }
    augmentations = List.copyOf(augmentations); // also refuses null elements
    Objects.requireNonNull(regularization, "regularization");
    if (!(tvWeight >= 0) || !Double.isFinite(tvWeight)) {
      throw new IllegalArgumentException("tv weight must be a finite number >= 0, got " + tvWeight);
    }
    Objects.requireNonNull(init, "init");
    if (init instanceof Init.FromImage f) {
      requireImage("init image", f.image(), 3, width, height);
    }
    if (mask != null) {
      requireImage("mask", mask, 1, width, height);
    }
    if (saveEvery < 0) {
      throw new IllegalArgumentException("save interval must be >= 0, got " + saveEvery);
    }
    if (edit != null && !(init instanceof Init.FromImage)) {
      throw new IllegalArgumentException("a from/to edit needs an init image to edit");
    }
  }

  private static void requireImage(String what, Tensor t, int channels, int width, int height) {
    long[] s = t.shape();
    if (s.length != 4 || s[0] != 1 || s[1] != channels || s[2] != height || s[3] != width) {
      throw new IllegalArgumentException(what + " must be [1," + channels + "," + height + "," + width + "] (the run's size), got "
          + java.util.Arrays.toString(s));
    }
    requireUnitRange(what, t);
  }

  /** Checks every value is finite and in [0, 1]. */
  static void requireUnitRange(String what, Tensor t) {
    double[] v = t.toDoubles();
    for (int i = 0; i < v.length; i++) {
      if (!(v[i] >= 0 && v[i] <= 1)) {
        throw new IllegalArgumentException(what + " values must be in [0, 1], found " + v[i] + " at index " + i);
      }
    }
  }

  /** A builder with the common defaults: seed 0, 300 iterations, Adam lr 0.1, 32 cutouts, cut_pow 1. */
  public static Builder builder(int width, int height, PromptSchedule prompts) {
    return new Builder(width, height, prompts);
  }

  /** A builder holding this request's values. */
  public Builder toBuilder() {
    Builder b = new Builder(width, height, prompts);
    b.imagePrompts = new ArrayList<>(imagePrompts);
    b.noisePrompts = new ArrayList<>(noisePrompts);
    b.seed = seed;
    b.iterations = iterations;
    b.optimizer = optimizer;
    b.schedule = schedule;
    b.plateau = plateau;
    b.cutouts = cutouts;
    b.cutPow = cutPow;
    b.augmentations = new ArrayList<>(augmentations);
    b.regularization = regularization;
    b.tvWeight = tvWeight;
    b.init = init;
    b.mask = mask;
    b.saveEvery = saveEvery;
    b.edit = edit;
    b.imagePromptsLockstep = imagePromptsLockstep;
    return b;
  }

  /** Fluent builder; {@link #build()} validates. */
  public static final class Builder {
    private int width;
    private int height;
    private PromptSchedule prompts;
    private List<ImagePrompt> imagePrompts = new ArrayList<>();
    private List<NoisePrompt> noisePrompts = new ArrayList<>();
    private long seed;
    private int iterations = 300;
    private Optimizer optimizer = OptimizerConfig.adam(0.1);
    private LearningRateSchedule schedule = Schedules.constant();
    private final List<Schedules.Drop> drops = new ArrayList<>();
    private PlateauStop plateau;
    private int cutouts = 32;
    private double cutPow = 1.0;
    private List<CutoutAugmentation> augmentations = new ArrayList<>();
    private Regularization regularization = Regularization.none();
    private double tvWeight;
    private Init init = new Init.RandomCodes();
    private Tensor mask;
    private int saveEvery;
    private EditDirection edit;
    private boolean imagePromptsLockstep;

    private Builder(int width, int height, PromptSchedule prompts) {
      this.width = width;
      this.height = height;
      this.prompts = prompts;
    }

    /** Output size. */
    public Builder size(int w, int h) {
      width = w;
      height = h;
      return this;
    }

    /** Text prompts. */
    public Builder prompts(PromptSchedule p) {
      prompts = p;
      return this;
    }

    /** Adds an image prompt. */
    public Builder imagePrompt(ImagePrompt p) {
      imagePrompts.add(p);
      return this;
    }

    /** Adds a noise prompt. */
    public Builder noisePrompt(NoisePrompt p) {
      noisePrompts.add(p);
      return this;
    }

    /** The seed. */
    public Builder seed(long s) {
      seed = s;
      return this;
    }

    /** Iterations. */
    public Builder iterations(int n) {
      iterations = n;
      return this;
    }

    /** The optimizer: a built-in {@link OptimizerConfig} (e.g. {@code OptimizerConfig.of(Kind.SGD)}) or your own. */
    public Builder optimizer(Optimizer o) {
      optimizer = o;
      return this;
    }

    /** The learning-rate schedule (default constant); see {@link Schedules}. */
    public Builder schedule(LearningRateSchedule s) {
      schedule = s;
      return this;
    }

    /** Adds a learning-rate drop: from iteration {@code at} on the rate is {@code lr} (applied before {@link #schedule}). */
    public Builder learningRateDrop(int at, double lr) {
      drops.add(new Schedules.Drop(at, lr));
      return this;
    }

    /** Early stop on a loss plateau (null: never). */
    public Builder plateau(PlateauStop p) {
      plateau = p;
      return this;
    }

    /** Cutouts per step. */
    public Builder cutouts(int n) {
      cutouts = n;
      return this;
    }

    /** cut_pow. */
    public Builder cutPow(double p) {
      cutPow = p;
      return this;
    }

    /** Augmentations by code, e.g. {@code ["Af", "Pe", "Ji", "Er"]}, replacing any set before. */
    public Builder augmentations(List<String> codes) {
      augmentations = new ArrayList<>();
      codes.forEach(c -> augmentations.add(CutoutAugmentation.code(c)));
      return this;
    }

    /** Appends augmentation stages: your own {@code Augmentation}s or {@code GeometricAugmentation}s, or codes. */
    public Builder augment(CutoutAugmentation... stages) {
      augmentations.addAll(java.util.Arrays.asList(stages));
      return this;
    }

    /** The latent regularizer. */
    public Builder regularization(Regularization r) {
      regularization = r;
      return this;
    }

    /** Total-variation weight. */
    public Builder tvWeight(double w) {
      tvWeight = w;
      return this;
    }

    /** How z starts. */
    public Builder init(Init i) {
      init = i;
      return this;
    }

    /** The editable region (null: everywhere). */
    public Builder mask(Tensor m) {
      mask = m;
      return this;
    }

    /** Attach the image to every Nth step event. */
    public Builder saveEvery(int n) {
      saveEvery = n;
      return this;
    }

    /** Text-directed editing (needs an init image; null: none). */
    public Builder edit(EditDirection e) {
      edit = e;
      return this;
    }

    /** Re-augment image prompts in lockstep with the cutouts each step (default: embed once). */
    public Builder imagePromptsLockstep(boolean on) {
      imagePromptsLockstep = on;
      return this;
    }

    /** Validates and builds. */
    public GenerationRequest build() {
      LearningRateSchedule s = schedule;
      if (!drops.isEmpty()) {
        s = s instanceof Schedules.Constant ? Schedules.drops(drops) : Schedules.drops(drops).then(s);
      }
      return new GenerationRequest(width, height, prompts, imagePrompts, noisePrompts, seed, iterations, optimizer, s,
          plateau, cutouts, cutPow, augmentations, regularization, tvWeight, init, mask, saveEvery, edit,
          imagePromptsLockstep);
    }
  }
}
