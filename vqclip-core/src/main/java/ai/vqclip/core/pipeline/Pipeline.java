package ai.vqclip.core.pipeline;

import ai.vqclip.core.StepListener;
import ai.vqclip.core.CutoutSource;
import ai.vqclip.core.CutoutFactory;
import ai.vqclip.core.Loss;
import ai.vqclip.core.Encoder;
import ai.vqclip.core.Generator;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.autodiff.Autodiff;
import ai.vqclip.core.autodiff.GradientRequest;
import ai.vqclip.core.autodiff.VjpRegistry;
import ai.vqclip.core.backend.Backend;
import ai.vqclip.core.backend.Executable;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.backend.SharedExecutables;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.PromptLoss;
import ai.vqclip.core.loss.PromptLosses;
import ai.vqclip.core.loss.RegularizationLoss;
import ai.vqclip.core.loss.TotalVariationLoss;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * VQGAN-CLIP: optimizes a generator's latent so that the encoders find the generated image close to
 * the prompts (Crowson et al. 2022, METHOD.md B.1-B.10).
 *
 * <p>One graph is built per run: synthesis, cutouts, every encoder, every loss term, and (by {@link
 * Autodiff}) the gradient of the total loss with respect to z. Each iteration is one call of that
 * graph: z and the step's random cutout parameters and prompt targets go in; the loss terms, dLoss/dz
 * and (when asked) the image come out. The host applies the optimizer, the latent mask and the
 * clamp to the codebook range.
 *
 * <p>Reproducible: one seed drives the initial latent, every cutout and augmentation (a stream per
 * iteration, so a resumed run draws what an uninterrupted one would) and the noise prompts. The
 * generator and encoders are not closed by the pipeline.
 *
 * <p><b>Threads.</b> A pipeline is safe to share: {@link #run} may be called from several threads at
 * once, and several pipelines may share one loaded generator and encoder (models that follow the
 * thread contract of {@link Generator} and {@link Encoder}). Everything a run changes (latent,
 * optimizer state, random streams, checkpoint) lives in that run; the pipeline itself keeps only a
 * bounded cache of text embeddings. Runs whose step graphs are identical (same models, size,
 * cutouts, augmentations and losses; prompts are inputs and may differ) share one compiled step
 * session ({@link SharedExecutables}), so N concurrent runs hold the weights once. Results do not
 * depend on what else runs: a run is bit-identical to the same request run alone.
 *
 * <p><b>Code map.</b> This class holds the models and settings and the public API; its jobs are in
 * package-private classes: {@link StepGraphs} assembles the step graph (with {@link BatchGraph} for
 * batches), {@link LatentInit} makes the initial latent, mask and prompt targets, {@link RunLoop}
 * runs the iterations of a lone run and {@link BatchRun} those of a batch ({@link StepBatch}), both
 * with one {@link RunState} per run; {@link TextEmbeddings} caches text embeddings. The file is
 * long because of its {@link Builder}: one documented setter per plug point and setting. *
 * <p><b>Stopping.</b> {@link Thread#interrupt()} of the running thread stops the run at the next
 * step boundary, like a listener returning false: the result keeps the last image and checkpoint,
 * its manifest says {@code "interrupted"}, and the thread's interrupt flag is set again on return.
 */
public final class Pipeline {
  private static final Logger LOG = LoggerFactory.getLogger(Pipeline.class);

  /** This library's version, for manifests (from the build: {@link ai.vqclip.core.Version}). */
  public static final String VERSION = ai.vqclip.core.Version.get();

  // Package-private for StepBatch (batched steps of several runs), which reads the same models and settings.
  final Generator generator;
  final List<Encoder> encoders;
  final CutoutFactory cutouts;
  final List<Loss> losses;
  final Backend backend;
  final ExecutionOptions options;
  final MemorySaving memorySaving;
  final VjpRegistry vjpRegistry;
  final PromptLoss promptLoss;
  /** Built-in terms replaced by user losses ({@link Builder#replaceLoss}); an empty value removes the term. */
  final Map<String, java.util.Optional<Loss>> replacements;
  /** Factors of terms by name ({@link Builder#lossWeight}). */
  final Map<String, Double> termWeights;
  /** Bounds the step calls running at once (null: no bound); see {@link Builder#maxParallelSteps}. */
  private final java.util.concurrent.Semaphore stepPermits;
  // The pipeline's jobs, each in its own class (package-private: RunLoop uses them).
  final StepGraphs graphs = new StepGraphs(this);
  final LatentInit init = new LatentInit(this);
  /** Text embeddings by encoder and text (bounded: a long-lived service sees unboundedly many texts). */
  private final TextEmbeddings texts;

  /**
   * Whether the step's backward pass recomputes the generator's large activations ({@link
   * Generator#recomputeScopes}) instead of keeping them from the forward pass. Recomputing costs
   * one more forward pass of those blocks and saves most of the decoder's activation memory; for
   * VQGAN f16_16384 with CLIP ViT-B/32 and 32 cutouts: at 400x400 +10 % FLOPs, a peak of 5.8
   * instead of 8.9 GB; at 256x256 +7 % FLOPs, 4.7 instead of 5.7 GB (docs/performance.md).
   * Results are bit-identical either way.
   */
  public enum MemorySaving {
    /** Recompute the generator's for images of more than {@link #AUTO_MIN_PIXELS} pixels (the default). */
    AUTO,
    /** Always recompute the generator's. */
    ON,
    /**
     * Recompute the generator's and every encoder's ({@link Encoder#recomputeScopes}), and allocate
     * the step's activations one by one instead of from the runtime's arena
     * ({@link ExecutionOptions#activationArena()}): the least memory, for one more forward pass of
     * the encoders' blocks over all cutouts and slower allocation.
     */
    MAX,
    /** Never recompute: fastest, most memory. */
    OFF;

    /** The image size (width x height) above which {@link #AUTO} recomputes. */
    public static final long AUTO_MIN_PIXELS = 256L * 256;

    /**
     * Whether a step for an image of that size recomputes the generator's activations.
     *
     * @param width the image width
     * @param height the image height
     * @return true when the step recomputes the generator's large activations
     */
    public boolean recomputes(int width, int height) {
      return this == ON || this == MAX || (this == AUTO && (long) width * height > AUTO_MIN_PIXELS);
    }

    /**
     * Whether the step also recomputes the encoders' activations.
     *
     * @return true for {@link #MAX}
     */
    public boolean recomputesEncoders() {
      return this == MAX;
    }
  }

  private Pipeline(Builder b) {
    this.generator = Objects.requireNonNull(b.generator, "generator");
    if (b.encoders.isEmpty()) {
      throw new IllegalArgumentException("a pipeline needs at least one encoder");
    }
    this.encoders = List.copyOf(b.encoders);
    this.texts = new TextEmbeddings(encoders);
    int s = encoders.get(0).inputResolution();
    for (Encoder e : encoders) {
      if (e.inputResolution() != s) {
        throw new IllegalArgumentException("ensemble encoders must share one input resolution; got " + s + " and " + e.inputResolution());
      }
    }
    this.cutouts = Objects.requireNonNull(b.cutouts, "cutouts");
    this.losses = List.copyOf(b.losses);
    Set<String> names = new java.util.HashSet<>();
    for (Loss l : losses) {
      if (!names.add(l.name())) {
        throw new IllegalArgumentException("two losses are named '" + l.name() + "'");
      }
    }
    this.backend = b.backend != null ? b.backend : Backend.load();
    this.options = b.options;
    this.memorySaving = b.memorySaving;
    this.vjpRegistry = b.vjpRegistry;
    this.promptLoss = b.promptLoss;
    this.replacements = Map.copyOf(b.replacements);
    this.termWeights = Map.copyOf(b.termWeights);
    this.stepPermits = b.maxParallelSteps > 0 ? new java.util.concurrent.Semaphore(b.maxParallelSteps, true) : null;
  }

  /**
   * Runs one step call of a compiled step graph, within {@link Builder#maxParallelSteps}: the one
   * place lone runs ({@link RunLoop}) and batches ({@link StepBatch}) take a step permit.
   */
  Map<String, Tensor> runStep(Executable exec, Map<String, Tensor> in, Set<String> outs) {
    if (stepPermits == null) {
      return exec.run(in, outs);
    }
    // Uninterruptible: an interrupt while waiting is seen at this step's boundary instead.
    stepPermits.acquireUninterruptibly();
    try {
      return exec.run(in, outs);
    } finally {
      stepPermits.release();
    }
  }

  /**
   * A builder for a pipeline over a generator, with the standard or a custom cutout stage.
   *
   * @param generator the generator (not closed by the pipeline)
   * @param cutouts the cutout stage (e.g. {@code new StandardCutouts()} of vqclip-augment)
   * @return the builder
   */
  public static Builder builder(Generator generator, CutoutFactory cutouts) {
    return new Builder(generator, cutouts);
  }

  /**
   * Where and how often a run writes its checkpoint.
   *
   * @param path the checkpoint file (needed when {@code every} > 0)
   * @param every write after every Nth iteration and after the last (0: never)
   */
  public record CheckpointSettings(Path path, int every) {
    /**
     * Validates.
     *
     * @param path the checkpoint file (needed when {@code every} > 0)
     * @param every write after every Nth iteration and after the last (0: never)
     * @throws IllegalArgumentException for a value out of range (the message names it)
     * @throws NullPointerException for a null value that is required
     */
    public CheckpointSettings {
      if (every < 0) {
        throw new IllegalArgumentException("checkpoint interval must be >= 0, got " + every);
      }
      if (every > 0) {
        Objects.requireNonNull(path, "checkpoint path");
      }
    }

    /** @return settings that write no checkpoint */
    public static CheckpointSettings none() {
      return new CheckpointSettings(null, 0);
    }
  }

  /**
   * Runs a request from its start.
   *
   * @param request the request
   * @param listeners called after each step; one returning false stops the run
   * @return the final image and latent, the last checkpoint and the manifest
   * @throws DivergedException when the loss stops being finite
   */
  public RunResult run(GenerationRequest request, StepListener... listeners) {
    return run(request, null, CheckpointSettings.none(), List.of(listeners));
  }

  /**
   * Runs a request, from its start or from a checkpoint of the same request.
   *
   * @param request the request
   * @param resumeFrom a checkpoint of the same request to continue from, or null
   * @param checkpoints where and how often to write checkpoints
   * @param listeners called after each step; one returning false stops the run
   * @return the final image and latent, the last checkpoint and the manifest
   * @throws IllegalArgumentException when the checkpoint does not fit the request
   * @throws DivergedException when the loss stops being finite (the checkpoint file keeps the last good state)
   */
  public RunResult run(GenerationRequest request, Checkpoint resumeFrom, CheckpointSettings checkpoints, List<StepListener> listeners) {
    return run(request, resumeFrom, checkpoints, listeners, () -> false);
  }

  /**
   * As {@link #run(GenerationRequest, Checkpoint, CheckpointSettings, List)}, also stopping at the
   * first step boundary where {@code cancelled} is true (stop reason {@code "cancelled"}).
   */
  RunResult run(GenerationRequest request, Checkpoint resumeFrom, CheckpointSettings checkpoints, List<StepListener> listeners,
      java.util.function.BooleanSupplier cancelled) {
    return new RunLoop(this).run(request, resumeFrom, checkpoints, listeners, cancelled);
  }

  /**
   * The forward step graph of a request (before differentiation) and the inputs of one of its
   * iterations for a given latent, for inspection and gradient checks.
   *
   * @param graph the forward graph: input {@code z} and the step's other inputs; outputs {@code loss}, the terms and {@code image}
   * @param inputs the inputs of that iteration ({@code z} included; {@code z} is also the INIT regularization target)
   */
  public record StepSnapshot(Graph graph, Map<String, Tensor> inputs) {}

  /**
   * The forward step graph of a request and its inputs at one iteration.
   *
   * @param request the request
   * @param iteration the iteration whose inputs (cutouts, prompts, loss inputs) to draw
   * @param z the latent (also the INIT regularization target)
   * @return the graph and the inputs
   */
  public StepSnapshot snapshot(GenerationRequest request, int iteration, Tensor z) {
    long[] zShape = generator.latentShape(request.width(), request.height());
    CutoutSource cuts = cutouts.create(request.cutouts(), encoders.get(0).inputResolution(), request.cutPow(), request.augmentations());
    StepGraphs.StepGraph step = graphs.build(request, cuts, zShape);
    float[] zv = z.toFloats();
    Map<String, Tensor> in = new HashMap<>();
    step.stepInputs(in, "", iteration, zv, zv, zShape);
    return new StepSnapshot(step.forward, in);
  }

  /**
   * How the step graph of {@code request} is differentiated: the gradient of {@code loss} with
   * respect to {@code z}, recomputing the generator's large activations when this pipeline's {@link
   * MemorySaving} says so for the request's size.
   *
   * @param request the request
   * @return the gradient request of its step graph
   */
  public GradientRequest gradientRequest(GenerationRequest request) {
    List<String> scopes = recomputeScopes(request.width(), request.height());
    GradientRequest g = GradientRequest.ofLoss("loss", "z");
    return scopes.isEmpty() ? g : g.withRecompute(scopes);
  }

  /**
   * The step graph's scopes to recompute at that size, as {@link MemorySaving} says: the
   * generator's (included under scope {@code "generator"}) and, for {@link MemorySaving#MAX}, every
   * encoder's (under {@code "encoder" + index}).
   */
  List<String> recomputeScopes(int width, int height) {
    List<String> scopes = new java.util.ArrayList<>();
    if (memorySaving.recomputes(width, height)) {
      generator.recomputeScopes(width, height).forEach(x -> scopes.add("generator/" + x));
    }
    if (memorySaving.recomputesEncoders()) {
      for (int e = 0; e < encoders.size(); e++) {
        for (String x : encoders.get(e).recomputeScopes()) {
          scopes.add("encoder" + e + "/" + x);
        }
      }
    }
    return scopes;
  }

  /**
   * The options the step's session is compiled with: the pipeline's, with the activation arena off
   * for {@link MemorySaving#MAX}, whose point is the lowest peak (the arena's power-of-two chunks
   * held 3.2 GB where the step needs 1.6 GB at 400x400; docs/performance.md, Round 4).
   */
  ExecutionOptions stepOptions() {
    return memorySaving == MemorySaving.MAX ? options.withActivationArena(false) : options;
  }

  /** A text's embedding by encoder {@code encoder}, from this pipeline's bounded cache. */
  Tensor textEmbedding(int encoder, String text) {
    return texts.get(encoder, text);
  }

  /** The names of the built-in loss terms ({@link Builder#replaceLoss}). */
  private static final java.util.regex.Pattern BUILT_IN_TERM =
      java.util.regex.Pattern.compile("(text|image|noise)(0|[1-9][0-9]{0,3})|direction|content|regularization|tv");

  /** Fluent builder. */
  public static final class Builder {
    private final Generator generator;
    private final CutoutFactory cutouts;
    private final List<Encoder> encoders = new ArrayList<>();
    private final List<Loss> losses = new ArrayList<>();
    private Backend backend;
    private ExecutionOptions options = ExecutionOptions.cpu();
    private MemorySaving memorySaving = MemorySaving.AUTO;
    private VjpRegistry vjpRegistry = VjpRegistry.standard();
    private int maxParallelSteps;
    private PromptLoss promptLoss = PromptLosses.SPHERICAL;
    private final Map<String, java.util.Optional<Loss>> replacements = new HashMap<>();
    private final Map<String, Double> termWeights = new HashMap<>();

    private Builder(Generator generator, CutoutFactory cutouts) {
      this.generator = generator;
      this.cutouts = cutouts;
    }

    /**
     * Adds an encoder (several form an ensemble: their losses are summed).
     *
     * @param e the encoder (not closed by the pipeline)
     * @return this builder
     */
    public Builder encoder(Encoder e) {
      encoders.add(Objects.requireNonNull(e, "encoder"));
      return this;
    }

    /**
     * Adds a user loss term (labelled {@code "loss:" + name} in step events).
     *
     * @param l the term
     * @return this builder
     */
    public Builder loss(Loss l) {
      losses.add(Objects.requireNonNull(l, "loss"));
      return this;
    }

    /**
     * How prompt terms measure distance (default {@link PromptLosses#SPHERICAL}; {@link
     * PromptLosses#COSINE} or your own): text, image and noise prompts and the edit terms.
     *
     * @param p the distance
     * @return this builder
     */
    public Builder promptLoss(PromptLoss p) {
      promptLoss = Objects.requireNonNull(p, "promptLoss");
      return this;
    }

    /**
     * Replaces a built-in term by {@code replacement} wherever a request turns that term on, or
     * removes it when {@code replacement} is null. The built-in terms, each a {@link Loss}: the
     * prompt slots {@code "text0"}, {@code "text1"}, ... (one per prompt of the largest prompt set),
     * {@code "image0"}, ... and {@code "noise0"}, ... ({@link ai.vqclip.core.loss.PromptTermLoss}, or
     * {@link ai.vqclip.core.loss.LockstepPromptLoss} for lockstep image prompts), the edit terms
     * {@code "direction"} ({@link ai.vqclip.core.loss.EditDirectionLoss}) and {@code "content"}
     * ({@link ai.vqclip.core.loss.EditContentLoss}), {@code "regularization"} ({@link
     * RegularizationLoss}, on when the request's regularization weight is > 0) and {@code "tv"}
     * ({@link TotalVariationLoss}, on when its tvWeight is > 0). The term keeps its place in the sum
     * and its label in step events (a text slot's label is its prompt, and a replaced slot is
     * reported while the request has a prompt in it).
     *
     * @param builtIn the built-in term's name
     * @param replacement the term to use instead (its inputs are fed by its own {@link
     *     Loss#stepInputs(Loss.Step)}), or null to remove the term
     * @return this builder
     * @throws IllegalArgumentException for a name that is not a built-in term's
     */
    public Builder replaceLoss(String builtIn, Loss replacement) {
      Objects.requireNonNull(builtIn, "builtIn");
      if (!BUILT_IN_TERM.matcher(builtIn).matches()) {
        throw new IllegalArgumentException("replaceLoss: built-in loss must be one of text<N>, image<N>, noise<N>, direction, content, "
            + "regularization, tv, got '" + builtIn + "'");
      }
      replacements.put(builtIn, java.util.Optional.ofNullable(replacement));
      return this;
    }

    /**
     * Multiplies a term by {@code factor} in every run: a built-in term ({@code text0}, {@code
     * text1}, ... for the text prompt slots, {@code image0}, {@code noise0}, ..., {@code direction},
     * {@code content}, {@code regularization}, {@code tv}) or a user loss by its name.
     *
     * @param term the term's name
     * @param factor the factor (finite; 0 switches the term off)
     * @return this builder
     * @throws IllegalArgumentException for a factor that is not finite
     */
    public Builder lossWeight(String term, double factor) {
      Objects.requireNonNull(term, "term");
      if (!Double.isFinite(factor)) {
        throw new IllegalArgumentException("loss weight factor for '" + term + "' must be finite, got " + factor);
      }
      termWeights.put(term, factor);
      return this;
    }

    /**
     * The backend (default: the first on the class path).
     *
     * @param b the backend
     * @return this builder
     */
    public Builder backend(Backend b) {
      backend = b;
      return this;
    }

    /**
     * How the step graph runs (default: CPU).
     *
     * @param o the execution options
     * @return this builder
     */
    public Builder options(ExecutionOptions o) {
      options = Objects.requireNonNull(o, "options");
      return this;
    }

    /**
     * Whether the step recomputes the generator's large activations (default {@link MemorySaving#AUTO}).
     *
     * @param m the mode
     * @return this builder
     */
    public Builder memorySaving(MemorySaving m) {
      memorySaving = Objects.requireNonNull(m, "memorySaving");
      return this;
    }

    /**
     * The gradient rules the step graph is differentiated with (default {@link
     * VjpRegistry#standard()}): pass {@code VjpRegistry.standard().register("MyOp", rule)} when an
     * imported generator or encoder uses an op without a built-in rule, or {@code
     * chooseGradient(...)} for a piecewise-constant op. The registry is read while step graphs are
     * built; do not change it afterwards.
     *
     * @param r the registry
     * @return this builder
     */
    public Builder vjpRegistry(VjpRegistry r) {
      vjpRegistry = Objects.requireNonNull(r, "vjpRegistry");
      return this;
    }

    /**
     * How many step calls of this pipeline's concurrent runs may execute at once (default 0: no
     * bound). Each step call holds its own activations (gigabytes at full size: docs/performance.md)
     * while the weights are shared, so with 1 concurrent runs take turns step by step and the
     * memory stays near one run's; on a CPU, where one step already uses every core, that costs
     * little throughput. Results are the same either way.
     *
     * @param n the bound, in [0, 1024] (0: none)
     * @return this builder
     * @throws IllegalArgumentException for n out of range
     */
    public Builder maxParallelSteps(int n) {
      if (n < 0 || n > 1024) {
        throw new IllegalArgumentException("maxParallelSteps must be in [0, 1024] (0 = no bound), got " + n);
      }
      maxParallelSteps = n;
      return this;
    }

    /**
     * Builds the pipeline.
     *
     * @return the pipeline
     * @throws IllegalArgumentException without an encoder, for encoders of different input
     *     resolutions, or for two user losses of one name
     */
    public Pipeline build() {
      return new Pipeline(this);
    }
  }
}
