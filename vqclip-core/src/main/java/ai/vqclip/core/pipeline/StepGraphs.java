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
 * Assembles a run's step graph for a {@link Pipeline} (one of its jobs, split out to keep each
 * class to one): synthesis, cutouts, every encoder, the prompt terms (with the pipeline's {@link
 * ai.vqclip.core.PromptLoss}), the edit terms, the {@link Loss} terms (built-in, replaced or the
 * user's, with their weights), then the gradient with respect to z. Stateless apart from the
 * pipeline it reads; safe for concurrent runs.
 */
final class StepGraphs {
  private final Pipeline pipe;

  StepGraphs(Pipeline pipe) {
    this.pipe = pipe;
  }

  /** The differentiated step graph and how to read it. */
  static final class StepGraph {
    Graph graph;
    Graph forward;
    int textSlots;
    /** The terms built from {@link Loss} objects (built-in and the user's), fed each step. */
    final List<Loss> lossObjects = new ArrayList<>();
    /** Output name of each loss term -> which term it is. */
    final Map<String, String> terms = new LinkedHashMap<>();
    java.util.function.BiFunction<String, List<Prompt>, String> labels;
  }

  StepGraph buildStepGraph(GenerationRequest r, CutoutSource cuts, long[] zShape, EditState edit) {
    StepGraph s = new StepGraph();
    GraphBuilder b = new GraphBuilder("vqclip-step");
    Value z = b.input("z", DType.FLOAT, Shape.of(zShape));
    Value image = b.include(pipe.generator.synthesisFragment(r.width(), r.height()), "generator", Map.of(Generator.LATENT, z)).get(Generator.IMAGE);
    Graph cf = cuts.fragment(r.width(), r.height());
    Map<String, Value> bind = new HashMap<>();
    for (Value v : cf.inputs()) {
      bind.put(v.name(), v.name().equals(CutoutSource.IMAGE) ? image : b.input("cut/" + v.name(), v.dtype(), v.shape()));
    }
    Value cutoutsV = b.include(cf, "cutouts", bind).get(CutoutSource.CUTOUTS);
    List<Value> embeddings = new ArrayList<>();
    for (int e = 0; e < pipe.encoders.size(); e++) {
      Graph ef = pipe.encoders.get(e).imageFragment(cuts.count());
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
    for (Loss l : pipe.losses) {
      addLossTerm(s, ctx, termValues, "loss:" + l.name(), l);
    }
    Value total = termValues.get(0);
    for (int i = 1; i < termValues.size(); i++) {
      total = b.add(total, termValues.get(i));
    }
    b.output("loss", total);
    b.output("image", image);
    s.forward = b.build();
    s.graph = Autodiff.differentiate(s.forward, pipe.gradientRequest(r), pipe.vjpRegistry);
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
  static final class EditState {
    Tensor source;
    Tensor region;
    float[] saliency;
    final List<Tensor> from = new ArrayList<>();
    final List<Tensor> to = new ArrayList<>();
  }

  EditState prepareEdit(GenerationRequest r) {
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
      st.saliency = SelfMask.compute(pipe.encoders.get(0), st.source, e.from(), e.maskSamples(), r.seed());
      st.region = SelfMask.editRegion(st.saliency, r.width(), r.height());
    }
    for (int k = 0; k < pipe.encoders.size(); k++) {
      st.from.add(pipe.textEmbedding(k, e.from()));
      st.to.add(pipe.textEmbedding(k, e.to()));
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
    for (int k = 0; k < pipe.encoders.size(); k++) {
      Value to = b.constant(st.to.get(k));
      Value from = b.constant(st.from.get(k));
      Value diff = b.sub(pipe.promptLoss.distances(b, embeddings.get(k), to), pipe.promptLoss.distances(b, embeddings.get(k), from));
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
      for (int k = 0; k < pipe.encoders.size(); k++) {
        Value src = b.include(pipe.encoders.get(k).imageFragment(cutFragmentCount(srcCuts)), "source-encoder" + k,
            Map.of(Encoder.IMAGES, srcCuts)).get(Encoder.EMBEDDINGS);
        Value d = pipe.promptLoss.rowwise(b, embeddings.get(k), src);
        Value t = b.mul(b.reduceMean(b.mul(d, keep), false), b.scalar(e.contentWeight(), DType.FLOAT));
        content = content == null ? t : b.add(content, t);
      }
      out.add(term(b, s, "content", content));
    }
    return out;
  }

  /** A built-in (unless replaced or removed) or user term from a {@link Loss} object. */
  private void addLossTerm(StepGraph s, Loss.Context ctx, List<Value> termValues, String label, Loss builtIn) {
    java.util.Optional<Loss> replaced = pipe.replacements.get(label);
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
    Double factor = pipe.termWeights.get(name.startsWith("loss:") ? name.substring(5) : name);
    if (factor != null) {
      v = b.mul(v, b.scalar(factor, DType.FLOAT));
    }
    String out = "term/" + name;
    b.output(out, v);
    s.terms.put(out, name);
    return v;
  }

  /** Sum over pipe.encoders of the spherical-distance loss of one prompt slot; weight 0 disables the slot. */
  private Value promptTerm(GraphBuilder b, StepGraph s, String slot, List<Value> embeddings, int targets) {
    Value weight = b.input("prompt/" + slot + "/weight", DType.FLOAT, Shape.scalar());
    Value stop = b.input("prompt/" + slot + "/stop", DType.FLOAT, Shape.scalar());
    Value sum = null;
    for (int e = 0; e < pipe.encoders.size(); e++) {
      Value target = b.input("prompt/" + slot + "/target" + e, DType.FLOAT, Shape.of(targets, pipe.encoders.get(e).embeddingDim()));
      Value l = SphericalDistance.weighted(b, pipe.promptLoss.distances(b, embeddings.get(e), target), weight, stop);
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
    for (int e = 0; e < pipe.encoders.size(); e++) {
      Value target = b.include(pipe.encoders.get(e).imageFragment(cutFragmentCount(promptCuts)), slot + "-encoder" + e,
          Map.of(Encoder.IMAGES, promptCuts)).get(Encoder.EMBEDDINGS);
      Value l = SphericalDistance.weighted(b, pipe.promptLoss.rowwise(b, embeddings.get(e), target), weight, stop);
      sum = sum == null ? l : b.add(sum, l);
    }
    return term(b, s, slot, sum);
  }
}
