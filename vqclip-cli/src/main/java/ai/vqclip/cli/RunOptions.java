package ai.vqclip.cli;

import ai.vqclip.augment.StandardCutouts;
import ai.vqclip.cli.models.ModelSelection;
import ai.vqclip.cli.models.RunDefaults;
import ai.vqclip.core.backend.Device;
import ai.vqclip.core.prompt.PromptSchedule;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import picocli.CommandLine.Option;

/**
 * The options of a generation run, shared by {@code generate}, {@code edit} and {@code video}. Long
 * names follow the issue; the short aliases are nerdyrodent's generate.py flags, so its command
 * lines carry over.
 */
final class RunOptions {
  /** What {@code --init-noise} accepts. */
  enum InitNoise {
    pixels,
    gradient
  }

  @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Output PNG (default: a name made from the first prompt).")
  Path output;

  @Option(names = "--overwrite", description = "Replace an existing output image (and its checkpoint) instead of writing the next free "
      + "numbered name (NAME-2.png, NAME-3.png, ...).")
  boolean overwrite;

  @Option(names = {"-s", "--size"}, arity = "2", paramLabel = "N", description = "Width and height in pixels, multiples of the VQGAN's "
      + "downsampling factor (default: 256 256, or 32 32 with the built-in demo models; edit: the image's size, scaled down to fit that default).")
  int[] size;

  @Option(names = {"-i", "--iterations"}, paramLabel = "N", description = "Optimizer steps (default: 500, or 150 with the built-in demo "
      + "models).")
  Integer iterations;

  @Option(names = {"-sd", "--seed"}, paramLabel = "N", description = "Seed of every random choice (default: a random seed, recorded in the "
      + "image's metadata).")
  Long seed;

  @Option(names = {"-cuts", "--cutouts"}, paramLabel = "N", description = "Cutouts per step (default: 32, or 16 with the built-in demo "
      + "models).")
  Integer cutouts;

  @Option(names = {"-cutp", "--cut-pow"}, paramLabel = "X", description = "Cutout size exponent (default: 1.0, or 0.5 with the built-in "
      + "demo models).")
  Double cutPowOption;

  @Option(names = {"-aug", "--augments"}, split = "[,\\s]+", splitSynopsisLabel = ",", arity = "1..*", paramLabel = "CODE", description = "Augmentations of the "
      + "cutouts: Ji Sh Gn Pe Ro Af Cr Er Re Hf, Pool for pooled cutouts, Border for edge padding in the warps, Noise=S for the noise step's largest sigma (default 0.1), or none (default: Af Pe Ji Er; Af Pe Border with the built-in demo models).")
  List<String> augments;

  @Option(names = {"--frame-weight"}, paramLabel = "W", description = "Weight of the plain-frame prior: the picture's outer band (an eighth of "
      + "its side) should be one colour, so objects keep off the edges (default: 0, or the demo's weight with the built-in demo models; 0: off).")
  Double frameOption;

  @Option(names = {"--caption-prior"}, paramLabel = "W", description = "Weight of the caption prior: a network trained with the demo "
      + "models that redraws the picture as the first text prompt describes it; the picture, but for its outer band "
      + "(an eighth of its side), is pulled towards its redrawing from iteration 50 (default: the demo's weight, 10, with built-in demo models that have no caption sketch, and a text prompt; 0: off).")
  Double captionPriorOption;

  @Option(names = {"--sketch"}, paramLabel = "W", description = "Start from the caption sketch: a network trained with the demo models "
      + "draws the first text prompt at a layout chosen by the seed, the run starts from its encoding and a latent regularizer of weight W "
      + "pulls it back there, so the CLIPs refine the drawing (default: the demo's weight, 30, with the built-in demo models, a text prompt, "
      + "a square picture and no init image, init noise or init weight; 0: off).")
  Double sketchOption;

  @Option(names = {"--candidates"}, paramLabel = "N", description = "Runs per picture, at the seed and at seeds derived from it; the one whose "
      + "picture the CLIPs find closest to the first text prompt is kept, as DALL-E reranked with CLIP (default: 3 with the built-in demo "
      + "models and a text prompt, otherwise 1; generate only).")
  Integer candidatesOption;

  @Option(names = {"-opt", "--optimizer"}, defaultValue = "adam", paramLabel = "NAME", description = "adam, adamw, adagrad, adamax, rmsprop, "
      + "nadam, amsgrad or sgd (default: ${DEFAULT-VALUE}).")
  String optimizer;

  @Option(names = {"-lr", "--lr"}, paramLabel = "X", description = "Learning rate (default: the optimizer's: 0.1 for the Adam family, "
      + "0.5 adagrad, 0.05 rmsprop, 10 sgd).")
  Double lr;

  @Option(names = {"-ip", "--image-prompts"}, split = "\\|", splitSynopsisLabel = "|", paramLabel = "FILE[:W[:STOP]]", description = "Image prompts, separated by '|' "
      + "or repeated.")
  List<String> imagePrompts = new ArrayList<>();

  @Option(names = {"-nps", "--noise-prompts"}, split = "[|,]", splitSynopsisLabel = "|", paramLabel = "SEED[:W]", description = "Noise prompts: a seed with an optional "
      + "weight, separated by '|' or ','.")
  List<String> noisePrompts = new ArrayList<>();

  @Option(names = {"-cpe", "--change-prompts-every"}, defaultValue = "0", paramLabel = "N", description = "Story mode: switch to the next "
      + "'^'-separated prompt set every N iterations.")
  int changePromptsEvery;

  @Option(names = {"-ii", "--init-image"}, paramLabel = "FILE", description = "Start from this image (resized to the output size).")
  Path initImage;

  @Option(names = {"-in", "--init-noise"}, paramLabel = "KIND", description = "Start from noise: pixels or gradient (default: random codes).")
  InitNoise initNoise;

  @Option(names = {"-iw", "--init-weight"}, defaultValue = "0", paramLabel = "X", description = "Weight of the latent regularization "
      + "(default: ${DEFAULT-VALUE}, off).")
  double initWeight;

  @Option(names = "--init-decay", defaultValue = "harmonic", paramLabel = "KIND", description = "Decay of --init-weight: constant, harmonic "
      + "(w/(2i+1), as generate.py) or linear:EVERY:STEPS (default: ${DEFAULT-VALUE}).")
  String initDecay;

  @Option(names = "--init-target", defaultValue = "zero", paramLabel = "TARGET", description = "What the regularization pulls the latent "
      + "toward: zero (generate.py) or init (the starting latent) (default: ${DEFAULT-VALUE}).")
  String initTarget;

  @Option(names = {"-se", "--save-every"}, defaultValue = "0", paramLabel = "N", description = "Write the image and a checkpoint every N "
      + "iterations (default: ${DEFAULT-VALUE}, at the end only).")
  int saveEvery;

  @Option(names = "--checkpoint", description = "Write a checkpoint (NAME.ckpt, NAME.run.json) at the end, to resume or extend the run.")
  boolean checkpoint;

  @Option(names = "--manifest", paramLabel = "FILE", description = "Also write the run manifest (settings, seed, models, versions) as JSON.")
  Path manifest;

  @Option(names = {"-q", "--quiet"}, description = "No progress bar and no summary line.")
  boolean quiet;

  @Option(names = {"-cd", "--device"}, defaultValue = "cpu", paramLabel = "DEVICE", description = "cpu, cuda (GPU 0) or cuda:N (GPU N; needs a jar built with -Pcuda) (default: ${DEFAULT-VALUE}).")
  String device;

  @Option(names = "--threads", defaultValue = "0", paramLabel = "N", description = "ONNX Runtime threads; 0 lets it choose (default: "
      + "${DEFAULT-VALUE}).")
  int threads;

  @Option(names = "--memory-saving", defaultValue = "auto", paramLabel = "MODE", description = "auto, on, max or off: recompute the "
      + "VQGAN decoder's finest levels in the backward pass instead of keeping their activations (about 35%% less peak memory at "
      + "400x400 for about 10%% more work); auto does so above 256x256 pixels; max recomputes CLIP's blocks as well and allocates "
      + "the step's tensors without ONNX Runtime's arena (the least memory: 3.7 GB at 400x400 with 32 cutouts through ./vqclip, "
      + "for a slower step) (default: ${DEFAULT-VALUE}).")
  String memorySaving;

  @Option(names = "--image-prompts-lockstep", description = "Cut image prompts with each step's own cutout parameters and compare "
      + "cutout with cutout (pixray's way) instead of embedding them once (generate.py's way).")
  boolean imagePromptsLockstep;

  /**
   * The settings of a run of {@code command}; {@code initOverride}, {@code mask} and {@code edit}
   * are the edit command's (null otherwise). Unset options take {@code builtIn}'s defaults when no
   * model file is given, generate.py's otherwise. Checks everything that does not need the models.
   */
  RunSettings settings(String command, String prompts, Path initOverride, Path mask, RunSettings.Edit edit, ModelSelection selection,
      RunDefaults builtIn) {
    RunDefaults d = defaults(selection, builtIn);
    int iterations = this.iterations != null ? this.iterations : d.iterations();
    int cutouts = this.cutouts != null ? this.cutouts : d.cutouts();
    double cutPow = cutPowOption != null ? cutPowOption : d.cutPow();
    double frame = frameOption != null ? frameOption : d.frameWeight();
    if (!(frame >= 0) || !Double.isFinite(frame)) {
      throw new UsageException("--frame-weight must be a finite number >= 0, got " + frame);
    }
    if (captionPriorOption != null && (!(captionPriorOption >= 0) || !Double.isFinite(captionPriorOption))) {
      throw new UsageException("--caption-prior must be a finite number >= 0, got " + captionPriorOption);
    }
    if (iterations < 1 || iterations > 1_000_000) {
      throw new UsageException("--iterations must be in [1, 1000000], got " + iterations);
    }
    if (size != null) {
      for (int v : size) {
        if (v < 1 || v > 8192) {
          throw new UsageException("--size must be two numbers in [1, 8192], got " + size[0] + " " + size[1]);
        }
      }
    }
    if (cutouts < 1 || cutouts > 1024) {
      throw new UsageException("--cutouts must be in [1, 1024], got " + cutouts);
    }
    if (!(cutPow > 0) || !Double.isFinite(cutPow)) {
      throw new UsageException("--cut-pow must be a finite number > 0, got " + cutPow);
    }
    if (lr != null && (!(lr > 0) || !Double.isFinite(lr))) {
      throw new UsageException("--lr must be a finite number > 0, got " + lr);
    }
    if (changePromptsEvery < 0) {
      throw new UsageException("--change-prompts-every must be >= 0, got " + changePromptsEvery);
    }
    if (!(initWeight >= 0) || !Double.isFinite(initWeight)) {
      throw new UsageException("--init-weight must be a finite number >= 0, got " + initWeight);
    }
    if (saveEvery < 0) {
      throw new UsageException("--save-every must be >= 0, got " + saveEvery);
    }
    if (threads < 0 || threads > 1024) {
      throw new UsageException("--threads must be in [0, 1024] (0 = runtime default), got " + threads);
    }
    String dev = checkDevice(device);
    String saving = memorySaving.toLowerCase(Locale.ROOT);
    if (!java.util.Set.of("auto", "on", "max", "off").contains(saving)) {
      throw new UsageException("--memory-saving must be auto, on, max or off, got '" + memorySaving + "'");
    }
    Path init = initOverride != null ? initOverride : initImage;
    if (initOverride != null && initImage != null) {
      throw new UsageException("--init-image cannot be used with edit: the image to edit is the init image");
    }
    if (init != null && initNoise != null) {
      throw new UsageException("--init-noise and an init image exclude each other; choose one");
    }
    InputFiles.requireReadable(initImage, "--init-image");
    List<String> images = new ArrayList<>();
    for (String spec : imagePrompts) {
      images.add(ImagePromptSpec.parse(spec).absolute().toString());
    }
    List<String> noise = new ArrayList<>();
    for (String spec : noisePrompts) {
      if (!spec.isBlank()) {
        noise.add(NoisePromptSpec.parse(spec).toString());
      }
    }
    List<String> augs = augments == null ? d.augments() : augments.stream().filter(a -> !a.isBlank()).toList();
    if (augs.size() == 1 && augs.get(0).equalsIgnoreCase("none")) {
      augs = List.of();
    }
    try {
      // Codes and prompt syntax are checked now, before any model is loaded.
      new StandardCutouts().create(cutouts, 32, cutPow, ai.vqclip.core.CutoutAugmentation.codes(augs));
    } catch (IllegalArgumentException e) {
      throw new UsageException("--augments: " + e.getMessage(), e);
    }
    boolean text;
    boolean rankable;
    try {
      PromptSchedule schedule = PromptSchedule.parse(prompts, Math.max(1, changePromptsEvery));
      text = schedule.maxPrompts() > 0;
      rankable = ai.vqclip.core.pipeline.Reranking.scoringText(schedule) != null;
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage(), e);
    }
    // The prior reads the first text prompt: by default it is on only where there is one.
    double prior = captionPriorOption != null ? captionPriorOption : text && selection.builtInClips() ? d.captionPrior() : 0;
    if (prior > 0 && !selection.builtInClips()) {
      throw new UsageException("--caption-prior " + prior + " reads the built-in demo CLIP's text embedding; it cannot be used with --clip "
          + "or --encoder-onnx (give --caption-prior 0)");
    }
    if (prior > 0 && !text) {
      throw new UsageException("--caption-prior " + prior + " redraws the picture as the first text prompt describes it; give a text prompt "
          + "or --caption-prior 0");
    }
    double sketch = sketch(d, rankable, selection, init != null || initNoise != null, initWeight);
    // The default reranks with the built-in demo models only (where it was measured); an ONNX or file model runs once.
    boolean demo = selection.builtInClips() && selection.vqgan() == null && selection.onnx() == null;
    int candidates = candidates(command, rankable, saveEvery > 0 || checkpoint, demo ? d : RunDefaults.GENERATE_PY);
    if (candidates > 1 && (saveEvery > 0 || checkpoint)) {
      throw new UsageException("--candidates " + candidates + " keeps the best of several runs; checkpoints (--save-every, --checkpoint) "
          + "are written for one run: give --candidates 1 with them");
    }
    ai.vqclip.core.optim.OptimizerConfig.Kind kind;
    try {
      kind = ai.vqclip.core.optim.OptimizerConfig.Kind.parse(optimizer);
    } catch (IllegalArgumentException e) {
      throw new UsageException("--optimizer: " + e.getMessage(), e);
    }
    double rate = lr != null ? lr : ai.vqclip.core.optim.OptimizerConfig.defaultLearningRate(kind);
    Path out = output != null ? output : Path.of(OutputNames.fromPrompt(prompts));
    if (!overwrite) {
      out = OutputNames.free(out, new java.util.HashSet<>());
    }
    long s = seed != null ? seed : ThreadLocalRandom.current().nextLong(1L << 40);
    // Edit's default size is its image's, resolved once the VQGAN's factor is known.
    int w = size != null ? size[0] : initOverride != null ? 0 : d.size();
    int h = size != null ? size[1] : initOverride != null ? 0 : d.size();
    RunSettings rs = new RunSettings(RunSettings.FORMAT, command, prompts, changePromptsEvery, w, h,
        iterations, s, cutouts, cutPow, augs, optimizer, rate, images, noise, RunSettings.str(ModelOptions.abs(init)),
        initNoise == null ? null : initNoise.name(), initWeight, initDecay, initTarget, RunSettings.str(ModelOptions.abs(mask)), saveEvery,
        checkpoint, ModelOptions.abs(out).toString(), RunSettings.str(ModelOptions.abs(manifest)),
        RunSettings.ModelFiles.of(selection), dev, threads, edit, imagePromptsLockstep, saving, frame, prior, candidates, sketch);
    RequestFactory.regularization(rs);
    return rs;
  }

  /**
   * The sketch start's weight: {@code --sketch}, or by default the models' where they have a sketcher
   * and the run has a text prompt of positive weight ({@code positiveText}), the built-in CLIPs, a
   * square picture, no start of its own and no latent regularizer of its own.
   *
   * @throws UsageException for a weight out of range, or a sketch where it cannot be drawn or would be overwritten
   */
  private double sketch(RunDefaults d, boolean positiveText, ModelSelection selection, boolean ownStart, double ownWeight) {
    boolean square = size == null || size[0] == size[1];
    if (sketchOption == null) {
      return positiveText && selection.builtInClips() && selection.onnx() == null && square && !ownStart && ownWeight == 0 ? d.sketch() : 0;
    }
    double w = sketchOption;
    if (!(w >= 0) || !Double.isFinite(w)) {
      throw new UsageException("--sketch must be a finite number >= 0, got " + sketchOption);
    }
    if (w == 0) {
      return 0;
    }
    if (!selection.builtInClips() || selection.onnx() != null) {
      throw new UsageException("--sketch " + w + " reads the built-in demo CLIP's text embedding; it cannot be used with --clip or "
          + "--encoder-onnx (give --sketch 0)");
    }
    if (!positiveText) {
      throw new UsageException("--sketch " + w + " draws the first text prompt of positive weight; give one or --sketch 0");
    }
    if (ownStart) {
      throw new UsageException("--sketch " + w + " is a start of its own; it cannot be used with an init image or --init-noise");
    }
    if (ownWeight != 0) {
      throw new UsageException("--sketch " + w + " sets the latent regularizer (towards the sketch); it cannot be used with --init-weight");
    }
    if (!square) {
      throw new UsageException("--sketch " + w + " draws square pictures; give --size N N or --sketch 0");
    }
    return w;
  }

  /**
   * Runs per picture: {@code --candidates}, or the models' default for a {@code generate} with a text
   * prompt of positive weight (the pictures are ranked against it) that writes no checkpoints (they
   * belong to one run), otherwise 1.
   *
   * @throws UsageException for a count out of range, or more than one without such a prompt or outside {@code generate}
   */
  private int candidates(String command, boolean text, boolean checkpointing, RunDefaults d) {
    if (candidatesOption == null) {
      return command.equals("generate") && text && !checkpointing ? d.candidates() : 1;
    }
    int n = candidatesOption;
    if (n < 1 || n > ai.vqclip.core.pipeline.Reranking.MAX_CANDIDATES) {
      throw new UsageException("--candidates must be in [1, " + ai.vqclip.core.pipeline.Reranking.MAX_CANDIDATES + "], got " + n);
    }
    if (n > 1 && !command.equals("generate")) {
      throw new UsageException("--candidates " + n + " is for generate; " + command + " runs once (give --candidates 1)");
    }
    if (n > 1 && !text) {
      throw new UsageException("--candidates " + n + " ranks the pictures by their agreement with the first text prompt of positive weight; "
          + "give one or --candidates 1");
    }
    return n;
  }

  /** The defaults of a run: {@code builtIn}'s when no model file is given, generate.py's otherwise. */
  static RunDefaults defaults(ModelSelection selection, RunDefaults builtIn) {
    return selection.vqgan() == null && selection.clip().isEmpty() ? builtIn : RunDefaults.GENERATE_PY;
  }

  static Device device(String name) {
    return name.startsWith("cuda") ? Device.CUDA : Device.CPU;
  }

  /** The GPU index of a device name: N of {@code cuda:N}, 0 for {@code cuda} and {@code cpu}. */
  static int deviceId(String name) {
    int colon = name.indexOf(':');
    return colon < 0 ? 0 : Integer.parseInt(name.substring(colon + 1));
  }

  /** Largest GPU index --device accepts. */
  static final int MAX_DEVICE_ID = 63;

  /**
   * {@code value} lower-cased, checked to be {@code cpu}, {@code cuda} or {@code cuda:N}.
   *
   * @throws UsageException naming the value and what is allowed
   */
  static String checkDevice(String value) {
    String dev = value.toLowerCase(Locale.ROOT).strip();
    if (dev.equals("cpu") || dev.equals("cuda")) {
      return dev;
    }
    if (dev.matches("cuda:[0-9]{1,2}") && Integer.parseInt(dev.substring(5)) <= MAX_DEVICE_ID) {
      return "cuda:" + Integer.parseInt(dev.substring(5));
    }
    throw new UsageException("--device must be cpu, cuda or cuda:N (N a GPU index in [0, " + MAX_DEVICE_ID + "]), got '" + value + "'");
  }
}
