package ai.vqclip.core.autodiff;

import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Node;
import ai.vqclip.core.graph.Value;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Activation checkpointing for {@link Autodiff}: the forward segments named by {@link
 * GradientRequest#recompute()} are copied into the backward pass, and the gradient rules of their
 * nodes read the copies instead of the forward activations, which the runtime can then free as soon
 * as the forward pass has used them. Only the segments' inputs stay alive until the backward pass.
 *
 * <p>A plain copy would not work with ONNX Runtime: common-subexpression elimination would merge it
 * back into the forward nodes, and the scheduler could run it during the forward pass. So every
 * floating activation entering a segment's copy is "gated" first: {@code x + 0 * g0}, where {@code
 * g0} is one element of the gradient that reached the segment's output. The copy is then a different
 * expression that can only run once the backward pass reaches the segment, and {@code x + 0 * g0}
 * equals {@code x} exactly (up to the sign of a zero) whenever {@code g0} is finite. When it is not,
 * the gradient reaching the segment is already not finite and the copy turns to NaN, so the run
 * stops as diverged either way. Otherwise the copy repeats the same arithmetic on the same values,
 * and gradients are bit-identical to those without recomputation.
 *
 * <p>A node belongs to the first listed scope whose name prefixes its own ({@code scope/...}).
 */
final class Recompute {
  private final Graph forward;
  private final GraphBuilder b;
  private final Map<String, Integer> segmentOfNode = new HashMap<>();
  private final List<List<Node>> segments = new ArrayList<>();
  private final Map<Integer, Map<String, Value>> copies = new HashMap<>();

  /**
   * @throws IllegalArgumentException for a scope that names no forward node
   */
  Recompute(Graph forward, List<String> scopes, GraphBuilder b) {
    this.forward = forward;
    this.b = b;
    for (String scope : scopes) {
      List<Node> seg = new ArrayList<>();
      for (Node n : forward.nodes()) {
        if (n.name().startsWith(scope + "/") && !segmentOfNode.containsKey(n.name())) {
          segmentOfNode.put(n.name(), segments.size());
          seg.add(n);
        }
      }
      if (seg.isEmpty()) {
        throw new IllegalArgumentException("recompute scope '" + scope + "' names no node of graph '" + forward.name()
            + "' (or only nodes of a scope listed before it)");
      }
      segments.add(seg);
    }
  }

  /**
   * The recomputed values that the gradient rule of {@code n} should read instead of the forward
   * ones, by forward name; empty outside every segment. The first call for a segment emits its copy,
   * gated on {@code outGrads} (the gradients reaching {@code n}'s outputs, at least one not null).
   */
  Map<String, Value> valuesFor(Node n, List<Value> outGrads) {
    Integer s = segmentOfNode.get(n.name());
    if (s == null) {
      return Map.of();
    }
    return copies.computeIfAbsent(s, k -> emit(segments.get(k), outGrads.stream().filter(g -> g != null).findFirst().orElseThrow()));
  }

  private Map<String, Value> emit(List<Node> segment, Value trigger) {
    Set<String> produced = new HashSet<>();
    segment.forEach(n -> produced.addAll(n.outputs()));
    Map<String, Value> copy = new LinkedHashMap<>();
    Map<String, Value> gated = new HashMap<>();
    Map<DType, Value> gates = new HashMap<>();
    Set<String> constants = constantValues();
    for (Node m : segment) {
      List<String> ins = new ArrayList<>();
      boolean depends = false;
      for (String in : m.inputs()) {
        if (in.isEmpty()) {
          ins.add(in);
        } else if (copy.containsKey(in)) {
          ins.add(copy.get(in).name());
          depends = true;
        } else if (!produced.contains(in) && !constants.contains(in) && forward.value(in).dtype().isFloating()) {
          Value x = forward.value(in);
          ins.add(gated.computeIfAbsent(in, k -> b.add(x, gates.computeIfAbsent(x.dtype(), t -> gate(trigger, t)))).name());
          depends = true;
        } else {
          // Weights, constants and what a segment computes from them alone are not activations.
          ins.add(in);
        }
      }
      if (!depends) {
        continue;
      }
      String name = b.freshName(m.name());
      List<String> outs = new ArrayList<>();
      for (String o : m.outputs()) {
        outs.add(o.isEmpty() ? "" : o.equals(m.name()) ? name : b.freshName(o));
      }
      List<Value> made = b.addNamedNode(new Node(name, m.opType(), m.domain(), ins, outs, m.attributes()));
      int k = 0;
      for (String o : m.outputs()) {
        if (!o.isEmpty()) {
          copy.put(o, made.get(k++));
        }
      }
    }
    return copy;
  }

  /** {@code 0 * g0} as a scalar of type {@code t}, g0 being the first element of {@code trigger}. */
  private Value gate(Value trigger, DType t) {
    Value first = b.op("Slice").in(b.reshape(trigger, -1), b.ints(0), b.ints(1)).out();
    Value zero = b.mul(b.reshape(first, new long[0]), b.scalar(0, trigger.dtype()));
    return t == trigger.dtype() ? zero : b.cast(zero, t);
  }

  /** The initializers and Constant-node outputs of the forward graph. */
  private Set<String> constantValues() {
    Set<String> c = new HashSet<>(forward.initializers().keySet());
    for (Node n : forward.nodes()) {
      if (n.opType().equals("Constant") && n.domain().isEmpty()) {
        c.addAll(n.outputs());
      }
    }
    return c;
  }
}
