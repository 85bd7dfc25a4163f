package ai.vqclip.core.pipeline;

import ai.vqclip.core.CutoutSource;
import ai.vqclip.core.Encoder;
import ai.vqclip.core.Generator;
import ai.vqclip.core.Loss;
import ai.vqclip.core.autodiff.Autodiff;
import ai.vqclip.core.autodiff.GradientRequest;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * The step graph of a batch of runs ({@link StepBatch}, {@link BatchRun}): the generator and the
 * encoders run once for all, each run's loss terms are its lone run's ({@link StepGraphs}). Static
 * helpers only.
 */
final class BatchGraph {
  private BatchGraph() {}

  /** The prefix of run {@code k}'s inputs and outputs in a batched step graph. */
  static String prefix(int k) {
    return "s" + k + "/";
  }

  /**
   * The batched step graph of prepared runs ({@link StepGraphs#prepare}) that share one step-graph shape:
   * z_k → concat → synthesis at batch B → split → each run's own cutouts → concat → encoders at
   * batch B*n → split → each run's loss terms (built by {@link StepGraphs#addTerms} into a fragment, included
   * under the run's prefix) → the sum of the runs' losses, differentiated with respect to every z_k.
   * Run k's inputs and outputs are its lone names prefixed with {@link #prefix}; each run's term
   * outputs are recorded in its {@link StepGraphs.StepGraph}.
   */
  static Graph build(Pipeline pipe, List<StepGraphs.StepGraph> runs, long[] zShape) {
    int n = runs.size();
    GenerationRequest first = runs.get(0).request;
    CutoutSource cuts = runs.get(0).cuts;
    int w = first.width();
    int h = first.height();
    GraphBuilder b = new GraphBuilder("vqclip-step-batch" + n);
    List<Value> zs = new ArrayList<>();
    for (int k = 0; k < n; k++) {
      zs.add(b.input(prefix(k) + "z", DType.FLOAT, Shape.of(zShape)));
    }
    Value zAll = n == 1 ? zs.get(0) : b.op("Concat").in(zs.toArray(new Value[0])).attr("axis", 0L).out();
    Value imageAll = b.include(pipe.generator.synthesisFragment(n, w, h), "generator", Map.of(Generator.LATENT, zAll)).get(Generator.IMAGE);
    List<Value> images = split(b, imageAll, n, 1);
    Graph cf = runs.get(0).cutFragment;
    int count = cuts.count();
    List<Map<String, Value>> binds = new ArrayList<>();
    List<Value> cutList = new ArrayList<>();
    for (int k = 0; k < n; k++) {
      binds.add(StepGraphs.cutBindings(b, cf, images.get(k), prefix(k)));
      cutList.add(b.include(cf, "cutouts" + k, binds.get(k)).get(CutoutSource.CUTOUTS));
    }
    Value cutAll = n == 1 ? cutList.get(0) : b.op("Concat").in(cutList.toArray(new Value[0])).attr("axis", 0L).out();
    // embeddings.get(e).get(k): encoder e's embeddings [count, D] of run k's cutouts
    List<List<Value>> embeddings = new ArrayList<>();
    for (int e = 0; e < pipe.encoders.size(); e++) {
      Value all = b.include(pipe.encoders.get(e).imageFragment(n * count), "encoder" + e, Map.of(Encoder.IMAGES, cutAll)).get(Encoder.EMBEDDINGS);
      embeddings.add(split(b, all, n, count));
    }
    Value total = null;
    List<String> wrt = new ArrayList<>();
    for (int k = 0; k < n; k++) {
      List<Value> emb = new ArrayList<>();
      for (List<Value> perEncoder : embeddings) {
        emb.add(perEncoder.get(k));
      }
      Value loss = includeTerms(pipe, b, runs.get(k), k, zs.get(k), images.get(k), cutList.get(k), emb, binds.get(k));
      b.output(prefix(k) + "image", images.get(k));
      total = total == null ? loss : b.add(total, loss);
      wrt.add(prefix(k) + "z");
    }
    b.output("loss", total);
    GradientRequest gr = new GradientRequest(Map.of("loss", false), wrt, true);
    List<String> scopes = pipe.recomputeScopes(w, h);
    if (!scopes.isEmpty()) {
      gr = gr.withRecompute(scopes);
    }
    return Autodiff.differentiate(b.build(), gr, pipe.vjpRegistry);
  }

  /**
   * Run k's loss terms in a batched graph: built by {@link StepGraphs#addTerms} into a fragment whose
   * inputs are the run's z, image, cutouts, embeddings and cutout parameters, then included under
   * scope {@code "run" + k}; the terms' own inputs become inputs {@code prefix(k) + name}. Returns the run's
   * loss (also output as {@code prefix(k) + "loss"}); the run's term outputs are renamed to {@code
   * prefix(k) + "term/..."} in its {@link StepGraphs.StepGraph#terms}.
   */
  private static Value includeTerms(
      Pipeline pipe, GraphBuilder b, StepGraphs.StepGraph s, int k, Value z, Value image, Value cutouts, List<Value> emb,
      Map<String, Value> cutBind) {
    String pre = prefix(k);
    GraphBuilder f = new GraphBuilder("run" + k);
    Map<String, Value> bind = new HashMap<>();
    BiFunction<String, Value, Value> in = (name, outer) -> {
      bind.put(name, outer);
      return f.input(name, outer.dtype(), outer.shape());
    };
    Value fz = in.apply("z", z);
    Value fImage = in.apply("image", image);
    Value fCutouts = in.apply("cutouts", cutouts);
    List<Value> fEmb = new ArrayList<>();
    for (int e = 0; e < emb.size(); e++) {
      fEmb.add(in.apply("embeddings" + e, emb.get(e)));
    }
    Map<String, Value> fCutBind = new HashMap<>();
    cutBind.forEach((name, outer) -> fCutBind.put(name, name.equals(CutoutSource.IMAGE) ? fImage : in.apply("cut/" + name, outer)));
    f.output("loss", pipe.graphs.addTerms(s, new Loss.Context(f, fz, fImage, fCutouts, List.copyOf(fEmb), pipe.graphs.stages(f, s, fCutBind))));
    Graph fragment = f.build();
    for (Value v : fragment.inputs()) {
      if (!bind.containsKey(v.name())) {
        bind.put(v.name(), b.input(pre + v.name(), v.dtype(), v.shape())); // a loss term's own input
      }
    }
    Map<String, Value> outs = b.include(fragment, "run" + k, bind); // not "s" + k: its node names would take the outputs' names
    Map<String, String> renamed = new LinkedHashMap<>();
    for (Map.Entry<String, String> t : s.terms.entrySet()) {
      b.output(pre + t.getKey(), outs.get(t.getKey()));
      renamed.put(pre + t.getKey(), t.getValue());
    }
    s.terms.clear();
    s.terms.putAll(renamed);
    return b.output(pre + "loss", outs.get("loss"));
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
}
