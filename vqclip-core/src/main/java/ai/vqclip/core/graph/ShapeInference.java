package ai.vqclip.core.graph;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.ops.OpTable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Type and shape inference for the ONNX ops vqclip builds, enough to reject wrong wiring at build
 * time and to give the autodiff static shapes. Ops without a rule get the first input's type and an
 * unknown shape. Extend with {@link #with(String, Rule)}. Immutable.
 *
 * <p>The built-in rules are registered per op, together with the op's gradient rule and FLOP count,
 * by the op families of {@link OpTable}; the rule implementations and the helpers they share live
 * here as public static methods, so users writing their own rules can reuse them.
 *
 * <p><b>Why one long class.</b> It is one table: a short rule per op (about 110 ops) and the
 * broadcasting and attribute helpers they share. The rules are public so that user rules reuse
 * them; spreading the table over several classes would make no rule simpler and would split the
 * shared helpers from their users.
 */
public final class ShapeInference {
  /** Infers output values (only dtype and shape are used) of a node. */
  @FunctionalInterface
  public interface Rule {
    /**
     * @param ctx the node, its input values and constant lookup
     * @return one value per node output
     */
    List<Value> infer(Context ctx);
  }

  /**
   * What a rule sees.
   *
   * @param node the node being inferred
   * @param inputs its input values (null for omitted optional inputs)
   * @param constants the constant tensor of a value, or null when it is not constant
   */
  public record Context(Node node, List<Value> inputs, Function<Value, Tensor> constants) {
    /**
     * Input {@code i}, or null when omitted.
     *
     * @param i input index, from 0
     * @return the input value, or null when the node has fewer inputs or this one is omitted
     */
    public Value in(int i) {
      return i < inputs.size() ? inputs.get(i) : null;
    }

    /**
     * Input {@code i}, which must be present.
     *
     * @param i input index, from 0
     * @return the input value
     * @throws IllegalArgumentException naming the node when the input is absent
     */
    public Value required(int i) {
      Value v = in(i);
      if (v == null) {
        throw fail("input " + i + " is required");
      }
      return v;
    }

    /**
     * The constant value of input {@code i}, or null when not constant or absent.
     *
     * @param i input index, from 0
     * @return the constant tensor, or null
     */
    public Tensor constant(int i) {
      Value v = in(i);
      return v == null ? null : constants.apply(v);
    }

    /**
     * An exception naming this node.
     *
     * @param msg what is wrong
     * @return an exception (not thrown) whose message starts with the node's description
     */
    public IllegalArgumentException fail(String msg) {
      return new IllegalArgumentException(node.describe() + ": " + msg);
    }

    /**
     * An output value with the given type and shape (name filled by the builder).
     *
     * @param t element type
     * @param s shape
     * @return a new value named {@code "_"}
     */
    public Value out(DType t, Shape s) {
      return new Value("_", t, s);
    }
  }

  /** Built on first use: the op table's families call this class's rule methods while it loads. */
  private static final class Standard {
    static final ShapeInference RULES = OpTable.standard().shapeInference();
  }

  private final Map<String, Rule> rules;

  private ShapeInference(Map<String, Rule> rules) {
    this.rules = Map.copyOf(rules);
  }

  /**
   * The built-in rules: the shape rules of {@link OpTable#standard()}.
   *
   * @return the shared standard rules
   */
  public static ShapeInference standard() {
    return Standard.RULES;
  }

  /**
   * Inference with exactly these rules (keys: op type, or {@code "domain.Op"} for other domains).
   *
   * @param rules op key to rule
   * @return inference with only these rules (copied)
   */
  public static ShapeInference of(Map<String, Rule> rules) {
    return new ShapeInference(rules);
  }

  /**
   * The op keys that have a rule.
   *
   * @return the op keys with a rule, sorted
   */
  public Set<String> opKeys() {
    return new java.util.TreeSet<>(rules.keySet());
  }

  /**
   * A copy with an added or replaced rule ({@code "domain.Op"} for non-ONNX domains).
   *
   * @param opKey the op type, or {@code "domain.Op"}
   * @param rule the shape rule
   * @return a new inference; this one is unchanged
   */
  public ShapeInference with(String opKey, Rule rule) {
    Map<String, Rule> m = new HashMap<>(rules);
    m.put(opKey, rule);
    return new ShapeInference(m);
  }

  /**
   * Infers the outputs of a node.
   *
   * @param node the node
   * @param inputs its input values (null for omitted optional inputs)
   * @param constants the constant tensor of a value, or null when it is not constant
   * @return one value per node output, with inferred type and shape
   * @throws IllegalArgumentException naming the node when its inputs or attributes do not fit the
   *     op
   */
  public List<Value> infer(Node node, List<Value> inputs, Function<Value, Tensor> constants) {
    String key = node.domain().isEmpty() ? node.opType() : node.domain() + "." + node.opType();
    Rule r = rules.get(key);
    Context ctx = new Context(node, inputs, constants);
    if (r == null) {
      DType t = inputs.isEmpty() || inputs.get(0) == null ? DType.FLOAT : inputs.get(0).dtype();
      List<Value> outs = new ArrayList<>();
      for (int i = 0; i < node.outputs().size(); i++) {
        outs.add(ctx.out(t, Shape.UNKNOWN));
      }
      return outs;
    }
    return r.infer(ctx);
  }

  // ------------------------------------------------------------------ helpers

  /**
   * Numpy broadcasting of two shapes; throws naming both values when incompatible.
   *
   * @param c the node, for the error message
   * @param a the first input
   * @param b the second input
   * @return the broadcast shape (unknown rank when either rank is unknown)
   * @throws IllegalArgumentException naming the node and both values when the shapes do not
   *     broadcast
   */
  public static Shape broadcast(Context c, Value a, Value b) {
    Shape sa = a.shape();
    Shape sb = b.shape();
    if (!sa.hasRank() || !sb.hasRank()) {
      return Shape.UNKNOWN;
    }
    int r = Math.max(sa.rank(), sb.rank());
    List<Dim> out = new ArrayList<>();
    for (int i = 0; i < r; i++) {
      int ia = i - (r - sa.rank());
      int ib = i - (r - sb.rank());
      Dim da = ia >= 0 ? sa.dims().get(ia) : Dim.of(1);
      Dim db = ib >= 0 ? sb.dims().get(ib) : Dim.of(1);
      out.add(broadcastDim(c, a, b, da, db, i - r));
    }
    return Shape.of(out);
  }

  private static Dim broadcastDim(Context c, Value a, Value b, Dim da, Dim db, int axisFromEnd) {
    if (da.equals(db)) {
      return da;
    }
    if (da.isStatic() && da.size() == 1) {
      return db;
    }
    if (db.isStatic() && db.size() == 1) {
      return da;
    }
    if (da.isStatic() && db.isStatic()) {
      throw c.fail("cannot broadcast " + a + " with " + b + ": dim " + axisFromEnd + " is " + da + " vs " + db);
    }
    return da.isStatic() ? da : db;
  }

  /**
   * Throws naming the node when two inputs differ in element type.
   *
   * @param c the node, for the error message
   * @param a the first input
   * @param b the second input
   * @throws IllegalArgumentException naming the node and both values when their types differ
   */
  public static void sameType(Context c, Value a, Value b) {
    if (a.dtype() != b.dtype()) {
      throw c.fail("input types differ: " + a + " vs " + b);
    }
  }

  /**
   * A possibly negative axis made non-negative; throws naming the node when out of range.
   *
   * @param c the node, for the error message
   * @param axis the axis, negative counting from the end
   * @param rank the input rank
   * @return the axis in [0, rank)
   * @throws IllegalArgumentException naming the node when the axis is out of range
   */
  public static int normAxis(Context c, long axis, int rank) {
    long a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= rank) {
      throw c.fail("axis " + axis + " is out of range for rank " + rank);
    }
    return (int) a;
  }

  /**
   * A single output of the given type and shape.
   *
   * @param c the node
   * @param t element type
   * @param s shape
   * @return a one-element list
   */
  public static List<Value> one(Context c, DType t, Shape s) {
    return List.of(c.out(t, s));
  }

  /**
   * Shape rule of shape-preserving ops: the output has input 0's type and shape.
   *
   * @param c the node, its input values and the constant values known for them
   * @return the node's output values with inferred types and shapes, one per output
   * @throws IllegalArgumentException naming the node when its inputs or attributes do not fit the
   *     op
   */
  public static List<Value> same(Context c) {
    Value x = c.required(0);
    return one(c, x.dtype(), x.shape());
  }

  /**
   * A dim times a constant (symbolic dims get a derived symbol).
   *
   * @param d the dim
   * @param k the factor
   * @return {@code d * k}, static when {@code d} is
   */
  public static Dim mulDim(Dim d, long k) {
    return d.isStatic() ? Dim.of(d.size() * k) : (k == 1 ? d : Dim.symbol(d.symbol() + "*" + k));
  }

  // ------------------------------------------------------------------ rules

  // ------------------------------------------------------------------ per-op rules
  // Registered with their gradient rules and FLOP counts by the op families of ai.vqclip.core.ops.

  /**
   * Shape rule of the binary arithmetic ops (Add, Sub, Mul, Div, Pow, Mod, PRelu): broadcasting.
   *
   * @param c the node, its input values and the constant values known for them
   * @return the node's output values with inferred types and shapes, one per output
   * @throws IllegalArgumentException naming the node when its inputs or attributes do not fit the
   *     op
   */
  public static List<Value> binary(Context c) {
    Value a = c.required(0);
    Value b = c.required(1);
    if (!c.node().opType().equals("Pow")) {
      sameType(c, a, b);
    }
    return one(c, a.dtype(), broadcast(c, a, b));
  }

  /**
   * Shape rule of the variadic ops (Max, Min, Sum, Mean): broadcasting over all inputs.
   *
   * @param c the node, its input values and the constant values known for them
   * @return the node's output values with inferred types and shapes, one per output
   * @throws IllegalArgumentException naming the node when its inputs or attributes do not fit the
   *     op
   */
  public static List<Value> variadic(Context c) {
    Value a = c.required(0);
    Shape s = a.shape();
    for (int i = 1; i < c.inputs().size(); i++) {
      Value b = c.required(i);
      sameType(c, a, b);
      s = broadcast(c, new Value(a.name(), a.dtype(), s), b);
    }
    return one(c, a.dtype(), s);
  }

  /**
   * Shape rule of comparisons and boolean logic: broadcasting, BOOL output.
   *
   * @param c the node, its input values and the constant values known for them
   * @return the node's output values with inferred types and shapes, one per output
   * @throws IllegalArgumentException naming the node when its inputs or attributes do not fit the
   *     op
   */
  public static List<Value> comparison(Context c) {
    Value a = c.required(0);
    Value b = c.required(1);
    sameType(c, a, b);
    return one(c, DType.BOOL, broadcast(c, a, b));
  }

  /**
   * Shape rule of Dropout.
   *
   * @param c the node, its input values and the constant values known for them
   * @return the node's output values with inferred types and shapes, one per output
   * @throws IllegalArgumentException naming the node when its inputs or attributes do not fit the
   *     op
   */
  public static List<Value> dropout(Context c) {
    Value x = c.required(0);
    List<Value> o = new ArrayList<>();
    o.add(c.out(x.dtype(), x.shape()));
    if (c.node().outputs().size() > 1) {
      o.add(c.out(DType.BOOL, x.shape()));
    }
    return o;
  }

  /**
   * Shape rule of Not.
   *
   * @param c the node, its input values and the constant values known for them
   * @return the node's output values with inferred types and shapes, one per output
   * @throws IllegalArgumentException naming the node when its inputs or attributes do not fit the
   *     op
   */
  public static List<Value> not(Context c) {
    return one(c, DType.BOOL, c.required(0).shape());
  }

  /**
   * Shape rule of IsNaN.
   *
   * @param c the node, its input values and the constant values known for them
   * @return the node's output values with inferred types and shapes, one per output
   * @throws IllegalArgumentException naming the node when its inputs or attributes do not fit the
   *     op
   */
  public static List<Value> isNaN(Context c) {
    return one(c, DType.BOOL, c.required(0).shape());
  }

  /**
   * Shape rule of IsInf.
   *
   * @param c the node, its input values and the constant values known for them
   * @return the node's output values with inferred types and shapes, one per output
   * @throws IllegalArgumentException naming the node when its inputs or attributes do not fit the
   *     op
   */
  public static List<Value> isInf(Context c) {
    return one(c, DType.BOOL, c.required(0).shape());
  }

  /**
   * Shape rule of Where.
   *
   * @param c the node, its input values and the constant values known for them
   * @return the node's output values with inferred types and shapes, one per output
   * @throws IllegalArgumentException naming the node when its inputs or attributes do not fit the
   *     op
   */
  public static List<Value> where(Context c) {
    Value cond = c.required(0);
    Value a = c.required(1);
    Value b = c.required(2);
    if (cond.dtype() != DType.BOOL) {
      throw c.fail("condition " + cond + " must be BOOL");
    }
    sameType(c, a, b);
    Shape s = broadcast(c, a, b);
    return one(c, a.dtype(), broadcast(c, cond, new Value(a.name(), a.dtype(), s)));
  }

  /**
   * Shape rule of Cast.
   *
   * @param c the node, its input values and the constant values known for them
   * @return the node's output values with inferred types and shapes, one per output
   * @throws IllegalArgumentException naming the node when its inputs or attributes do not fit the
   *     op
   */
  public static List<Value> cast(Context c) {
    return one(c, DType.fromOnnx((int) c.node().attrInt("to", -1)), c.required(0).shape());
  }

  /**
   * Shape rule of CastLike.
   *
   * @param c the node, its input values and the constant values known for them
   * @return the node's output values with inferred types and shapes, one per output
   * @throws IllegalArgumentException naming the node when its inputs or attributes do not fit the
   *     op
   */
  public static List<Value> castLike(Context c) {
    return one(c, c.required(1).dtype(), c.required(0).shape());
  }

  /**
   * Shape rule of Shape.
   *
   * @param c the node, its input values and the constant values known for them
   * @return the node's output values with inferred types and shapes, one per output
   * @throws IllegalArgumentException naming the node when its inputs or attributes do not fit the
   *     op
   */
  public static List<Value> shape(Context c) {
    Shape s = c.required(0).shape();
    return one(c, DType.INT64, s.hasRank() ? Shape.of(s.rank()) : Shape.parse("rank"));
  }

  /**
   * Shape rule of Size.
   *
   * @param c the node, its input values and the constant values known for them
   * @return the node's output values with inferred types and shapes, one per output
   * @throws IllegalArgumentException naming the node when its inputs or attributes do not fit the
   *     op
   */
  public static List<Value> size(Context c) {
    return one(c, DType.INT64, Shape.scalar());
  }

  /**
   * Shape rule of Constant.
   *
   * @param c the node, its input values and the constant values known for them
   * @return the node's output values with inferred types and shapes, one per output
   * @throws IllegalArgumentException naming the node when its inputs or attributes do not fit the
   *     op
   */
  public static List<Value> constant(Context c) {
    Attribute a = c.node().attributes().get("value");
    if (a == null) {
      throw c.fail("only the 'value' attribute is supported");
    }
    return one(c, a.asTensor().dtype(), a.asTensor().graphShape());
  }

  /**
   * Shape rule of ConstantOfShape.
   *
   * @param c the node, its input values and the constant values known for them
   * @return the node's output values with inferred types and shapes, one per output
   * @throws IllegalArgumentException naming the node when its inputs or attributes do not fit the
   *     op
   */
  public static List<Value> constantOfShape(Context c) {
    Attribute a = c.node().attributes().get("value");
    DType t = a == null ? DType.FLOAT : a.asTensor().dtype();
    Tensor shape = c.constant(0);
    return one(c, t, shape == null ? unknownRank(c.required(0)) : Shape.of(shape.toLongs()));
  }

  /**
   * Shape rule of Einsum.
   *
   * @param c the node, its input values and the constant values known for them
   * @return the node's output values with inferred types and shapes, one per output
   * @throws IllegalArgumentException naming the node when its inputs or attributes do not fit the
   *     op
   */
  public static List<Value> einsum(Context c) {
    Value a = c.required(0);
    int[] ranks = new int[c.inputs().size()];
    List<Shape> shapes = new ArrayList<>();
    for (int i = 0; i < ranks.length; i++) {
      Value v = c.required(i);
      sameType(c, a, v);
      if (!v.shape().hasRank()) {
        return one(c, a.dtype(), Shape.UNKNOWN);
      }
      ranks[i] = v.rank();
      shapes.add(v.shape());
    }
    String eq = c.node().attrString("equation", null);
    if (eq == null) {
      throw c.fail("attribute 'equation' is required");
    }
    try {
      return one(c, a.dtype(), EinsumEquation.parse(eq, ranks).outputShape(shapes));
    } catch (IllegalArgumentException e) {
      throw c.fail(e.getMessage());
    }
  }

  /**
   * Shape rule of GridSample.
   *
   * @param c the node, its input values and the constant values known for them
   * @return the node's output values with inferred types and shapes, one per output
   * @throws IllegalArgumentException naming the node when its inputs or attributes do not fit the
   *     op
   */
  public static List<Value> gridSample(Context c) {
    Value x = c.required(0);
    Value g = c.required(1);
    if (x.shape().hasRank() && x.rank() != 4) {
      throw c.fail("input " + x + " must be rank 4 [N,C,H,W]");
    }
    if (g.shape().hasRank() && (g.rank() != 4 || (g.shape().dim(3).isStatic() && g.shape().size(3) != 2))) {
      throw c.fail("grid " + g + " must be [N,Hout,Wout,2]");
    }
    if (!x.shape().hasRank() || !g.shape().hasRank()) {
      return one(c, x.dtype(), Shape.UNKNOWN);
    }
    return one(c, x.dtype(), Shape.of(List.of(x.shape().dim(0), x.shape().dim(1), g.shape().dim(1), g.shape().dim(2))));
  }

  /**
   * Shape rule of Transpose.
   *
   * @param c the node, its input values and the constant values known for them
   * @return the node's output values with inferred types and shapes, one per output
   * @throws IllegalArgumentException naming the node when its inputs or attributes do not fit the
   *     op
   */
  public static List<Value> transpose(Context c) {
    Value x = c.required(0);
    if (!x.shape().hasRank()) {
      return one(c, x.dtype(), Shape.UNKNOWN);
    }
    int r = x.rank();
    long[] perm = c.node().attrInts("perm", null);
    if (perm == null) {
      perm = new long[r];
      for (int i = 0; i < r; i++) {
        perm[i] = r - 1 - i;
      }
    }
    if (perm.length != r) {
      throw c.fail("perm " + Arrays.toString(perm) + " does not match rank " + r + " of " + x);
    }
    List<Dim> d = new ArrayList<>();
    boolean[] seen = new boolean[r];
    for (long p : perm) {
      int a = normAxis(c, p, r);
      if (seen[a]) {
        throw c.fail("perm " + Arrays.toString(perm) + " repeats axis " + a);
      }
      seen[a] = true;
      d.add(x.shape().dim(a));
    }
    return one(c, x.dtype(), Shape.of(d));
  }

  /**
   * Shape rule of Concat.
   *
   * @param c the node, its input values and the constant values known for them
   * @return the node's output values with inferred types and shapes, one per output
   * @throws IllegalArgumentException naming the node when its inputs or attributes do not fit the
   *     op
   */
  public static List<Value> concat(Context c) {
    Value a = c.required(0);
    long axis = c.node().attrInt("axis", Long.MIN_VALUE);
    if (axis == Long.MIN_VALUE) {
      throw c.fail("attribute 'axis' is required");
    }
    if (!a.shape().hasRank()) {
      return one(c, a.dtype(), Shape.UNKNOWN);
    }
    int r = a.rank();
    int ax = normAxis(c, axis, r);
    List<Dim> d = new ArrayList<>(a.shape().dims());
    Dim acc = d.get(ax);
    for (int i = 1; i < c.inputs().size(); i++) {
      Value b = c.required(i);
      sameType(c, a, b);
      if (!b.shape().hasRank()) {
        return one(c, a.dtype(), Shape.UNKNOWN);
      }
      if (b.rank() != r) {
        throw c.fail("inputs have different ranks: " + a + " vs " + b);
      }
      for (int k = 0; k < r; k++) {
        if (k == ax) {
          continue;
        }
        Dim x = d.get(k);
        Dim y = b.shape().dim(k);
        if (x.isStatic() && y.isStatic() && x.size() != y.size()) {
          throw c.fail("inputs differ outside axis " + ax + ": " + a + " vs " + b);
        }
      }
      Dim bd = b.shape().dim(ax);
      acc = acc.isStatic() && bd.isStatic() ? Dim.of(acc.size() + bd.size()) : Dim.symbol("concat");
    }
    d.set(ax, acc);
    return one(c, a.dtype(), Shape.of(d));
  }

  /**
   * Shape rule of Gather.
   *
   * @param c the node, its input values and the constant values known for them
   * @return the node's output values with inferred types and shapes, one per output
   * @throws IllegalArgumentException naming the node when its inputs or attributes do not fit the
   *     op
   */
  public static List<Value> gather(Context c) {
    Value x = c.required(0);
    Value idx = c.required(1);
    if (idx.dtype() != DType.INT64 && idx.dtype() != DType.INT32) {
      throw c.fail("indices " + idx + " must be INT64 or INT32");
    }
    if (!x.shape().hasRank() || !idx.shape().hasRank()) {
      return one(c, x.dtype(), Shape.UNKNOWN);
    }
    int ax = normAxis(c, c.node().attrInt("axis", 0), x.rank());
    List<Dim> d = new ArrayList<>(x.shape().dims().subList(0, ax));
    d.addAll(idx.shape().dims());
    d.addAll(x.shape().dims().subList(ax + 1, x.rank()));
    return one(c, x.dtype(), Shape.of(d));
  }

  /**
   * Shape rule of GatherElements.
   *
   * @param c the node, its input values and the constant values known for them
   * @return the node's output values with inferred types and shapes, one per output
   * @throws IllegalArgumentException naming the node when its inputs or attributes do not fit the
   *     op
   */
  public static List<Value> gatherElements(Context c) {
    return one(c, c.required(0).dtype(), c.required(1).shape());
  }

  /**
   * Shape rule of Unsqueeze.
   *
   * @param c the node, its input values and the constant values known for them
   * @return the node's output values with inferred types and shapes, one per output
   * @throws IllegalArgumentException naming the node when its inputs or attributes do not fit the
   *     op
   */
  public static List<Value> unsqueeze(Context c) {
    Value x = c.required(0);
    Tensor axesT = c.constant(1);
    if (axesT == null || !x.shape().hasRank()) {
      return one(c, x.dtype(), Shape.UNKNOWN);
    }
    long[] axes = axesT.toLongs();
    int r = x.rank() + axes.length;
    boolean[] isNew = new boolean[r];
    for (long a : axes) {
      int n = normAxis(c, a, r);
      if (isNew[n]) {
        throw c.fail("axes " + Arrays.toString(axes) + " repeat an axis");
      }
      isNew[n] = true;
    }
    List<Dim> d = new ArrayList<>();
    int k = 0;
    for (int i = 0; i < r; i++) {
      d.add(isNew[i] ? Dim.of(1) : x.shape().dim(k++));
    }
    return one(c, x.dtype(), Shape.of(d));
  }

  /**
   * Shape rule of Squeeze.
   *
   * @param c the node, its input values and the constant values known for them
   * @return the node's output values with inferred types and shapes, one per output
   * @throws IllegalArgumentException naming the node when its inputs or attributes do not fit the
   *     op
   */
  public static List<Value> squeeze(Context c) {
    Value x = c.required(0);
    if (!x.shape().hasRank()) {
      return one(c, x.dtype(), Shape.UNKNOWN);
    }
    Tensor axesT = c.constant(1);
    if (c.in(1) != null && axesT == null) {
      return one(c, x.dtype(), Shape.UNKNOWN);
    }
    List<Dim> d = new ArrayList<>();
    Set<Integer> drop = new java.util.HashSet<>();
    if (axesT != null) {
      for (long a : axesT.toLongs()) {
        int n = normAxis(c, a, x.rank());
        Dim dd = x.shape().dim(n);
        if (dd.isStatic() && dd.size() != 1) {
          throw c.fail("cannot squeeze axis " + a + " of " + x + ": size is " + dd.size());
        }
        drop.add(n);
      }
    } else {
      for (int i = 0; i < x.rank(); i++) {
        if (!x.shape().dim(i).isStatic()) {
          return one(c, x.dtype(), Shape.UNKNOWN);
        }
        if (x.shape().size(i) == 1) {
          drop.add(i);
        }
      }
    }
    for (int i = 0; i < x.rank(); i++) {
      if (!drop.contains(i)) {
        d.add(x.shape().dim(i));
      }
    }
    return one(c, x.dtype(), Shape.of(d));
  }

  /**
   * Shape rule of Flatten.
   *
   * @param c the node, its input values and the constant values known for them
   * @return the node's output values with inferred types and shapes, one per output
   * @throws IllegalArgumentException naming the node when its inputs or attributes do not fit the
   *     op
   */
  public static List<Value> flatten(Context c) {
    Value x = c.required(0);
    if (!x.shape().hasRank()) {
      return one(c, x.dtype(), Shape.parse("flat0", "flat1"));
    }
    long axis = c.node().attrInt("axis", 1);
    int ax = axis < 0 ? (int) axis + x.rank() : (int) axis;
    if (ax < 0 || ax > x.rank()) {
      throw c.fail("axis " + axis + " is out of range for rank " + x.rank());
    }
    return one(c, x.dtype(), Shape.of(List.of(prod(x.shape().dims().subList(0, ax)), prod(x.shape().dims().subList(ax, x.rank())))));
  }

  /**
   * Shape rule of Expand.
   *
   * @param c the node, its input values and the constant values known for them
   * @return the node's output values with inferred types and shapes, one per output
   * @throws IllegalArgumentException naming the node when its inputs or attributes do not fit the
   *     op
   */
  public static List<Value> expand(Context c) {
    Value x = c.required(0);
    Tensor s = c.constant(1);
    if (s == null) {
      return one(c, x.dtype(), unknownRank(c.required(1)));
    }
    Value target = new Value(c.required(1).name(), x.dtype(), Shape.of(s.toLongs()));
    return one(c, x.dtype(), broadcast(c, x, target));
  }

  /**
   * Shape rule of Tile.
   *
   * @param c the node, its input values and the constant values known for them
   * @return the node's output values with inferred types and shapes, one per output
   * @throws IllegalArgumentException naming the node when its inputs or attributes do not fit the
   *     op
   */
  public static List<Value> tile(Context c) {
    Value x = c.required(0);
    Tensor rep = c.constant(1);
    if (rep == null || !x.shape().hasRank()) {
      return one(c, x.dtype(), x.shape().hasRank() ? unknownDims(x.rank()) : Shape.UNKNOWN);
    }
    long[] r = rep.toLongs();
    if (r.length != x.rank()) {
      throw c.fail("repeats " + Arrays.toString(r) + " must have one entry per axis of " + x);
    }
    List<Dim> d = new ArrayList<>();
    for (int i = 0; i < r.length; i++) {
      d.add(mulDim(x.shape().dim(i), r[i]));
    }
    return one(c, x.dtype(), Shape.of(d));
  }

  /**
   * Shape rule of Pad.
   *
   * @param c the node, its input values and the constant values known for them
   * @return the node's output values with inferred types and shapes, one per output
   * @throws IllegalArgumentException naming the node when its inputs or attributes do not fit the
   *     op
   */
  public static List<Value> pad(Context c) {
    Value x = c.required(0);
    Tensor pads = c.constant(1);
    if (pads == null || !x.shape().hasRank()) {
      return one(c, x.dtype(), x.shape().hasRank() ? unknownDims(x.rank()) : Shape.UNKNOWN);
    }
    int r = x.rank();
    Tensor axesT = c.constant(3);
    long[][] ba = padsPerAxis(c.node(), r, pads.toLongs(), axesT == null ? null : axesT.toLongs());
    List<Dim> d = new ArrayList<>(x.shape().dims());
    for (int a = 0; a < r; a++) {
      Dim dd = d.get(a);
      long add = ba[0][a] + ba[1][a];
      if (add != 0) {
        d.set(a, dd.isStatic() ? Dim.of(dd.size() + add) : Dim.symbol(dd.symbol() + "+" + add));
      }
    }
    return one(c, x.dtype(), Shape.of(d));
  }

  /**
   * Shape rule of LayerNormalization.
   *
   * @param c the node, its input values and the constant values known for them
   * @return the node's output values with inferred types and shapes, one per output
   * @throws IllegalArgumentException naming the node when its inputs or attributes do not fit the
   *     op
   */
  public static List<Value> layerNormalization(Context c) {
    Value x = c.required(0);
    List<Value> o = new ArrayList<>();
    o.add(c.out(x.dtype(), x.shape()));
    if (c.node().outputs().size() > 1) {
      Shape stat = Shape.UNKNOWN;
      if (x.shape().hasRank()) {
        int ax = normAxis(c, c.node().attrInt("axis", -1), x.rank());
        List<Dim> d = new ArrayList<>(x.shape().dims());
        for (int i = ax; i < d.size(); i++) {
          d.set(i, Dim.of(1));
        }
        stat = Shape.of(d);
      }
      DType st = DType.fromOnnx((int) c.node().attrInt("stash_type", 1));
      for (int i = 1; i < c.node().outputs().size(); i++) {
        o.add(c.out(st, stat));
      }
    }
    return o;
  }

  /**
   * Shape rule of TopK.
   *
   * @param c the node, its input values and the constant values known for them
   * @return the node's output values with inferred types and shapes, one per output
   * @throws IllegalArgumentException naming the node when its inputs or attributes do not fit the
   *     op
   */
  public static List<Value> topK(Context c) {
    Value x = c.required(0);
    Tensor k = c.constant(1);
    if (k == null || !x.shape().hasRank()) {
      return List.of(c.out(x.dtype(), Shape.UNKNOWN), c.out(DType.INT64, Shape.UNKNOWN));
    }
    List<Dim> d = new ArrayList<>(x.shape().dims());
    d.set(normAxis(c, c.node().attrInt("axis", -1), x.rank()), Dim.of(k.toLongs()[0]));
    return List.of(c.out(x.dtype(), Shape.of(d)), c.out(DType.INT64, Shape.of(d)));
  }

  /**
   * Shape rule of Range.
   *
   * @param c the node, its input values and the constant values known for them
   * @return the node's output values with inferred types and shapes, one per output
   * @throws IllegalArgumentException naming the node when its inputs or attributes do not fit the
   *     op
   */
  public static List<Value> range(Context c) {
    Tensor s = c.constant(0);
    Tensor l = c.constant(1);
    Tensor d = c.constant(2);
    DType t = c.required(0).dtype();
    if (s == null || l == null || d == null) {
      return one(c, t, Shape.parse("range"));
    }
    double n = Math.ceil((l.toDoubles()[0] - s.toDoubles()[0]) / d.toDoubles()[0]);
    return one(c, t, Shape.of((long) Math.max(0, n)));
  }

  /**
   * The product of dims (a symbol when any is symbolic).
   *
   * @param ds the dims
   * @return their product, or a symbol joining their names when any is symbolic
   */
  public static Dim prod(List<Dim> ds) {
    long p = 1;
    for (Dim d : ds) {
      if (!d.isStatic()) {
        return Dim.symbol("flat");
      }
      p *= d.size();
    }
    return Dim.of(p);
  }

  /**
   * A shape of the given rank whose dims are all unknown symbols.
   *
   * @param rank the rank
   * @return a shape with dims {@code d0 .. d<rank-1>}
   */
  public static Shape unknownDims(int rank) {
    List<Dim> d = new ArrayList<>();
    for (int i = 0; i < rank; i++) {
      d.add(Dim.symbol("d" + i));
    }
    return Shape.of(d);
  }

  /**
   * The shape a 1-D shape vector of static length describes, with unknown dims.
   *
   * @param shapeVector a value holding a shape (e.g. Reshape's second input)
   * @return a shape with as many unknown dims as the vector's length, or {@link Shape#UNKNOWN} when
   *     the length is not static
   */
  public static Shape unknownRank(Value shapeVector) {
    if (shapeVector.shape().hasRank() && shapeVector.rank() == 1 && shapeVector.shape().dim(0).isStatic()) {
      return unknownDims((int) shapeVector.shape().size(0));
    }
    return Shape.UNKNOWN;
  }

  /**
   * Shape rule of MatMul (numpy matmul: vectors, batch broadcasting).
   *
   * @param c the node, its input values and the constant values known for them
   * @return the node's output values with inferred types and shapes, one per output
   * @throws IllegalArgumentException naming the node when its inputs or attributes do not fit the
   *     op
   */
  public static List<Value> matmul(Context c) {
    Value a = c.required(0);
    Value b = c.required(1);
    sameType(c, a, b);
    if (!a.shape().hasRank() || !b.shape().hasRank()) {
      return one(c, a.dtype(), Shape.UNKNOWN);
    }
    if (a.rank() == 0 || b.rank() == 0) {
      throw c.fail("MatMul inputs must have rank >= 1: " + a + ", " + b);
    }
    List<Dim> da = new ArrayList<>(a.shape().dims());
    List<Dim> db = new ArrayList<>(b.shape().dims());
    boolean va = da.size() == 1;
    boolean vb = db.size() == 1;
    if (va) {
      da.add(0, Dim.of(1));
    }
    if (vb) {
      db.add(Dim.of(1));
    }
    Dim ka = da.get(da.size() - 1);
    Dim kb = db.get(db.size() - 2);
    if (ka.isStatic() && kb.isStatic() && ka.size() != kb.size()) {
      throw c.fail("inner dimensions differ: " + a + " has " + ka + ", " + b + " has " + kb);
    }
    Shape batchA = Shape.of(da.subList(0, da.size() - 2));
    Shape batchB = Shape.of(db.subList(0, db.size() - 2));
    Shape batch = broadcast(c, new Value(a.name(), a.dtype(), batchA), new Value(b.name(), b.dtype(), batchB));
    List<Dim> out = new ArrayList<>(batch.dims());
    if (!va) {
      out.add(da.get(da.size() - 2));
    }
    if (!vb) {
      out.add(db.get(db.size() - 1));
    }
    return one(c, a.dtype(), Shape.of(out));
  }

  /**
   * Shape rule of Gemm (transA/transB, C broadcast to the result).
   *
   * @param c the node, its input values and the constant values known for them
   * @return the node's output values with inferred types and shapes, one per output
   * @throws IllegalArgumentException naming the node when its inputs or attributes do not fit the
   *     op
   */
  public static List<Value> gemm(Context c) {
    Value a = c.required(0);
    Value b = c.required(1);
    sameType(c, a, b);
    if (!a.shape().hasRank() || !b.shape().hasRank()) {
      return one(c, a.dtype(), Shape.UNKNOWN);
    }
    if (a.rank() != 2 || b.rank() != 2) {
      throw c.fail("Gemm inputs must be rank 2: " + a + ", " + b);
    }
    boolean ta = c.node().attrInt("transA", 0) != 0;
    boolean tb = c.node().attrInt("transB", 0) != 0;
    Dim m = a.shape().dim(ta ? 1 : 0);
    Dim ka = a.shape().dim(ta ? 0 : 1);
    Dim kb = b.shape().dim(tb ? 1 : 0);
    Dim n = b.shape().dim(tb ? 0 : 1);
    if (ka.isStatic() && kb.isStatic() && ka.size() != kb.size()) {
      throw c.fail("inner dimensions differ: " + a + " (transA=" + ta + ") vs " + b + " (transB=" + tb + ")");
    }
    Shape s = Shape.of(List.of(m, n));
    Value cc = c.in(2);
    if (cc != null && cc.shape().hasRank()) {
      Shape bs = broadcast(c, new Value("AB", a.dtype(), s), cc);
      if (!bs.equals(s)) {
        throw c.fail("C " + cc + " must broadcast to " + s);
      }
    }
    return one(c, a.dtype(), s);
  }

  /**
   * Spatial attributes of Conv/ConvTranspose/pools, with defaults filled.
   *
   * @param kernel kernel size per spatial axis
   * @param strides stride per spatial axis (default 1)
   * @param pads padding, all begins then all ends (default 0)
   * @param dilations dilation per spatial axis (default 1)
   */
  public record Spatial(long[] kernel, long[] strides, long[] pads, long[] dilations) {}

  /**
   * Reads kernel_shape/strides/pads/dilations with ONNX defaults; rejects auto_pad other than
   * NOTSET.
   *
   * @param n the node
   * @param spatialRank number of spatial axes (input rank minus 2)
   * @param kernelFromWeights the kernel size from the weight shape, or null to require {@code
   *     kernel_shape}
   * @return the attributes, each with {@code spatialRank} entries ({@code pads} with twice that)
   * @throws IllegalArgumentException naming the node for auto_pad other than NOTSET or attributes
   *     of the wrong length
   */
  public static Spatial spatial(Node n, int spatialRank, long[] kernelFromWeights) {
    String autoPad = n.attrString("auto_pad", "NOTSET");
    if (!autoPad.equals("NOTSET")) {
      throw new IllegalArgumentException(n.describe() + ": auto_pad=" + autoPad + " is not supported; use explicit pads");
    }
    long[] k = n.attrInts("kernel_shape", kernelFromWeights);
    if (k == null || k.length != spatialRank) {
      throw new IllegalArgumentException(n.describe() + ": kernel_shape " + Arrays.toString(k) + " must have " + spatialRank + " entries");
    }
    long[] s = n.attrInts("strides", filledArray(spatialRank, 1));
    long[] p = n.attrInts("pads", filledArray(2 * spatialRank, 0));
    long[] d = n.attrInts("dilations", filledArray(spatialRank, 1));
    if (s.length != spatialRank || p.length != 2 * spatialRank || d.length != spatialRank) {
      throw new IllegalArgumentException(n.describe() + ": strides/pads/dilations lengths do not match spatial rank " + spatialRank);
    }
    return new Spatial(k, s, p, d);
  }

  private static long[] filledArray(int n, long v) {
    long[] a = new long[n];
    Arrays.fill(a, v);
    return a;
  }

  /**
   * Shape rule of Conv.
   *
   * @param c the node, its input values and the constant values known for them
   * @return the node's output values with inferred types and shapes, one per output
   * @throws IllegalArgumentException naming the node when its inputs or attributes do not fit the
   *     op
   */
  public static List<Value> conv(Context c) {
    Value x = c.required(0);
    Value w = c.required(1);
    sameType(c, x, w);
    if (!x.shape().hasRank() || !w.shape().isStatic()) {
      return one(c, x.dtype(), Shape.UNKNOWN);
    }
    int sr = x.rank() - 2;
    if (sr < 1 || w.rank() != x.rank()) {
      throw c.fail("input " + x + " and weight " + w + " must have equal rank >= 3");
    }
    long[] ws = w.shape().toArray();
    Spatial sp = spatial(c.node(), sr, Arrays.copyOfRange(ws, 2, ws.length));
    long group = c.node().attrInt("group", 1);
    Dim cin = x.shape().dim(1);
    if (cin.isStatic() && cin.size() != ws[1] * group) {
      throw c.fail("input " + x + " has " + cin + " channels but weight " + w + " with group=" + group + " expects " + ws[1] * group);
    }
    if (ws[0] % group != 0) {
      throw c.fail("weight " + w + " output channels not divisible by group " + group);
    }
    Value bias = c.in(2);
    if (bias != null && bias.shape().isStatic() && (bias.rank() != 1 || bias.shape().size(0) != ws[0])) {
      throw c.fail("bias " + bias + " must be [" + ws[0] + "]");
    }
    List<Dim> d = new ArrayList<>();
    d.add(x.shape().dim(0));
    d.add(Dim.of(ws[0]));
    for (int i = 0; i < sr; i++) {
      Dim in = x.shape().dim(2 + i);
      if (!in.isStatic()) {
        d.add(Dim.symbol(in.symbol() + "'"));
        continue;
      }
      long eff = sp.dilations()[i] * (sp.kernel()[i] - 1) + 1;
      long o = Math.floorDiv(in.size() + sp.pads()[i] + sp.pads()[i + sr] - eff, sp.strides()[i]) + 1;
      if (o < 1) {
        throw c.fail("input " + x + " is too small for kernel " + Arrays.toString(sp.kernel()) + " with pads " + Arrays.toString(sp.pads()));
      }
      d.add(Dim.of(o));
    }
    return one(c, x.dtype(), Shape.of(d));
  }

  /**
   * Shape rule of ConvTranspose.
   *
   * @param c the node, its input values and the constant values known for them
   * @return the node's output values with inferred types and shapes, one per output
   * @throws IllegalArgumentException naming the node when its inputs or attributes do not fit the
   *     op
   */
  public static List<Value> convTranspose(Context c) {
    Value x = c.required(0);
    Value w = c.required(1);
    sameType(c, x, w);
    if (!x.shape().hasRank() || !w.shape().isStatic()) {
      return one(c, x.dtype(), Shape.UNKNOWN);
    }
    int sr = x.rank() - 2;
    long[] ws = w.shape().toArray();
    if (sr < 1 || ws.length != x.rank()) {
      throw c.fail("input " + x + " and weight " + w + " must have equal rank >= 3");
    }
    Spatial sp = spatial(c.node(), sr, Arrays.copyOfRange(ws, 2, ws.length));
    long group = c.node().attrInt("group", 1);
    Dim cin = x.shape().dim(1);
    if (cin.isStatic() && cin.size() != ws[0]) {
      throw c.fail("input " + x + " has " + cin + " channels but weight " + w + " expects " + ws[0]);
    }
    long[] outPad = c.node().attrInts("output_padding", filledArray(sr, 0));
    long[] outShape = c.node().attrInts("output_shape", null);
    List<Dim> d = new ArrayList<>();
    d.add(x.shape().dim(0));
    d.add(Dim.of(ws[1] * group));
    for (int i = 0; i < sr; i++) {
      Dim in = x.shape().dim(2 + i);
      if (outShape != null) {
        d.add(Dim.of(outShape[outShape.length - sr + i]));
      } else if (!in.isStatic()) {
        d.add(Dim.symbol(in.symbol() + "'"));
      } else {
        long o = sp.strides()[i] * (in.size() - 1) + outPad[i] + ((sp.kernel()[i] - 1) * sp.dilations()[i] + 1)
            - sp.pads()[i] - sp.pads()[i + sr];
        d.add(Dim.of(o));
      }
    }
    return one(c, x.dtype(), Shape.of(d));
  }

  /**
   * Shape rule of AveragePool and MaxPool.
   *
   * @param c the node, its input values and the constant values known for them
   * @return the node's output values with inferred types and shapes, one per output
   * @throws IllegalArgumentException naming the node when its inputs or attributes do not fit the
   *     op
   */
  public static List<Value> pool(Context c) {
    Value x = c.required(0);
    if (!x.shape().hasRank()) {
      return one(c, x.dtype(), Shape.UNKNOWN);
    }
    int sr = x.rank() - 2;
    Spatial sp = spatial(c.node(), sr, null);
    boolean ceil = c.node().attrInt("ceil_mode", 0) != 0;
    List<Dim> d = new ArrayList<>(x.shape().dims().subList(0, 2));
    for (int i = 0; i < sr; i++) {
      Dim in = x.shape().dim(2 + i);
      if (!in.isStatic()) {
        d.add(Dim.symbol(in.symbol() + "'"));
        continue;
      }
      long eff = sp.dilations()[i] * (sp.kernel()[i] - 1) + 1;
      long num = in.size() + sp.pads()[i] + sp.pads()[i + sr] - eff;
      long o = (ceil ? Math.floorDiv(num + sp.strides()[i] - 1, sp.strides()[i]) : Math.floorDiv(num, sp.strides()[i])) + 1;
      if (o < 1) {
        throw c.fail("input " + x + " is too small for kernel " + Arrays.toString(sp.kernel()));
      }
      d.add(Dim.of(o));
    }
    List<Value> out = new ArrayList<>();
    out.add(c.out(x.dtype(), Shape.of(d)));
    if (c.node().outputs().size() > 1) {
      out.add(c.out(DType.INT64, Shape.of(d)));
    }
    return out;
  }

  /**
   * Shape rule of GlobalAveragePool and GlobalMaxPool: spatial dims become 1.
   *
   * @param c the node, its input values and the constant values known for them
   * @return the node's output values with inferred types and shapes, one per output
   * @throws IllegalArgumentException naming the node when its inputs or attributes do not fit the
   *     op
   */
  public static List<Value> globalPool(Context c) {
    Value x = c.required(0);
    if (!x.shape().hasRank()) {
      return one(c, x.dtype(), Shape.UNKNOWN);
    }
    List<Dim> d = new ArrayList<>(x.shape().dims().subList(0, 2));
    for (int i = 2; i < x.rank(); i++) {
      d.add(Dim.of(1));
    }
    return one(c, x.dtype(), Shape.of(d));
  }

  /**
   * Shape rule of Resize (scales or sizes for every axis).
   *
   * @param c the node, its input values and the constant values known for them
   * @return the node's output values with inferred types and shapes, one per output
   * @throws IllegalArgumentException naming the node when its inputs or attributes do not fit the
   *     op
   */
  public static List<Value> resize(Context c) {
    Value x = c.required(0);
    Tensor scales = c.constant(2);
    Tensor sizes = c.constant(3);
    if (!x.shape().hasRank()) {
      return one(c, x.dtype(), Shape.UNKNOWN);
    }
    if (c.node().attributes().containsKey("axes")) {
      throw c.fail("the 'axes' attribute is not supported; give scales or sizes for every axis");
    }
    if (sizes != null && sizes.elementCount() > 0) {
      long[] s = sizes.toLongs();
      if (s.length != x.rank()) {
        throw c.fail("sizes " + Arrays.toString(s) + " must have one entry per axis of " + x);
      }
      return one(c, x.dtype(), Shape.of(s));
    }
    if (scales != null && scales.elementCount() > 0) {
      double[] s = scales.toDoubles();
      if (s.length != x.rank()) {
        throw c.fail("scales " + Arrays.toString(s) + " must have one entry per axis of " + x);
      }
      List<Dim> d = new ArrayList<>();
      for (int i = 0; i < s.length; i++) {
        Dim in = x.shape().dim(i);
        d.add(in.isStatic() ? Dim.of((long) Math.floor(in.size() * s[i])) : (s[i] == 1 ? in : Dim.symbol(in.symbol() + "*s")));
      }
      return one(c, x.dtype(), Shape.of(d));
    }
    return one(c, x.dtype(), unknownDims(x.rank()));
  }

  /**
   * Shape rule of Reshape (0 copies a dim, -1 infers one).
   *
   * @param c the node, its input values and the constant values known for them
   * @return the node's output values with inferred types and shapes, one per output
   * @throws IllegalArgumentException naming the node when its inputs or attributes do not fit the
   *     op
   */
  public static List<Value> reshape(Context c) {
    Value x = c.required(0);
    Tensor s = c.constant(1);
    if (s == null) {
      return one(c, x.dtype(), unknownRank(c.required(1)));
    }
    long[] t = s.toLongs();
    boolean allowZero = c.node().attrInt("allowzero", 0) != 0;
    List<Dim> d = new ArrayList<>();
    int infer = -1;
    for (int i = 0; i < t.length; i++) {
      if (t[i] == 0 && !allowZero) {
        if (!x.shape().hasRank() || i >= x.rank()) {
          throw c.fail("shape " + Arrays.toString(t) + " copies dim " + i + " that " + x + " does not have");
        }
        d.add(x.shape().dim(i));
      } else if (t[i] == -1) {
        if (infer >= 0) {
          throw c.fail("shape " + Arrays.toString(t) + " has more than one -1");
        }
        infer = i;
        d.add(null);
      } else if (t[i] < 0) {
        throw c.fail("shape " + Arrays.toString(t) + " has a negative entry");
      } else {
        d.add(Dim.of(t[i]));
      }
    }
    if (x.shape().isStatic()) {
      long total = x.shape().elementCount();
      long known = 1;
      for (Dim dd : d) {
        if (dd != null) {
          known *= dd.size();
        }
      }
      if (infer >= 0) {
        if (known == 0 || total % known != 0) {
          throw c.fail("cannot reshape " + x + " (" + total + " elements) to " + Arrays.toString(t));
        }
        d.set(infer, Dim.of(total / known));
      } else if (known != total) {
        throw c.fail("cannot reshape " + x + " (" + total + " elements) to " + Arrays.toString(t) + " (" + known + ")");
      }
    } else if (infer >= 0) {
      d.set(infer, Dim.symbol("reshaped"));
    }
    return one(c, x.dtype(), Shape.of(d));
  }

  /**
   * Shape rule of Split.
   *
   * @param c the node, its input values and the constant values known for them
   * @return the node's output values with inferred types and shapes, one per output
   * @throws IllegalArgumentException naming the node when its inputs or attributes do not fit the
   *     op
   */
  public static List<Value> split(Context c) {
    Value x = c.required(0);
    int n = c.node().outputs().size();
    if (!x.shape().hasRank()) {
      List<Value> o = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        o.add(c.out(x.dtype(), Shape.UNKNOWN));
      }
      return o;
    }
    int ax = normAxis(c, c.node().attrInt("axis", 0), x.rank());
    Dim dim = x.shape().dim(ax);
    long[] parts;
    Tensor splitT = c.constant(1);
    if (splitT != null) {
      parts = splitT.toLongs();
      if (parts.length != n) {
        throw c.fail("split " + Arrays.toString(parts) + " has " + parts.length + " entries for " + n + " outputs");
      }
      if (dim.isStatic() && Arrays.stream(parts).sum() != dim.size()) {
        throw c.fail("split " + Arrays.toString(parts) + " does not sum to dim " + ax + " of " + x);
      }
    } else if (c.in(1) != null || !dim.isStatic()) {
      List<Value> o = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        List<Dim> d = new ArrayList<>(x.shape().dims());
        d.set(ax, Dim.symbol("split" + i));
        o.add(c.out(x.dtype(), Shape.of(d)));
      }
      return o;
    } else {
      long size = dim.size();
      long chunk = (size + n - 1) / n;
      parts = new long[n];
      long left = size;
      for (int i = 0; i < n; i++) {
        parts[i] = Math.min(chunk, left);
        left -= parts[i];
      }
    }
    List<Value> o = new ArrayList<>();
    for (long p : parts) {
      List<Dim> d = new ArrayList<>(x.shape().dims());
      d.set(ax, Dim.of(p));
      o.add(c.out(x.dtype(), Shape.of(d)));
    }
    return o;
  }

  /**
   * Pad's {@code pads} (and optional {@code axes}) as per-axis amounts: {@code [0][a]} before and
   * {@code [1][a]} after axis {@code a}.
   *
   * @param n the node, for the error message
   * @param rank the input rank
   * @param pads Pad's pads input: all befores, then all afters
   * @param axes Pad's axes input, or null for all axes
   * @return a [2][rank] array of amounts
   * @throws IllegalArgumentException naming the node for a length mismatch or an axis out of range
   */
  public static long[][] padsPerAxis(Node n, int rank, long[] pads, long[] axes) {
    if (axes == null) {
      axes = new long[rank];
      for (int i = 0; i < rank; i++) {
        axes[i] = i;
      }
    }
    if (pads.length != 2 * axes.length) {
      throw new IllegalArgumentException(n.describe() + ": pads " + Arrays.toString(pads) + " must have 2 entries per padded axis ("
          + axes.length + " axes)");
    }
    long[][] out = new long[2][rank];
    for (int i = 0; i < axes.length; i++) {
      long a = axes[i] < 0 ? axes[i] + rank : axes[i];
      if (a < 0 || a >= rank) {
        throw new IllegalArgumentException(n.describe() + ": axis " + axes[i] + " is out of range for rank " + rank);
      }
      out[0][(int) a] = pads[i];
      out[1][(int) a] = pads[i + axes.length];
    }
    return out;
  }

  /**
   * Normalized static slice parameters for one axis.
   *
   * @param axis the axis, non-negative
   * @param start first index taken, clamped
   * @param end end index (exclusive for positive steps), clamped
   * @param step the step, not 0
   * @param count number of elements taken
   */
  public record SliceAxis(int axis, long start, long end, long step, long count) {}

  /**
   * Resolves Slice's starts/ends/axes/steps against a static input shape, as ONNX clamps them.
   *
   * @param n the node, for the error message
   * @param shape the static input shape
   * @param starts Slice's starts
   * @param ends Slice's ends
   * @param axes Slice's axes, or null for 0 .. starts.length-1
   * @param steps Slice's steps, or null for all 1
   * @return one entry per sliced axis, start and end clamped as ONNX does
   * @throws IllegalArgumentException naming the node for lengths that differ, an axis out of range
   *     or a zero step
   */
  public static List<SliceAxis> sliceAxes(Node n, long[] shape, long[] starts, long[] ends, long[] axes, long[] steps) {
    int r = shape.length;
    if (axes == null) {
      axes = new long[starts.length];
      for (int i = 0; i < axes.length; i++) {
        axes[i] = i;
      }
    }
    if (steps == null) {
      steps = filledArray(starts.length, 1);
    }
    if (ends.length != starts.length || axes.length != starts.length || steps.length != starts.length) {
      throw new IllegalArgumentException(n.describe() + ": starts, ends, axes and steps must have the same length");
    }
    List<SliceAxis> out = new ArrayList<>();
    for (int i = 0; i < starts.length; i++) {
      long a = axes[i] < 0 ? axes[i] + r : axes[i];
      if (a < 0 || a >= r) {
        throw new IllegalArgumentException(n.describe() + ": axis " + axes[i] + " out of range for rank " + r);
      }
      long dim = shape[(int) a];
      long step = steps[i];
      if (step == 0) {
        throw new IllegalArgumentException(n.describe() + ": step must not be 0");
      }
      long s = starts[i] < 0 ? starts[i] + dim : starts[i];
      long e = ends[i] < 0 ? ends[i] + dim : ends[i];
      if (ends[i] >= Long.MAX_VALUE / 2) {
        e = dim;
      }
      if (ends[i] <= Long.MIN_VALUE / 2) {
        e = -1;
      }
      long count;
      if (step > 0) {
        s = Math.max(0, Math.min(s, dim));
        e = Math.max(0, Math.min(e, dim));
        count = e > s ? (e - s + step - 1) / step : 0;
      } else {
        s = Math.max(-1, Math.min(s, dim - 1));
        e = Math.max(-1, Math.min(e, dim - 1));
        count = s > e ? (s - e + (-step) - 1) / (-step) : 0;
      }
      out.add(new SliceAxis((int) a, s, e, step, count));
    }
    return out;
  }

  /**
   * Shape rule of Slice.
   *
   * @param c the node, its input values and the constant values known for them
   * @return the node's output values with inferred types and shapes, one per output
   * @throws IllegalArgumentException naming the node when its inputs or attributes do not fit the
   *     op
   */
  public static List<Value> slice(Context c) {
    Value x = c.required(0);
    Tensor starts = c.constant(1);
    Tensor ends = c.constant(2);
    Tensor axes = c.constant(3);
    Tensor steps = c.constant(4);
    boolean constOk = starts != null && ends != null && (c.in(3) == null || axes != null) && (c.in(4) == null || steps != null);
    if (!x.shape().isStatic() || !constOk) {
      return one(c, x.dtype(), x.shape().hasRank() ? unknownDims(x.rank()) : Shape.UNKNOWN);
    }
    long[] shape = x.shape().toArray();
    long[] out = shape.clone();
    for (SliceAxis s : sliceAxes(c.node(), shape, starts.toLongs(), ends.toLongs(), axes == null ? null : axes.toLongs(), steps == null ? null : steps.toLongs())) {
      out[s.axis()] = s.count();
    }
    return one(c, x.dtype(), Shape.of(out));
  }

  /**
   * The axes a Reduce* node reduces (sorted, non-negative), or null for all; {@code axesInput} may
   * be null.
   *
   * @param n the node
   * @param rank the input rank
   * @param axesInput the constant axes input (opset 18), or null to use the {@code axes} attribute
   * @return the reduced axes; null for all; empty when no axes are given and {@code
   *     noop_with_empty_axes} is set
   * @throws IllegalArgumentException naming the node for an axis out of range
   */
  public static long[] reduceAxes(Node n, int rank, Tensor axesInput) {
    long[] axes = n.attrInts("axes", null);
    if (axesInput != null) {
      axes = axesInput.toLongs();
    }
    if (axes == null || axes.length == 0) {
      return n.attrInt("noop_with_empty_axes", 0) != 0 ? new long[0] : null;
    }
    long[] a = new long[axes.length];
    for (int i = 0; i < axes.length; i++) {
      a[i] = axes[i] < 0 ? axes[i] + rank : axes[i];
      if (a[i] < 0 || a[i] >= rank) {
        throw new IllegalArgumentException(n.describe() + ": axis " + axes[i] + " out of range for rank " + rank);
      }
    }
    Arrays.sort(a);
    return a;
  }

  /**
   * Shape rule of the Reduce* ops (axes attribute or input, keepdims).
   *
   * @param c the node, its input values and the constant values known for them
   * @return the node's output values with inferred types and shapes, one per output
   * @throws IllegalArgumentException naming the node when its inputs or attributes do not fit the
   *     op
   */
  public static List<Value> reduce(Context c) {
    Value x = c.required(0);
    if (!x.shape().hasRank() || (c.in(1) != null && c.constant(1) == null)) {
      return one(c, x.dtype(), Shape.UNKNOWN);
    }
    long[] axes = reduceAxes(c.node(), x.rank(), c.constant(1));
    boolean keep = c.node().attrInt("keepdims", 1) != 0;
    List<Dim> d = new ArrayList<>();
    for (int i = 0; i < x.rank(); i++) {
      final int ii = i;
      boolean reduced = axes == null || Arrays.stream(axes).anyMatch(a -> a == ii);
      if (!reduced) {
        d.add(x.shape().dim(i));
      } else if (keep) {
        d.add(Dim.of(1));
      }
    }
    return one(c, x.dtype(), Shape.of(d));
  }

  /**
   * Shape rule of ArgMax and ArgMin: INT64 output.
   *
   * @param c the node, its input values and the constant values known for them
   * @return the node's output values with inferred types and shapes, one per output
   * @throws IllegalArgumentException naming the node when its inputs or attributes do not fit the
   *     op
   */
  public static List<Value> argReduce(Context c) {
    Value x = c.required(0);
    if (!x.shape().hasRank()) {
      return one(c, DType.INT64, Shape.UNKNOWN);
    }
    int ax = normAxis(c, c.node().attrInt("axis", 0), x.rank());
    boolean keep = c.node().attrInt("keepdims", 1) != 0;
    List<Dim> d = new ArrayList<>();
    for (int i = 0; i < x.rank(); i++) {
      if (i != ax) {
        d.add(x.shape().dim(i));
      } else if (keep) {
        d.add(Dim.of(1));
      }
    }
    return one(c, DType.INT64, Shape.of(d));
  }
}
