package ai.vqclip.core.graph;


/**
 * Counts the floating-point operations of a graph's matrix-heavy nodes, a multiply-add counting
 * as two: Conv {@code 2 N Cout Hout Wout (Cin/group) kh kw}, ConvTranspose the same with input and
 * output swapped, MatMul and Gemm {@code 2 M N K} per batch entry, Einsum {@code 2} per combination of
 * its letters' indices. Every other op is ignored: in
 * conv and transformer nets they are a small, memory-bound share. Run it on a differentiated graph
 * to include the backward pass, whose convolutions and products are ordinary nodes too.
 */
public final class FlopCounter {
  private FlopCounter() {}

  /**
   * FLOPs of one run of {@code g}.
   *
   * @throws IllegalArgumentException when a counted node's operands lack static shapes (the message
   *     names the node)
   */
  public static long count(Graph g) {
    long total = 0;
    for (Node n : g.nodes()) {
      total = Math.addExact(total, count(g, n));
    }
    return total;
  }

  /** FLOPs of one node of {@code g} (0 for ops that are not counted). */
  public static long count(Graph g, Node n) {
    if (!n.domain().isEmpty()) {
      return 0;
    }
    return switch (n.opType()) {
      case "Conv" -> {
        // out [N, Cout, spatial...], W [Cout, Cin/group, k...]: each output element is a dot
        // product of length (Cin/group) * prod(k).
        long[] out = shape(g, n, n.outputs().get(0));
        long[] w = shape(g, n, n.input(1));
        yield 2 * product(out, 0) * product(w, 1);
      }
      case "ConvTranspose" -> {
        // x [N, Cin, spatial...], W [Cin, Cout/group, k...]: each input element is scattered into
        // (Cout/group) * prod(k) outputs.
        long[] x = shape(g, n, n.input(0));
        long[] w = shape(g, n, n.input(1));
        yield 2 * product(x, 0) * product(w, 1);
      }
      case "MatMul" -> {
        long[] a = shape(g, n, n.input(0));
        long[] y = shape(g, n, n.outputs().get(0));
        yield 2 * product(y, 0) * a[a.length - 1];
      }
      case "Gemm" -> {
        long[] a = shape(g, n, n.input(0));
        long[] y = shape(g, n, n.outputs().get(0));
        long k = n.attrInt("transA", 0) != 0 ? a[0] : a[1];
        yield 2 * product(y, 0) * k;
      }
      case "Einsum" -> {
        // every combination of all letters' indices is one multiply-add (one product per extra
        // operand); one operand: a sum or transpose, counted as one op per element combination
        int k = n.inputs().size();
        int[] ranks = new int[k];
        java.util.List<Shape> shapes = new java.util.ArrayList<>();
        for (int i = 0; i < k; i++) {
          long[] s = shape(g, n, n.input(i));
          ranks[i] = s.length;
          shapes.add(Shape.of(s));
        }
        EinsumEquation eq = EinsumEquation.parse(n.attrString("equation", ""), ranks);
        long p = 1;
        for (Dim d : eq.sizes(shapes).values()) {
          p = Math.multiplyExact(p, d.size());
        }
        yield Math.max(1, 2 * (k - 1)) * p;
      }
      default -> 0;
    };
  }

  private static long[] shape(Graph g, Node n, String valueName) {
    Value v = g.value(valueName);
    Shape s = v.shape();
    if (!s.hasRank() || !s.isStatic()) {
      throw new IllegalArgumentException(
          "cannot count FLOPs of " + n.describe() + ": operand " + v + " has no static shape");
    }
    return s.toArray();
  }

  private static long product(long[] dims, int from) {
    long p = 1;
    for (int i = from; i < dims.length; i++) {
      p = Math.multiplyExact(p, dims[i]);
    }
    return p;
  }
}
