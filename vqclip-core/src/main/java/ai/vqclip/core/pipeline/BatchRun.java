package ai.vqclip.core.pipeline;

import ai.vqclip.core.CutoutSource;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.autodiff.GradientRequest;
import ai.vqclip.core.backend.Executable;
import ai.vqclip.core.backend.SharedExecutables;
import ai.vqclip.core.graph.Graph;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The loop of one {@link StepBatch#run} of several members (split out of StepBatch, whose public
 * API stays there): each iteration is one call of the batched step graph ({@link
 * BatchGraph#build}); each member keeps its own {@link RunState}, the same per-run state and
 * host-side update a lone run ({@link RunLoop}) uses. A member that ends leaves the batch with its
 * result; the others go on in a step graph for the smaller batch. One object per batch, used by the
 * calling thread.
 */
final class BatchRun {
  private static final Logger LOG = LoggerFactory.getLogger(StepBatch.class);

  /** One member while the batch runs. */
  private static final class Sample {
    final StepBatch.Member m;
    final long started = System.nanoTime();
    StepGraphs.StepGraph step;
    RunState run;
    StepBatch.Outcome outcome;
    // This step's values, between the call and the optimizer step.
    double lr;
    double loss;
    float[] grad;
    boolean go;

    Sample(StepBatch.Member m) {
      this.m = m;
    }
  }

  private final Pipeline p;
  private final List<Sample> all = new ArrayList<>();
  private final long[] zShape;
  private final CutoutSource cuts;
  private boolean interrupted;

  BatchRun(Pipeline p, List<StepBatch.Member> members) {
    this.p = p;
    GenerationRequest first = members.get(0).request();
    zShape = p.generator.latentShape(first.width(), first.height());
    // One cutout stage for all: the members share count, size, cut_pow and augmentations, and a
    // cutout source draws its parameters only from the random stream it is given.
    cuts = p.cutouts.create(first.cutouts(), p.encoders.get(0).inputResolution(), first.cutPow(), first.augmentations());
    for (StepBatch.Member m : members) {
      all.add(new Sample(m));
    }
  }

  /** Runs every member to its end; returns the outcomes in the members' order. */
  List<StepBatch.Outcome> go() {
    List<Sample> active = new ArrayList<>();
    for (Sample s : all) {
      try {
        s.step = p.graphs.prepare(s.m.request(), cuts);
        s.run = new RunState(p, s.m.request(), s.m.resumeFrom(), zShape, null, s.started);
        if (s.run.hasNext()) {
          active.add(s);
        } else {
          finish(s);
        }
      } catch (RuntimeException | OutOfMemoryError e) {
        fail(s, e);
      }
    }
    RunLoop.embedTextsAndReleaseHelpers(p, active.stream().map(s -> s.m.request()).toList());
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
    List<StepBatch.Outcome> out = new ArrayList<>();
    for (Sample s : all) {
      out.add(s.outcome);
    }
    return out;
  }

  /** Runs steps of {@code active} until one of them leaves; returns the samples still running. */
  private List<Sample> steps(List<Sample> active) {
    Graph graph = BatchGraph.build(p, active.stream().map(s -> s.step).toList(), zShape);
    try (SharedExecutables.Lease lease = SharedExecutables.GLOBAL.acquire(p.backend, graph, p.stepOptions())) {
      Executable exec = lease.executable();
      while (true) {
        Map<String, Tensor> in = new HashMap<>();
        Set<String> outs = new LinkedHashSet<>();
        boolean[] wantImage = new boolean[active.size()];
        for (int k = 0; k < active.size(); k++) {
          Sample s = active.get(k);
          String pre = BatchGraph.prefix(k);
          s.lr = s.run.rate();
          s.step.stepInputs(in, pre, s.run.iteration, s.run.z, s.run.zInit, zShape);
          outs.addAll(s.step.terms.keySet());
          outs.add(pre + "loss");
          outs.add(GradientRequest.gradName(pre + "z"));
          wantImage[k] = s.run.wantsImage();
          if (wantImage[k]) {
            outs.add(pre + "image");
          }
        }
        Map<String, Tensor> out = p.runStep(exec, in, outs);
        List<Sample> left = new ArrayList<>();
        // Losses, divergence and listeners of every member first, then the interrupt (as a lone run checks it after its listeners).
        for (int k = 0; k < active.size(); k++) {
          Sample s = active.get(k);
          String pre = BatchGraph.prefix(k);
          s.loss = out.get(pre + "loss").toDoubles()[0];
          s.grad = out.get(GradientRequest.gradName(pre + "z")).toFloats();
          Map<String, Double> terms = s.step.termValues(out, s.m.request().prompts().at(s.run.iteration));
          try {
            s.go = s.run.report(s.loss, terms, s.grad, wantImage[k] ? out.get(pre + "image") : null, Duration.ZERO, s.m.listeners());
          } catch (RuntimeException e) {
            fail(s, e); // a lone run would throw (a diverged loss, a listener's exception); only this member ends
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
          try {
            if (s.run.advance(s.grad, s.lr, s.loss, stop, s.m.checkpoints())) {
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
    s.outcome = new StepBatch.Outcome(s.run.finish("batched run", cuts.count()), null);
    deliver(s);
  }

  private void fail(Sample s, Throwable t) {
    s.outcome = new StepBatch.Outcome(null, t);
    deliver(s);
  }

  private static void deliver(Sample s) {
    try {
      s.m.done().accept(s.outcome.result(), s.outcome.failure());
    } catch (RuntimeException e) {
      LOG.warn("completion callback of a batched run threw {}", e.toString());
    }
  }
}
