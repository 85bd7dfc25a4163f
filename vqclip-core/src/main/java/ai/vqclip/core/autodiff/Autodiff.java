package ai.vqclip.core.autodiff;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.Dim;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Node;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reverse-mode automatic differentiation over a {@link Graph}: appends backward nodes (one {@link
 * VjpRule} per forward node on a path from a {@code wrt} value to a differentiated output) and
 * returns a graph that also outputs the requested gradients. Backward nodes read the forward
 * activations they need, except inside the segments named by {@link GradientRequest#recompute()},
 * which the backward pass recomputes from the segments' inputs (activation checkpointing: less
 * memory for one more forward pass of those segments, bit-identical results). Rules run only for
 * inputs that need a gradient, and dead paths, unused initializers and vqclip's gradient-override
 * ops are removed or lowered, so the result is plain ONNX.
 */
public final class Autodiff {
  private Autodiff() {}

  /**
   * Differentiates with the built-in rules.
   *
   * @param forward the forward graph, with static shapes
   * @param request what to differentiate
   * @return the gradient graph
   * @throws IllegalArgumentException as {@link #differentiate(Graph, GradientRequest, VjpRegistry)}
   */
  public static Graph differentiate(Graph forward, GradientRequest request) {
    return differentiate(forward, request, VjpRegistry.standard());
  }

  /**
   * Differentiates {@code forward} as {@code request} asks.
   *
   * @param forward the forward graph, with static shapes
   * @param request what to differentiate
   * @param registry the gradient rules
   * @return the gradient graph: the forward nodes, the backward nodes and the outputs {@link
   *     GradientRequest#gradName}
   * @throws IllegalArgumentException for unknown names, non-floating targets, or when a gradient
   *     must flow through an op that has no rule (the message names the op type and the node)
   */
  public static Graph differentiate(Graph forward, GradientRequest request, VjpRegistry registry) {
    for (String o : request.seeded().keySet()) {
      forward.output(o);
    }
    for (String w : request.wrt()) {
      Value v = forward.value(w);
      boolean isInputOrInit = forward.initializers().containsKey(w) || forward.inputs().stream().anyMatch(i -> i.name().equals(w));
      if (!isInputOrInit) {
        throw new IllegalArgumentException("can only differentiate with respect to inputs or initializers; '" + w + "' is neither");
      }
      if (!v.dtype().isFloating()) {
        throw new IllegalArgumentException("cannot differentiate with respect to " + v + ": not a floating type");
      }
    }
    // Values that depend on a wrt value (forward reachability).
    Set<String> active = new HashSet<>(request.wrt());
    for (Node n : forward.nodes()) {
      if (n.inputs().stream().anyMatch(active::contains)) {
        active.addAll(n.outputs());
      }
    }
    GraphBuilder b = GraphBuilder.from(forward);
    if (!request.keepForwardOutputs()) {
      b.clearOutputs();
    }
    Map<String, Value> grads = new HashMap<>();
    // Every backward node (rules, accumulation Adds, seeds, zero gradients) lives in the grad/ scope.
    b.pushScope("grad");
    try {
      backward(forward, request, registry, b, active, grads);
    } finally {
      b.popScope();
    }
    Set<String> keepInputs = new HashSet<>();
    forward.inputs().forEach(v -> keepInputs.add(v.name()));
    b.inputs().forEach(v -> keepInputs.add(v.name()));
    return GradientOverrides.lower(b.build()).pruned(keepInputs);
  }

  private static void backward(
      Graph forward, GradientRequest request, VjpRegistry registry, GraphBuilder b, Set<String> active, Map<String, Value> grads) {
    for (Map.Entry<String, Boolean> e : request.seeded().entrySet()) {
      Value out = forward.value(e.getKey());
      if (!out.dtype().isFloating()) {
        throw new IllegalArgumentException("cannot differentiate non-floating output " + out);
      }
      Value seed;
      if (e.getValue()) {
        seed = b.input(GradientRequest.seedName(out.name()), out.dtype(), seedShape(forward, out));
      } else {
        if (!out.shape().isStatic() || out.shape().elementCount() != 1) {
          throw new IllegalArgumentException(
              "loss output " + out + " must have exactly one element; use GradientRequest.ofSeeds for other outputs");
        }
        seed = b.constant(Tensor.filled(out.dtype(), out.shape().toArray(), 1));
      }
      accumulate(b, grads, out.name(), seed);
    }
    Map<String, Node> producers = new HashMap<>();
    for (Node n : forward.nodes()) {
      for (String o : n.outputs()) {
        if (!o.isEmpty()) {
          producers.put(o, n);
        }
      }
    }
    Recompute recompute = new Recompute(forward, request.recompute(), b);
    List<Node> nodes = forward.nodes();
    for (int k = nodes.size() - 1; k >= 0; k--) {
      Node n = nodes.get(k);
      List<Value> outGrads = new ArrayList<>();
      boolean any = false;
      for (String o : n.outputs()) {
        Value g = o.isEmpty() ? null : grads.get(o);
        outGrads.add(g);
        any |= g != null;
      }
      if (!any) {
        continue;
      }
      String key = n.domain().isEmpty() ? n.opType() : n.domain() + "." + n.opType();
      checkIntegerPaths(forward, request, registry, producers, active, n);
      if (registry.isPiecewiseConstant(key) && active.contains(n.inputs().get(0)) && forward.value(n.inputs().get(0)).dtype().isFloating()) {
        // Round, Floor, Ceil, Sign: refused unless the caller chose ZERO or STRAIGHT_THROUGH.
        switch (registry.chosenGradient(key)) {
          case ZERO -> {
            continue;
          }
          case STRAIGHT_THROUGH -> {
            Value g = outGrads.get(0);
            if (g != null) {
              accumulate(b, grads, n.inputs().get(0), g);
            }
            continue;
          }
          default -> throw new IllegalArgumentException(
              "gradient through '" + key + "' (" + n.describe() + "), which lies on the path from " + request.wrt() + " to "
                  + request.seeded().keySet() + ": " + VjpRegistry.howToChoose(key, false));
        }
      }
      boolean[] needs = new boolean[n.inputs().size()];
      boolean anyNeeds = false;
      for (int i = 0; i < needs.length; i++) {
        String in = n.inputs().get(i);
        needs[i] = !in.isEmpty() && active.contains(in) && forward.value(in).dtype().isFloating();
        anyNeeds |= needs[i];
      }
      if (!anyNeeds) {
        continue;
      }
      Map<String, Value> recomputed = recompute.valuesFor(n, outGrads);
      List<Value> ins = new ArrayList<>();
      for (String in : n.inputs()) {
        ins.add(in.isEmpty() ? null : recomputed.getOrDefault(in, forward.value(in)));
      }
      VjpRule rule = registry.rule(key).orElseThrow(() -> new IllegalArgumentException(
          "no gradient rule for op type '" + key + "' (" + n.describe() + "), which lies on the path from "
              + request.wrt() + " to " + request.seeded().keySet() + "; register one with VjpRegistry.register"));
      List<Value> outs = new ArrayList<>();
      for (String o : n.outputs()) {
        outs.add(o.isEmpty() ? null : recomputed.getOrDefault(o, forward.value(o)));
      }
      VjpContext ctx = new VjpContext(b, n, ins, outs, outGrads, needs, producers);
      rule.apply(ctx);
      Value[] ig = ctx.inputGrads();
      for (int i = 0; i < ig.length; i++) {
        if (ig[i] != null) {
          accumulate(b, grads, n.inputs().get(i), ig[i]);
        }
      }
    }
    for (String w : request.wrt()) {
      Value g = grads.get(w);
      if (g == null) {
        g = b.zerosLike(forward.value(w));
      }
      b.output(GradientRequest.gradName(w), g);
    }
  }

  /**
   * Refuses a gradient that would die silently where an integer computed from a {@code wrt} value
   * by a piecewise-constant op (ArgMax, ArgMin) turns back into a float value on the gradient's
   * path: at a Cast/CastLike of such an integer, or at a node (e.g. Gather with a constant table)
   * whose only active inputs are such integers. The true gradient there is zero almost everywhere;
   * the caller may accept that with {@code chooseGradient(op, ZERO)}. Integers from ops with no
   * gradient at all (Shape, comparisons, ...) are not checked.
   */
  private static void checkIntegerPaths(
      Graph forward, GradientRequest request, VjpRegistry registry, Map<String, Node> producers, Set<String> active, Node n) {
    List<String> activeInts = new ArrayList<>();
    boolean activeFloat = false;
    for (String in : n.inputs()) {
      if (in.isEmpty() || !active.contains(in)) {
        continue;
      }
      if (forward.value(in).dtype().isFloating()) {
        activeFloat = true;
      } else {
        activeInts.add(in);
      }
    }
    boolean cast = n.domain().isEmpty() && (n.opType().equals("Cast") || n.opType().equals("CastLike"));
    if (activeInts.isEmpty() || (activeFloat && !cast)) {
      return;
    }
    // Walk back through integer values to the piecewise-constant ops that made them.
    Set<String> seen = new HashSet<>();
    List<String> todo = new ArrayList<>(activeInts);
    while (!todo.isEmpty()) {
      String v = todo.remove(todo.size() - 1);
      Node p = producers.get(v);
      if (!seen.add(v) || p == null) {
        continue;
      }
      String pk = p.domain().isEmpty() ? p.opType() : p.domain() + "." + p.opType();
      if (registry.isPiecewiseConstant(pk)) {
        if (registry.chosenGradient(pk) != VjpRegistry.FlatGradient.ZERO) {
          throw new IllegalArgumentException(
              "gradient from " + request.seeded().keySet() + " to " + request.wrt() + " reaches " + n.describe()
                  + " only through the integer output of " + p.describe() + ": " + VjpRegistry.howToChoose(pk, true));
        }
        continue;
      }
      if (registry.isNonDifferentiable(pk)) {
        continue;
      }
      for (String in : p.inputs()) {
        if (!in.isEmpty() && active.contains(in) && !forward.value(in).dtype().isFloating()) {
          todo.add(in);
        }
      }
    }
  }

  /**
   * The seed input's shape: the output's, except that symbolic dims not taken from a forward input
   * get their own names. Shape inference names dims it cannot compute with placeholders ("d0",
   * "concat", ...) that do not mean equal sizes, and a graph input must not claim they do.
   */
  private static Shape seedShape(Graph forward, Value out) {
    if (!out.shape().hasRank() || out.shape().isStatic()) {
      return out.shape();
    }
    Set<String> inputSymbols = new HashSet<>();
    for (Value in : forward.inputs()) {
      if (in.shape().hasRank()) {
        in.shape().dims().stream().filter(d -> !d.isStatic()).forEach(d -> inputSymbols.add(d.symbol()));
      }
    }
    List<Dim> dims = new ArrayList<>();
    for (int i = 0; i < out.rank(); i++) {
      Dim d = out.shape().dim(i);
      dims.add(d.isStatic() || inputSymbols.contains(d.symbol()) ? d : Dim.symbol(GradientRequest.seedName(out.name()) + ":" + i));
    }
    return Shape.of(dims);
  }

  private static void accumulate(GraphBuilder b, Map<String, Value> grads, String name, Value g) {
    Value prev = grads.get(name);
    grads.put(name, prev == null ? g : b.add(prev, g));
  }
}
