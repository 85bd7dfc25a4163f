package ai.vqclip.core.graph;

import ai.vqclip.core.ops.OpTable;

/**
 * Counts the floating-point operations of a graph's matrix-heavy nodes, a multiply-add counting
 * as two: Conv {@code 2 N Cout Hout Wout (Cin/group) kh kw}, ConvTranspose the same with input and
 * output swapped, MatMul and Gemm {@code 2 M N K} per batch entry, Einsum {@code 2} per combination
 * of its letters' indices. Every other op is ignored: in conv and transformer nets they are a
 * small, memory-bound share. Run it on a differentiated graph
 * to include the backward pass, whose convolutions and products are ordinary nodes too.
 *
 * <p>The counts are registered per op with the op's shape and gradient rules ({@link OpTable}).
 */
public final class FlopCounter {
  private FlopCounter() {}

  /**
   * FLOPs of one run of {@code g}.
   *
   * @param g a graph with static shapes
   * @return the total FLOPs
   * @throws IllegalArgumentException when a counted node's operands lack static shapes (the message
   *     names the node)
   * @throws ArithmeticException when the total overflows a long
   */
  public static long count(Graph g) {
    long total = 0;
    for (Node n : g.nodes()) {
      total = Math.addExact(total, count(g, n));
    }
    return total;
  }

  /**
   * FLOPs of one node of {@code g} (0 for ops that are not counted).
   *
   * @param g the graph holding the node
   * @param n the node
   * @return its FLOPs
   * @throws IllegalArgumentException naming the node when a counted operand's shape is not static
   */
  public static long count(Graph g, Node n) {
    return count(g, n, OpTable.standard());
  }

  /**
   * FLOPs of one node of {@code g} with the FLOP rules of {@code table} (0 for ops it does not
   * count).
   *
   * @param g the graph holding the node
   * @param n the node
   * @param table the op table whose FLOP rules to use
   * @return its FLOPs
   * @throws IllegalArgumentException naming the node when a counted operand's shape is not static
   */
  public static long count(Graph g, Node n, OpTable table) {
    String key = n.domain().isEmpty() ? n.opType() : n.domain() + "." + n.opType();
    return table.flops(key).map(r -> r.count(g, n)).orElse(0L);
  }

  /**
   * The static shape of a node's operand, for FLOP rules.
   *
   * @param g the graph holding the node
   * @param n the node, for the error message
   * @param valueName one of the node's inputs or outputs
   * @return a new array of its sizes
   * @throws IllegalArgumentException naming the node when the operand's shape is not static
   */
  public static long[] staticShape(Graph g, Node n, String valueName) {
    Value v = g.value(valueName);
    Shape s = v.shape();
    if (!s.hasRank() || !s.isStatic()) {
      throw new IllegalArgumentException(
          "cannot count FLOPs of " + n.describe() + ": operand " + v + " has no static shape");
    }
    return s.toArray();
  }

  /**
   * The product of {@code dims[from..]}, overflow-checked.
   *
   * @param dims the sizes
   * @param from the first index to multiply
   * @return the product (1 when {@code from} is past the end)
   * @throws ArithmeticException on overflow
   */
  public static long product(long[] dims, int from) {
    long p = 1;
    for (int i = from; i < dims.length; i++) {
      p = Math.multiplyExact(p, dims[i]);
    }
    return p;
  }
}
