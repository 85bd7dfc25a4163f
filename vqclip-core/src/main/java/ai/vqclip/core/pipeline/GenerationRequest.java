package ai.vqclip.core.pipeline;

import ai.vqclip.core.CutoutAugmentation;
import ai.vqclip.core.LearningRateSchedule;
import ai.vqclip.core.Optimizer;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.optim.OptimizerConfig;
import ai.vqclip.core.optim.Schedules;
import ai.vqclip.core.prompt.PromptSchedule;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Everything one generation or edit run needs, validated on construction, in a few small groups:
 * what the run aims at ({@link Prompts}), how it steps ({@link Steps}), how the encoders see the
 * image ({@link Cutouts}), the regularizers ({@link Regularizers}) and where it starts ({@link
 * Start}). Build it with {@link #builder(int, int, PromptSchedule)}, whose setters reach every
 * field of every group; {@link #toBuilder()} makes variants. The flat accessors ({@link
 * #iterations()}, {@link #cutouts()}, ...) read the groups.
 *
 * <p>The file is long but each class in it is small: the request itself, its five group records,
 * and the fluent {@link Builder}, one short documented setter per field (kept for the callers that
 * build requests field by field).
 *
 * @param width output width in pixels, in [1, 8192] (the generator may require a multiple of its
 *     downsampling factor)
 * @param height output height in pixels, in [1, 8192]
 * @param seed drives every random choice of the run
 * @param prompting the text, image and noise prompts
 * @param steps iterations, optimizer, learning-rate schedule and plateau stop
 * @param cutting cutouts per step, cut_pow and augmentations
 * @param regularizers the latent regularizer and total-variation weight
 * @param start the initial latent, the editable region and a from/to edit
 * @param saveEvery attach the image to every Nth step event (0: none but the last)
 */
public record GenerationRequest(
    int width, int height, long seed, Prompts prompting, Steps steps, Cutouts cutting, Regularizers regularizers, Start start, int saveEvery) {

  /**
   * What the run aims at.
   *
   * @param text the text prompts over time (story mode when there are several sets)
   * @param images image prompts
   * @param noise noise prompts
   * @param imagesLockstep re-augment image prompts every step with the same cutout parameters as the
   *     generated image and compare cutout i with cutout i (pixray's way), instead of embedding them
   *     once (nerdyrodent's way)
   */
  public record Prompts(PromptSchedule text, List<ImagePrompt> images, List<NoisePrompt> noise, boolean imagesLockstep) {
    /**
     * Validates.
     *
     * @param text the text prompts over time (story mode when there are several sets)
     * @param images image prompts
     * @param noise noise prompts
     * @param imagesLockstep re-augment image prompts every step with the same cutout parameters as the generated image and compare cutout i with cutout i (pixray's way), instead of embedding them once (nerdyrodent's way)
     * @throws NullPointerException for a null value that is required
     */
    public Prompts {
      Objects.requireNonNull(text, "prompts");
      images = List.copyOf(images);
      noise = List.copyOf(noise);
    }
  }

  /**
   * How the run steps.
   *
   * @param iterations optimizer steps, in [1, 1000000]
   * @param optimizer the optimizer (built-in: an {@link OptimizerConfig}; or a user {@link Optimizer})
   * @param schedule how the learning rate changes from the optimizer's base rate (learning-rate drops
   *     included)
   * @param plateau stop early when the loss stops improving, or null
   */
  public record Steps(int iterations, Optimizer optimizer, LearningRateSchedule schedule, PlateauStop plateau) {
    /**
     * Validates.
     *
     * @param iterations optimizer steps, in [1, 1000000]
     * @param optimizer the optimizer (built-in: an {@link OptimizerConfig}; or a user {@link Optimizer})
     * @param schedule how the learning rate changes from the optimizer's base rate (learning-rate drops included)
     * @param plateau stop early when the loss stops improving, or null
     * @throws IllegalArgumentException for a value out of range (the message names it)
     * @throws NullPointerException for a null value that is required
     */
    public Steps {
      if (iterations < 1 || iterations > 1_000_000) {
        throw new IllegalArgumentException("iterations must be in [1, 1000000], got " + iterations);
      }
      Objects.requireNonNull(optimizer, "optimizer");
      if (!(optimizer.learningRate() > 0) || !Double.isFinite(optimizer.learningRate())) {
        throw new IllegalArgumentException("optimizer " + optimizer.name() + ": learning rate must be a finite number > 0, got "
            + optimizer.learningRate());
      }
      Objects.requireNonNull(schedule, "schedule");
    }
  }

  /**
   * How the encoders see the image each step.
   *
   * @param count cutouts per step, in [1, 1024]
   * @param cutPow crop-size exponent (finite, > 0)
   * @param augmentations augmentation stages: objects, or {@link CutoutAugmentation.Code codes} of
   *     built-in ones (empty: plain crops)
   */
  public record Cutouts(int count, double cutPow, List<CutoutAugmentation> augmentations) {
    /**
     * Validates.
     *
     * @param count cutouts per step, in [1, 1024]
     * @param cutPow crop-size exponent (finite, > 0)
     * @param augmentations augmentation stages: objects, or {@link CutoutAugmentation.Code codes} of built-in ones (empty: plain crops)
     * @throws IllegalArgumentException for a value out of range (the message names it)
     */
    public Cutouts {
      if (count < 1 || count > 1024) {
        throw new IllegalArgumentException("cutouts must be in [1, 1024], got " + count);
      }
      if (!(cutPow > 0) || !Double.isFinite(cutPow)) {
        throw new IllegalArgumentException("cut_pow must be a finite number > 0, got " + cutPow);
      }
      augmentations = List.copyOf(augmentations); // also refuses null elements
    }
  }

  /**
   * The built-in regularizing loss terms (each a {@link ai.vqclip.core.Loss}: {@code
   * "regularization"}, {@code "tv"} and {@code "frame"}).
   *
   * @param latent the latent regularizer (weight 0: off)
   * @param tvWeight total-variation weight on the image (finite, >= 0; 0: off)
   * @param frameWeight weight of the plain-frame prior on the image ({@link ai.vqclip.core.loss.FrameLoss}
   *     with its default band; finite, >= 0; 0: off)
   */
  public record Regularizers(Regularization latent, double tvWeight, double frameWeight) {
    /**
     * Validates.
     *
     * @param latent the latent regularizer (weight 0: off)
     * @param tvWeight total-variation weight on the image (finite, >= 0; 0: off)
     * @param frameWeight plain-frame weight (finite, >= 0; 0: off)
     * @throws IllegalArgumentException for a value out of range (the message names it)
     * @throws NullPointerException for a null value that is required
     */
    public Regularizers {
      Objects.requireNonNull(latent, "regularization");
      if (!(tvWeight >= 0) || !Double.isFinite(tvWeight)) {
        throw new IllegalArgumentException("tv weight must be a finite number >= 0, got " + tvWeight);
      }
      if (!(frameWeight >= 0) || !Double.isFinite(frameWeight)) {
        throw new IllegalArgumentException("frame weight must be a finite number >= 0, got " + frameWeight);
      }
    }

    /**
     * Without the frame prior.
     *
     * @param latent the latent regularizer (weight 0: off)
     * @param tvWeight total-variation weight on the image (finite, >= 0; 0: off)
     */
    public Regularizers(Regularization latent, double tvWeight) {
      this(latent, tvWeight, 0);
    }
  }

  /**
   * Where the run starts and what it may change.
   *
   * @param init how the latent starts
   * @param mask editable region [1, 1, H, W] in [0, 1] (>= 0.5: may change), or null for everywhere
   * @param edit text-directed editing of the init image, or null
   */
  public record Start(Init init, Tensor mask, EditDirection edit) {
    /**
     * Validates.
     *
     * @param init how the latent starts
     * @param mask editable region [1, 1, H, W] in [0, 1] (>= 0.5: may change), or null for everywhere
     * @param edit text-directed editing of the init image, or null
     * @throws IllegalArgumentException for a value out of range (the message names it)
     * @throws NullPointerException for a null value that is required
     */
    public Start {
      Objects.requireNonNull(init, "init");
      if (edit != null && !(init instanceof Init.FromImage)) {
        throw new IllegalArgumentException("a from/to edit needs an init image to edit");
      }
    }
  }

  /**
   * Stop when the best loss has not improved by more than {@code minDelta} for {@code patience}
   * iterations.
   *
   * @param patience iterations without improvement, >= 1
   * @param minDelta the least improvement that counts, >= 0
   */
  public record PlateauStop(int patience, double minDelta) {
    /**
     * Validates.
     *
     * @param patience iterations without improvement, >= 1
     * @param minDelta the least improvement that counts, >= 0
     * @throws IllegalArgumentException for a value out of range (the message names it)
     */
    public PlateauStop {
      if (patience < 1) {
        throw new IllegalArgumentException("plateau patience must be >= 1, got " + patience);
      }
      if (!(minDelta >= 0)) {
        throw new IllegalArgumentException("plateau minDelta must be >= 0, got " + minDelta);
      }
    }
  }

  /**
   * Validates.
   *
   * @param width output width in pixels, in [1, 8192] (the generator may require a multiple of its downsampling factor)
   * @param height output height in pixels, in [1, 8192]
   * @param seed drives every random choice of the run
   * @param prompting the text, image and noise prompts
   * @param steps iterations, optimizer, learning-rate schedule and plateau stop
   * @param cutting cutouts per step, cut_pow and augmentations
   * @param regularizers the latent regularizer and total-variation weight
   * @param start the initial latent, the editable region and a from/to edit
   * @param saveEvery attach the image to every Nth step event (0: none but the last)
   * @throws IllegalArgumentException for a value out of range (the message names it)
   * @throws NullPointerException for a null value that is required
   */
  public GenerationRequest {
    if (width < 1 || height < 1 || width > 8192 || height > 8192) {
      throw new IllegalArgumentException("image size must be in [1, 8192] x [1, 8192], got " + width + "x" + height);
    }
    Objects.requireNonNull(prompting, "prompting");
    Objects.requireNonNull(steps, "steps");
    Objects.requireNonNull(cutting, "cutting");
    Objects.requireNonNull(regularizers, "regularizers");
    Objects.requireNonNull(start, "start");
    if (start.init() instanceof Init.FromImage f) {
      requireImage("init image", f.image(), 3, width, height);
    }
    if (start.mask() != null) {
      requireImage("mask", start.mask(), 1, width, height);
    }
    if (saveEvery < 0) {
      throw new IllegalArgumentException("save interval must be >= 0, got " + saveEvery);
    }
  }

  private static void requireImage(String what, Tensor t, int channels, int width, int height) {
    long[] s = t.shape();
    if (s.length != 4 || s[0] != 1 || s[1] != channels || s[2] != height || s[3] != width) {
      throw new IllegalArgumentException(what + " must be [1," + channels + "," + height + "," + width + "] (the run's size), got "
          + Arrays.toString(s));
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

  // The flat view of the groups, as the pipeline and most callers read a request.

  /** @return the text prompts over time ({@link Prompts#text}) */
  public PromptSchedule prompts() {
    return prompting.text();
  }

  /** @return the image prompts ({@link Prompts#images}) */
  public List<ImagePrompt> imagePrompts() {
    return prompting.images();
  }

  /** @return the noise prompts ({@link Prompts#noise}) */
  public List<NoisePrompt> noisePrompts() {
    return prompting.noise();
  }

  /** @return whether image prompts are re-augmented in lockstep ({@link Prompts#imagesLockstep}) */
  public boolean imagePromptsLockstep() {
    return prompting.imagesLockstep();
  }

  /** @return the optimizer steps ({@link Steps#iterations}) */
  public int iterations() {
    return steps.iterations();
  }

  /** @return the optimizer ({@link Steps#optimizer}) */
  public Optimizer optimizer() {
    return steps.optimizer();
  }

  /** @return the learning-rate schedule ({@link Steps#schedule}) */
  public LearningRateSchedule schedule() {
    return steps.schedule();
  }

  /** @return the plateau stop, or null ({@link Steps#plateau}) */
  public PlateauStop plateau() {
    return steps.plateau();
  }

  /** @return the cutouts per step ({@link Cutouts#count}) */
  public int cutouts() {
    return cutting.count();
  }

  /** @return the crop-size exponent ({@link Cutouts#cutPow}) */
  public double cutPow() {
    return cutting.cutPow();
  }

  /** @return the augmentation stages ({@link Cutouts#augmentations}) */
  public List<CutoutAugmentation> augmentations() {
    return cutting.augmentations();
  }

  /** @return the latent regularizer ({@link Regularizers#latent}) */
  public Regularization regularization() {
    return regularizers.latent();
  }

  /** @return the total-variation weight ({@link Regularizers#tvWeight}) */
  public double tvWeight() {
    return regularizers.tvWeight();
  }

  /** @return the plain-frame weight ({@link Regularizers#frameWeight}) */
  public double frameWeight() {
    return regularizers.frameWeight();
  }

  /** @return how the latent starts ({@link Start#init}) */
  public Init init() {
    return start.init();
  }

  /** @return the editable region, or null ({@link Start#mask}) */
  public Tensor mask() {
    return start.mask();
  }

  /** @return the from/to edit, or null ({@link Start#edit}) */
  public EditDirection edit() {
    return start.edit();
  }

  /**
   * A builder with the common defaults: seed 0, 300 iterations, Adam lr 0.1, 32 cutouts, cut_pow 1.
   *
   * @param width output width
   * @param height output height
   * @param prompts the text prompts
   * @return the builder
   */
  public static Builder builder(int width, int height, PromptSchedule prompts) {
    return new Builder(width, height, prompts);
  }

  /** @return a builder holding this request's values */
  public Builder toBuilder() {
    return new Builder(width, height, prompts()).seed(seed).saveEvery(saveEvery).prompting(prompting).steps(steps).cutting(cutting)
        .regularizers(regularizers).start(start);
  }

  /** Fluent builder: each setter sets one field of a group, or a whole group; {@link #build()} validates. */
  public static final class Builder {
    private int width;
    private int height;
    private long seed;
    private int saveEvery;
    private PromptSchedule prompts;
    private List<ImagePrompt> imagePrompts = new ArrayList<>();
    private List<NoisePrompt> noisePrompts = new ArrayList<>();
    private boolean imagePromptsLockstep;
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
    private double frameWeight;
    private Init init = new Init.RandomCodes();
    private Tensor mask;
    private EditDirection edit;

    private Builder(int width, int height, PromptSchedule prompts) {
      this.width = width;
      this.height = height;
      this.prompts = prompts;
    }

    /**
     * @param w output width
     * @param h output height
     * @return this builder
     */
    public Builder size(int w, int h) {
      width = w;
      height = h;
      return this;
    }

    /**
     * @param s the seed
     * @return this builder
     */
    public Builder seed(long s) {
      seed = s;
      return this;
    }

    /**
     * @param n attach the image to every Nth step event (0: none but the last)
     * @return this builder
     */
    public Builder saveEvery(int n) {
      saveEvery = n;
      return this;
    }

    /**
     * @param p the whole prompt group
     * @return this builder
     */
    public Builder prompting(Prompts p) {
      prompts = p.text();
      imagePrompts = new ArrayList<>(p.images());
      noisePrompts = new ArrayList<>(p.noise());
      imagePromptsLockstep = p.imagesLockstep();
      return this;
    }

    /**
     * @param p the text prompts
     * @return this builder
     */
    public Builder prompts(PromptSchedule p) {
      prompts = p;
      return this;
    }

    /**
     * @param p an image prompt to add
     * @return this builder
     */
    public Builder imagePrompt(ImagePrompt p) {
      imagePrompts.add(p);
      return this;
    }

    /**
     * @param p a noise prompt to add
     * @return this builder
     */
    public Builder noisePrompt(NoisePrompt p) {
      noisePrompts.add(p);
      return this;
    }

    /**
     * @param on re-augment image prompts in lockstep with the cutouts each step (default: embed once)
     * @return this builder
     */
    public Builder imagePromptsLockstep(boolean on) {
      imagePromptsLockstep = on;
      return this;
    }

    /**
     * @param s the whole step group (its schedule replaces any learning-rate drops added before)
     * @return this builder
     */
    public Builder steps(Steps s) {
      iterations = s.iterations();
      optimizer = s.optimizer();
      schedule = s.schedule();
      drops.clear();
      plateau = s.plateau();
      return this;
    }

    /**
     * @param n iterations
     * @return this builder
     */
    public Builder iterations(int n) {
      iterations = n;
      return this;
    }

    /**
     * @param o a built-in {@link OptimizerConfig} (e.g. {@code OptimizerConfig.of(Kind.SGD)}) or your own
     * @return this builder
     */
    public Builder optimizer(Optimizer o) {
      optimizer = o;
      return this;
    }

    /**
     * @param s the learning-rate schedule (default constant); see {@link Schedules}
     * @return this builder
     */
    public Builder schedule(LearningRateSchedule s) {
      schedule = s;
      return this;
    }

    /**
     * Adds a learning-rate drop, applied before {@link #schedule}.
     *
     * @param at from this iteration on
     * @param lr the rate is this
     * @return this builder
     */
    public Builder learningRateDrop(int at, double lr) {
      drops.add(new Schedules.Drop(at, lr));
      return this;
    }

    /**
     * @param p early stop on a loss plateau (null: never)
     * @return this builder
     */
    public Builder plateau(PlateauStop p) {
      plateau = p;
      return this;
    }

    /**
     * @param c the whole cutout group
     * @return this builder
     */
    public Builder cutting(Cutouts c) {
      cutouts = c.count();
      cutPow = c.cutPow();
      augmentations = new ArrayList<>(c.augmentations());
      return this;
    }

    /**
     * @param n cutouts per step
     * @return this builder
     */
    public Builder cutouts(int n) {
      cutouts = n;
      return this;
    }

    /**
     * @param p cut_pow
     * @return this builder
     */
    public Builder cutPow(double p) {
      cutPow = p;
      return this;
    }

    /**
     * Sets the augmentations by code, replacing any set before.
     *
     * @param codes e.g. {@code ["Af", "Pe", "Ji", "Er"]}
     * @return this builder
     * @throws IllegalArgumentException for an unknown code
     */
    public Builder augmentations(List<String> codes) {
      augmentations = new ArrayList<>();
      codes.forEach(c -> augmentations.add(CutoutAugmentation.code(c)));
      return this;
    }

    /**
     * Appends augmentation stages.
     *
     * @param stages your own {@code Augmentation}s or {@code GeometricAugmentation}s, or codes
     * @return this builder
     */
    public Builder augment(CutoutAugmentation... stages) {
      augmentations.addAll(Arrays.asList(stages));
      return this;
    }

    /**
     * @param r the whole regularizer group
     * @return this builder
     */
    public Builder regularizers(Regularizers r) {
      regularization = r.latent();
      tvWeight = r.tvWeight();
      frameWeight = r.frameWeight();
      return this;
    }

    /**
     * @param r the latent regularizer
     * @return this builder
     */
    public Builder regularization(Regularization r) {
      regularization = r;
      return this;
    }

    /**
     * @param w total-variation weight
     * @return this builder
     */
    public Builder tvWeight(double w) {
      tvWeight = w;
      return this;
    }

    /**
     * @param w plain-frame weight ({@link ai.vqclip.core.loss.FrameLoss}; 0: off)
     * @return this builder
     */
    public Builder frameWeight(double w) {
      frameWeight = w;
      return this;
    }

    /**
     * @param s the whole start group
     * @return this builder
     */
    public Builder start(Start s) {
      init = s.init();
      mask = s.mask();
      edit = s.edit();
      return this;
    }

    /**
     * @param i how z starts
     * @return this builder
     */
    public Builder init(Init i) {
      init = i;
      return this;
    }

    /**
     * @param m the editable region (null: everywhere)
     * @return this builder
     */
    public Builder mask(Tensor m) {
      mask = m;
      return this;
    }

    /**
     * @param e text-directed editing (needs an init image; null: none)
     * @return this builder
     */
    public Builder edit(EditDirection e) {
      edit = e;
      return this;
    }

    /**
     * Validates and builds.
     *
     * @return the request
     * @throws IllegalArgumentException naming the first field out of range
     */
    public GenerationRequest build() {
      LearningRateSchedule s = schedule;
      if (!drops.isEmpty()) {
        s = s instanceof Schedules.Constant ? Schedules.drops(drops) : Schedules.drops(drops).then(s);
      }
      return new GenerationRequest(width, height, seed, new Prompts(prompts, imagePrompts, noisePrompts, imagePromptsLockstep),
          new Steps(iterations, optimizer, s, plateau), new Cutouts(cutouts, cutPow, augmentations), new Regularizers(regularization, tvWeight, frameWeight),
          new Start(init, mask, edit), saveEvery);
    }
  }
}
