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
 * The inputs of one iteration of a run's step graph ({@link StepGraphs}): the latent, the cutout
 * parameters drawn from the iteration's seeded stream, the prompt targets, weights and stops of the
 * active prompt set, and every {@link Loss} term's inputs. Stateless; safe for concurrent runs.
 */
final class StepFeeds {
  private final Pipeline pipe;

  StepFeeds(Pipeline pipe) {
    this.pipe = pipe;
  }

  /** Every input of the step graph for one iteration, drawn exactly as a run draws them. */
  Map<String, Tensor> stepInputs(GenerationRequest request, StepGraphs.StepGraph step, CutoutSource cuts, List<List<Tensor>> imageTargets,
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

  private void feedPromptSlots(
      Map<String, Tensor> in, StepGraphs.StepGraph s, List<Prompt> active, GenerationRequest r, List<List<Tensor>> images, List<List<Tensor>> noise) {
    for (int j = 0; j < s.textSlots; j++) {
      Prompt p = j < active.size() ? active.get(j) : null;
      for (int e = 0; e < pipe.encoders.size(); e++) {
        Tensor t = p != null ? pipe.textEmbedding(e, p.text()) : Tensor.filled(DType.FLOAT, new long[] {1, pipe.encoders.get(e).embeddingDim()}, 1);
        in.put("prompt/text" + j + "/target" + e, t);
      }
      feedWeight(in, "text" + j, p == null ? 0 : p.weight(), p == null ? Double.NEGATIVE_INFINITY : p.stop());
    }
    for (int j = 0; j < r.imagePrompts().size(); j++) {
      for (int e = 0; !r.imagePromptsLockstep() && e < pipe.encoders.size(); e++) {
        in.put("prompt/image" + j + "/target" + e, images.get(j).get(e));
      }
      feedWeight(in, "image" + j, r.imagePrompts().get(j).weight(), r.imagePrompts().get(j).stop());
    }
    for (int j = 0; j < r.noisePrompts().size(); j++) {
      for (int e = 0; e < pipe.encoders.size(); e++) {
        in.put("prompt/noise" + j + "/target" + e, noise.get(j).get(e));
      }
      feedWeight(in, "noise" + j, r.noisePrompts().get(j).weight(), Double.NEGATIVE_INFINITY);
    }
  }

  private static void feedWeight(Map<String, Tensor> in, String slot, double weight, double stop) {
    in.put("prompt/" + slot + "/weight", Tensor.scalar(DType.FLOAT, weight));
    in.put("prompt/" + slot + "/stop", Tensor.scalar(DType.FLOAT, stop));
  }
}
