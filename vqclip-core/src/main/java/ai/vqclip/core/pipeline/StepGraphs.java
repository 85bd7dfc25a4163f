package ai.vqclip.core.pipeline;

import ai.vqclip.core.CutoutSource;
import ai.vqclip.core.Encoder;
import ai.vqclip.core.Generator;
import ai.vqclip.core.Loss;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.autodiff.Autodiff;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import ai.vqclip.core.image.Images;
import ai.vqclip.core.loss.EditContentLoss;
import ai.vqclip.core.loss.EditDirectionLoss;
import ai.vqclip.core.loss.LockstepPromptLoss;
import ai.vqclip.core.loss.PromptTermLoss;
import ai.vqclip.core.loss.RegularizationLoss;
import ai.vqclip.core.loss.TotalVariationLoss;
import ai.vqclip.core.prompt.Prompt;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * Assembles step graphs for a {@link Pipeline} (one of its jobs, split out to keep each class to
 * one): synthesis, cutouts, every encoder, then the run's loss terms, every one a {@link Loss}
 * object (the built-in prompt, edit, regularization and TV terms, replaced or reweighted as the
 * pipeline says, then the user's), then the gradient with respect to z. A lone run's terms are
 * built into its graph directly ({@link #build}); a batch ({@link BatchGraph}) builds each run's
 * terms as a fragment with the same code ({@link #addTerms}) and includes it once per run, so both
 * compute the same values. Stateless apart from the pipeline it reads; safe for concurrent runs.
 */
final class StepGraphs {
  private final Pipeline pipe;

  StepGraphs(Pipeline pipe) {
    this.pipe = pipe;
  }

  /** One run's loss terms and how to read and feed them (the differentiated graph too, for a lone run). */
  static final class StepGraph {
    final GenerationRequest request;
    final CutoutSource cuts;
    /** The cutout stage's fragment at the run's size. */
    final Graph cutFragment;
    final EditState edit;
    final List<List<Tensor>> imageTargets;
    final List<List<Tensor>> noiseTargets;
    /** The differentiated graph and the forward graph (lone runs only; null in a batch). */
    Graph graph;
    Graph forward;
    /** Every term, in the order they are summed (built-in, replaced or the user's), fed each step. */
    final List<Loss> lossObjects = new ArrayList<>();
    /** Output name of each loss term -> which term it is. */
    final Map<String, String> terms = new LinkedHashMap<>();

    StepGraph(GenerationRequest request, CutoutSource cuts, EditState edit, List<List<Tensor>> imageTargets, List<List<Tensor>> noiseTargets) {
      this.request = request;
      this.cuts = cuts;
      this.cutFragment = cuts.fragment(request.width(), request.height());
      this.edit = edit;
      this.imageTargets = imageTargets;
      this.noiseTargets = noiseTargets;
    }

    /** The label of a term output in step events for the active prompts (null: an unused text slot). */
    private String label(String output, List<Prompt> active) {
      String t = terms.get(output);
      if (t.startsWith("text")) {
        int j = Integer.parseInt(t.substring(4));
        return j < active.size() ? active.get(j).text() : null;
      }
      if (t.startsWith("image")) {
        return "image:" + request.imagePrompts().get(Integer.parseInt(t.substring(5))).name();
      }
      if (t.startsWith("noise")) {
        return "noise:" + request.noisePrompts().get(Integer.parseInt(t.substring(5))).seed();
      }
      return t;
    }

    /**
     * Every input of the run's step graph for one iteration, each name prefixed with {@code prefix}:
     * the latent, the cutout parameters drawn from the iteration's own seeded stream (so a resumed
     * or batched run draws what a lone uninterrupted one would), and every loss term's inputs.
     */
    void stepInputs(Map<String, Tensor> in, String prefix, int iteration, float[] z, float[] zInit, long[] zShape) {
      in.put(prefix + "z", Tensor.ofFloats(zShape, z));
      SplittableRandom rng = new SplittableRandom(request.seed() + 0x9E3779B97F4A7C15L * (iteration + 1L));
      cuts.sample(rng, request.width(), request.height()).forEach((k, v) -> in.put(prefix + "cut/" + k, v));
      Loss.Step step = new Loss.Step(iteration, zShape, z, zInit);
      for (Loss l : lossObjects) {
        l.stepInputs(step).forEach((k, v) -> in.put(prefix + k, v));
      }
    }

    /** The loss terms' values of one step's outputs, by their labels for the active prompts (unused text slots left out). */
    Map<String, Double> termValues(Map<String, Tensor> out, List<Prompt> active) {
      Map<String, Double> values = new LinkedHashMap<>();
      for (String output : terms.keySet()) {
        String label = label(output, active);
        if (label != null) {
          values.put(label, out.get(output).toDoubles()[0]);
        }
      }
      return values;
    }
  }

  /**
   * What a run computes once before its graph is built: the edit state, the image prompts' and
   * noise prompts' targets (LatentInit).
   */
  StepGraph prepare(GenerationRequest r, CutoutSource cuts) {
    return new StepGraph(r, cuts, prepareEdit(r), pipe.init.embedImagePrompts(r, cuts), pipe.init.noiseTargets(r));
  }

  /** A lone run's step graph: prepared ({@link #prepare}) and differentiated. */
  StepGraph build(GenerationRequest r, CutoutSource cuts, long[] zShape) {
    StepGraph s = prepare(r, cuts);
    GraphBuilder b = new GraphBuilder("vqclip-step");
    Value z = b.input("z", DType.FLOAT, Shape.of(zShape));
    Value image = b.include(pipe.generator.synthesisFragment(r.width(), r.height()), "generator", Map.of(Generator.LATENT, z)).get(Generator.IMAGE);
    Map<String, Value> bind = cutBindings(b, s.cutFragment, image, "");
    Value cutouts = b.include(s.cutFragment, "cutouts", bind).get(CutoutSource.CUTOUTS);
    List<Value> embeddings = new ArrayList<>();
    for (int e = 0; e < pipe.encoders.size(); e++) {
      embeddings.add(b.include(pipe.encoders.get(e).imageFragment(cuts.count()), "encoder" + e, Map.of(Encoder.IMAGES, cutouts))
          .get(Encoder.EMBEDDINGS));
    }
    b.output("loss", addTerms(s, new Loss.Context(b, z, image, cutouts, List.copyOf(embeddings), stages(b, s, bind))));
    b.output("image", image);
    s.forward = b.build();
    s.graph = Autodiff.differentiate(s.forward, pipe.gradientRequest(r), pipe.vjpRegistry);
    return s;
  }

  /** The cutout fragment's bindings: its image, and its parameters as inputs {@code prefix + "cut/" + name}. */
  static Map<String, Value> cutBindings(GraphBuilder b, Graph cutFragment, Value image, String prefix) {
    Map<String, Value> bind = new HashMap<>();
    for (Value v : cutFragment.inputs()) {
      bind.put(v.name(), v.name().equals(CutoutSource.IMAGE) ? image : b.input(prefix + "cut/" + v.name(), v.dtype(), v.shape()));
    }
    return bind;
  }

  /** The cutout stage (with this step's parameters, {@code bind}) and encoders, for terms that cut or embed other images. */
  Loss.Stages stages(GraphBuilder b, StepGraph s, Map<String, Value> bind) {
    Graph cutFragment = s.cutFragment;
    return new Loss.Stages() {
      @Override
      public Value cutoutsOf(Value image, String scope) {
        Map<String, Value> other = new HashMap<>(bind);
        other.put(CutoutSource.IMAGE, image);
        return b.include(cutFragment, scope, other).get(CutoutSource.CUTOUTS);
      }

      @Override
      public Value embed(int encoder, Value images, String scope) {
        Graph ef = pipe.encoders.get(encoder).imageFragment((int) images.shape().size(0));
        return b.include(ef, scope, Map.of(Encoder.IMAGES, images)).get(Encoder.EMBEDDINGS);
      }
    };
  }

  /**
   * Adds every loss term of a run (the built-in ones the request turns on, each replaced or removed
   * as the pipeline says, then the user's, each times its weight factor) as outputs {@code
   * "term/" + name}, and returns their sum.
   */
  Value addTerms(StepGraph s, Loss.Context ctx) {
    s.lossObjects.clear(); // a batch rebuilds its graph as runs leave
    s.terms.clear();
    List<Value> termValues = new ArrayList<>();
    for (Map.Entry<String, Loss> t : builtInTerms(s).entrySet()) {
      Optional<Loss> replaced = pipe.replacements.get(t.getKey());
      Loss l = replaced == null ? t.getValue() : replaced.orElse(null);
      if (l != null) {
        termValues.add(addTerm(s, ctx, t.getKey(), l));
      }
    }
    for (Loss l : pipe.losses) {
      termValues.add(addTerm(s, ctx, "loss:" + l.name(), l)); // prefixed: a user loss may share a built-in term's name
    }
    if (termValues.isEmpty()) {
      throw new IllegalArgumentException("the run has no loss term left (every built-in term was removed and there is no user loss)");
    }
    GraphBuilder b = ctx.builder();
    Value total = termValues.get(0);
    for (int i = 1; i < termValues.size(); i++) {
      total = b.add(total, termValues.get(i));
    }
    return total;
  }

  private Value addTerm(StepGraph s, Loss.Context ctx, String term, Loss l) {
    GraphBuilder b = ctx.builder();
    Value v = l.build(ctx);
    if (!v.shape().hasRank() || v.rank() != 0 || v.dtype() != DType.FLOAT) {
      throw new IllegalArgumentException("loss '" + l.name() + "' must return a FLOAT scalar (rank 0), got " + v);
    }
    s.lossObjects.add(l);
    Double factor = pipe.termWeights.get(term.startsWith("loss:") ? term.substring(5) : term);
    if (factor != null) {
      v = b.mul(v, b.scalar(factor, DType.FLOAT));
    }
    String out = "term/" + term;
    b.output(out, v);
    s.terms.put(out, term);
    return v;
  }

  /** The built-in terms a request turns on, by name, in the order they are summed. */
  private Map<String, Loss> builtInTerms(StepGraph s) {
    GenerationRequest r = s.request;
    Map<String, Loss> t = new LinkedHashMap<>();
    int textSlots = r.prompts().maxPrompts();
    for (int j = 0; j < textSlots; j++) {
      int slot = j;
      t.put("text" + j, promptTerm("text" + j, 1, it -> {
        List<Prompt> active = r.prompts().at(it);
        Prompt p = slot < active.size() ? active.get(slot) : null;
        List<Tensor> targets = new ArrayList<>();
        for (int e = 0; e < pipe.encoders.size(); e++) {
          targets.add(p != null ? pipe.textEmbedding(e, p.text())
              : Tensor.filled(DType.FLOAT, new long[] {1, pipe.encoders.get(e).embeddingDim()}, 1));
        }
        return new PromptTermLoss.Target(p == null ? 0 : p.weight(), p == null ? Double.NEGATIVE_INFINITY : p.stop(), targets);
      }));
    }
    for (int j = 0; j < r.imagePrompts().size(); j++) {
      ImagePrompt p = r.imagePrompts().get(j);
      if (r.imagePromptsLockstep()) {
        // Resized to the run's size so that every crop means the same region.
        Tensor resized = Images.toTensor(Images.resize(Images.toImage(p.image()), r.width(), r.height()), 3);
        t.put("image" + j, new LockstepPromptLoss("image" + j, pipe.promptLoss, resized, p.weight(), p.stop()));
      } else {
        PromptTermLoss.Target target = new PromptTermLoss.Target(p.weight(), p.stop(), s.imageTargets.get(j));
        t.put("image" + j, promptTerm("image" + j, s.cuts.count(), it -> target));
      }
    }
    for (int j = 0; j < r.noisePrompts().size(); j++) {
      PromptTermLoss.Target target = new PromptTermLoss.Target(r.noisePrompts().get(j).weight(), Double.NEGATIVE_INFINITY, s.noiseTargets.get(j));
      t.put("noise" + j, promptTerm("noise" + j, 1, it -> target));
    }
    if (s.edit != null) {
      EditDirection e = r.edit();
      t.put(EditDirectionLoss.NAME, new EditDirectionLoss(pipe.promptLoss, e.scale(), s.edit.from, s.edit.to));
      if (e.contentWeight() > 0) {
        t.put(EditContentLoss.NAME, new EditContentLoss(pipe.promptLoss, e.contentWeight(), s.edit.source,
            SelfMask.asRgb(s.edit.saliency, r.width(), r.height())));
      }
    }
    if (r.regularization().weight() > 0) {
      t.put(RegularizationLoss.NAME, new RegularizationLoss(r.regularization()));
    }
    if (r.tvWeight() > 0) {
      t.put(TotalVariationLoss.NAME, new TotalVariationLoss(r.tvWeight()));
    }
    if (r.frameWeight() > 0) {
      t.put(ai.vqclip.core.loss.FrameLoss.NAME, new ai.vqclip.core.loss.FrameLoss(r.frameWeight(), ai.vqclip.core.loss.FrameLoss.DEFAULT_BAND));
    }
    return t;
  }

  private PromptTermLoss promptTerm(String name, int targets, PromptTermLoss.Targets source) {
    List<long[]> shapes = new ArrayList<>();
    for (Encoder e : pipe.encoders) {
      shapes.add(new long[] {targets, e.embeddingDim()});
    }
    return new PromptTermLoss(name, pipe.promptLoss, shapes, source);
  }

  /** What a from/to edit needs: the edit region and the from/to embeddings per encoder. */
  static final class EditState {
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
      st.saliency = SelfMask.compute(pipe.encoders.get(0), st.source, e.from(), e.maskSamples(), r.seed());
      st.region = SelfMask.editRegion(st.saliency, r.width(), r.height());
    }
    for (int k = 0; k < pipe.encoders.size(); k++) {
      st.from.add(pipe.textEmbedding(k, e.from()));
      st.to.add(pipe.textEmbedding(k, e.to()));
    }
    return st;
  }
}
