package ai.vqclip.core.pipeline;

import ai.vqclip.core.CutoutSource;
import ai.vqclip.core.Encoder;
import ai.vqclip.core.StepEvent;
import ai.vqclip.core.StepListener;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.autodiff.GradientRequest;
import ai.vqclip.core.backend.Executable;
import ai.vqclip.core.backend.SharedExecutables;
import ai.vqclip.core.prompt.Prompt;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * The optimization loop of one {@link Pipeline#run} (one of the pipeline's jobs, split out): builds
 * the step graph ({@link StepGraphs}), then per iteration feeds the step, runs it, reports a {@link
 * StepEvent} and lets the run's {@link RunState} update the latent and write checkpoints; finally
 * decodes the image and writes the manifest. Stateless; one call per run.
 */
final class RunLoop {
  private final Pipeline pipe;

  RunLoop(Pipeline pipe) {
    this.pipe = pipe;
  }

  RunResult run(GenerationRequest request, Checkpoint resumeFrom, Pipeline.CheckpointSettings checkpoints, List<StepListener> listeners,
      BooleanSupplier cancelled) {
    long started = System.nanoTime();
    long[] zShape = pipe.generator.latentShape(request.width(), request.height());
    CutoutSource cuts = pipe.cutouts.create(request.cutouts(), pipe.encoders.get(0).inputResolution(), request.cutPow(), request.augmentations());
    StepGraphs.StepGraph step = pipe.graphs.build(request, cuts, zShape);
    RunState run = new RunState(pipe, request, resumeFrom, zShape, step.edit == null ? null : step.edit.region, started);
    embedTextsAndReleaseHelpers(pipe, List.of(request));
    boolean interrupted = false;
    try (SharedExecutables.Lease lease = SharedExecutables.GLOBAL.acquire(pipe.backend, step.graph, pipe.stepOptions())) {
      Executable exec = lease.executable();
      Duration setup = Duration.ofNanos(System.nanoTime() - run.started);
      while (run.hasNext()) {
        double lr = run.rate();
        Map<String, Tensor> in = new HashMap<>();
        step.stepInputs(in, "", run.iteration, run.z, run.zInit, zShape);
        List<Prompt> active = request.prompts().at(run.iteration);
        boolean wantImage = run.wantsImage();
        Set<String> outs = new LinkedHashSet<>(step.terms.keySet());
        outs.add("loss");
        outs.add(GradientRequest.gradName("z"));
        if (wantImage) {
          outs.add("image");
        }
        Map<String, Tensor> out = pipe.runStep(exec, in, outs);
        float[] grad = out.get(GradientRequest.gradName("z")).toFloats();
        double loss = out.get("loss").toDoubles()[0];
        boolean go = run.report(loss, step.termValues(out, active), grad, wantImage ? out.get("image") : null, setup, listeners);
        String stop = null;
        if (!go) {
          stop = "stopped by listener";
        } else if (Thread.interrupted()) { // clears the flag so that the checkpoint's file I/O below is not refused
          interrupted = true;
          stop = "interrupted";
        } else if (cancelled.getAsBoolean()) {
          stop = "cancelled";
        }
        if (run.advance(grad, lr, loss, stop, checkpoints)) {
          break;
        }
      }
    }
    RunResult result = run.finish("run", cuts.count());
    if (interrupted) {
      Thread.currentThread().interrupt(); // tell the caller, as the interrupt was consumed at the step boundary
    }
    return result;
  }

  /**
   * Embeds every text of the runs' prompt schedules now, then frees the models' helper sessions
   * (text, image, encode): each holds its own runtime copy of its weights, and the step's session
   * is the only one needed while the steps run.
   */
  static void embedTextsAndReleaseHelpers(Pipeline pipe, List<GenerationRequest> requests) {
    for (GenerationRequest r : requests) {
      for (List<Prompt> set : r.prompts().sets()) {
        for (Prompt p : set) {
          for (int e = 0; e < pipe.encoders.size(); e++) {
            pipe.textEmbedding(e, p.text());
          }
        }
      }
    }
    pipe.generator.releaseCaches();
    pipe.encoders.forEach(Encoder::releaseCaches);
  }
}
