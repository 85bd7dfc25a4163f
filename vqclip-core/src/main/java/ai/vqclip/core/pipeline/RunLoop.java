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
 * The optimization loop of one {@link Pipeline#run} (one of the pipeline's jobs, split out): builds
 * the step graph ({@link StepGraphs}), prepares the latent and prompt targets ({@link LatentInit}),
 * then per iteration feeds the step ({@link StepFeeds}), runs it, reports a {@link StepEvent},
 * applies the optimizer, the mask and the clamp, and writes checkpoints; finally decodes the image
 * and writes the manifest. One object per run.
 */
final class RunLoop {
  private static final Logger LOG = LoggerFactory.getLogger(Pipeline.class);

  private final Pipeline pipe;

  RunLoop(Pipeline pipe) {
    this.pipe = pipe;
  }

  RunResult run(GenerationRequest request, Checkpoint resumeFrom, Pipeline.CheckpointSettings checkpoints, List<StepListener> listeners,
      java.util.function.BooleanSupplier cancelled) {
    long started = System.nanoTime();
    int w = request.width();
    int h = request.height();
    long[] zShape = pipe.generator.latentShape(w, h);
    int zSize = Math.toIntExact(Shape.of(zShape).elementCount());
    int size = pipe.encoders.get(0).inputResolution();
    CutoutSource cuts = pipe.cutouts.create(request.cutouts(), size, request.cutPow(), request.augmentations());
    int n = cuts.count();
    StepGraphs.EditState edit = pipe.graphs.prepareEdit(request);
    StepGraphs.StepGraph step = pipe.graphs.buildStepGraph(request, cuts, zShape, edit);
    List<List<Tensor>> imageTargets = pipe.embedImagePrompts(request, cuts);
    List<List<Tensor>> noiseTargets = pipe.noiseTargets(request);

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
      z = pipe.initialLatent(request, zShape).toFloats();
      zInit = z.clone();
    }
    float[] latentMask = Pipeline.latentMask(edit != null && request.mask() == null ? edit.region : request.mask(), request, zShape);
    Tensor[] bounds = pipe.generator.latentBounds();
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
        for (int e = 0; e < pipe.encoders.size(); e++) {
          pipe.textEmbedding(e, p.text());
        }
      }
    }
    pipe.generator.releaseCaches();
    pipe.encoders.forEach(Encoder::releaseCaches);
    boolean interrupted = false;
    try (SharedExecutables.Lease lease = SharedExecutables.GLOBAL.acquire(pipe.backend, step.graph, pipe.options)) {
      Executable exec = lease.executable();
      Duration setup = Duration.ofNanos(System.nanoTime() - started);
      for (; iteration < request.iterations(); iteration++) {
        double lr = schedule.rate(iteration, request.optimizer().learningRate());
        if (!(lr >= 0) || !Double.isFinite(lr)) {
          throw new IllegalArgumentException("learning-rate schedule " + request.schedule() + " gave " + lr + " at iteration " + iteration
              + "; a rate must be a finite number >= 0");
        }
        Map<String, Tensor> in = pipe.feeds.stepInputs(request, step, cuts, imageTargets, noiseTargets, iteration, z, zInit, zShape);
        List<Prompt> active = request.prompts().at(iteration);
        boolean wantImage = request.saveEvery() > 0 && iteration % request.saveEvery() == 0;
        Set<String> outs = new LinkedHashSet<>(step.terms.keySet());
        outs.add("loss");
        outs.add(GradientRequest.gradName("z"));
        if (wantImage) {
          outs.add("image");
        }
        Map<String, Tensor> out = pipe.runStep(exec, in, outs);
        double loss = out.get("loss").toDoubles()[0];
        Map<String, Double> terms = new LinkedHashMap<>();
        for (Map.Entry<String, String> t : step.terms.entrySet()) {
          String label = step.labels.apply(t.getKey(), active);
          if (label != null) {
            terms.put(label, out.get(t.getKey()).toDoubles()[0]);
          }
        }
        float[] grad = out.get(GradientRequest.gradName("z")).toFloats();
        if (!Double.isFinite(loss) || !Pipeline.allFinite(grad)) {
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
          last = new Checkpoint(iteration + 1, zShape, z, zInit, opt.save(), opt.steps(), bestLoss, bestIteration, Pipeline.describe(request),
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
    Tensor image = pipe.generator.decode(latent, w, h);
    if (last == null || last.iteration() != iteration) {
      last = new Checkpoint(iteration, zShape, z, zInit, opt.save(), opt.steps(), bestLoss, bestIteration, Pipeline.describe(request), schedule.save());
    }
    Map<String, Map<String, String>> models = new LinkedHashMap<>();
    models.put("generator", pipe.generator.provenance());
    for (int e = 0; e < pipe.encoders.size(); e++) {
      models.put("encoder" + e, pipe.encoders.get(e).provenance());
    }
    List<String> promptSets = new ArrayList<>();
    request.prompts().sets().forEach(s -> promptSets.add(s.toString()));
    RunManifest manifest = new RunManifest(Pipeline.VERSION, pipe.backend.runtimeVersion(), System.getProperty("java.version"),
        System.getProperty("os.name") + " " + System.getProperty("os.version"), System.getProperty("os.arch"), request.seed(), w, h,
        iteration, stopReason, promptSets, Pipeline.describe(request), models, (System.nanoTime() - started) / 1_000_000);
    LOG.info("run finished after {} iterations ({}), {} cutouts, {} ms", iteration, stopReason, n, manifest.elapsedMillis());
    if (interrupted) {
      Thread.currentThread().interrupt(); // tell the caller, as the interrupt was consumed at the step boundary
    }
    return new RunResult(image, latent, last, manifest);
  }
}
