package ai.vqclip.core.graph;

import ai.vqclip.core.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * An immutable computation graph whose ops are ONNX ops: typed inputs, initializers (weights and
 * constants), nodes in topological order, and outputs. Every value has a recorded {@link Value}
 * (type and inferred shape). Build one with {@link GraphBuilder}; a graph also serves as a fragment
 * that {@link GraphBuilder#include} wires into a bigger graph.
 */
public final class Graph {
  /** The ONNX opset vqclip emits. */
  public static final int OPSET = 18;

  /** Domain of vqclip's gradient-override ops, lowered to plain ONNX before export. */
  public static final String VQCLIP_DOMAIN = "ai.vqclip";

  private final String name;
  private final List<Value> inputs;
  private final List<Value> outputs;
  private final Map<String, Tensor> initializers;
  private final List<Node> nodes;
  private final Map<String, Value> values;
  private final int opset;

  Graph(
      String name,
      List<Value> inputs,
      List<Value> outputs,
      Map<String, Tensor> initializers,
      List<Node> nodes,
      Map<String, Value> values,
      int opset) {
    if (opset < 13 || opset > 26) {
      throw new IllegalArgumentException("opset must be in [13, 26], got " + opset);
    }
    this.opset = opset;
    this.name = Objects.requireNonNull(name, "name");
    this.inputs = List.copyOf(inputs);
    this.outputs = List.copyOf(outputs);
    this.initializers = Collections.unmodifiableMap(new LinkedHashMap<>(initializers));
    this.nodes = List.copyOf(nodes);
    this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    validate();
  }

  private void validate() {
    Set<String> defined = new HashSet<>();
    for (Value v : inputs) {
      if (!defined.add(v.name())) {
        throw new IllegalArgumentException("graph '" + name + "': duplicate input name '" + v.name() + "'");
      }
    }
    for (String k : initializers.keySet()) {
      if (!defined.add(k)) {
        throw new IllegalArgumentException("graph '" + name + "': initializer '" + k + "' clashes with an input");
      }
    }
    Set<String> nodeNames = new HashSet<>();
    for (Node n : nodes) {
      if (!nodeNames.add(n.name())) {
        throw new IllegalArgumentException("graph '" + name + "': duplicate node name '" + n.name() + "'");
      }
      for (String in : n.inputs()) {
        if (!in.isEmpty() && !defined.contains(in)) {
          throw new IllegalArgumentException(
              "graph '" + name + "': " + n.describe() + " reads '" + in + "', which no earlier node, input or initializer defines");
        }
      }
      for (String out : n.outputs()) {
        if (!out.isEmpty() && !defined.add(out)) {
          throw new IllegalArgumentException("graph '" + name + "': value '" + out + "' is defined twice");
        }
      }
    }
    for (Value o : outputs) {
      if (!defined.contains(o.name())) {
        throw new IllegalArgumentException("graph '" + name + "': output '" + o.name() + "' is not defined");
      }
    }
  }

  /**
   * The ONNX opset (default domain) whose op semantics the nodes follow.
   *
   * @return the opset version
   */
  public int opset() {
    return opset;
  }

  /**
   * Graph name.
   *
   * @return the graph name
   */
  public String name() {
    return name;
  }

  /**
   * Graph inputs (values fed at run time).
   *
   * @return the inputs, in declaration order (unmodifiable)
   */
  public List<Value> inputs() {
    return inputs;
  }

  /**
   * Graph outputs.
   *
   * @return the outputs, in declaration order (unmodifiable)
   */
  public List<Value> outputs() {
    return outputs;
  }

  /**
   * Initializers by name (weights, constants).
   *
   * @return initializer name to tensor (unmodifiable)
   */
  public Map<String, Tensor> initializers() {
    return initializers;
  }

  /**
   * Nodes in topological order.
   *
   * @return the nodes (unmodifiable)
   */
  public List<Node> nodes() {
    return nodes;
  }

  /**
   * Type and shape of every value, by name.
   *
   * @return value name to value (unmodifiable)
   */
  public Map<String, Value> values() {
    return values;
  }

  /**
   * The recorded value of a name.
   *
   * @param valueName a value name
   * @return the value (input, initializer or node output)
   * @throws IllegalArgumentException if the graph has no such value
   */
  public Value value(String valueName) {
    Value v = values.get(valueName);
    if (v == null) {
      throw new IllegalArgumentException("graph '" + name + "' has no value named '" + valueName + "'");
    }
    return v;
  }

  /**
   * The input of that name, or throws listing the inputs.
   *
   * @param inputName an input name
   * @return the input value
   * @throws IllegalArgumentException when there is no such input (the message lists the inputs)
   */
  public Value input(String inputName) {
    for (Value v : inputs) {
      if (v.name().equals(inputName)) {
        return v;
      }
    }
    throw new IllegalArgumentException(
        "graph '" + name + "' has no input '" + inputName + "'; inputs: " + names(inputs));
  }

  /**
   * The output of that name, or throws listing the outputs.
   *
   * @param outputName an output name
   * @return the output value
   * @throws IllegalArgumentException when there is no such output (the message lists the outputs)
   */
  public Value output(String outputName) {
    for (Value v : outputs) {
      if (v.name().equals(outputName)) {
        return v;
      }
    }
    throw new IllegalArgumentException(
        "graph '" + name + "' has no output '" + outputName + "'; outputs: " + names(outputs));
  }

  /**
   * The node producing each value.
   *
   * @return value name to the node that computes it (a new map; inputs and initializers have none)
   */
  public Map<String, Node> producers() {
    Map<String, Node> p = new HashMap<>();
    for (Node n : nodes) {
      for (String o : n.outputs()) {
        p.put(o, n);
      }
    }
    return p;
  }

  /**
   * Distinct op types used, with their domains ("domain.Op" outside the ONNX domain).
   *
   * @return the op keys, sorted
   */
  public Set<String> opTypes() {
    Set<String> s = new java.util.TreeSet<>();
    for (Node n : nodes) {
      s.add(n.domain().isEmpty() ? n.opType() : n.domain() + "." + n.opType());
    }
    return s;
  }

  /**
   * A copy without the nodes that no output depends on and without unused initializers and inputs
   * that are not listed in {@code keepInputs}.
   *
   * @param keepInputs names of inputs to keep even when unused
   * @return the pruned graph
   */
  public Graph pruned(Set<String> keepInputs) {
    Set<String> live = new HashSet<>();
    for (Value o : outputs) {
      live.add(o.name());
    }
    List<Node> kept = new ArrayList<>();
    for (int i = nodes.size() - 1; i >= 0; i--) {
      Node n = nodes.get(i);
      if (n.outputs().stream().anyMatch(live::contains)) {
        kept.add(n);
        for (String in : n.inputs()) {
          if (!in.isEmpty()) {
            live.add(in);
          }
        }
      }
    }
    Collections.reverse(kept);
    List<Value> ins = new ArrayList<>();
    for (Value v : inputs) {
      if (live.contains(v.name()) || keepInputs.contains(v.name())) {
        ins.add(v);
      }
    }
    Map<String, Tensor> inits = new LinkedHashMap<>();
    initializers.forEach((k, t) -> {
      if (live.contains(k)) {
        inits.put(k, t);
      }
    });
    Map<String, Value> vals = new LinkedHashMap<>();
    values.forEach((k, v) -> {
      if (live.contains(k)) {
        vals.put(k, v);
      }
    });
    return new Graph(name, ins, outputs, inits, kept, vals, opset);
  }

  /**
   * A copy whose nodes are replaced one by one (same order). The replacement must keep the node's
   * outputs and their types; used to lower custom ops to plain ONNX.
   *
   * @param f maps each node to its replacement
   * @return the new graph
   * @throws IllegalArgumentException when a replacement changes a node's outputs
   */
  public Graph mapNodes(java.util.function.UnaryOperator<Node> f) {
    List<Node> out = new ArrayList<>();
    for (Node n : nodes) {
      Node m = f.apply(n);
      if (!m.outputs().equals(n.outputs())) {
        throw new IllegalArgumentException("mapNodes must keep the outputs of " + n.describe());
      }
      out.add(m);
    }
    return new Graph(name, inputs, outputs, initializers, out, values, opset);
  }

  /**
   * A copy with an initializer's value replaced (same type and shape).
   *
   * @param initName an initializer name
   * @param t the new tensor, of the old one's type and shape
   * @return the new graph
   * @throws IllegalArgumentException when there is no such initializer or the tensor's type or
   *     shape differs
   */
  public Graph withInitializer(String initName, Tensor t) {
    Tensor old = initializers.get(initName);
    if (old == null) {
      throw new IllegalArgumentException("graph '" + name + "' has no initializer '" + initName + "'");
    }
    if (old.dtype() != t.dtype() || !java.util.Arrays.equals(old.shape(), t.shape())) {
      throw new IllegalArgumentException("initializer '" + initName + "' is " + old + ", replacement is " + t);
    }
    Map<String, Tensor> m = new LinkedHashMap<>(initializers);
    m.put(initName, t);
    return new Graph(name, inputs, outputs, m, nodes, values, opset);
  }

  /**
   * A copy in which the named initializers become graph inputs (same name, type and shape), for
   * training: the weights change every step, so they are fed instead of baked into the session.
   *
   * @param names initializer names
   * @return the new graph, the new inputs after the old ones
   * @throws IllegalArgumentException for a name that is not an initializer
   */
  public Graph withInitializersAsInputs(java.util.Collection<String> names) {
    Map<String, Tensor> inits = new LinkedHashMap<>(initializers);
    List<Value> ins = new ArrayList<>(inputs);
    for (String n : names) {
      Tensor t = inits.remove(n);
      if (t == null) {
        throw new IllegalArgumentException("graph '" + name + "' has no initializer '" + n + "'");
      }
      ins.add(values.get(n));
    }
    return new Graph(name, ins, outputs, inits, nodes, values, opset);
  }

  /**
   * A copy with every input kept, pruned of dead nodes and unused initializers.
   *
   * @return the pruned graph
   */
  public Graph pruned() {
    Set<String> keep = new HashSet<>();
    inputs.forEach(v -> keep.add(v.name()));
    return pruned(keep);
  }

  static String names(List<Value> vs) {
    List<String> s = new ArrayList<>();
    for (Value v : vs) {
      s.add(v.name() + " " + v.shape() + " " + v.dtype());
    }
    return s.toString();
  }

  @Override
  public String toString() {
    return "Graph '" + name + "' (" + nodes.size() + " nodes, " + initializers.size() + " initializers, inputs "
        + names(inputs) + ", outputs " + names(outputs) + ")";
  }
}
