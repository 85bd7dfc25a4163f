package ai.vqclip.core.pipeline;

import ai.vqclip.core.StepEvent;
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
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import ai.vqclip.core.PromptLoss;
import ai.vqclip.core.loss.PromptLosses;
import ai.vqclip.core.loss.RegularizationLoss;
import ai.vqclip.core.loss.SphericalDistance;
import ai.vqclip.core.loss.TotalVariationLoss;
import ai.vqclip.core.LearningRateSchedule;
import ai.vqclip.core.Optimizer;
import ai.vqclip.core.prompt.Prompt;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
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
 * <p><b>Stopping.</b> {@link Thread#interrupt()} of the running thread stops the run at the next
 * step boundary, like a listener returning false: the result keeps the last image and checkpoint,
 * its manifest says {@code "interrupted"}, and the thread's interrupt flag is set again on return.
 */
public final class Pipeline {
  private static final Logger LOG = LoggerFactory.getLogger(Pipeline.class);

  /** This library's version, for manifests. */
  public static final String VERSION = "0.1.0-SNAPSHOT";

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
  final java.util.concurrent.Semaphore stepPermits;
  /** Text embeddings by encoder and text, least recently used dropped first; guarded by itself. */
  private final LinkedHashMap<String, Tensor> textCache = new LinkedHashMap<>(64, 0.75f, true);

  /** How many text embeddings a pipeline keeps (a long-lived service sees unboundedly many texts). */
  static final int TEXT_CACHE_SIZE = 4096;

  /**
   * Whether the step's backward pass recomputes the generator's large activations ({@link
   * Generator#recomputeScopes}) instead of keeping them from the forward pass. Recomputing costs
   * one more forward pass of those blocks and saves most of the decoder's activation memory; for
   * VQGAN f16_16384 with CLIP ViT-B/32 and 32 cutouts: at 400x400 +10 % FLOPs, a peak of 5.8
   * instead of 8.9 GB; at 256x256 +7 % FLOPs, 4.7 instead of 5.7 GB (docs/performance.md).
   * Results are bit-identical either way.
   */
  public enum MemorySaving {
    /** Recompute for images of more than {@link #AUTO_MIN_PIXELS} pixels (the default). */
    AUTO,
    /** Always recompute. */
    ON,
    /** Never recompute: fastest, most memory. */
    OFF;

    /** The image size (width x height) above which {@link #AUTO} recomputes. */
    public static final long AUTO_MIN_PIXELS = 256L * 256;

    /** Whether a step for an image of that size recomputes. */
    public boolean recomputes(int width, int height) {
      return this == ON || (this == AUTO && (long) width * height > AUTO_MIN_PIXELS);
    }
  }

  private Pipeline(Builder b) {
    this.generator = Objects.requireNonNull(b.generator, "generator");
    if (b.encoders.isEmpty()) {
      throw new IllegalArgumentException("a pipeline needs at least one encoder");
    }
    this.encoders = List.copyOf(b.encoders);
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

  /** A builder for a pipeline over a generator, with the standard or a custom cutout stage. */
  public static Builder builder(Generator generator, CutoutFactory cutouts) {
    return new Builder(generator, cutouts);
  }

  /** Where and how often a run writes its checkpoint. */
  public record CheckpointSettings(Path path, int every) {
    public CheckpointSettings {
      if (every < 0) {
        throw new IllegalArgumentException("checkpoint interval must be >= 0, got " + every);
      }
      if (every > 0) {
        Objects.requireNonNull(path, "checkpoint path");
      }
    }

    /** No checkpoints. */
    public static CheckpointSettings none() {
      return new CheckpointSettings(null, 0);
    }
  }

  /** Runs a request from its start. */
  public RunResult run(GenerationRequest request, StepListener... listeners) {
    return run(request, null, CheckpointSettings.none(), List.of(listeners));
  }

  /**
   * Runs a request, from its start or from a checkpoint of the same request.
   *
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
    long started = System.nanoTime();
    int w = request.width();
    int h = request.height();
    long[] zShape = generator.latentShape(w, h);
    int zSize = Math.toIntExact(Shape.of(zShape).elementCount());
    int size = encoders.get(0).inputResolution();
    CutoutSource cuts = cutouts.create(request.cutouts(), size, request.cutPow(), request.augmentations());
    int n = cuts.count();
    EditState edit = prepareEdit(request);
    StepGraph step = buildStepGraph(request, cuts, zShape, edit);
    List<List<Tensor>> imageTargets = embedImagePrompts(request, cuts);
    List<List<Tensor>> noiseTargets = noiseTargets(request);

    float[] z;
    float[] zInit;
    Optimizer.State opt = request.optimizer().start(zSize);
    LearningRateSchedule.Run schedule = request.schedule().start();
    int start = 0;
    double bestLoss = Double.POSITIVE_INFINITY;
    int bestIteration = 0;
    if (resumeFrom != null) {
      if (!java.util.Arrays.equals(resumeFrom.latentShape(), zShape)) {
        throw new IllegalArgumentException("checkpoint latent " + java.util.Arrays.toString(resumeFrom.latentShape())
            + " does not fit this request's latent " + java.util.Arrays.toString(zShape));
      }
      z = resumeFrom.latent();
      zInit = resumeFrom.latentInit();
      opt.restore(resumeFrom.optimizerState(), resumeFrom.optimizerSteps());
      schedule.restore(resumeFrom.scheduleState());
      start = resumeFrom.iteration();
      bestLoss = resumeFrom.bestLoss();
      bestIteration = resumeFrom.bestIteration();
    } else {
      z = initialLatent(request, zShape).toFloats();
      zInit = z.clone();
    }
    float[] latentMask = latentMask(edit != null && request.mask() == null ? edit.region : request.mask(), request, zShape);
    Tensor[] bounds = generator.latentBounds();
    float[] lo = bounds[0].toFloats();
    float[] hi = bounds[1].toFloats();
    int channels = (int) zShape[1];
    int cells = zSize / channels;
    String stopReason = "completed";
    int iteration = start;
    Checkpoint last = null;
    // Every text embedding of the schedule now, then free the helper sessions (text, image, encode):
    // each holds its own runtime copy of its weights, and the step's session is the only one
    // needed while the steps run.
    for (List<Prompt> set : request.prompts().sets()) {
      for (Prompt p : set) {
        for (int e = 0; e < encoders.size(); e++) {
          textEmbedding(e, p.text());
        }
      }
    }
    generator.releaseCaches();
    encoders.forEach(Encoder::releaseCaches);
    boolean interrupted = false;
    try (SharedExecutables.Lease lease = SharedExecutables.GLOBAL.acquire(backend, step.graph, options)) {
      Executable exec = lease.executable();
      Duration setup = Duration.ofNanos(System.nanoTime() - started);
      for (; iteration < request.iterations(); iteration++) {
        double lr = schedule.rate(iteration, request.optimizer().learningRate());
        if (!(lr >= 0) || !Double.isFinite(lr)) {
          throw new IllegalArgumentException("learning-rate schedule " + request.schedule() + " gave " + lr + " at iteration " + iteration
              + "; a rate must be a finite number >= 0");
        }
        Map<String, Tensor> in = stepInputs(request, step, cuts, imageTargets, noiseTargets, iteration, z, zInit, zShape);
        List<Prompt> active = request.prompts().at(iteration);
        boolean wantImage = request.saveEvery() > 0 && iteration % request.saveEvery() == 0;
        Set<String> outs = new LinkedHashSet<>(step.terms.keySet());
        outs.add("loss");
        outs.add(GradientRequest.gradName("z"));
        if (wantImage) {
          outs.add("image");
        }
        Map<String, Tensor> out;
        if (stepPermits == null) {
          out = exec.run(in, outs);
        } else {
          // Uninterruptible: an interrupt while waiting is seen at this step's boundary instead.
          stepPermits.acquireUninterruptibly();
          try {
            out = exec.run(in, outs);
          } finally {
            stepPermits.release();
          }
        }
        double loss = out.get("loss").toDoubles()[0];
        Map<String, Double> terms = new LinkedHashMap<>();
        for (Map.Entry<String, String> t : step.terms.entrySet()) {
          String label = step.labels.apply(t.getKey(), active);
          if (label != null) {
            terms.put(label, out.get(t.getKey()).toDoubles()[0]);
          }
        }
        float[] grad = out.get(GradientRequest.gradName("z")).toFloats();
        if (!Double.isFinite(loss) || !allFinite(grad)) {
          throw new DivergedException(iteration, "loss " + loss + ", terms " + terms);
        }
        boolean go = true;
        StepEvent ev = new StepEvent(iteration, request.iterations(), loss, terms, Duration.ofNanos(System.nanoTime() - started),
            wantImage ? out.get("image") : null, setup);
        for (StepListener l : listeners) {
          go &= l.onStep(ev);
        }
        String stop = null;
        if (!go) {
          stop = "stopped by listener";
        } else if (Thread.interrupted()) { // clears the flag so that the checkpoint's file I/O below is not refused
          interrupted = true;
          stop = "interrupted";
        } else if (cancelled.getAsBoolean()) {
          stop = "cancelled";
        }
        if (latentMask != null) {
          for (int k = 0; k < zSize; k++) {
            grad[k] *= latentMask[k % cells];
          }
        }
        opt.step(z, grad, lr);
        schedule.observe(iteration, loss);
        for (int c = 0; c < channels; c++) {
          for (int k = c * cells; k < (c + 1) * cells; k++) {
            z[k] = Math.min(Math.max(z[k], lo[c]), hi[c]);
          }
        }
        if (loss < bestLoss - (request.plateau() == null ? 0 : request.plateau().minDelta())) {
          bestLoss = loss;
          bestIteration = iteration;
        }
        boolean plateau = request.plateau() != null && iteration - bestIteration >= request.plateau().patience();
        boolean lastStep = stop != null || plateau || iteration + 1 == request.iterations();
        if (checkpoints.every() > 0 && ((iteration + 1) % checkpoints.every() == 0 || lastStep)) {
          last = new Checkpoint(iteration + 1, zShape, z, zInit, opt.save(), opt.steps(), bestLoss, bestIteration, describe(request),
              schedule.save());
          last.save(checkpoints.path());
        }
        if (stop != null) {
          stopReason = stop;
          iteration++;
          break;
        }
        if (plateau) {
          stopReason = "loss plateau";
          iteration++;
          break;
        }
      }
    }
    Tensor latent = Tensor.ofFloats(zShape, z);
    Tensor image = generator.decode(latent);
    if (last == null || last.iteration() != iteration) {
      last = new Checkpoint(iteration, zShape, z, zInit, opt.save(), opt.steps(), bestLoss, bestIteration, describe(request), schedule.save());
    }
    Map<String, Map<String, String>> models = new LinkedHashMap<>();
    models.put("generator", generator.provenance());
    for (int e = 0; e < encoders.size(); e++) {
      models.put("encoder" + e, encoders.get(e).provenance());
    }
    List<String> promptSets = new ArrayList<>();
    request.prompts().sets().forEach(s -> promptSets.add(s.toString()));
    RunManifest manifest = new RunManifest(VERSION, backend.runtimeVersion(), System.getProperty("java.version"),
        System.getProperty("os.name") + " " + System.getProperty("os.version"), System.getProperty("os.arch"), request.seed(), w, h,
        iteration, stopReason, promptSets, describe(request), models, (System.nanoTime() - started) / 1_000_000);
    LOG.info("run finished after {} iterations ({}), {} cutouts, {} ms", iteration, stopReason, n, manifest.elapsedMillis());
    if (interrupted) {
      Thread.currentThread().interrupt(); // tell the caller, as the interrupt was consumed at the step boundary
    }
    return new RunResult(image, latent, last, manifest);
  }

  /** Every input of the step graph for one iteration, drawn exactly as a run draws them. */
  private Map<String, Tensor> stepInputs(GenerationRequest request, StepGraph step, CutoutSource cuts, List<List<Tensor>> imageTargets,
      List<List<Tensor>> noiseTargets, int iteration, float[] z, float[] zInit, long[] zShape) {
    Map<String, Tensor> in = new HashMap<>();
    in.put("z", Tensor.ofFloats(zShape, z));
    SplittableRandom rng = new SplittableRandom(request.seed() + 0x9E3779B97F4A7C15L * (iteration + 1L));
    cuts.sample(rng, request.width(), request.height()).forEach((k, v) -> in.put("cut/" + k, v));
    feedPromptSlots(in, step, request.prompts().at(iteration), request, imageTargets, noiseTargets);
    Loss.Step at = new Loss.Step(iteration, zShape, z, zInit);
    for (Loss l : step.lossObjects) {
      in.putAll(l.stepInputs(at));
    }
    return in;
  }

  /**
   * The forward step graph of a request (before differentiation) and the inputs of one of its
   * iterations for a given latent, for inspection and gradient checks.
   *
   * @param graph the forward graph: input {@code z} and the step's other inputs; outputs {@code loss}, the terms and {@code image}
   * @param inputs the inputs of that iteration ({@code z} included; {@code z} is also the INIT regularization target)
   */
  public record StepSnapshot(Graph graph, Map<String, Tensor> inputs) {}

  /** The forward step graph of {@code request} and its inputs at {@code iteration} for latent {@code z}. */
  public StepSnapshot snapshot(GenerationRequest request, int iteration, Tensor z) {
    long[] zShape = generator.latentShape(request.width(), request.height());
    CutoutSource cuts = cutouts.create(request.cutouts(), encoders.get(0).inputResolution(), request.cutPow(), request.augmentations());
    StepGraph step = buildStepGraph(request, cuts, zShape, prepareEdit(request));
    float[] zv = z.toFloats();
    Map<String, Tensor> in = stepInputs(request, step, cuts, embedImagePrompts(request, cuts), noiseTargets(request), iteration, zv, zv, zShape);
    return new StepSnapshot(step.forward, in);
  }

  /**
   * How the step graph of {@code request} is differentiated: the gradient of {@code loss} with
   * respect to {@code z}, recomputing the generator's large activations when this pipeline's {@link
   * MemorySaving} says so for the request's size.
   */
  public GradientRequest gradientRequest(GenerationRequest request) {
    GradientRequest g = GradientRequest.ofLoss("loss", "z");
    if (!memorySaving.recomputes(request.width(), request.height())) {
      return g;
    }
    // The synthesis fragment is included under the "generator" scope (buildStepGraph).
    return g.withRecompute(generator.recomputeScopes(request.width(), request.height()).stream().map(x -> "generator/" + x).toList());
  }

  static boolean allFinite(float[] v) {
    for (float x : v) {
      if (!Float.isFinite(x)) {
        return false;
      }
    }
    return true;
  }

  static String describe(GenerationRequest r) {
    return "size=" + r.width() + "x" + r.height() + ", prompts=" + r.prompts().sets() + ", every=" + r.prompts().every()
        + ", imagePrompts=" + r.imagePrompts().stream().map(ImagePrompt::name).toList() + ", noisePrompts=" + r.noisePrompts()
        + ", seed=" + r.seed() + ", iterations=" + r.iterations() + ", optimizer=" + r.optimizer() + ", schedule=" + r.schedule()
        + ", plateau=" + r.plateau() + ", cutouts=" + r.cutouts() + ", cutPow=" + r.cutPow() + ", augmentations=" + r.augmentations()
        + ", regularization=" + r.regularization() + ", tv=" + r.tvWeight() + ", init=" + r.init().getClass().getSimpleName()
        + ", mask=" + (r.mask() != null) + ", saveEvery=" + r.saveEvery() + ", edit=" + r.edit()
        + ", imagePromptsLockstep=" + r.imagePromptsLockstep();
  }

  // ------------------------------------------------------------------------------------------ graph

  /** The differentiated step graph and how to read it. */
  private static final class StepGraph {
    Graph graph;
    Graph forward;
    int textSlots;
    /** The terms built from {@link Loss} objects (built-in and the user's), fed each step. */
    final List<Loss> lossObjects = new ArrayList<>();
    /** Output name of each loss term -> which term it is. */
    final Map<String, String> terms = new LinkedHashMap<>();
    java.util.function.BiFunction<String, List<Prompt>, String> labels;
  }

  private StepGraph buildStepGraph(GenerationRequest r, CutoutSource cuts, long[] zShape, EditState edit) {
    StepGraph s = new StepGraph();
    GraphBuilder b = new GraphBuilder("vqclip-step");
    Value z = b.input("z", DType.FLOAT, Shape.of(zShape));
    Value image = b.include(generator.synthesisFragment(r.width(), r.height()), "generator", Map.of(Generator.LATENT, z)).get(Generator.IMAGE);
    Graph cf = cuts.fragment(r.width(), r.height());
    Map<String, Value> bind = new HashMap<>();
    for (Value v : cf.inputs()) {
      bind.put(v.name(), v.name().equals(CutoutSource.IMAGE) ? image : b.input("cut/" + v.name(), v.dtype(), v.shape()));
    }
    Value cutoutsV = b.include(cf, "cutouts", bind).get(CutoutSource.CUTOUTS);
    List<Value> embeddings = new ArrayList<>();
    for (int e = 0; e < encoders.size(); e++) {
      Graph ef = encoders.get(e).imageFragment(cuts.count());
      embeddings.add(b.include(ef, "encoder" + e, Map.of(Encoder.IMAGES, cutoutsV)).get(Encoder.EMBEDDINGS));
    }
    List<Value> termValues = new ArrayList<>();
    s.textSlots = r.prompts().maxPrompts();
    for (int j = 0; j < s.textSlots; j++) {
      termValues.add(promptTerm(b, s, "text" + j, embeddings, 1));
    }
    for (int j = 0; j < r.imagePrompts().size(); j++) {
      termValues.add(r.imagePromptsLockstep()
          ? lockstepTerm(b, s, "image" + j, r, r.imagePrompts().get(j), cf, bind, embeddings)
          : promptTerm(b, s, "image" + j, embeddings, cuts.count()));
    }
    for (int j = 0; j < r.noisePrompts().size(); j++) {
      termValues.add(promptTerm(b, s, "noise" + j, embeddings, 1));
    }
    if (edit != null) {
      termValues.addAll(editTerms(b, s, r, cf, bind, embeddings, edit));
    }
    Loss.Context ctx = new Loss.Context(b, z, image, cutoutsV, List.copyOf(embeddings));
    if (r.regularization().weight() > 0) {
      addLossTerm(s, ctx, termValues, RegularizationLoss.NAME, new RegularizationLoss(r.regularization()));
    }
    if (r.tvWeight() > 0) {
      addLossTerm(s, ctx, termValues, TotalVariationLoss.NAME, new TotalVariationLoss(r.tvWeight()));
    }
    for (Loss l : losses) {
      addLossTerm(s, ctx, termValues, "loss:" + l.name(), l);
    }
    Value total = termValues.get(0);
    for (int i = 1; i < termValues.size(); i++) {
      total = b.add(total, termValues.get(i));
    }
    b.output("loss", total);
    b.output("image", image);
    s.forward = b.build();
    s.graph = Autodiff.differentiate(s.forward, gradientRequest(r), vjpRegistry);
    List<ImagePrompt> ips = r.imagePrompts();
    List<NoisePrompt> nps = r.noisePrompts();
    s.labels = (key, active) -> {
      String t = s.terms.get(key);
      if (t.startsWith("text")) {
        int j = Integer.parseInt(t.substring(4));
        return j < active.size() ? active.get(j).text() : null;
      }
      if (t.startsWith("image")) {
        return "image:" + ips.get(Integer.parseInt(t.substring(5))).name();
      }
      if (t.startsWith("noise")) {
        return "noise:" + nps.get(Integer.parseInt(t.substring(5))).seed();
      }
      return t;
    };
    return s;
  }

  /** What a from/to edit needs: the edit region and the from/to embeddings per encoder. */
  private static final class EditState {
    Tensor source;
    Tensor region;
    float[] saliency;
    final List<Tensor> from = new ArrayList<>();
    final List<Tensor> to = new ArrayList<>();
  }

  private EditState prepareEdit(GenerationRequest r) {
    EditDirection e = r.edit();
    if (e == null) {
      return null;
    }
    EditState st = new EditState();
    st.source = ((Init.FromImage) r.init()).image();
    if (r.mask() != null) {
      st.region = r.mask();
      st.saliency = r.mask().toFloats();
    } else {
      st.saliency = SelfMask.compute(encoders.get(0), st.source, e.from(), e.maskSamples(), r.seed());
      st.region = SelfMask.editRegion(st.saliency, r.width(), r.height());
    }
    for (int k = 0; k < encoders.size(); k++) {
      st.from.add(textEmbedding(k, e.from()));
      st.to.add(textEmbedding(k, e.to()));
    }
    return st;
  }

  /**
   * The direction term {@code scale * mean_i(d(E_i, to) - d(E_i, from))} and the content term
   * {@code w * mean_i(d(E_i, S_i) * (1 - m_i))}, where S are the same cutouts of the source image
   * and m_i the saliency's mean over cutout i (both through the step's own cutout parameters).
   */
  private List<Value> editTerms(
      GraphBuilder b, StepGraph s, GenerationRequest r, Graph cutFragment, Map<String, Value> bind, List<Value> embeddings, EditState st) {
    EditDirection e = r.edit();
    List<Value> out = new ArrayList<>();
    Value direction = null;
    for (int k = 0; k < encoders.size(); k++) {
      Value to = b.constant(st.to.get(k));
      Value from = b.constant(st.from.get(k));
      Value diff = b.sub(promptLoss.distances(b, embeddings.get(k), to), promptLoss.distances(b, embeddings.get(k), from));
      Value t = b.mul(b.reduceMean(diff, false), b.scalar(e.scale(), DType.FLOAT));
      direction = direction == null ? t : b.add(direction, t);
    }
    out.add(term(b, s, "direction", direction));
    if (e.contentWeight() > 0) {
      Map<String, Value> srcBind = new HashMap<>(bind);
      srcBind.put(CutoutSource.IMAGE, b.constant(st.source));
      Value srcCuts = b.include(cutFragment, "source-cutouts", srcBind).get(CutoutSource.CUTOUTS);
      Map<String, Value> maskBind = new HashMap<>(bind);
      maskBind.put(CutoutSource.IMAGE, b.constant(SelfMask.asRgb(st.saliency, r.width(), r.height())));
      Value maskCuts = b.include(cutFragment, "mask-cutouts", maskBind).get(CutoutSource.CUTOUTS);
      Value coverage = b.op("ReduceMean").in(maskCuts, b.ints(1, 2, 3)).attr("keepdims", 0L).out(); // [n]
      Value keep = b.sub(b.scalar(1, DType.FLOAT), coverage);
      Value content = null;
      for (int k = 0; k < encoders.size(); k++) {
        Value src = b.include(encoders.get(k).imageFragment(cutFragmentCount(srcCuts)), "source-encoder" + k,
            Map.of(Encoder.IMAGES, srcCuts)).get(Encoder.EMBEDDINGS);
        Value d = promptLoss.rowwise(b, embeddings.get(k), src);
        Value t = b.mul(b.reduceMean(b.mul(d, keep), false), b.scalar(e.contentWeight(), DType.FLOAT));
        content = content == null ? t : b.add(content, t);
      }
      out.add(term(b, s, "content", content));
    }
    return out;
  }

  /** A built-in (unless replaced or removed) or user term from a {@link Loss} object. */
  private void addLossTerm(StepGraph s, Loss.Context ctx, List<Value> termValues, String label, Loss builtIn) {
    java.util.Optional<Loss> replaced = replacements.get(label);
    Loss l = replaced == null ? builtIn : replaced.orElse(null);
    if (l == null) {
      return;
    }
    Value v = l.build(ctx);
    if (!v.shape().hasRank() || v.rank() != 0 || v.dtype() != DType.FLOAT) {
      throw new IllegalArgumentException("loss '" + l.name() + "' must return a FLOAT scalar (rank 0), got " + v);
    }
    s.lossObjects.add(l);
    termValues.add(term(ctx.builder(), s, label, v));
  }

  private static int cutFragmentCount(Value cutouts) {
    return (int) cutouts.shape().size(0);
  }

  private Value term(GraphBuilder b, StepGraph s, String name, Value v) {
    Double factor = termWeights.get(name.startsWith("loss:") ? name.substring(5) : name);
    if (factor != null) {
      v = b.mul(v, b.scalar(factor, DType.FLOAT));
    }
    String out = "term/" + name;
    b.output(out, v);
    s.terms.put(out, name);
    return v;
  }

  /** Sum over encoders of the spherical-distance loss of one prompt slot; weight 0 disables the slot. */
  private Value promptTerm(GraphBuilder b, StepGraph s, String slot, List<Value> embeddings, int targets) {
    Value weight = b.input("prompt/" + slot + "/weight", DType.FLOAT, Shape.scalar());
    Value stop = b.input("prompt/" + slot + "/stop", DType.FLOAT, Shape.scalar());
    Value sum = null;
    for (int e = 0; e < encoders.size(); e++) {
      Value target = b.input("prompt/" + slot + "/target" + e, DType.FLOAT, Shape.of(targets, encoders.get(e).embeddingDim()));
      Value l = SphericalDistance.weighted(b, promptLoss.distances(b, embeddings.get(e), target), weight, stop);
      sum = sum == null ? l : b.add(sum, l);
    }
    return term(b, s, slot, sum);
  }

  /**
   * An image prompt cut with this step's own cutout parameters (the prompt is resized to the run's
   * size so every crop means the same region), embedded, and compared cutout for cutout.
   */
  private Value lockstepTerm(
      GraphBuilder b, StepGraph s, String slot, GenerationRequest r, ImagePrompt p, Graph cutFragment, Map<String, Value> bind,
      List<Value> embeddings) {
    Value weight = b.input("prompt/" + slot + "/weight", DType.FLOAT, Shape.scalar());
    Value stop = b.input("prompt/" + slot + "/stop", DType.FLOAT, Shape.scalar());
    Tensor resized = ai.vqclip.core.image.Images.toTensor(
        ai.vqclip.core.image.Images.resize(ai.vqclip.core.image.Images.toImage(p.image()), r.width(), r.height()), 3);
    Map<String, Value> promptBind = new HashMap<>(bind);
    promptBind.put(CutoutSource.IMAGE, b.constant(resized));
    Value promptCuts = b.include(cutFragment, slot + "-cutouts", promptBind).get(CutoutSource.CUTOUTS);
    Value sum = null;
    for (int e = 0; e < encoders.size(); e++) {
      Value target = b.include(encoders.get(e).imageFragment(cutFragmentCount(promptCuts)), slot + "-encoder" + e,
          Map.of(Encoder.IMAGES, promptCuts)).get(Encoder.EMBEDDINGS);
      Value l = SphericalDistance.weighted(b, promptLoss.rowwise(b, embeddings.get(e), target), weight, stop);
      sum = sum == null ? l : b.add(sum, l);
    }
    return term(b, s, slot, sum);
  }

  private void feedPromptSlots(
      Map<String, Tensor> in, StepGraph s, List<Prompt> active, GenerationRequest r, List<List<Tensor>> images, List<List<Tensor>> noise) {
    for (int j = 0; j < s.textSlots; j++) {
      Prompt p = j < active.size() ? active.get(j) : null;
      for (int e = 0; e < encoders.size(); e++) {
        Tensor t = p != null ? textEmbedding(e, p.text()) : Tensor.filled(DType.FLOAT, new long[] {1, encoders.get(e).embeddingDim()}, 1);
        in.put("prompt/text" + j + "/target" + e, t);
      }
      feedWeight(in, "text" + j, p == null ? 0 : p.weight(), p == null ? Double.NEGATIVE_INFINITY : p.stop());
    }
    for (int j = 0; j < r.imagePrompts().size(); j++) {
      for (int e = 0; !r.imagePromptsLockstep() && e < encoders.size(); e++) {
        in.put("prompt/image" + j + "/target" + e, images.get(j).get(e));
      }
      feedWeight(in, "image" + j, r.imagePrompts().get(j).weight(), r.imagePrompts().get(j).stop());
    }
    for (int j = 0; j < r.noisePrompts().size(); j++) {
      for (int e = 0; e < encoders.size(); e++) {
        in.put("prompt/noise" + j + "/target" + e, noise.get(j).get(e));
      }
      feedWeight(in, "noise" + j, r.noisePrompts().get(j).weight(), Double.NEGATIVE_INFINITY);
    }
  }

  private static void feedWeight(Map<String, Tensor> in, String slot, double weight, double stop) {
    in.put("prompt/" + slot + "/weight", Tensor.scalar(DType.FLOAT, weight));
    in.put("prompt/" + slot + "/stop", Tensor.scalar(DType.FLOAT, stop));
  }

  Tensor textEmbedding(int encoder, String text) {
    String key = encoder + "\u0000" + text;
    synchronized (textCache) {
      Tensor t = textCache.get(key);
      if (t != null) {
        return t;
      }
    }
    // Embedded outside the lock (other threads go on); two threads may embed one text at once,
    // which gives the same tensor.
    Tensor t = encoders.get(encoder).embedText(text);
    synchronized (textCache) {
      textCache.put(key, t);
      if (textCache.size() > TEXT_CACHE_SIZE) {
        textCache.remove(textCache.keySet().iterator().next());
      }
    }
    return t;
  }

  // ------------------------------------------------------------------------------ prompts and init

  /** Image prompts: their own seeded cutouts, embedded once per encoder ([n, D] each). */
  List<List<Tensor>> embedImagePrompts(GenerationRequest r, CutoutSource cuts) {
    List<List<Tensor>> all = new ArrayList<>();
    if (r.imagePromptsLockstep()) {
      return all; // embedded inside the step graph instead
    }
    for (int j = 0; j < r.imagePrompts().size(); j++) {
      Tensor img = r.imagePrompts().get(j).image();
      int ih = (int) img.shape()[2];
      int iw = (int) img.shape()[3];
      Graph cf = cuts.fragment(iw, ih);
      Map<String, Tensor> in = new HashMap<>(cuts.sample(new SplittableRandom(r.seed() ^ (0x5DEECE66DL * (j + 1))), iw, ih));
      in.put(CutoutSource.IMAGE, img);
      Tensor c;
      try (Executable e = backend.compile(cf, options)) {
        c = e.run(in, Set.of(CutoutSource.CUTOUTS)).get(CutoutSource.CUTOUTS);
      }
      List<Tensor> perEncoder = new ArrayList<>();
      for (Encoder enc : encoders) {
        perEncoder.add(enc.embedImages(c));
      }
      all.add(perEncoder);
    }
    return all;
  }

  List<List<Tensor>> noiseTargets(GenerationRequest r) {
    List<List<Tensor>> all = new ArrayList<>();
    for (NoisePrompt p : r.noisePrompts()) {
      SplittableRandom rng = new SplittableRandom(p.seed());
      List<Tensor> perEncoder = new ArrayList<>();
      for (Encoder e : encoders) {
        double[] v = new double[e.embeddingDim()];
        for (int i = 0; i < v.length; i++) {
          v[i] = gaussian(rng);
        }
        perEncoder.add(Tensor.fromDoubles(DType.FLOAT, new long[] {1, v.length}, v));
      }
      all.add(perEncoder);
    }
    return all;
  }

  private static double gaussian(SplittableRandom rnd) {
    return ai.vqclip.core.Gaussian.next(rnd);
  }

  Tensor initialLatent(GenerationRequest r, long[] zShape) {
    int w = r.width();
    int h = r.height();
    SplittableRandom rng = new SplittableRandom(r.seed() ^ 0x2545F4914F6CDD1DL);
    Init init = r.init();
    if (init instanceof Init.RandomCodes) {
      return generator.randomLatent(w, h, r.seed());
    }
    if (init instanceof Init.FromImage f) {
      return generator.encode(f.image());
    }
    double[] px = new double[3 * w * h];
    if (init instanceof Init.NoisePixels) {
      for (int i = 0; i < px.length; i++) {
        px[i] = rng.nextDouble();
      }
    } else {
      // A smooth random gradient: each channel a random linear ramp across the image.
      for (int c = 0; c < 3; c++) {
        double a = rng.nextDouble();
        double bx = rng.nextDouble(-1, 1);
        double by = rng.nextDouble(-1, 1);
        for (int y = 0; y < h; y++) {
          for (int x = 0; x < w; x++) {
            double v = a + bx * x / Math.max(1, w - 1) + by * y / Math.max(1, h - 1);
            px[(c * h + y) * w + x] = Math.min(1, Math.max(0, v));
          }
        }
      }
    }
    return generator.encode(Tensor.fromDoubles(DType.FLOAT, new long[] {1, 3, h, w}, px));
  }

  /**
   * The latent cells that may change: a cell is editable when the mean of the mask over the pixels
   * it covers is at least 0.5. Null when there is no mask.
   */
  static float[] latentMask(Tensor mask, GenerationRequest r, long[] zShape) {
    if (mask == null) {
      return null;
    }
    int lh = (int) zShape[2];
    int lw = (int) zShape[3];
    int h = r.height();
    int w = r.width();
    double[] m = mask.toDoubles();
    float[] out = new float[lh * lw];
    for (int cy = 0; cy < lh; cy++) {
      for (int cx = 0; cx < lw; cx++) {
        int y0 = cy * h / lh;
        int y1 = (cy + 1) * h / lh;
        int x0 = cx * w / lw;
        int x1 = (cx + 1) * w / lw;
        double sum = 0;
        for (int y = y0; y < y1; y++) {
          for (int x = x0; x < x1; x++) {
            sum += m[y * w + x];
          }
        }
        out[cy * lw + cx] = sum / ((double) (y1 - y0) * (x1 - x0)) >= 0.5 ? 1f : 0f;
      }
    }
    return out;
  }

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

    /** Adds an encoder (several form an ensemble: their losses are summed). */
    public Builder encoder(Encoder e) {
      encoders.add(Objects.requireNonNull(e, "encoder"));
      return this;
    }

    /** Adds a user loss term. */
    public Builder loss(Loss l) {
      losses.add(Objects.requireNonNull(l, "loss"));
      return this;
    }

    /**
     * How prompt terms measure distance (default {@link PromptLosses#SPHERICAL}; {@link
     * PromptLosses#COSINE} or your own): text, image and noise prompts and the edit terms.
     */
    public Builder promptLoss(PromptLoss p) {
      promptLoss = Objects.requireNonNull(p, "promptLoss");
      return this;
    }

    /**
     * Replaces a built-in term by {@code replacement} wherever a request turns that term on, or
     * removes it when {@code replacement} is null. Built-in {@link Loss} terms: {@code "tv"} ({@link
     * TotalVariationLoss}, on when the request's tvWeight is > 0) and {@code "regularization"}
     * ({@link RegularizationLoss}, on when its regularization weight is > 0). The term keeps its
     * name in step events.
     *
     * @throws IllegalArgumentException for another name
     */
    public Builder replaceLoss(String builtIn, Loss replacement) {
      if (!List.of(TotalVariationLoss.NAME, RegularizationLoss.NAME).contains(builtIn)) {
        throw new IllegalArgumentException("replaceLoss: built-in loss must be 'tv' or 'regularization', got '" + builtIn + "'");
      }
      replacements.put(builtIn, java.util.Optional.ofNullable(replacement));
      return this;
    }

    /**
     * Multiplies a term by {@code factor} in every run: a built-in term ({@code text0}, {@code
     * text1}, ... for the text prompt slots, {@code image0}, {@code noise0}, ..., {@code direction},
     * {@code content}, {@code regularization}, {@code tv}) or a user loss by its name.
     *
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

    /** The backend (default: the first on the class path). */
    public Builder backend(Backend b) {
      backend = b;
      return this;
    }

    /** How the step graph runs (default: CPU). */
    public Builder options(ExecutionOptions o) {
      options = Objects.requireNonNull(o, "options");
      return this;
    }

    /** Whether the step recomputes the generator's large activations (default {@link MemorySaving#AUTO}). */
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
     */
    public Builder maxParallelSteps(int n) {
      if (n < 0 || n > 1024) {
        throw new IllegalArgumentException("maxParallelSteps must be in [0, 1024] (0 = no bound), got " + n);
      }
      maxParallelSteps = n;
      return this;
    }

    /** Builds the pipeline. */
    public Pipeline build() {
      return new Pipeline(this);
    }
  }
}
