package ai.vqclip.core.pipeline;

import ai.vqclip.core.LearningRateSchedule;
import ai.vqclip.core.Optimizer;
import ai.vqclip.core.StepEvent;
import ai.vqclip.core.StepListener;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.Shape;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What one run changes while it steps, and the host side of each step: the latent and its initial
 * value, the optimizer and learning-rate schedule state, the best loss (plateau stop), the last
 * checkpoint; the update after each step call (latent mask, optimizer, clamp to the codebook range,
 * plateau, checkpoint) and the run's end (final image, manifest). A lone run ({@link RunLoop}) and
 * every member of a batch ({@link BatchRun}) use it, so both do exactly the same per run. One
 * object per run, used by one thread.
 */
final class RunState {
  private static final Logger LOG = LoggerFactory.getLogger(Pipeline.class);

  final Pipeline pipe;
  final GenerationRequest request;
  final long[] zShape;
  /** When the run started ({@link System#nanoTime()}): step events' elapsed time and the manifest count from here. */
  final long started;
  private final int zSize;
  private final Optimizer.State opt;
  private final LearningRateSchedule.Run schedule;
  private final float[] latentMask;
  private final float[] lo;
  private final float[] hi;
  float[] z;
  float[] zInit;
  /** The next iteration to run (= iterations run so far). */
  int iteration;
  private double bestLoss = Double.POSITIVE_INFINITY;
  private int bestIteration;
  private Checkpoint last;
  String stopReason = "completed";

  /**
   * A run's state from its start or from a checkpoint of the same request.
   *
   * @param editRegion the edit region a from/to edit computed when the request has no mask, or null
   * @param started when the run started (its graph build included), from {@link System#nanoTime()}
   * @throws IllegalArgumentException when the checkpoint's latent does not fit the request
   */
  RunState(Pipeline pipe, GenerationRequest request, Checkpoint resumeFrom, long[] zShape, Tensor editRegion, long started) {
    this.pipe = pipe;
    this.started = started;
    this.request = request;
    this.zShape = zShape;
    this.zSize = Math.toIntExact(Shape.of(zShape).elementCount());
    this.opt = request.optimizer().start(zSize);
    this.schedule = request.schedule().start();
    if (resumeFrom != null) {
      if (!Arrays.equals(resumeFrom.latentShape(), zShape)) {
        throw new IllegalArgumentException("checkpoint latent " + Arrays.toString(resumeFrom.latentShape())
            + " does not fit this request's latent " + Arrays.toString(zShape));
      }
      z = resumeFrom.latent();
      zInit = resumeFrom.latentInit();
      opt.restore(resumeFrom.optimizerState(), resumeFrom.optimizerSteps());
      schedule.restore(resumeFrom.scheduleState());
      iteration = resumeFrom.iteration();
      bestLoss = resumeFrom.bestLoss();
      bestIteration = resumeFrom.bestIteration();
    } else {
      z = pipe.init.initialLatent(request, zShape).toFloats();
      zInit = z.clone();
    }
    latentMask = LatentInit.latentMask(editRegion != null && request.mask() == null ? editRegion : request.mask(), request, zShape);
    Tensor[] bounds = pipe.generator.latentBounds();
    lo = bounds[0].toFloats();
    hi = bounds[1].toFloats();
  }

  /** Whether the run has iterations left. */
  boolean hasNext() {
    return iteration < request.iterations();
  }

  /**
   * This iteration's learning rate from the request's schedule.
   *
   * @throws IllegalArgumentException when the schedule gives a rate that is not a finite number >= 0
   */
  double rate() {
    double lr = schedule.rate(iteration, request.optimizer().learningRate());
    if (!(lr >= 0) || !Double.isFinite(lr)) {
      throw new IllegalArgumentException("learning-rate schedule " + request.schedule() + " gave " + lr + " at iteration " + iteration
          + "; a rate must be a finite number >= 0");
    }
    return lr;
  }

  /** Whether this iteration's step event carries the image. */
  boolean wantsImage() {
    return request.saveEvery() > 0 && iteration % request.saveEvery() == 0;
  }

  /**
   * Reports this iteration's step to the listeners.
   *
   * @return false when a listener asked to stop
   * @throws DivergedException when the loss or the gradient is not finite
   */
  boolean report(double loss, Map<String, Double> terms, float[] grad, Tensor image, Duration setup, List<StepListener> listeners) {
    if (!Double.isFinite(loss) || !allFinite(grad)) {
      throw new DivergedException(iteration, "loss " + loss + ", terms " + terms);
    }
    StepEvent ev = new StepEvent(iteration, request.iterations(), loss, terms, Duration.ofNanos(System.nanoTime() - started), image, setup);
    boolean go = true;
    for (StepListener l : listeners) {
      go &= l.onStep(ev);
    }
    return go;
  }

  /**
   * The host side of one step after the step call: masks the gradient, applies the optimizer at
   * {@code lr}, clamps z, tracks the best loss, writes a checkpoint when due, and moves to the next
   * iteration.
   *
   * @param stop why the run stops after this step (a listener, an interrupt, a cancel), or null
   * @return true when the run ends after this step ({@link #stopReason} says why)
   */
  boolean advance(float[] grad, double lr, double loss, String stop, Pipeline.CheckpointSettings checkpoints) {
    int channels = (int) zShape[1];
    int cells = zSize / channels;
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
    GenerationRequest.PlateauStop plateauStop = request.plateau();
    if (loss < bestLoss - (plateauStop == null ? 0 : plateauStop.minDelta())) {
      bestLoss = loss;
      bestIteration = iteration;
    }
    boolean plateau = plateauStop != null && iteration - bestIteration >= plateauStop.patience();
    iteration++;
    boolean end = stop != null || plateau || iteration == request.iterations();
    if (checkpoints.every() > 0 && (iteration % checkpoints.every() == 0 || end)) {
      last = checkpoint();
      last.save(checkpoints.path());
    }
    if (end) {
      stopReason = stop != null ? stop : plateau ? "loss plateau" : "completed";
    }
    return end;
  }

  private Checkpoint checkpoint() {
    return new Checkpoint(iteration, zShape, z, zInit, opt.save(), opt.steps(), bestLoss, bestIteration, describe(request),
        schedule.save());
  }

  /**
   * The run's result: the final image decoded at the request's size, the last checkpoint (written
   * now, not saved, when the last one written is older), the manifest.
   *
   * @param what "run" or "batched run", for the log
   * @param cutouts the cutouts per step, for the log
   */
  RunResult finish(String what, int cutouts) {
    GenerationRequest r = request;
    Tensor latent = Tensor.ofFloats(zShape, z);
    Tensor image = pipe.generator.decode(latent, r.width(), r.height());
    if (last == null || last.iteration() != iteration) {
      last = checkpoint();
    }
    Map<String, Map<String, String>> models = new LinkedHashMap<>();
    models.put("generator", pipe.generator.provenance());
    for (int e = 0; e < pipe.encoders.size(); e++) {
      models.put("encoder" + e, pipe.encoders.get(e).provenance());
    }
    List<String> promptSets = new ArrayList<>();
    r.prompts().sets().forEach(s -> promptSets.add(s.toString()));
    RunManifest manifest = new RunManifest(Pipeline.VERSION, pipe.backend.runtimeVersion(), System.getProperty("java.version"),
        System.getProperty("os.name") + " " + System.getProperty("os.version"), System.getProperty("os.arch"), r.seed(), r.width(),
        r.height(), iteration, stopReason, promptSets, describe(r), models, (System.nanoTime() - started) / 1_000_000);
    LOG.info("{} finished after {} iterations ({}), {} cutouts, {} ms", what, iteration, stopReason, cutouts, manifest.elapsedMillis());
    return new RunResult(image, latent, last, manifest);
  }

  static boolean allFinite(float[] v) {
    for (float x : v) {
      if (!Float.isFinite(x)) {
        return false;
      }
    }
    return true;
  }

  /** The request's description in checkpoints and manifests (this exact text: files written before read the same). */
  static String describe(GenerationRequest r) {
    return "size=" + r.width() + "x" + r.height() + ", prompts=" + r.prompts().sets() + ", every=" + r.prompts().every()
        + ", imagePrompts=" + r.imagePrompts().stream().map(ImagePrompt::name).toList() + ", noisePrompts=" + r.noisePrompts()
        + ", seed=" + r.seed() + ", iterations=" + r.iterations() + ", optimizer=" + r.optimizer() + ", schedule=" + r.schedule()
        + ", plateau=" + r.plateau() + ", cutouts=" + r.cutouts() + ", cutPow=" + r.cutPow() + ", augmentations=" + r.augmentations()
        + ", regularization=" + r.regularization() + ", tv=" + r.tvWeight() + ", frame=" + r.frameWeight() + ", init=" + r.init().getClass().getSimpleName()
        + ", mask=" + (r.mask() != null) + ", saveEvery=" + r.saveEvery() + ", edit=" + r.edit()
        + ", imagePromptsLockstep=" + r.imagePromptsLockstep();
  }
}
