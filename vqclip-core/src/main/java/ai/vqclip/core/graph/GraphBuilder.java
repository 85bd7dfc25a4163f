package ai.vqclip.core.graph;

import ai.vqclip.core.Tensor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Builds a {@link Graph} node by node, inferring each output's type and shape as it goes so that
 * wrong wiring fails at build time with a message naming the node and both ends. Not thread-safe.
 *
 * <p>Names are scoped: inside {@link #pushScope(String)} every generated node and value name is
 * prefixed with the scope path, so fragments built by different components never collide.
 *
 * <p><b>Why one long class.</b> Besides names, inputs, fragments and the build, it holds the
 * convenience methods for common ops ({@code add}, {@code matmul}, {@code reshape}, ...), each a
 * one-liner over {@link #op}: they are the builder's API, and moving them elsewhere would only make
 * graph code longer to write.
 */
public final class GraphBuilder {
  private final String name;
  private final List<Value> inputs = new ArrayList<>();
  private final List<Value> outputs = new ArrayList<>();
  private final Map<String, Tensor> initializers = new LinkedHashMap<>();
  private final List<Node> nodes = new ArrayList<>();
  private final Map<String, Value> values = new LinkedHashMap<>();
  private final Map<String, Integer> counters = new HashMap<>();
  private final Deque<String> scopes = new ArrayDeque<>();
  private final ShapeInference shapes;
  private int opset = Graph.OPSET;

  /**
   * A builder for an empty graph.
   *
   * @param name the graph name (not null)
   */
  public GraphBuilder(String name) {
    this(name, ShapeInference.standard());
  }

  /**
   * A builder with custom shape inference (for user ops).
   *
   * @param name the graph name (not null)
   * @param shapes the shape rules nodes are checked and typed with (not null)
   * @throws NullPointerException when either is null
   */
  public GraphBuilder(String name, ShapeInference shapes) {
    this.name = Objects.requireNonNull(name, "name");
    this.shapes = Objects.requireNonNull(shapes, "shapes");
  }

  /**
   * A builder that starts with a copy of {@code g}: its inputs, initializers, nodes and outputs.
   *
   * @param g the graph to start from
   * @return a new builder with the standard shape rules and {@code g}'s opset
   */
  public static GraphBuilder from(Graph g) {
    GraphBuilder b = new GraphBuilder(g.name());
    b.inputs.addAll(g.inputs());
    b.initializers.putAll(g.initializers());
    b.nodes.addAll(g.nodes());
    b.values.putAll(g.values());
    b.outputs.addAll(g.outputs());
    b.opset = g.opset();
    for (Node n : g.nodes()) {
      b.reserve(n.name());
    }
    return b;
  }

  // ---------------------------------------------------------------- names and scopes

  /**
   * Enters a name scope; returns this.
   *
   * @param scope a non-empty name without {@code /}
   * @return this builder
   * @throws IllegalArgumentException for a null or empty scope or one containing {@code /}
   */
  public GraphBuilder pushScope(String scope) {
    if (scope == null || scope.isEmpty() || scope.contains("/")) {
      throw new IllegalArgumentException("scope must be a non-empty name without '/', got '" + scope + "'");
    }
    scopes.addLast(scope);
    return this;
  }

  /**
   * Leaves the innermost scope.
   *
   * @return this builder
   * @throws IllegalStateException when no scope is open
   */
  public GraphBuilder popScope() {
    if (scopes.isEmpty()) {
      throw new IllegalStateException("no scope to pop");
    }
    scopes.removeLast();
    return this;
  }

  private String scoped(String base) {
    return scopes.isEmpty() ? base : String.join("/", scopes) + "/" + base;
  }

  /**
   * A new name, unique in this graph, built from {@code base} inside the current scope.
   *
   * @param base the name's stem, e.g. an op type
   * @return {@code scope/base} or {@code scope/base_k} for the k-th use, not yet taken by a value
   */
  public String freshName(String base) {
    String s = scoped(base);
    int k = counters.merge(s, 1, Integer::sum);
    String candidate = k == 1 ? s : s + "_" + k;
    while (values.containsKey(candidate) || initializers.containsKey(candidate) || nodeNameUsed(candidate)) {
      k = counters.merge(s, 1, Integer::sum);
      candidate = s + "_" + k;
    }
    return candidate;
  }

  private final java.util.Set<String> nodeNames = new java.util.HashSet<>();

  private boolean nodeNameUsed(String n) {
    return nodeNames.contains(n);
  }

  private void reserve(String nodeName) {
    nodeNames.add(nodeName);
  }

  // ---------------------------------------------------------------- inputs, weights, constants

  /**
   * Declares a graph input.
   *
   * @param inputName the input name, new in this graph
   * @param dtype element type
   * @param shape shape; symbolic dims allowed
   * @return the input value
   * @throws IllegalArgumentException when the name is already taken
   */
  public Value input(String inputName, DType dtype, Shape shape) {
    requireNewName(inputName);
    Value v = new Value(inputName, dtype, shape);
    inputs.add(v);
    values.put(inputName, v);
    return v;
  }

  /**
   * Adds a named initializer (a weight).
   *
   * @param initName the initializer name, new in this graph
   * @param t the tensor (kept, not copied)
   * @return the initializer's value
   * @throws IllegalArgumentException when the name is already taken
   */
  public Value initializer(String initName, Tensor t) {
    requireNewName(initName);
    initializers.put(initName, t);
    Value v = new Value(initName, t.dtype(), t.graphShape());
    values.put(initName, v);
    return v;
  }

  /**
   * Adds an anonymous constant (an initializer with a fresh name).
   *
   * @param t the tensor (kept, not copied)
   * @return the constant's value
   */
  public Value constant(Tensor t) {
    return initializer(freshName("const"), t);
  }

  /**
   * A scalar constant of the given type.
   *
   * @param v the value (rounded to the type)
   * @param dtype element type
   * @return a rank-0 constant
   */
  public Value scalar(double v, DType dtype) {
    return constant(Tensor.scalar(dtype, v));
  }

  /**
   * A 1-D int64 constant (shapes, axes, pads).
   *
   * @param v the elements
   * @return a constant of shape [v.length]
   */
  public Value ints(long... v) {
    return constant(Tensor.vector(v));
  }

  private void requireNewName(String n) {
    Objects.requireNonNull(n, "name");
    if (values.containsKey(n) || initializers.containsKey(n)) {
      throw new IllegalArgumentException("graph '" + name + "' already has a value named '" + n + "'");
    }
  }

  /**
   * The value of that name.
   *
   * @param valueName a value name
   * @return the value (input, initializer or node output)
   * @throws IllegalArgumentException when there is no such value
   */
  public Value value(String valueName) {
    Value v = values.get(valueName);
    if (v == null) {
      throw new IllegalArgumentException("graph '" + name + "' has no value named '" + valueName + "'");
    }
    return v;
  }

  /**
   * Whether a value of that name exists.
   *
   * @param valueName a value name
   * @return true when an input, initializer or node output has that name
   */
  public boolean hasValue(String valueName) {
    return values.containsKey(valueName);
  }

  /**
   * The constant tensor behind a value (an initializer or a Constant node's output), or null.
   *
   * @param v a value of this graph
   * @return the constant tensor, or null when {@code v} is computed at run time
   */
  public Tensor constantValue(Value v) {
    Tensor t = initializers.get(v.name());
    if (t != null) {
      return t;
    }
    for (int i = nodes.size() - 1; i >= 0; i--) {
      Node n = nodes.get(i);
      if (n.opType().equals("Constant") && n.domain().isEmpty() && n.outputs().get(0).equals(v.name())) {
        Attribute a = n.attributes().get("value");
        return a == null ? null : a.asTensor();
      }
    }
    return null;
  }

  // ---------------------------------------------------------------- nodes

  /**
   * Starts a node of an ONNX op type.
   *
   * @param opType the ONNX op type, e.g. {@code "Conv"}
   * @return a node builder; finish it with {@link OpBuilder#out()} or {@link OpBuilder#outs(int)}
   */
  public OpBuilder op(String opType) {
    return new OpBuilder(opType, "");
  }

  /**
   * Starts a node of an op type in another domain.
   *
   * @param domain the op's domain, e.g. {@code "com.microsoft"}
   * @param opType the op type
   * @return a node builder; finish it with {@link OpBuilder#out()} or {@link OpBuilder#outs(int)}
   */
  public OpBuilder op(String domain, String opType) {
    return new OpBuilder(opType, domain);
  }

  /**
   * Adds a node and infers its outputs. {@code null} inputs mark omitted optional inputs.
   *
   * @param opType the op type
   * @param domain the op's domain, empty for ONNX
   * @param nodeInputs the input values (null for an omitted optional input)
   * @param attrs the attributes by name
   * @param numOutputs the number of outputs to create
   * @param nodeName the node name, or null for a fresh one from the op type
   * @return the output values
   * @throws IllegalArgumentException when the inputs do not fit the op (message names node and values)
   */
  public List<Value> addNode(
      String opType, String domain, List<Value> nodeInputs, Map<String, Attribute> attrs, int numOutputs, String nodeName) {
    String nn = nodeName == null ? freshName(opType) : nodeName;
    if (nodeNames.contains(nn)) {
      throw new IllegalArgumentException("graph '" + name + "' already has a node named '" + nn + "'");
    }
    List<String> inNames = new ArrayList<>();
    for (Value v : nodeInputs) {
      if (v == null) {
        inNames.add("");
        continue;
      }
      Value known = values.get(v.name());
      if (known == null) {
        throw new IllegalArgumentException(
            opType + " node '" + nn + "': input " + v + " is not a value of graph '" + name + "'");
      }
      inNames.add(v.name());
    }
    List<String> outNames = new ArrayList<>();
    for (int i = 0; i < numOutputs; i++) {
      outNames.add(numOutputs == 1 ? nn : nn + "." + i);
    }
    for (String o : outNames) {
      requireNewName(o);
    }
    Node node = new Node(nn, opType, domain, inNames, outNames, attrs);
    List<Value> outs = shapes.infer(node, nodeInputs, this::constantValue);
    if (outs.size() != numOutputs) {
      throw new IllegalArgumentException(node.describe() + ": expected " + numOutputs + " outputs, shape inference gave " + outs.size());
    }
    nodes.add(node);
    reserve(nn);
    List<Value> result = new ArrayList<>();
    for (int i = 0; i < numOutputs; i++) {
      Value v = new Value(outNames.get(i), outs.get(i).dtype(), outs.get(i).shape());
      values.put(v.name(), v);
      result.add(v);
    }
    return result;
  }

  /**
   * Adds an already-named node (used by importers and by {@link #include}), inferring outputs.
   *
   * @param node a node whose inputs are values of this graph; its output names must be new
   * @return the output values with inferred types and shapes
   * @throws IllegalArgumentException when an input is unknown, an output name is taken or the
   *     inputs do not fit the op
   */
  public List<Value> addNamedNode(Node node) {
    List<Value> ins = new ArrayList<>();
    for (String in : node.inputs()) {
      ins.add(in.isEmpty() ? null : value(in));
    }
    if (nodeNames.contains(node.name())) {
      throw new IllegalArgumentException("graph '" + name + "' already has a node named '" + node.name() + "'");
    }
    for (String o : node.outputs()) {
      if (!o.isEmpty()) {
        requireNewName(o);
      }
    }
    List<Value> outs = shapes.infer(node, ins, this::constantValue);
    nodes.add(node);
    reserve(node.name());
    List<Value> result = new ArrayList<>();
    for (int i = 0; i < node.outputs().size(); i++) {
      String o = node.outputs().get(i);
      if (o.isEmpty()) {
        continue;
      }
      Value inferred = i < outs.size() ? outs.get(i) : new Value(o, DType.FLOAT, Shape.UNKNOWN);
      Value v = new Value(o, inferred.dtype(), inferred.shape());
      values.put(o, v);
      result.add(v);
    }
    return result;
  }

  /** Fluent node construction. */
  public final class OpBuilder {
    private final String opType;
    private final String domain;
    private final List<Value> in = new ArrayList<>();
    private final Map<String, Attribute> attrs = new LinkedHashMap<>();
    private String nodeName;

    private OpBuilder(String opType, String domain) {
      this.opType = opType;
      this.domain = domain;
    }

    /**
     * Appends inputs; {@code null} marks an omitted optional input.
     *
     * @param values the input values, in order
     * @return this node builder
     */
    public OpBuilder in(Value... values) {
      in.addAll(Arrays.asList(values));
      return this;
    }

    /**
     * Sets the node name (default: a fresh name from the op type).
     *
     * @param n the node name, unique in the graph
     * @return this node builder
     */
    public OpBuilder named(String n) {
      nodeName = n;
      return this;
    }

    /**
     * An INT attribute.
     *
     * @param key attribute name
     * @param v the value
     * @return this node builder
     */
    public OpBuilder attr(String key, long v) {
      attrs.put(key, Attribute.of(v));
      return this;
    }

    /**
     * A FLOAT attribute.
     *
     * @param key attribute name
     * @param v the value
     * @return this node builder
     */
    public OpBuilder attr(String key, float v) {
      attrs.put(key, Attribute.of(v));
      return this;
    }

    /**
     * A STRING attribute.
     *
     * @param key attribute name
     * @param v the value
     * @return this node builder
     */
    public OpBuilder attr(String key, String v) {
      attrs.put(key, Attribute.of(v));
      return this;
    }

    /**
     * A TENSOR attribute.
     *
     * @param key attribute name
     * @param v the value
     * @return this node builder
     */
    public OpBuilder attr(String key, Tensor v) {
      attrs.put(key, Attribute.of(v));
      return this;
    }

    /**
     * Any attribute.
     *
     * @param key attribute name
     * @param v the attribute
     * @return this node builder
     */
    public OpBuilder attr(String key, Attribute v) {
      attrs.put(key, v);
      return this;
    }

    /**
     * An INTS attribute.
     *
     * @param key attribute name
     * @param v the values
     * @return this node builder
     */
    public OpBuilder ints(String key, long... v) {
      attrs.put(key, Attribute.ints(v));
      return this;
    }

    /**
     * A FLOATS attribute.
     *
     * @param key attribute name
     * @param v the values
     * @return this node builder
     */
    public OpBuilder floats(String key, float... v) {
      attrs.put(key, Attribute.floats(v));
      return this;
    }

    /**
     * Copies every attribute from a map.
     *
     * @param a attribute name to attribute
     * @return this node builder
     */
    public OpBuilder attrs(Map<String, Attribute> a) {
      attrs.putAll(a);
      return this;
    }

    /**
     * Adds the node; returns its single output.
     *
     * @return the node's only output
     * @throws IllegalArgumentException when the inputs do not fit the op (the message names the
     *     node and the values)
     */
    public Value out() {
      return addNode(opType, domain, in, attrs, 1, nodeName).get(0);
    }

    /**
     * Adds the node; returns its {@code n} outputs.
     *
     * @param n the number of outputs
     * @return the outputs, in order
     * @throws IllegalArgumentException when the inputs do not fit the op (the message names the
     *     node and the values)
     */
    public List<Value> outs(int n) {
      return addNode(opType, domain, in, attrs, n, nodeName);
    }
  }

  // ---------------------------------------------------------------- outputs, fragments, build

  /**
   * Marks a value as a graph output under its own name.
   *
   * @param v a value of this graph
   * @return this builder
   * @throws IllegalArgumentException when {@code v} is not a value of this graph (already an
   *     output: no change)
   */
  public GraphBuilder output(Value v) {
    Value known = value(v.name());
    for (Value o : outputs) {
      if (o.name().equals(known.name())) {
        return this;
      }
    }
    outputs.add(known);
    return this;
  }

  /**
   * Marks a value as a graph output under {@code outputName} (adding an Identity if needed).
   *
   * @param outputName the output name
   * @param v a value of this graph
   * @return the output value (an Identity of {@code v} when the names differ)
   */
  public Value output(String outputName, Value v) {
    Value out = v.name().equals(outputName) ? value(v.name()) : op("Identity").in(v).named(outputName).out();
    output(out);
    return out;
  }

  /**
   * The outputs declared so far.
   *
   * @return a copy of the output list
   */
  public List<Value> outputs() {
    return List.copyOf(outputs);
  }

  /**
   * The inputs declared so far.
   *
   * @return a copy of the input list
   */
  public List<Value> inputs() {
    return List.copyOf(inputs);
  }

  /**
   * Removes every declared output (nodes stay).
   *
   * @return this builder
   */
  public GraphBuilder clearOutputs() {
    outputs.clear();
    return this;
  }

  /**
   * Wires a fragment into this graph: each fragment input is bound to a value of this graph, the
   * fragment's initializers and nodes are copied under {@code scope}, and its outputs are returned
   * by their fragment names. Shapes are re-inferred for the actual wiring, so symbolic dimensions
   * of the fragment take the bound sizes.
   *
   * @param fragment the graph to copy in
   * @param scope name scope for the copied initializers and nodes
   * @param bindings fragment input name to the value of this graph that feeds it; every input must
   *     be bound
   * @return fragment output name to the corresponding value of this graph
   * @throws IllegalArgumentException if an input is unbound, unknown, or does not fit (the message
   *     names the fragment input and the bound value)
   */
  public Map<String, Value> include(Graph fragment, String scope, Map<String, Value> bindings) {
    for (String k : bindings.keySet()) {
      fragment.input(k); // throws, listing the inputs, for unknown names
    }
    Map<String, String> rename = new HashMap<>();
    Map<String, String[]> symbolBindings = new HashMap<>();
    for (Value fin : fragment.inputs()) {
      Value bound = bindings.get(fin.name());
      if (bound == null) {
        throw new IllegalArgumentException(
            "fragment '" + fragment.name() + "' input '" + fin.name() + "' " + fin.shape() + " " + fin.dtype() + " is not bound");
      }
      Value actual = value(bound.name());
      if (actual.dtype() != fin.dtype() || !fin.shape().accepts(actual.shape())) {
        throw new IllegalArgumentException(
            "cannot wire " + actual + " to fragment '" + fragment.name() + "' input '" + fin.name() + "', which expects "
                + fin.shape() + " " + fin.dtype());
      }
      rename.put(fin.name(), actual.name());
      // A symbol shared by several fragment inputs must get one size (e.g. batch "n").
      if (fin.shape().hasRank() && actual.shape().hasRank()) {
        for (int i = 0; i < fin.rank(); i++) {
          Dim d = fin.shape().dim(i);
          Dim a = actual.shape().dim(i);
          if (!d.isStatic() && a.isStatic()) {
            String[] prev = symbolBindings.putIfAbsent(d.symbol(), new String[] {Long.toString(a.size()), fin.name(), actual.toString()});
            if (prev != null && !prev[0].equals(Long.toString(a.size()))) {
              throw new IllegalArgumentException("cannot wire " + actual + " to fragment '" + fragment.name() + "' input '" + fin.name()
                  + "' " + fin.shape() + ": symbol " + d.symbol() + " would be " + a.size() + ", but input '" + prev[1] + "' bound to "
                  + prev[2] + " made it " + prev[0]);
            }
          }
        }
      }
    }
    pushScope(scope);
    try {
      for (Map.Entry<String, Tensor> e : fragment.initializers().entrySet()) {
        Value v = initializer(freshName(e.getKey()), e.getValue());
        rename.put(e.getKey(), v.name());
      }
      for (Node n : fragment.nodes()) {
        List<String> ins = new ArrayList<>();
        for (String i : n.inputs()) {
          ins.add(i.isEmpty() ? "" : Objects.requireNonNull(rename.get(i), i));
        }
        String nn = freshName(n.name());
        List<String> outs = new ArrayList<>();
        for (String o : n.outputs()) {
          if (o.isEmpty()) {
            outs.add("");
          } else {
            String r = freshName(o);
            rename.put(o, r);
            outs.add(r);
          }
        }
        addNamedNode(new Node(nn, n.opType(), n.domain(), ins, outs, n.attributes()));
      }
    } finally {
      popScope();
    }
    Map<String, Value> result = new LinkedHashMap<>();
    for (Value o : fragment.outputs()) {
      result.put(o.name(), value(rename.get(o.name())));
    }
    return result;
  }

  /**
   * Sets the opset whose op semantics the nodes follow (importers use the model's).
   *
   * @param version the opset, in [13, 26]
   * @return this builder
   * @throws IllegalArgumentException for an opset outside [13, 26]
   */
  public GraphBuilder opset(int version) {
    if (version < 13 || version > 26) {
      throw new IllegalArgumentException("opset must be in [13, 26], got " + version);
    }
    this.opset = version;
    return this;
  }

  /**
   * Builds the immutable graph (nodes in insertion order, which is topological).
   *
   * @return the graph
   */
  public Graph build() {
    return new Graph(name, inputs, outputs, initializers, nodes, values, opset);
  }

  // ---------------------------------------------------------------- common ops

  /**
   * a + b (broadcasting).
   *
   * @param a left operand
   * @param b right operand
   * @return the output value
   * @throws IllegalArgumentException when the inputs do not fit the op (the message names the node
   *     and the values)
   */
  public Value add(Value a, Value b) {
    return op("Add").in(a, b).out();
  }

  /**
   * a - b.
   *
   * @param a left operand
   * @param b right operand
   * @return the output value
   * @throws IllegalArgumentException when the inputs do not fit the op (the message names the node
   *     and the values)
   */
  public Value sub(Value a, Value b) {
    return op("Sub").in(a, b).out();
  }

  /**
   * a * b.
   *
   * @param a left operand
   * @param b right operand
   * @return the output value
   * @throws IllegalArgumentException when the inputs do not fit the op (the message names the node
   *     and the values)
   */
  public Value mul(Value a, Value b) {
    return op("Mul").in(a, b).out();
  }

  /**
   * a / b.
   *
   * @param a dividend
   * @param b divisor
   * @return the output value
   * @throws IllegalArgumentException when the inputs do not fit the op (the message names the node
   *     and the values)
   */
  public Value div(Value a, Value b) {
    return op("Div").in(a, b).out();
  }

  /**
   * -a.
   *
   * @param a the operand
   * @return the output value
   */
  public Value neg(Value a) {
    return op("Neg").in(a).out();
  }

  /**
   * Matrix product (numpy semantics).
   *
   * @param a left matrix (batch dims broadcast)
   * @param b right matrix
   * @return the output value
   * @throws IllegalArgumentException when the inputs do not fit the op (the message names the node
   *     and the values)
   */
  public Value matmul(Value a, Value b) {
    return op("MatMul").in(a, b).out();
  }

  /**
   * Transpose by a permutation.
   *
   * @param a the value to transpose
   * @param perm output axis i takes input axis {@code perm[i]}
   * @return the output value
   * @throws IllegalArgumentException when the inputs do not fit the op (the message names the node
   *     and the values)
   */
  public Value transpose(Value a, long... perm) {
    return op("Transpose").in(a).ints("perm", perm).out();
  }

  /**
   * Reshape to a constant shape (0 copies, -1 infers).
   *
   * @param a the value to reshape
   * @param shape the target shape
   * @return the output value
   * @throws IllegalArgumentException when the inputs do not fit the op (the message names the node
   *     and the values)
   */
  public Value reshape(Value a, long... shape) {
    return op("Reshape").in(a, ints(shape)).out();
  }

  /**
   * Reshape to a runtime shape.
   *
   * @param a the value to reshape
   * @param shape a 1-D int64 value holding the target shape
   * @return the output value
   * @throws IllegalArgumentException when the inputs do not fit the op (the message names the node
   *     and the values)
   */
  public Value reshape(Value a, Value shape) {
    return op("Reshape").in(a, shape).out();
  }

  /**
   * The runtime shape of a value.
   *
   * @param a any value
   * @return a 1-D int64 value holding {@code a}'s shape
   */
  public Value shapeOf(Value a) {
    return op("Shape").in(a).out();
  }

  /**
   * Sum over axes (all axes when empty).
   *
   * @param a the value to reduce
   * @param keepDims keep reduced axes with size 1
   * @param axes the axes to sum over; none for all
   * @return the output value
   * @throws IllegalArgumentException when the inputs do not fit the op (the message names the node
   *     and the values)
   */
  public Value reduceSum(Value a, boolean keepDims, long... axes) {
    if (axes.length == 0) {
      return op("ReduceSum").in(a).attr("keepdims", keepDims ? 1 : 0).out();
    }
    return op("ReduceSum").in(a, ints(axes)).attr("keepdims", keepDims ? 1 : 0).out();
  }

  /**
   * Mean over axes.
   *
   * @param a the value to reduce
   * @param keepDims keep reduced axes with size 1
   * @param axes the axes to average over; none for all
   * @return the output value
   * @throws IllegalArgumentException when the inputs do not fit the op (the message names the node
   *     and the values)
   */
  public Value reduceMean(Value a, boolean keepDims, long... axes) {
    if (axes.length == 0) {
      return op("ReduceMean").in(a).attr("keepdims", keepDims ? 1 : 0).out();
    }
    return op("ReduceMean").in(a, ints(axes)).attr("keepdims", keepDims ? 1 : 0).out();
  }

  /**
   * Adds size-1 axes.
   *
   * @param a the value
   * @param axes the positions of the new axes in the output
   * @return the output value
   * @throws IllegalArgumentException when the inputs do not fit the op (the message names the node
   *     and the values)
   */
  public Value unsqueeze(Value a, long... axes) {
    return op("Unsqueeze").in(a, ints(axes)).out();
  }

  /**
   * Removes size-1 axes.
   *
   * @param a the value
   * @param axes the size-1 axes to remove
   * @return the output value
   * @throws IllegalArgumentException when the inputs do not fit the op (the message names the node
   *     and the values)
   */
  public Value squeeze(Value a, long... axes) {
    return op("Squeeze").in(a, ints(axes)).out();
  }

  /**
   * Converts the element type.
   *
   * @param a the value
   * @param to the target element type
   * @return the output value
   */
  public Value cast(Value a, DType to) {
    return op("Cast").in(a).attr("to", (long) to.onnxCode()).out();
  }

  /**
   * Broadcasts to a runtime shape.
   *
   * @param a the value
   * @param shape a 1-D int64 value holding the target shape
   * @return the output value
   * @throws IllegalArgumentException when the inputs do not fit the op (the message names the node
   *     and the values)
   */
  public Value expand(Value a, Value shape) {
    return op("Expand").in(a, shape).out();
  }

  /**
   * A scalar constant of {@code like}'s element type.
   *
   * @param v the value
   * @param like a value of the wanted element type
   * @return a rank-0 constant
   */
  public Value scalarLike(double v, Value like) {
    return scalar(v, like.dtype());
  }

  /**
   * Zeros with the runtime shape and type of {@code like}.
   *
   * @param like the value whose shape and type to take
   * @return the zeros value
   */
  public Value zerosLike(Value like) {
    return op("ConstantOfShape").in(shapeOf(like)).attr("value", Tensor.filled(like.dtype(), new long[] {1}, 0)).out();
  }

  /**
   * Ones with the runtime shape and type of {@code like}.
   *
   * @param like the value whose shape and type to take
   * @return the ones value
   */
  public Value onesLike(Value like) {
    return op("ConstantOfShape").in(shapeOf(like)).attr("value", Tensor.filled(like.dtype(), new long[] {1}, 1)).out();
  }
}
