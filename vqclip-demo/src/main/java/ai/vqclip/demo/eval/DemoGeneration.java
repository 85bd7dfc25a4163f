package ai.vqclip.demo.eval;

import ai.vqclip.augment.StandardCutouts;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.optim.OptimizerConfig;
import ai.vqclip.core.pipeline.GenerationRequest;
import ai.vqclip.core.pipeline.Init;
import ai.vqclip.core.pipeline.Pipeline;
import ai.vqclip.core.pipeline.RunResult;
import ai.vqclip.core.prompt.PromptSchedule;
import ai.vqclip.demo.DemoModels;
import ai.vqclip.onnx.clip.ClipEncoder;
import ai.vqclip.onnx.vqgan.VqganGenerator;
import java.util.List;

/**
 * Text-to-image generation with the demo models through the standard {@link Pipeline}, with
 * settings suited to them (the defaults a CLI should use for the demo models): 32x32 output, 150 iterations, 16
 * cutouts with crop exponent 0.5, Af Pe augmentations with border padding, Adam 0.1. Not thread-safe; close it.
 */
public final class DemoGeneration implements AutoCloseable {
  /** Iterations of a default demo run. */
  public static final int ITERATIONS = 150;

  /** Cutouts per iteration. */
  public static final int CUTOUTS = 16;

  /**
   * Augmentation codes: affine and perspective warps with border padding (zero padding leaves the
   * picture's edges without gradient, and the background came out wrong for half the prompts);
   * colour augmentations would fight colour prompts.
   */
  public static final java.util.List<String> AUGMENTATIONS = java.util.List.of("Af", "Pe", "Border");

  /** Crop-size exponent: below 1 favours larger crops, which keeps the whole scene in view. */
  public static final double CUT_POW = 0.5;

  private final VqganGenerator generator;
  private final ClipEncoder encoder;
  private final List<ClipEncoder> others;
  private final Pipeline pipeline;
  private final ExecutionOptions options;

  /** A generator over loaded demo models (the bundle must stay open while this is used). */
  public DemoGeneration(DemoModels.Bundle models, ExecutionOptions options) {
    this(models, List.of(), options);
  }

  /**
   * A generator over loaded demo models whose guidance is an ensemble: the bundle's CLIP and the
   * CLIPs of {@code moreClips} (their losses summed, as with several CLIP models in the Python
   * tools). The bundles must stay open while this is used.
   */
  public DemoGeneration(DemoModels.Bundle models, List<DemoModels.Bundle> moreClips, ExecutionOptions options) {
    this.generator = VqganGenerator.load(models.vqgan(), models.vqganConfig(), options);
    this.encoder = ClipEncoder.load(models.clip(), models.clipConfig(), models.tokenizer(), options);
    this.others = moreClips.stream().map(b -> ClipEncoder.load(b.clip(), b.clipConfig(), b.tokenizer(), options)).toList();
    this.options = options;
    this.pipeline = builder().build();
  }

  /** A pipeline builder over the generator and every CLIP. */
  private Pipeline.Builder builder() {
    Pipeline.Builder b = Pipeline.builder(generator, new StandardCutouts()).encoder(encoder).options(options);
    others.forEach(b::encoder);
    return b;
  }

  /** Adam's learning rate. */
  public static final double LEARNING_RATE = 0.1;

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
   */
  public record Settings(int iterations, int cutouts, double cutPow, java.util.List<String> augmentations, double learningRate, int size,
      double tvWeight, Init init) {
    /** Copies the codes. */
    public Settings {
      augmentations = java.util.List.copyOf(augmentations);
      java.util.Objects.requireNonNull(init, "init");
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
      return new Settings(iterations, cutouts, cutPow, augmentations, learningRate, size, tvWeight, init);
    }
  }

  /** The default demo settings (the constants of this class). */
  public static Settings defaults() {
    return new Settings(ITERATIONS, CUTOUTS, CUT_POW, AUGMENTATIONS, LEARNING_RATE, DemoModels.IMAGE_SIZE, 0, INIT);
  }

  /** The demo request for a prompt with the {@link #defaults()}. */
  public static GenerationRequest.Builder request(String prompt, long seed) {
    return request(prompt, seed, defaults());
  }

  /** The demo request for a prompt with given settings. */
  public static GenerationRequest.Builder request(String prompt, long seed, Settings s) {
    return GenerationRequest.builder(s.size(), s.size(), PromptSchedule.parse(prompt, s.iterations()))
        .iterations(s.iterations()).cutouts(s.cutouts()).cutPow(s.cutPow()).augmentations(s.augmentations()).seed(seed)
        .optimizer(OptimizerConfig.adam(s.learningRate())).tvWeight(s.tvWeight()).init(s.init());
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

  /** Runs a request. */
  public RunResult run(GenerationRequest request) {
    return pipeline.run(request);
  }

  /**
   * Runs a request with a {@link ShapeContrastLoss} for {@code caption} added at {@code weight} (0:
   * none, the plain {@link #run(GenerationRequest)}); a caption of which no object names a colour and
   * a shape gets none either.
   */
  public RunResult run(GenerationRequest request, String caption, double weight) {
    List<float[][]> groups = weight > 0 ? contrastGroups(caption) : List.of();
    double frame = Double.parseDouble(System.getProperty("vqclip.demo.frame", "0"));
    if (groups.isEmpty() && frame == 0) {
      return run(request);
    }
    Pipeline.Builder b = builder();
    if (!groups.isEmpty()) {
      b.loss(new ShapeContrastLoss(groups, weight, CONTRAST_SCALE));
    }
    if (frame > 0) {
      b.loss(new ai.vqclip.core.loss.FrameLoss(frame, Double.parseDouble(System.getProperty("vqclip.demo.frameband", "0.125"))));
    }
    return b.build().run(request);
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
      own = own == null ? encoder.embedText(caption).toFloats() : own;
      List<float[]> texts = new java.util.ArrayList<>();
      texts.add(own);
      for (ai.vqclip.demo.data.ShapeKind k : ai.vqclip.demo.data.ShapeKind.values()) {
        if (k != o.shape()) {
          texts.add(encoder.embedText(reshaped(caption, o, k)).toFloats());
        }
      }
      groups.add(texts.toArray(float[][]::new));
    }
    return groups;
  }

  @Override
  public void close() {
    others.forEach(ClipEncoder::close);
    encoder.close();
    generator.close();
  }
}
