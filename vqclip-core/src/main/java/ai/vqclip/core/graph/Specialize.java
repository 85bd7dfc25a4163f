package ai.vqclip.core.graph;

import ai.vqclip.core.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Specializes a graph to fixed input sizes so that every value gets a static shape, as the autodiff
 * needs: symbolic input dimensions are fixed, then shape arithmetic and other computations on
 * constants (Shape, Size, Gather, Slice, Concat, Unsqueeze, Squeeze, Reshape, Flatten, Cast, Transpose,
 * integer and small arithmetic, comparisons, Where, ConstantOfShape, Range, Expand, NonZero, Constant)
 * are evaluated on the host and become initializers, Identity and inference-mode Dropout are removed,
 * and shape inference runs again over what remains. Exporters write such arithmetic for every
 * dynamic axis (Shape -> Gather -> Unsqueeze -> Concat -> Reshape); after this pass it is gone.
 *
 * <p>Usable on any {@link Graph}. Folded results larger than 2^20 elements stay as nodes.
 */
public final class Specialize {
  private Specialize() {}

  /**
   * Fixes each named symbolic dimension (for example {@code "batch" -> 2}) wherever it appears in
   * the graph's inputs, then folds.
   *
   * @param g the graph
   * @param dimSizes symbol to size, e.g. {@code "batch" -> 2}
   * @return a new graph with static shapes
   * @throws IllegalArgumentException when an input dimension stays symbolic (naming the input and
   *     the symbol), a size is negative, or a value's shape cannot be made static (naming the value
   *     and the node that produces it)
   */
  public static Graph apply(Graph g, Map<String, Long> dimSizes) {
    return apply(g, dimSizes, Map.of(), Set.of(), ShapeInference.standard());
  }

  /**
   * As {@link #apply(Graph, Map)}, keeping the initializers named in {@code variables} as they are:
   * nothing computed from them is folded, so they stay differentiable (for example weights to
   * train, or an embedding to differentiate with respect to).
   *
   * @param g the graph
   * @param dimSizes symbol to size, e.g. {@code "batch" -> 2}
   * @param variables names of initializers to keep unfolded
   * @return a new graph with static shapes
   * @throws IllegalArgumentException as {@link #apply(Graph, Map)}, and for a variable that is not
   *     an initializer
   */
  public static Graph apply(Graph g, Map<String, Long> dimSizes, Set<String> variables) {
    return apply(g, dimSizes, Map.of(), variables, ShapeInference.standard());
  }

  /**
   * Fixes the named inputs' shapes (other inputs keep theirs; symbols must then be given in the
   * other form), then folds.
   *
   * @param g the graph
   * @param inputShapes input name to its static shape
   * @return a new graph with static shapes
   * @throws IllegalArgumentException for an unknown input, or when a shape cannot be made static
   */
  public static Graph withInputShapes(Graph g, Map<String, long[]> inputShapes) {
    return apply(g, Map.of(), inputShapes, Set.of(), ShapeInference.standard());
  }

  /**
   * The general form: {@code inputShapes} fixes whole inputs by name, {@code dimSizes} fixes the
   * remaining symbolic dims by symbol; {@code variables} names initializers that must not be folded
   * into anything; {@code shapes} is the shape inference to re-run (custom ops).
   *
   * @param g the graph (not null)
   * @param dimSizes symbol to size
   * @param inputShapes input name to its static shape
   * @param variables names of initializers to keep unfolded
   * @param shapes the shape inference to re-run
   * @return a new graph with static shapes
   * @throws IllegalArgumentException for an unknown input or variable, a negative size, or a shape
   *     that cannot be made static
   */
  public static Graph apply(
      Graph g, Map<String, Long> dimSizes, Map<String, long[]> inputShapes, Set<String> variables, ShapeInference shapes) {
    Objects.requireNonNull(g, "graph");
    for (String v : variables) {
      if (!g.initializers().containsKey(v)) {
        throw new IllegalArgumentException("variable '" + v + "' is not an initializer of graph '" + g.name() + "'");
      }
    }
    for (String k : inputShapes.keySet()) {
      g.input(k); // throws listing the inputs
    }
    dimSizes.forEach((k, v) -> {
      if (v == null || v < 0) {
        throw new IllegalArgumentException("size of dimension '" + k + "' must be >= 0, got " + v);
      }
    });
    GraphBuilder b = new GraphBuilder(g.name(), shapes).opset(g.opset());
    for (Value in : g.inputs()) {
      b.input(in.name(), in.dtype(), fixedShape(in, dimSizes, inputShapes.get(in.name())));
    }
    g.initializers().forEach(b::initializer);
    Map<String, String> alias = new HashMap<>();
    Map<String, Node> producer = new HashMap<>();
    for (Node n0 : g.nodes()) {
      List<String> ins = new ArrayList<>();
      for (String s : n0.inputs()) {
        ins.add(s.isEmpty() ? s : alias.getOrDefault(s, s));
      }
      Node n = new Node(n0.name(), n0.opType(), n0.domain(), ins, n0.outputs(), n0.attributes());
      for (String o : n.outputs()) {
        producer.put(o, n);
      }
      if (!n.domain().isEmpty()) {
        b.addNamedNode(n);
        continue;
      }
      if (n.opType().equals("Identity") || isInferenceDropout(n, b)) {
        alias.put(n.outputs().get(0), ins.get(0));
        if (n.opType().equals("Dropout") && n.outputs().size() > 1 && !n.outputs().get(1).isEmpty()) {
          Value x = b.value(ins.get(0));
          b.initializer(n.outputs().get(1), Tensor.filled(DType.BOOL, staticShape(x, n), 1));
        }
        continue;
      }
      List<Tensor> folded = fold(n, b, shapes, variables);
      if (folded != null) {
        for (int i = 0; i < folded.size(); i++) {
          b.initializer(n.outputs().get(i), folded.get(i));
        }
        continue;
      }
      b.addNamedNode(n);
    }
    Set<String> outNames = new HashSet<>();
    for (Value o : g.outputs()) {
      String src = alias.get(o.name());
      if (src != null && !b.hasValue(o.name())) {
        // The output was an Identity/Dropout that was removed: keep its name with one Identity.
        b.addNamedNode(new Node(b.freshName(o.name() + "/identity"), "Identity", "", List.of(src), List.of(o.name()), Map.of()));
      }
      if (outNames.add(o.name())) {
        b.output(b.value(o.name()));
      }
    }
    Set<String> keep = new HashSet<>();
    g.inputs().forEach(v -> keep.add(v.name()));
    Graph out = b.build().pruned(keep);
    requireStatic(out, producer);
    return out;
  }

  private static Shape fixedShape(Value in, Map<String, Long> dimSizes, long[] given) {
    if (given != null) {
      Shape s = Shape.of(given);
      if (!in.shape().accepts(s)) {
        throw new IllegalArgumentException("input '" + in.name() + "' has shape " + in.shape() + "; the given shape " + s + " does not fit it");
      }
      return s;
    }
    if (!in.shape().hasRank()) {
      throw new IllegalArgumentException("input '" + in.name() + "' has unknown rank; give its whole shape");
    }
    List<Dim> d = new ArrayList<>();
    for (Dim x : in.shape().dims()) {
      if (x.isStatic()) {
        d.add(x);
      } else {
        Long v = dimSizes.get(x.symbol());
        if (v == null) {
          throw new IllegalArgumentException("input '" + in.name() + "' " + in.shape() + " has symbolic dimension '" + x.symbol()
              + "'; give its size (known sizes: " + dimSizes + ")");
        }
        d.add(Dim.of(v));
      }
    }
    return Shape.of(d);
  }

  /** Dropout without training_mode, or with a constant false one, is the identity. */
  private static boolean isInferenceDropout(Node n, GraphBuilder b) {
    if (!n.opType().equals("Dropout")) {
      return false;
    }
    if (!n.hasInput(2)) {
      return true;
    }
    Tensor t = b.constantValue(b.value(n.input(2)));
    return t != null && t.elementCount() == 1 && t.toDoubles()[0] == 0;
  }

  private static final Set<String> SHAPE_ONLY = Set.of("Reshape", "Squeeze", "Unsqueeze", "Flatten");

  /** The node's outputs computed on the host, or null to keep the node. */
  private static List<Tensor> fold(Node n, GraphBuilder b, ShapeInference shapes, Set<String> variables) {
    String op = n.opType();
    List<Value> ins = new ArrayList<>();
    for (String s : n.inputs()) {
      ins.add(s.isEmpty() ? null : b.value(s));
    }
    switch (op) {
      case "Constant" -> {
        return List.of(constantAttr(n));
      }
      case "Shape" -> {
        Value x = ins.get(0);
        if (!x.shape().isStatic()) {
          return null;
        }
        long[] s = x.shape().toArray();
        int r = s.length;
        long start = n.attrInt("start", 0);
        long end = n.attrInt("end", r);
        start = Math.max(0, Math.min(r, start < 0 ? start + r : start));
        end = Math.max(0, Math.min(r, end < 0 ? end + r : end));
        return List.of(Tensor.vector(java.util.Arrays.copyOfRange(s, (int) start, (int) Math.max(start, end))));
      }
      case "Size" -> {
        Value x = ins.get(0);
        return x.shape().isStatic() ? List.of(Tensor.ofLongs(new long[0], x.shape().elementCount())) : null;
      }
      default -> {
        // Everything else folds only when every given input is a constant.
      }
    }
    List<Tensor> consts = new ArrayList<>();
    for (Value v : ins) {
      if (v == null) {
        consts.add(null);
        continue;
      }
      Tensor t = variables.contains(v.name()) ? null : b.constantValue(v);
      if (t == null) {
        return null;
      }
      consts.add(t);
    }
    if (ins.isEmpty() || n.outputs().size() != 1) {
      return null;
    }
    // Shape inference first: it checks the node's types and attributes (files are untrusted) and
    // gives the output shape that the shape-only ops need.
    List<Value> outs = shapes.infer(n, ins, b::constantValue);
    if (SHAPE_ONLY.contains(op)) {
      Shape s = outs.get(0).shape();
      if (!s.isStatic() || s.elementCount() > HostEval.MAX_FOLD_ELEMENTS) {
        return null;
      }
      return List.of(HostEval.reshapeLike(consts.get(0), s.toArray()));
    }
    try {
      return HostEval.eval(n, consts);
    } catch (IllegalArgumentException e) {
      throw e;
    } catch (RuntimeException e) {
      // Inputs that shape inference let through but that do not fit the op (a malformed file).
      throw new IllegalArgumentException(n.describe() + ": cannot evaluate on its constant inputs: " + e, e);
    }
  }

  private static Tensor constantAttr(Node n) {
    Map<String, Attribute> a = n.attributes();
    if (a.containsKey("value")) {
      return a.get("value").asTensor();
    }
    if (a.containsKey("value_float")) {
      return Tensor.ofFloats(new long[0], a.get("value_float").asFloat());
    }
    if (a.containsKey("value_floats")) {
      float[] f = a.get("value_floats").asFloats();
      return Tensor.ofFloats(new long[] {f.length}, f);
    }
    if (a.containsKey("value_int")) {
      return Tensor.ofLongs(new long[0], a.get("value_int").asInt());
    }
    if (a.containsKey("value_ints")) {
      return Tensor.vector(a.get("value_ints").asInts());
    }
    throw new IllegalArgumentException(n.describe() + ": only value, value_float(s) and value_int(s) constants are supported, found " + a.keySet());
  }

  private static long[] staticShape(Value v, Node n) {
    if (!v.shape().isStatic()) {
      throw new IllegalArgumentException(n.describe() + ": input " + v + " has no static shape after specialization");
    }
    return v.shape().toArray();
  }

  private static void requireStatic(Graph g, Map<String, Node> producer) {
    List<String> bad = new ArrayList<>();
    for (Node n : g.nodes()) {
      for (String o : n.outputs()) {
        if (o.isEmpty()) {
          continue;
        }
        Value v = g.value(o);
        if (!v.shape().isStatic()) {
          bad.add("'" + o + "' " + v.shape() + " (output of " + n.describe() + ")");
        }
      }
    }
    if (!bad.isEmpty()) {
      throw new IllegalArgumentException("graph '" + g.name() + "': " + bad.size() + " value(s) have no static shape after specialization; first: "
          + String.join("; ", bad.subList(0, Math.min(3, bad.size())))
          + ". Its inputs may not be constant, or shape inference lacks a rule for the op");
    }
  }

  /**
   * Summary for logs: how many nodes and of which types a specialization removed.
   *
   * @param before the graph before specialization
   * @param after the graph after it
   * @return op type to the number of nodes of that type removed, for types that lost nodes
   */
  public static Map<String, Integer> removedOps(Graph before, Graph after) {
    Map<String, Integer> m = new LinkedHashMap<>();
    for (Node n : before.nodes()) {
      m.merge(n.opType(), 1, Integer::sum);
    }
    for (Node n : after.nodes()) {
      m.merge(n.opType(), -1, Integer::sum);
    }
    m.values().removeIf(v -> v <= 0);
    return m;
  }
}
