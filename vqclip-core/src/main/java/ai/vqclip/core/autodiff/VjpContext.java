package ai.vqclip.core.autodiff;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.Dim;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Node;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What a {@link VjpRule} sees: the forward node, its input and output values, the gradients that
 * reached its outputs, which inputs need a gradient, and the builder to emit backward nodes into.
 */
public final class VjpContext {
  private final GraphBuilder builder;
  private final Node node;
  private final List<Value> inputs;
  private final List<Value> outputs;
  private final List<Value> outputGrads;
  private final boolean[] needsGrad;
  private final Value[] inputGrads;
  private final java.util.Map<String, Node> producers;

  VjpContext(GraphBuilder builder, Node node, List<Value> inputs, List<Value> outputs, List<Value> outputGrads, boolean[] needsGrad,
      java.util.Map<String, Node> producers) {
    this.producers = producers;
    this.builder = builder;
    this.node = node;
    this.inputs = inputs;
    this.outputs = outputs;
    this.outputGrads = outputGrads;
    this.needsGrad = needsGrad;
    this.inputGrads = new Value[inputs.size()];
  }

  /**
   * The builder; backward nodes go here.
   *
   * @return the builder of the gradient graph
   */
  public GraphBuilder b() {
    return builder;
  }

  /**
   * The forward node.
   *
   * @return the node being differentiated
   */
  public Node node() {
    return node;
  }

  /**
   * Forward input {@code i} (null when an optional input is omitted).
   *
   * @param i input index, from 0
   * @return the input value, or null
   */
  public Value input(int i) {
    return i < inputs.size() ? inputs.get(i) : null;
  }

  /**
   * The forward node that produces input {@code i}, or null for a graph input, an initializer or an
   * omitted input. Lets a rule recognise a small pattern around its node (e.g. {@code x *
   * Sigmoid(x)}) and emit one fused gradient for it.
   *
   * @param i the input's index
   * @return the producing forward node, or null
   */
  public Node inputProducer(int i) {
    return i < node.inputs().size() ? producers.get(node.inputs().get(i)) : null;
  }

  /**
   * Number of inputs.
   *
   * @return the node's input count, omitted optional inputs included
   */
  public int inputCount() {
    return inputs.size();
  }

  /**
   * Forward output {@code i}.
   *
   * @param i output index, from 0
   * @return the output value
   */
  public Value output(int i) {
    return outputs.get(i);
  }

  /**
   * The gradient reaching output {@code i}, or null when none does.
   *
   * @param i output index, from 0
   * @return the incoming gradient (same shape as the output), or null
   */
  public Value gradOutput(int i) {
    return i < outputGrads.size() ? outputGrads.get(i) : null;
  }

  /**
   * The gradient reaching output {@code i}, or zeros of its shape when none does.
   *
   * @param i output index, from 0
   * @return the incoming gradient, or a new zeros value of the output's shape
   */
  public Value gradOutputOrZeros(int i) {
    Value g = gradOutput(i);
    return g != null ? g : builder.zerosLike(outputs.get(i));
  }

  /**
   * Whether input {@code i} needs a gradient.
   *
   * @param i input index, from 0
   * @return true when some differentiated value depends on that input
   */
  public boolean needsGrad(int i) {
    return i < needsGrad.length && needsGrad[i];
  }

  /**
   * The constant behind input {@code i}, or null.
   *
   * @param i input index, from 0
   * @return the constant tensor, or null when the input is computed or absent
   */
  public Tensor constantInput(int i) {
    Value v = input(i);
    return v == null ? null : builder.constantValue(v);
  }

  /**
   * The constant behind input {@code i}; throws naming the node if it is not constant.
   *
   * @param i input index, from 0
   * @param what what the input is, for the message (e.g. {@code "axes"})
   * @return the constant tensor
   * @throws IllegalArgumentException naming the node when the input is not constant
   */
  public Tensor requireConstantInput(int i, String what) {
    Tensor t = constantInput(i);
    if (t == null) {
      throw fail(what + " (input " + i + ") must be a constant to differentiate");
    }
    return t;
  }

  /**
   * Static shape of input {@code i}; throws naming the node if not static.
   *
   * @param v a value of the node
   * @return a new array of its sizes
   * @throws IllegalArgumentException naming the node when the shape is not static
   */
  public long[] staticShape(Value v) {
    if (!v.shape().isStatic()) {
      throw fail("needs a static shape for " + v + " to differentiate");
    }
    return v.shape().toArray();
  }

  /**
   * An exception naming the node.
   *
   * @param msg what is wrong
   * @return an exception (not thrown) whose message names the node
   */
  public IllegalArgumentException fail(String msg) {
    return new IllegalArgumentException("gradient of " + node.describe() + ": " + msg);
  }

  /**
   * Reports the gradient of input {@code i}. Ignored when the input needs none. Shapes are checked:
   * a gradient must have its input's shape.
   *
   * @param i input index, from 0
   * @param grad the gradient with respect to that input; added to any gradient reported before
   * @throws IllegalArgumentException naming the node when the gradient's type or shape differs from
   *     the input's
   */
  public void setGrad(int i, Value grad) {
    if (!needsGrad(i) || grad == null) {
      return;
    }
    Value in = inputs.get(i);
    if (grad.dtype() != in.dtype()) {
      throw fail("rule produced a " + grad.dtype() + " gradient for " + in);
    }
    if (grad.shape().hasRank() && in.shape().hasRank() && !in.shape().accepts(grad.shape())) {
      throw fail("rule produced gradient " + grad + " for input " + in);
    }
    inputGrads[i] = inputGrads[i] == null ? grad : builder.add(inputGrads[i], grad);
  }

  Value[] inputGrads() {
    return inputGrads;
  }

  /**
   * Sums a broadcast gradient back to {@code target}'s shape (numpy broadcasting rules).
   *
   * @param grad a gradient of the broadcast result's shape
   * @param target the operand that was broadcast
   * @return the gradient summed (and reshaped) to {@code target}'s shape; {@code grad} itself when
   *     the shapes match
   * @throws IllegalArgumentException when shapes are not known well enough to tell
   */
  public Value unbroadcast(Value grad, Value target) {
    Shape gs = grad.shape();
    Shape ts = target.shape();
    if (!gs.hasRank() || !ts.hasRank()) {
      throw fail("needs known ranks to sum a broadcast gradient: " + grad + " to " + target);
    }
    if (gs.equals(ts)) {
      return grad;
    }
    int lead = gs.rank() - ts.rank();
    if (lead < 0) {
      throw fail("gradient " + grad + " has lower rank than " + target);
    }
    List<Long> axes = new ArrayList<>();
    for (int i = 0; i < gs.rank(); i++) {
      if (i < lead) {
        axes.add((long) i);
        continue;
      }
      Dim t = ts.dim(i - lead);
      Dim g = gs.dim(i);
      if (t.isStatic() && t.size() == 1 && !(g.isStatic() && g.size() == 1)) {
        if (!g.isStatic() && !g.equals(t)) {
          // symbolic dim broadcast against 1: still reduce (sum over a size-1 axis is a no-op)
        }
        axes.add((long) i);
      } else if (!t.equals(g) && !(t.isStatic() && g.isStatic() && t.size() == g.size())) {
        if (!t.isStatic() || !g.isStatic()) {
          throw fail("cannot tell whether " + target + " was broadcast to " + grad + " (symbolic dims)");
        }
      }
    }
    Value r = grad;
    if (!axes.isEmpty()) {
      r = builder.reduceSum(grad, true, axes.stream().mapToLong(Long::longValue).toArray());
    }
    if (lead > 0 || !r.shape().equals(ts)) {
      r = ts.isStatic() ? builder.reshape(r, ts.toArray()) : builder.reshape(r, builder.shapeOf(target));
    }
    return r;
  }

  /**
   * Whether two values have equal, fully static shapes.
   *
   * @param a a value
   * @param b another value
   * @return true when both shapes are static and equal
   */
  public static boolean sameStatic(Value a, Value b) {
    return a.shape().isStatic() && b.shape().isStatic() && Arrays.equals(a.shape().toArray(), b.shape().toArray());
  }
}
