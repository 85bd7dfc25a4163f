package ai.vqclip.core.pipeline;

import ai.vqclip.core.CutoutSource;
import ai.vqclip.core.Encoder;
import ai.vqclip.core.Generator;
import ai.vqclip.core.Loss;
import ai.vqclip.core.StepEvent;
import ai.vqclip.core.StepListener;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.autodiff.Autodiff;
import ai.vqclip.core.autodiff.GradientRequest;
import ai.vqclip.core.backend.Executable;
import ai.vqclip.core.backend.SharedExecutables;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import ai.vqclip.core.loss.LatentRegularization;
import ai.vqclip.core.loss.SphericalDistance;
import ai.vqclip.core.loss.TotalVariation;
import ai.vqclip.core.prompt.Prompt;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Several runs advanced together: each iteration is one ONNX Runtime call of a batched step graph
 * for all of them, with a batch dimension on z (the generator synthesizes [B, C, h, w] at once), on
 * the cutouts (the encoders embed [B*n, 3, S, S] at once) and on the prompts (each run's own
 * targets, weights and regularizer inputs). Every run keeps its own seed and random streams, prompt
 * schedule, optimizer state, learning-rate schedule, plateau stop, mask, listeners, cancellation and
 * checkpoints; only the forward and backward pass are shared.
 *
 * <p><b>Same pixels.</b> Run b's loss terms are built from its own slice of the images, cutouts and
 * embeddings exactly as {@link Pipeline#run} builds them, and the batch's loss is the sum of the
 * runs' losses, so d(loss)/d(z_b) is run b's own gradient. The generator and encoder ops work per
 * image or per row (convolutions, GroupNorm as InstanceNormalization per (n, group), GEMM rows,
 * per-row softmax and LayerNorm), so with ONNX Runtime's CPU kernels each run is bit-identical to
 * the same request run alone (StepBatchTest checks it for batches of 2 and 4 with different seeds
 * and prompts).
 *
 * <p><b>Leaving a batch.</b> A run that ends early (cancelled, stopped by a listener, a loss plateau,
 * fewer iterations, a diverged loss) leaves the batch with its result; the others go on in a step
 * graph for the smaller batch, which gives them the same values.
 *
 * <p><b>What batches.</b> Requests batch together when {@link #whyNotBatchable} is null for each and
 * they share the step-graph shape: size, cutout count, cut_pow and augmentations ({@link
 * #whyNotTogether}). Prompts, image and noise prompts, seeds, iterations, optimizer, regularizer, TV
 * weight, init and mask may differ. From/to edits, lockstep image prompts, user {@link Loss} terms
 * and generators without batched synthesis are not batched: {@link #runAll} runs those alone,
 * logging why.
 */
public final class StepBatch {
  private static final Logger LOG = LoggerFactory.getLogger(StepBatch.class);

  /** The largest batch {@link #run} takes. */
  public static final int MAX_BATCH = 64;

  private StepBatch() {}

  /**
   * One run of a batch.
   *
   * @param request the request
   * @param resumeFrom a checkpoint of the same request to continue from, or null
   * @param checkpoints where this run writes checkpoints
   * @param listeners called after each of this run's steps; one returning false stops this run only
   * @param cancelled polled at each step boundary; true stops this run only (stop reason "cancelled")
   * @param done called once when this run leaves the batch: its result, or its failure
   */
  public record Member(GenerationRequest request, Checkpoint resumeFrom, Pipeline.CheckpointSettings checkpoints,
      List<StepListener> listeners, BooleanSupplier cancelled, BiConsumer<RunResult, Throwable> done) {
    public Member {
      Objects.requireNonNull(request, "request");
      Objects.requireNonNull(checkpoints, "checkpoints");
      listeners = List.copyOf(listeners);
      cancelled = cancelled != null ? cancelled : () -> false;
      done = done != null ? done : (r, t) -> {};
    }

    /** A run from its start, without checkpoints. */
    public static Member of(GenerationRequest request, StepListener... listeners) {
      return new Member(request, null, Pipeline.CheckpointSettings.none(), List.of(listeners), null, null);
    }
  }

  /** How one run of a batch ended: a result, or the exception a lone run would have thrown. */
  public record Outcome(RunResult result, Throwable failure) {
    /** The result, or the failure rethrown (unchecked). */
    public RunResult get() {
      if (failure instanceof RuntimeException e) {
        throw e;
      }
      if (failure instanceof Error e) {
        throw e;
      }
      if (failure != null) {
        throw new IllegalStateException(failure);
      }
      return result;
    }
  }

  /**
   * Why {@code request} cannot run in a batch on {@code pipeline} at all, or null when it can.
   */
  public static String whyNotBatchable(Pipeline pipeline, GenerationRequest request) {
    if (!pipeline.generator.supportsBatchedSynthesis()) {
      return "the generator " + pipeline.generator.getClass().getSimpleName() + " does not synthesize batches";
    }
    if (pipeline.promptLoss != ai.vqclip.core.loss.PromptLosses.SPHERICAL || !pipeline.replacements.isEmpty()
        || !pipeline.termWeights.isEmpty()) {
      return "the pipeline has another prompt loss, replaced losses or loss weights, which the batched step does not build";
    }
    if (!pipeline.losses.isEmpty()) {
      return "the pipeline has user loss terms " + pipeline.losses.stream().map(Loss::name).toList()
          + ", whose inputs and context the batched step does not build per run";
    }
    if (request.edit() != null) {
      return "from/to edits are not batched (their source image, mask and content term are per-run constants)";
    }
    if (request.imagePromptsLockstep()) {
      return "lockstep image prompts are not batched (their cutouts are per-run constants in the step graph)";
    }
    return null;
  }

  /**
   * Why two batchable requests cannot share one batched step graph (a different step-graph shape),
   * or null when they can.
   */
  public static String whyNotTogether(GenerationRequest a, GenerationRequest b) {
    if (!shapeKey(a).equals(shapeKey(b))) {
      return "different step-graph shape: " + shapeKey(a) + " vs " + shapeKey(b);
    }
    return null;
  }

  /** What the shared part of a batched step graph depends on. */
  static String shapeKey(GenerationRequest r) {
    return "size " + r.width() + "x" + r.height() + ", cutouts " + r.cutouts() + ", cutPow " + r.cutPow() + ", augmentations "
        + r.augmentations();
  }

  /**
   * Groups requests into batches of at most {@code maxBatch}, in order of first appearance: each
   * batchable request joins the first open group of its step-graph shape; the others are groups of
   * one. Returns indices into {@code requests}.
   */
  public static List<List<Integer>> plan(Pipeline pipeline, List<GenerationRequest> requests, int maxBatch) {
    checkMaxBatch(maxBatch);
    List<List<Integer>> groups = new ArrayList<>();
    Map<String, List<Integer>> open = new HashMap<>();
    for (int i = 0; i < requests.size(); i++) {
      GenerationRequest r = requests.get(i);
      if (maxBatch == 1 || whyNotBatchable(pipeline, r) != null) {
        groups.add(List.of(i));
        continue;
      }
      List<Integer> g = open.get(shapeKey(r));
      if (g == null || g.size() >= maxBatch) {
        g = new ArrayList<>();
        groups.add(g);
        open.put(shapeKey(r), g);
      }
      g.add(i);
    }
    return groups;
  }

  static void checkMaxBatch(int maxBatch) {
    if (maxBatch < 1 || maxBatch > MAX_BATCH) {
      throw new IllegalArgumentException("maxBatch must be in [1, " + MAX_BATCH + "], got " + maxBatch);
    }
  }

  /**
   * Runs every request, batching what can batch ({@link #plan}) and running the rest alone (the
   * reason is logged), one group after the other on the calling thread.
   *
   * @return the outcomes, in the order of {@code requests}
   */
  public static List<Outcome> runAll(Pipeline pipeline, List<GenerationRequest> requests, int maxBatch) {
    Outcome[] out = new Outcome[requests.size()];
    for (List<Integer> g : plan(pipeline, requests, maxBatch)) {
      List<Member> ms = new ArrayList<>();
      for (int i : g) {
        ms.add(Member.of(requests.get(i)));
      }
      List<Outcome> os = run(pipeline, ms);
      for (int k = 0; k < g.size(); k++) {
        out[g.get(k)] = os.get(k);
      }
    }
    return List.of(out);
  }

  /**
   * Runs the members together on the calling thread and returns when all have ended. One member
   * runs as {@link Pipeline#run} runs it; several must be batchable and share one step-graph shape.
   * Each member's {@code done} is called as it leaves the batch. {@link Thread#interrupt()} of the
   * calling thread stops every member at the next step boundary (stop reason "interrupted"; the
   * flag is set again on return).
   *
   * @return the outcomes, in the order of {@code members}
   * @throws IllegalArgumentException when the members cannot batch (the message says why)
   */
  public static List<Outcome> run(Pipeline pipeline, List<Member> members) {
    if (members.isEmpty()) {
      return List.of();
    }
    checkMaxBatch(members.size());
    if (members.size() == 1) {
      Member m = members.get(0);
      Outcome o;
      try {
        o = new Outcome(pipeline.run(m.request(), m.resumeFrom(), m.checkpoints(), m.listeners(), m.cancelled()), null);
      } catch (RuntimeException | OutOfMemoryError e) {
        o = new Outcome(null, e);
      }
      m.done().accept(o.result(), o.failure());
      return List.of(o);
    }
    for (Member m : members) {
      String why = whyNotBatchable(pipeline, m.request());
      if (why == null) {
        why = whyNotTogether(members.get(0).request(), m.request());
      }
      if (why != null) {
        throw new IllegalArgumentException("request cannot join this batch: " + why);
      }
    }
    return new Run(pipeline, members).go();
  }

  // ------------------------------------------------------------------------------ one batched run

  /** One member's state while the batch runs. */
  private static final class Sample {
    final Member m;
    final GenerationRequest r;
    final long started = System.nanoTime();
    List<List<Tensor>> imageTargets;
    List<List<Tensor>> noiseTargets;
    ai.vqclip.core.Optimizer.State opt;
    ai.vqclip.core.LearningRateSchedule.Run schedule;
    double lr;
    float[] z;
    float[] zInit;
    float[] latentMask;
    int iteration;
    double bestLoss = Double.POSITIVE_INFINITY;
    int bestIteration;
    String stopReason = "completed";
    Checkpoint last;
    Outcome outcome;
    // This step's values, between the call and the optimizer step.
    double loss;
    float[] grad;
    boolean go;

    Sample(Member m) {
      this.m = m;
      this.r = m.request();
    }
  }

  /** The batched step graph for some samples, and how to read it. */
  private static final class BatchGraph {
    Graph graph;
    /** Per position: output name of each loss term -> which term it is. */
    final List<Map<String, String>> terms = new ArrayList<>();
    final List<Integer> textSlots = new ArrayList<>();
    final List<Boolean> regularized = new ArrayList<>();
  }

  private static final class Run {
    final Pipeline p;
    final List<Sample> all = new ArrayList<>();
    final long[] zShape;
    final int zSize;
    final CutoutSource cuts;
    final float[] lo;
    final float[] hi;
    boolean interrupted;

    Run(Pipeline p, List<Member> members) {
      this.p = p;
      GenerationRequest first = members.get(0).request();
      zShape = p.generator.latentShape(first.width(), first.height());
      zSize = Math.toIntExact(Shape.of(zShape).elementCount());
      // One cutout stage for all: the members share count, size, cut_pow and augmentations, and a
      // cutout source draws its parameters only from the random stream it is given.
      cuts = p.cutouts.create(first.cutouts(), p.encoders.get(0).inputResolution(), first.cutPow(), first.augmentations());
      Tensor[] bounds = p.generator.latentBounds();
      lo = bounds[0].toFloats();
      hi = bounds[1].toFloats();
      for (Member m : members) {
        all.add(new Sample(m));
      }
    }

    List<Outcome> go() {
      List<Sample> active = new ArrayList<>();
      for (Sample s : all) {
        try {
          prepare(s);
          if (s.iteration < s.r.iterations()) {
            active.add(s);
          } else {
            finish(s);
          }
        } catch (RuntimeException | OutOfMemoryError e) {
          fail(s, e);
        }
      }
      // Every text embedding now, then free the helper sessions, as a lone run does.
      for (Sample s : active) {
        for (List<Prompt> set : s.r.prompts().sets()) {
          for (Prompt pr : set) {
            for (int e = 0; e < p.encoders.size(); e++) {
              p.textEmbedding(e, pr.text());
            }
          }
        }
      }
      p.generator.releaseCaches();
      p.encoders.forEach(Encoder::releaseCaches);
      try {
        while (!active.isEmpty()) {
          active = steps(active);
        }
      } catch (RuntimeException | OutOfMemoryError e) {
        for (Sample s : all) {
          if (s.outcome == null) {
            fail(s, e);
          }
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
      List<Outcome> out = new ArrayList<>();
      for (Sample s : all) {
        out.add(s.outcome);
      }
      return out;
    }

    private void prepare(Sample s) {
      GenerationRequest r = s.r;
      s.imageTargets = p.embedImagePrompts(r, cuts);
      s.noiseTargets = p.noiseTargets(r);
      s.opt = r.optimizer().start(zSize);
      s.schedule = r.schedule().start();
      Checkpoint from = s.m.resumeFrom();
      if (from != null) {
        if (!Arrays.equals(from.latentShape(), zShape)) {
          throw new IllegalArgumentException("checkpoint latent " + Arrays.toString(from.latentShape()) + " does not fit this request's latent "
              + Arrays.toString(zShape));
        }
        s.z = from.latent();
        s.zInit = from.latentInit();
        s.opt.restore(from.optimizerState(), from.optimizerSteps());
        s.schedule.restore(from.scheduleState());
        s.iteration = from.iteration();
        s.bestLoss = from.bestLoss();
        s.bestIteration = from.bestIteration();
      } else {
        s.z = p.initialLatent(r, zShape).toFloats();
        s.zInit = s.z.clone();
      }
      s.latentMask = Pipeline.latentMask(r.mask(), r, zShape);
    }

    /** Runs steps of {@code active} until one of them leaves; returns the samples still running. */
    private List<Sample> steps(List<Sample> active) {
      BatchGraph g = build(active);
      int channels = (int) zShape[1];
      int cells = zSize / channels;
      try (SharedExecutables.Lease lease = SharedExecutables.GLOBAL.acquire(p.backend, g.graph, p.options)) {
        Executable exec = lease.executable();
        while (true) {
          Map<String, Tensor> in = new HashMap<>();
          Set<String> outs = new LinkedHashSet<>();
          boolean[] wantImage = new boolean[active.size()];
          for (int k = 0; k < active.size(); k++) {
            Sample s = active.get(k);
            s.lr = s.schedule.rate(s.iteration, s.r.optimizer().learningRate());
            if (!(s.lr >= 0) || !Double.isFinite(s.lr)) {
              throw new IllegalArgumentException("learning-rate schedule " + s.r.schedule() + " gave " + s.lr + " at iteration " + s.iteration
                  + "; a rate must be a finite number >= 0");
            }
            feed(in, g, k, s);
            outs.addAll(g.terms.get(k).keySet());
            outs.add(pre(k) + "loss");
            outs.add(GradientRequest.gradName(pre(k) + "z"));
            wantImage[k] = s.r.saveEvery() > 0 && s.iteration % s.r.saveEvery() == 0;
            if (wantImage[k]) {
              outs.add(pre(k) + "image");
            }
          }
          Map<String, Tensor> out = p.runStep(exec, in, outs);
          List<Sample> left = new ArrayList<>();
          // Losses, divergence and listeners of every member first, then the interrupt (as a lone run checks it after its listeners).
          for (int k = 0; k < active.size(); k++) {
            Sample s = active.get(k);
            s.loss = out.get(pre(k) + "loss").toDoubles()[0];
            List<Prompt> activePrompts = s.r.prompts().at(s.iteration);
            Map<String, Double> terms = new LinkedHashMap<>();
            for (Map.Entry<String, String> t : g.terms.get(k).entrySet()) {
              String label = label(s.r, t.getValue(), activePrompts);
              if (label != null) {
                terms.put(label, out.get(t.getKey()).toDoubles()[0]);
              }
            }
            s.grad = out.get(GradientRequest.gradName(pre(k) + "z")).toFloats();
            if (!Double.isFinite(s.loss) || !Pipeline.allFinite(s.grad)) {
              fail(s, new DivergedException(s.iteration, "loss " + s.loss + ", terms " + terms));
              left.add(s);
              continue;
            }
            s.go = true;
            StepEvent ev = new StepEvent(s.iteration, s.r.iterations(), s.loss, terms, Duration.ofNanos(System.nanoTime() - s.started),
                wantImage[k] ? out.get(pre(k) + "image") : null);
            try {
              for (StepListener l : s.m.listeners()) {
                s.go &= l.onStep(ev);
              }
            } catch (RuntimeException e) {
              fail(s, e); // a lone run would throw from its listener; only this member ends
              left.add(s);
            }
          }
          if (Thread.interrupted()) {
            interrupted = true;
          }
          for (Sample s : active) {
            if (s.outcome != null) {
              continue;
            }
            String stop = null;
            if (!s.go) {
              stop = "stopped by listener";
            } else if (interrupted) {
              stop = "interrupted";
            } else if (s.m.cancelled().getAsBoolean()) {
              stop = "cancelled";
            }
            if (s.latentMask != null) {
              for (int k = 0; k < zSize; k++) {
                s.grad[k] *= s.latentMask[k % cells];
              }
            }
            s.opt.step(s.z, s.grad, s.lr);
            s.schedule.observe(s.iteration, s.loss);
            for (int c = 0; c < channels; c++) {
              for (int k = c * cells; k < (c + 1) * cells; k++) {
                s.z[k] = Math.min(Math.max(s.z[k], lo[c]), hi[c]);
              }
            }
            GenerationRequest r = s.r;
            if (s.loss < s.bestLoss - (r.plateau() == null ? 0 : r.plateau().minDelta())) {
              s.bestLoss = s.loss;
              s.bestIteration = s.iteration;
            }
            boolean plateau = r.plateau() != null && s.iteration - s.bestIteration >= r.plateau().patience();
            boolean lastStep = stop != null || plateau || s.iteration + 1 == r.iterations();
            Pipeline.CheckpointSettings cs = s.m.checkpoints();
            s.iteration++;
            try {
              if (cs.every() > 0 && (s.iteration % cs.every() == 0 || lastStep)) {
                s.last = new Checkpoint(s.iteration, zShape, s.z, s.zInit, s.opt.save(), s.opt.steps(), s.bestLoss, s.bestIteration,
                    Pipeline.describe(r), s.schedule.save());
                s.last.save(cs.path());
              }
              if (stop != null || plateau || s.iteration == r.iterations()) {
                s.stopReason = stop != null ? stop : plateau ? "loss plateau" : "completed";
                finish(s);
                left.add(s);
              }
            } catch (RuntimeException | OutOfMemoryError e) {
              fail(s, e);
              left.add(s);
            }
          }
          if (!left.isEmpty()) {
            List<Sample> rest = new ArrayList<>(active);
            rest.removeAll(left);
            if (!rest.isEmpty()) {
              LOG.debug("{} of {} runs left the batch; {} go on", left.size(), active.size(), rest.size());
            }
            return rest;
          }
        }
      }
    }

    private void finish(Sample s) {
      GenerationRequest r = s.r;
      Tensor latent = Tensor.ofFloats(zShape, s.z);
      Tensor image = p.generator.decode(latent, r.width(), r.height());
      Checkpoint last = s.last;
      if (last == null || last.iteration() != s.iteration) {
        last = new Checkpoint(s.iteration, zShape, s.z, s.zInit, s.opt.save(), s.opt.steps(), s.bestLoss, s.bestIteration,
            Pipeline.describe(r), s.schedule.save());
      }
      Map<String, Map<String, String>> models = new LinkedHashMap<>();
      models.put("generator", p.generator.provenance());
      for (int e = 0; e < p.encoders.size(); e++) {
        models.put("encoder" + e, p.encoders.get(e).provenance());
      }
      List<String> promptSets = new ArrayList<>();
      r.prompts().sets().forEach(x -> promptSets.add(x.toString()));
      RunManifest manifest = new RunManifest(Pipeline.VERSION, p.backend.runtimeVersion(), System.getProperty("java.version"),
          System.getProperty("os.name") + " " + System.getProperty("os.version"), System.getProperty("os.arch"), r.seed(), r.width(),
          r.height(), s.iteration, s.stopReason, promptSets, Pipeline.describe(r), models, (System.nanoTime() - s.started) / 1_000_000);
      LOG.info("batched run finished after {} iterations ({}), {} cutouts, {} ms", s.iteration, s.stopReason, cuts.count(),
          manifest.elapsedMillis());
      s.outcome = new Outcome(new RunResult(image, latent, last, manifest), null);
      deliver(s);
    }

    private void fail(Sample s, Throwable t) {
      s.outcome = new Outcome(null, t);
      deliver(s);
    }

    private static void deliver(Sample s) {
      try {
        s.m.done().accept(s.outcome.result(), s.outcome.failure());
      } catch (RuntimeException e) {
        LOG.warn("completion callback of a batched run threw {}", e.toString());
      }
    }

    // ---------------------------------------------------------------------------------- the graph

    private static String pre(int k) {
      return "s" + k + "/";
    }

    /** The step inputs of sample {@code k}, drawn exactly as a lone run draws them at its iteration. */
    private void feed(Map<String, Tensor> in, BatchGraph g, int k, Sample s) {
      GenerationRequest r = s.r;
      String pre = pre(k);
      in.put(pre + "z", Tensor.ofFloats(zShape, s.z));
      SplittableRandom rng = new SplittableRandom(r.seed() + 0x9E3779B97F4A7C15L * (s.iteration + 1L));
      cuts.sample(rng, r.width(), r.height()).forEach((name, v) -> in.put(pre + "cut/" + name, v));
      List<Prompt> active = r.prompts().at(s.iteration);
      for (int j = 0; j < g.textSlots.get(k); j++) {
        Prompt pr = j < active.size() ? active.get(j) : null;
        for (int e = 0; e < p.encoders.size(); e++) {
          Tensor t = pr != null ? p.textEmbedding(e, pr.text())
              : Tensor.filled(DType.FLOAT, new long[] {1, p.encoders.get(e).embeddingDim()}, 1);
          in.put(pre + "prompt/text" + j + "/target" + e, t);
        }
        weight(in, pre + "text" + j, pr == null ? 0 : pr.weight(), pr == null ? Double.NEGATIVE_INFINITY : pr.stop());
      }
      for (int j = 0; j < r.imagePrompts().size(); j++) {
        for (int e = 0; e < p.encoders.size(); e++) {
          in.put(pre + "prompt/image" + j + "/target" + e, s.imageTargets.get(j).get(e));
        }
        weight(in, pre + "image" + j, r.imagePrompts().get(j).weight(), r.imagePrompts().get(j).stop());
      }
      for (int j = 0; j < r.noisePrompts().size(); j++) {
        for (int e = 0; e < p.encoders.size(); e++) {
          in.put(pre + "prompt/noise" + j + "/target" + e, s.noiseTargets.get(j).get(e));
        }
        weight(in, pre + "noise" + j, r.noisePrompts().get(j).weight(), Double.NEGATIVE_INFINITY);
      }
      if (g.regularized.get(k)) {
        Regularization reg = r.regularization();
        in.put(pre + "reg/weight", Tensor.scalar(DType.FLOAT, reg.decay().weightAt(reg.weight(), s.iteration)));
        in.put(pre + "reg/target", Tensor.ofFloats(zShape, reg.target() == Regularization.Target.INIT ? s.zInit : new float[s.z.length]));
      }
    }

    private static void weight(Map<String, Tensor> in, String slot, double weight, double stop) {
      int cut = slot.indexOf('/');
      String name = slot.substring(0, cut + 1) + "prompt/" + slot.substring(cut + 1);
      in.put(name + "/weight", Tensor.scalar(DType.FLOAT, weight));
      in.put(name + "/stop", Tensor.scalar(DType.FLOAT, stop));
    }

    private static String label(GenerationRequest r, String term, List<Prompt> active) {
      if (term.startsWith("text")) {
        int j = Integer.parseInt(term.substring(4));
        return j < active.size() ? active.get(j).text() : null;
      }
      if (term.startsWith("image")) {
        return "image:" + r.imagePrompts().get(Integer.parseInt(term.substring(5))).name();
      }
      if (term.startsWith("noise")) {
        return "noise:" + r.noisePrompts().get(Integer.parseInt(term.substring(5))).seed();
      }
      return term;
    }

    /**
     * The batched step graph: z_b → concat → synthesis at batch B → split → each run's own cutouts
     * → concat → encoders at batch B*n → split → each run's loss terms, in the order and form
     * {@link Pipeline} builds them → the sum of the runs' losses, differentiated with respect to
     * every z_b.
     */
    private BatchGraph build(List<Sample> samples) {
      int n = samples.size();
      GenerationRequest first = samples.get(0).r;
      int w = first.width();
      int h = first.height();
      BatchGraph g = new BatchGraph();
      GraphBuilder b = new GraphBuilder("vqclip-step-batch" + n);
      List<Value> zs = new ArrayList<>();
      for (int k = 0; k < n; k++) {
        zs.add(b.input(pre(k) + "z", DType.FLOAT, Shape.of(zShape)));
      }
      Value zAll = n == 1 ? zs.get(0) : b.op("Concat").in(zs.toArray(new Value[0])).attr("axis", 0L).out();
      Value imageAll = b.include(p.generator.synthesisFragment(n, w, h), "generator", Map.of(Generator.LATENT, zAll)).get(Generator.IMAGE);
      List<Value> images = split(b, imageAll, n, 1);
      Graph cf = cuts.fragment(w, h);
      int count = cuts.count();
      List<Value> cutList = new ArrayList<>();
      for (int k = 0; k < n; k++) {
        Map<String, Value> bind = new HashMap<>();
        for (Value v : cf.inputs()) {
          bind.put(v.name(), v.name().equals(CutoutSource.IMAGE) ? images.get(k) : b.input(pre(k) + "cut/" + v.name(), v.dtype(), v.shape()));
        }
        cutList.add(b.include(cf, "cutouts" + k, bind).get(CutoutSource.CUTOUTS));
      }
      Value cutAll = n == 1 ? cutList.get(0) : b.op("Concat").in(cutList.toArray(new Value[0])).attr("axis", 0L).out();
      // embeddings.get(e).get(k): encoder e's embeddings [count, D] of run k's cutouts
      List<List<Value>> embeddings = new ArrayList<>();
      for (int e = 0; e < p.encoders.size(); e++) {
        Graph ef = p.encoders.get(e).imageFragment(n * count);
        Value all = b.include(ef, "encoder" + e, Map.of(Encoder.IMAGES, cutAll)).get(Encoder.EMBEDDINGS);
        embeddings.add(split(b, all, n, count));
      }
      Value total = null;
      List<String> wrt = new ArrayList<>();
      for (int k = 0; k < n; k++) {
        GenerationRequest r = samples.get(k).r;
        String pre = pre(k);
        Map<String, String> terms = new LinkedHashMap<>();
        List<Value> emb = new ArrayList<>();
        for (List<Value> perEncoder : embeddings) {
          emb.add(perEncoder.get(k));
        }
        List<Value> termValues = new ArrayList<>();
        int slots = r.prompts().maxPrompts();
        g.textSlots.add(slots);
        for (int j = 0; j < slots; j++) {
          termValues.add(promptTerm(b, terms, pre, "text" + j, emb, 1));
        }
        for (int j = 0; j < r.imagePrompts().size(); j++) {
          termValues.add(promptTerm(b, terms, pre, "image" + j, emb, count));
        }
        for (int j = 0; j < r.noisePrompts().size(); j++) {
          termValues.add(promptTerm(b, terms, pre, "noise" + j, emb, 1));
        }
        boolean regularized = r.regularization().weight() > 0;
        g.regularized.add(regularized);
        if (regularized) {
          Value t = b.input(pre + "reg/target", DType.FLOAT, Shape.of(zShape));
          Value wv = b.input(pre + "reg/weight", DType.FLOAT, Shape.scalar());
          termValues.add(term(b, terms, pre, "regularization", LatentRegularization.loss(b, zs.get(k), t, wv)));
        }
        if (r.tvWeight() > 0) {
          termValues.add(term(b, terms, pre, "tv", TotalVariation.loss(b, images.get(k), b.scalar(r.tvWeight(), DType.FLOAT))));
        }
        Value loss = termValues.get(0);
        for (int i = 1; i < termValues.size(); i++) {
          loss = b.add(loss, termValues.get(i));
        }
        b.output(pre + "loss", loss);
        b.output(pre + "image", images.get(k));
        g.terms.add(terms);
        total = total == null ? loss : b.add(total, loss);
        wrt.add(pre + "z");
      }
      b.output("loss", total);
      GradientRequest gr = new GradientRequest(Map.of("loss", false), wrt, true);
      if (p.memorySaving.recomputes(w, h)) {
        gr = gr.withRecompute(p.generator.recomputeScopes(w, h).stream().map(x -> "generator/" + x).toList());
      }
      g.graph = Autodiff.differentiate(b.build(), gr, p.vjpRegistry);
      return g;
    }

    /** {@code x} split along axis 0 into {@code n} parts of {@code size} (itself when n is 1). */
    private static List<Value> split(GraphBuilder b, Value x, int n, int size) {
      if (n == 1) {
        return List.of(x);
      }
      long[] sizes = new long[n];
      Arrays.fill(sizes, size);
      return b.op("Split").in(x, b.ints(sizes)).attr("axis", 0L).outs(n);
    }

    private Value promptTerm(GraphBuilder b, Map<String, String> terms, String pre, String slot, List<Value> emb, int targets) {
      Value weight = b.input(pre + "prompt/" + slot + "/weight", DType.FLOAT, Shape.scalar());
      Value stop = b.input(pre + "prompt/" + slot + "/stop", DType.FLOAT, Shape.scalar());
      Value sum = null;
      for (int e = 0; e < p.encoders.size(); e++) {
        Value target = b.input(pre + "prompt/" + slot + "/target" + e, DType.FLOAT, Shape.of(targets, p.encoders.get(e).embeddingDim()));
        Value l = SphericalDistance.loss(b, emb.get(e), target, weight, stop);
        sum = sum == null ? l : b.add(sum, l);
      }
      return term(b, terms, pre, slot, sum);
    }

    private static Value term(GraphBuilder b, Map<String, String> terms, String pre, String name, Value v) {
      String out = pre + "term/" + name;
      b.output(out, v);
      terms.put(out, name);
      return v;
    }
  }
}
