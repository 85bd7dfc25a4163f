package ai.vqclip.demo.eval;

import ai.vqclip.augment.StandardCutouts;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.optim.OptimizerConfig;
import ai.vqclip.core.pipeline.GenerationRequest;
import ai.vqclip.core.pipeline.Init;
import ai.vqclip.core.pipeline.Pipeline;
import ai.vqclip.core.pipeline.Reranking;
import ai.vqclip.core.pipeline.RunResult;
import ai.vqclip.core.prompt.PromptSchedule;
import ai.vqclip.demo.DemoModels;
import ai.vqclip.onnx.clip.ClipEncoder;
import ai.vqclip.onnx.vqgan.VqganGenerator;
import java.util.List;

/**
 * Text-to-image generation with the demo models through the standard {@link Pipeline}, with
 * settings suited to them (the defaults a CLI should use for the demo models): the bundle's CLIPs (one
 * since round 13; a folder with a second guides with both, an ensemble), 32x32 output, 16 cutouts
 * with crop exponent 0.5, Af Pe augmentations with border padding and a noise step up to 0.3, the
 * plain-frame prior at 5, Adam 0.1; where the bundle has a caption
 * sketcher, a run with a text prompt starts from its drawing of the prompt and is pulled back towards
 * it ({@link SketchStart}, weight {@link #SKETCH_WEIGHT}) for {@link #ITERATIONS} iterations; where it
 * has only the caption prior, that prior ({@link CaptionPriorLoss}, weight 10 from iteration 50, the
 * outer eighth left out) over {@link #ITERATIONS_FROM_CODES} iterations (pass them in the settings).
 * A default picture ({@link #generate}) is the best of {@link #CANDIDATES} runs, ranked by the CLIPs.
 * Not thread-safe; close it.
 */
public final class DemoGeneration implements AutoCloseable {
  /**
   * Iterations of a default demo run, which starts from the caption sketch ({@link #SKETCH_WEIGHT}):
   * 50 refine it as 150 do (tuning prompts, issue 15 round 12: 19 and 18 of 20 one-object pictures
   * all right), at a third of the time.
   */
  public static final int ITERATIONS = 50;

  /**
   * Iterations of a demo run from random codes (models without a caption sketcher, or {@code --sketch
   * 0}): the default before round 12 of issue 15.
   */
  public static final int ITERATIONS_FROM_CODES = 150;

  /** Cutouts per iteration. */
  public static final int CUTOUTS = 16;

  /**
   * Augmentation codes: affine and perspective warps with border padding (zero padding leaves the
   * picture's edges without gradient, and the background came out wrong for half the prompts);
   * colour augmentations would fight colour prompts; a noise step of sigma up to 0.3 (default 0.1)
   * averages the CLIPs' gradients over a wider neighbourhood of the picture (chosen with the ensemble
   * and the frame prior on the tuning prompts, docs/demo-models.md).
   */
  public static final java.util.List<String> AUGMENTATIONS = java.util.List.of("Af", "Pe", "Border", "Noise=0.3");

  /** Crop-size exponent: below 1 favours larger crops, which keeps the whole scene in view. */
  public static final double CUT_POW = 0.5;

  /**
   * Weight of the plain-frame prior ({@link ai.vqclip.core.loss.FrameLoss}, band an eighth of the
   * side): without it, generation grew objects until they ran along the picture's edges and left
   * specks of colour in the background (docs/demo-models.md).
   */
  public static final double FRAME_WEIGHT = 5;

  private final VqganGenerator generator;
  /** Every guiding CLIP, the bundle's first one first (it embeds the shape contrast's captions). */
  private final List<ClipEncoder> encoders;
  private final Pipeline pipeline;
  private final ExecutionOptions options;
  /** Loss terms added to every run's pipeline. */
  private final List<ai.vqclip.core.Loss> extraLosses;
  /** The caption prior added to runs with a text prompt, or null for none. */
  private final CaptionPriorLoss.Settings captionPrior;
  /** The caption prior's term (null for none), read once and built for each picture size. */
  private final CaptionPriorLoss priorTerm;
  /** How text runs start from a sketch, or null for as their settings say. */
  private final SketchStart sketchStart;
  /** The sketcher of {@link #sketchStart}, or null. */
  private final CaptionSketch sketch;

  /**
   * A generator over loaded demo models, guided by every CLIP of the bundle (both, an ensemble, for
   * the bundled models). The bundle must stay open while this is used.
   */
  public DemoGeneration(DemoModels.Bundle models, ExecutionOptions options) {
    this(models, List.of(), options);
  }

  /**
   * A generator over loaded demo models guided by an ensemble: the bundle's CLIPs and those of
   * {@code moreClips} (their losses summed, as with several CLIP models in the Python tools). The
   * bundles must stay open while this is used.
   */
  public DemoGeneration(DemoModels.Bundle models, List<DemoModels.Bundle> moreClips, ExecutionOptions options) {
    this(models, moreClips, List.of(), options);
  }

  /**
   * As {@link #DemoGeneration(DemoModels.Bundle, List, ExecutionOptions)} with loss terms added to
   * every run (experiments, e.g. {@link ai.vqclip.demo.train.RestorerTraining#prior}).
   */
  public DemoGeneration(DemoModels.Bundle models, List<DemoModels.Bundle> moreClips, List<ai.vqclip.core.Loss> extraLosses,
      ExecutionOptions options) {
    this(models, moreClips, extraLosses, defaultPrior(models), options);
  }

  /**
   * As {@link #DemoGeneration(DemoModels.Bundle, List, List, ExecutionOptions)} with a given caption
   * prior (null: none) instead of the bundle's.
   */
  public DemoGeneration(DemoModels.Bundle models, List<DemoModels.Bundle> moreClips, List<ai.vqclip.core.Loss> extraLosses,
      CaptionPriorLoss.Settings captionPrior, ExecutionOptions options) {
    this(models, moreClips, extraLosses, captionPrior, defaultSketch(models), options);
  }

  /**
   * How a run with a text prompt starts from the caption sketcher's drawing ({@link CaptionSketch}):
   * the latent starts as the VQGAN's encoding of the sketch, and a latent regularizer of weight
   * {@code weight} pulls it back there (generate.py's {@code init_weight}), so that the CLIPs refine
   * the drawing instead of redrawing it.
   *
   * @param file the sketcher's weights
   * @param weight the pull towards the sketch's latent (0: a start only)
   */
  public record SketchStart(java.nio.file.Path file, double weight) {
    /**
     * Checks the values.
     *
     * @param file the sketcher's weights
     * @param weight the pull towards the sketch's latent, finite and >= 0
     */
    public SketchStart {
      java.util.Objects.requireNonNull(file, "file");
      if (!(weight >= 0) || !Double.isFinite(weight)) {
        throw new IllegalArgumentException("sketch weight must be a finite number >= 0, got " + weight);
      }
    }
  }

  /**
   * Weight of the pull towards the sketch's latent in a default demo run. At 1 the CLIPs bent the
   * sketch's shapes back into blobs and squiggles (tuning prompts, one run each: 11 of 20 one-object
   * pictures all right); at 10 they keep one object (19 of 20 at 50 iterations) but bend the smaller
   * objects of two-object captions (1 of 15 right, seeds 0-2); at 30, 20 of 20 and 10 of 15.
   * docs/demo-models.md, round 12.
   */
  public static final double SKETCH_WEIGHT = 30;

  /** The bundle's caption sketcher at the demo settings, or null where it has none. */
  public static SketchStart defaultSketch(DemoModels.Bundle models) {
    return models.sketch() == null ? null : new SketchStart(models.sketch(), SKETCH_WEIGHT);
  }

  /**
   * As {@link #DemoGeneration(DemoModels.Bundle, List, List, CaptionPriorLoss.Settings,
   * ExecutionOptions)} with a given sketch start (null: runs start as their settings say).
   */
  public DemoGeneration(DemoModels.Bundle models, List<DemoModels.Bundle> moreClips, List<ai.vqclip.core.Loss> extraLosses,
      CaptionPriorLoss.Settings captionPrior, SketchStart sketchStart, ExecutionOptions options) {
    this.sketchStart = sketchStart;
    this.sketch = sketchStart == null ? null : CaptionSketch.load(sketchStart.file(), options);
    this.extraLosses = List.copyOf(extraLosses);
    this.captionPrior = captionPrior;
    this.priorTerm = captionPrior == null ? null : captionPrior.loss();
    this.generator = VqganGenerator.load(models.vqgan(), models.vqganConfig(), options);
    List<DemoModels.Clip> clips = new java.util.ArrayList<>(models.clips());
    moreClips.forEach(b -> clips.addAll(b.clips()));
    this.encoders = clips.stream().map(c -> c.open(options)).toList();
    this.options = options;
    this.pipeline = builder().build();
  }

  /**
   * The bundle's caption prior at the demo settings where the bundle has one and no caption sketcher,
   * else null. A run that starts from the sketch needs no prior: the prior redraws objects as round
   * blobs (round 11), and from iteration {@link CaptionPriorLoss.Settings#START} on, which a default
   * run of {@link #ITERATIONS} does not reach.
   */
  public static CaptionPriorLoss.Settings defaultPrior(DemoModels.Bundle models) {
    return models.captionPrior() == null || models.sketch() != null ? null
        : CaptionPriorLoss.Settings.demo(models.captionPrior(), CaptionPriorLoss.Settings.WEIGHT);
  }

  /** The caption prior this generator adds to runs with a text prompt, or null for none. */
  public CaptionPriorLoss.Settings captionPrior() {
    return captionPrior;
  }

  /** A pipeline builder over the generator and every CLIP. */
  private Pipeline.Builder builder() {
    Pipeline.Builder b = Pipeline.builder(generator, new StandardCutouts()).options(options);
    encoders.forEach(b::encoder);
    extraLosses.forEach(b::loss);
    return b;
  }

  /** Adam's learning rate. */
  public static final double LEARNING_RATE = 0.1;

  /**
   * Runs per default demo picture, the CLIPs' favourite kept ({@link #generate}): the seeds of a prompt
   * draw nearly the same layout, but whether an outline comes out clean differs between them, and the
   * ensemble's cosine prefers the clean one more often than chance (tuning prompts, 4 seeds, the
   * caption prior bundled: one run 41% all right, best of 2 49%, of 3 51%, of 4 52%; then the test set,
   * seeds 0-2: 54 to 57 of 150 all right, backgrounds 141 to 146; docs/demo-models.md, round 10).
   */
  public static final int CANDIDATES = 3;

  /**
   * How a default demo run starts: random codes (generate.py's default). A start from a smooth colour
   * gradient ({@code --init-noise gradient}) grew one compact object more often but left patches of
   * the gradient's colours as background (measured on the tuning prompts, docs/demo-models.md).
   */
  public static final Init INIT = new Init.RandomCodes();

  /**
   * Generation settings that fidelity studies vary.
   *
   * @param iterations optimizer steps
   * @param cutouts cutouts per step
   * @param cutPow crop-size exponent
   * @param augmentations augmentation codes
   * @param learningRate Adam's learning rate
   * @param size picture side in pixels (a multiple of the VQGAN's factor 2; cutouts are resized to the CLIP's 32)
   * @param tvWeight weight of the total-variation term (0: none)
   * @param init how the latent starts
   * @param frameWeight weight of the plain-frame prior (0: none)
   */
  public record Settings(int iterations, int cutouts, double cutPow, java.util.List<String> augmentations, double learningRate, int size,
      double tvWeight, Init init, double frameWeight) {
    /** Copies the codes. */
    public Settings {
      augmentations = java.util.List.copyOf(augmentations);
      java.util.Objects.requireNonNull(init, "init");
    }

    /** Settings without the frame prior. */
    public Settings(int iterations, int cutouts, double cutPow, java.util.List<String> augmentations, double learningRate, int size,
        double tvWeight, Init init) {
      this(iterations, cutouts, cutPow, augmentations, learningRate, size, tvWeight, init, 0);
    }

    /** Settings starting from random codes. */
    public Settings(int iterations, int cutouts, double cutPow, java.util.List<String> augmentations, double learningRate, int size,
        double tvWeight) {
      this(iterations, cutouts, cutPow, augmentations, learningRate, size, tvWeight, new Init.RandomCodes());
    }

    /** Settings without a total-variation term, starting from random codes. */
    public Settings(int iterations, int cutouts, double cutPow, java.util.List<String> augmentations, double learningRate, int size) {
      this(iterations, cutouts, cutPow, augmentations, learningRate, size, 0);
    }

    /**
     * These settings with another number of iterations and picture side.
     *
     * @param iterations optimizer steps
     * @param size picture side in pixels
     * @return the changed copy
     */
    public Settings with(int iterations, int size) {
      return new Settings(iterations, cutouts, cutPow, augmentations, learningRate, size, tvWeight, init, frameWeight);
    }
  }

  /** The default demo settings (the constants of this class). */
  public static Settings defaults() {
    return new Settings(ITERATIONS, CUTOUTS, CUT_POW, AUGMENTATIONS, LEARNING_RATE, DemoModels.IMAGE_SIZE, 0, INIT, FRAME_WEIGHT);
  }

  /** The demo request for a prompt with the {@link #defaults()}. */
  public static GenerationRequest.Builder request(String prompt, long seed) {
    return request(prompt, seed, defaults());
  }

  /** The demo request for a prompt with given settings. */
  public static GenerationRequest.Builder request(String prompt, long seed, Settings s) {
    return GenerationRequest.builder(s.size(), s.size(), PromptSchedule.parse(prompt, s.iterations()))
        .iterations(s.iterations()).cutouts(s.cutouts()).cutPow(s.cutPow()).augmentations(s.augmentations()).seed(seed)
        .optimizer(OptimizerConfig.adam(s.learningRate())).tvWeight(s.tvWeight()).init(s.init()).frameWeight(s.frameWeight());
  }

  /**
   * The demo request for a prompt with given settings, starting from the caption sketcher's drawing
   * of the prompt's text at a layout chosen by the seed where this generator has a sketcher, the
   * settings start from random codes (an explicit other start wins) and the prompt has a text of
   * positive weight ({@link Reranking#scoringText}); otherwise {@link #request(String, long, Settings)}.
   *
   * @param prompt the prompt spec
   * @param seed the seed (of the run and of the layout)
   * @param s the settings
   * @return the request's builder
   */
  public GenerationRequest.Builder requestFor(String prompt, long seed, Settings s) {
    GenerationRequest.Builder b = request(prompt, seed, s);
    String text = Reranking.scoringText(PromptSchedule.parse(prompt, s.iterations()));
    if (sketch == null || text == null || !(s.init() instanceof Init.RandomCodes)) {
      return b;
    }
    return startFrom(b, sketch.draw(encoders.get(0), text, seed, s.size()).image(), sketchStart.weight());
  }

  /**
   * A request that starts from a sketch: the latent starts as the sketch's encoding and, for a
   * positive weight, a latent regularizer pulls it back there (generate.py's {@code init_weight}
   * towards the initial latent). The CLI, the studio and {@link #requestFor} start runs this way.
   *
   * @param b the request's builder
   * @param sketch the starting picture [1, 3, H, W] in [0, 1] at the run's size
   * @param weight the pull towards the start (0: a start only)
   * @return {@code b}
   */
  public static GenerationRequest.Builder startFrom(GenerationRequest.Builder b, ai.vqclip.core.Tensor sketch, double weight) {
    b.init(new Init.FromImage(sketch));
    if (weight > 0) {
      b.regularization(new ai.vqclip.core.pipeline.Regularization(weight, ai.vqclip.core.pipeline.Regularization.Target.INIT,
          new ai.vqclip.core.loss.LatentRegularization.Decay.Constant()));
    }
    return b;
  }

  /** How this generator's text runs start from a sketch, or null where they do not. */
  public SketchStart sketchStart() {
    return sketchStart;
  }

  /**
   * The caption as a prompt with its shape contrasted: the caption itself, and for each of its
   * objects the caption with that object's shape changed to each other shape, at weight {@code
   * -weight} (a negative prompt pushes the picture away from it). The picture is then asked to be
   * this shape rather than another in the same colours, which a cosine to the caption alone barely
   * asks (the colours carry most of it). A caption that names no shape is returned as it is.
   *
   * @param caption a caption of the demo grammar
   * @param weight weight of each contrasted caption, positive
   * @return the prompt spec ({@code |}-separated, {@link PromptSchedule#parse})
   */
  public static String withShapeContrast(String caption, double weight) {
    StringBuilder sb = new StringBuilder(caption);
    for (ai.vqclip.demo.data.CaptionParser.ObjectClaim o : ai.vqclip.demo.data.CaptionParser.parse(caption).objects()) {
      if (o.shape() == null || o.color() == null) {
        continue;
      }
      for (ai.vqclip.demo.data.ShapeKind k : ai.vqclip.demo.data.ShapeKind.values()) {
        if (k != o.shape()) {
          sb.append('|').append(reshaped(caption, o, k)).append(':').append(java.math.BigDecimal.valueOf(-weight).toPlainString());
        }
      }
    }
    return sb.toString();
  }

  /** The caption with object {@code o}'s shape word changed to {@code k} (its colour word stays). */
  private static String reshaped(String caption, ai.vqclip.demo.data.CaptionParser.ObjectClaim o, ai.vqclip.demo.data.ShapeKind k) {
    return caption.replace(o.color().word() + " " + o.shape().word(), o.color().word() + " " + k.word());
  }

  /** Runs a request (with the caption prior where this generator has one and the request a text prompt). */
  public RunResult run(GenerationRequest request) {
    Pipeline.Builder b = withPrior(null, request);
    return b == null ? pipeline.run(request) : b.build().run(request);
  }

  /**
   * {@code b} (a new builder where null) with the caption prior's term added, or {@code b} when
   * there is none to add (no prior, or no text prompt for it to read).
   */
  private Pipeline.Builder withPrior(Pipeline.Builder b, GenerationRequest request) {
    if (priorTerm == null || request.prompts().maxPrompts() == 0) {
      return b;
    }
    return (b == null ? builder() : b).loss(priorTerm);
  }

  /**
   * Runs a request with a {@link ShapeContrastLoss} for {@code caption} added at {@code weight} (0:
   * none, the plain {@link #run(GenerationRequest)}); a caption of which no object names a colour and
   * a shape gets none either.
   */
  public RunResult run(GenerationRequest request, String caption, double weight) {
    List<float[][]> groups = weight > 0 ? contrastGroups(caption) : List.of();
    if (groups.isEmpty()) {
      return run(request);
    }
    Pipeline.Builder b = builder().loss(new ShapeContrastLoss(groups, weight, CONTRAST_SCALE));
    withPrior(b, request);
    return b.build().run(request);
  }

  /**
   * Runs for a text-to-image demo picture (the CLI's default {@code generate}): the best of {@link
   * #CANDIDATES} runs of {@link #request(String, long, Settings)}, ranked by the CLIPs' agreement
   * with the prompt ({@link #runBest}).
   *
   * @param prompt the prompt
   * @param seed the seed
   * @param settings the settings
   * @return the chosen run
   */
  public RunResult generate(String prompt, long seed, Settings settings) {
    return runBest(sd -> requestFor(prompt, sd, settings).build(), seed, prompt, prompt, 0, CANDIDATES);
  }

  /**
   * The best of {@code candidates} runs: the request at its own seed and at {@code candidates - 1}
   * seeds derived from it ({@link Reranking#candidateSeed}), each picture scored by the summed
   * cosine between its CLIP embeddings (the clean picture, every CLIP of the ensemble) and {@code
   * prompt}'s ({@link Reranking.Scorer}); the highest wins, the first of equal scores (reranking, as
   * DALL-E reranked its samples with CLIP). The CLI's {@code --candidates} ranks the same way.
   *
   * @param request the request for a seed
   * @param seed the first run's seed
   * @param prompt the text the pictures are scored against
   * @param caption the caption for {@link #run(GenerationRequest, String, double)}'s shape contrast
   * @param weight the shape contrast's weight (0: none)
   * @param candidates runs, in [1, {@link Reranking#MAX_CANDIDATES}]
   * @return the best-scoring run
   * @throws IllegalArgumentException if {@code candidates} is out of range
   */
  public RunResult runBest(java.util.function.LongFunction<GenerationRequest> request, long seed, String prompt, String caption,
      double weight, int candidates) {
    Reranking.checkCandidates(candidates);
    if (candidates == 1) {
      return run(request.apply(seed), caption, weight);
    }
    Reranking.Scorer scorer = new Reranking.Scorer(encoders, prompt); // the text embedded once for every candidate
    RunResult best = null;
    double bestScore = Double.NEGATIVE_INFINITY;
    for (int k = 0; k < candidates; k++) {
      RunResult r = run(request.apply(Reranking.candidateSeed(seed, k)), caption, weight);
      double score = scorer.score(r.image());
      if (best == null || score > bestScore) {
        best = r;
        bestScore = score;
      }
    }
    return best;
  }

  /** Logit scale of the shape contrast: a cosine margin of 0.1 (the demo CLIP's) is 2 nats. */
  public static final double CONTRAST_SCALE = 20;

  /** Per object naming a colour and a shape: the caption's text embedding, then each other shape's. */
  private List<float[][]> contrastGroups(String caption) {
    List<float[][]> groups = new java.util.ArrayList<>();
    float[] own = null; // embedded once, shared by every object's group
    for (ai.vqclip.demo.data.CaptionParser.ObjectClaim o : ai.vqclip.demo.data.CaptionParser.parse(caption).objects()) {
      if (o.shape() == null || o.color() == null) {
        continue;
      }
      own = own == null ? encoders.get(0).embedText(caption).toFloats() : own;
      List<float[]> texts = new java.util.ArrayList<>();
      texts.add(own);
      for (ai.vqclip.demo.data.ShapeKind k : ai.vqclip.demo.data.ShapeKind.values()) {
        if (k != o.shape()) {
          texts.add(encoders.get(0).embedText(reshaped(caption, o, k)).toFloats());
        }
      }
      groups.add(texts.toArray(float[][]::new));
    }
    return groups;
  }

  @Override
  public void close() {
    encoders.forEach(ClipEncoder::close);
    generator.close();
    if (sketch != null) {
      sketch.close();
    }
  }
}
