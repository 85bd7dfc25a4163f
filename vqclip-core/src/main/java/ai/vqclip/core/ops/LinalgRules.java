package ai.vqclip.core.ops;

import ai.vqclip.core.autodiff.VjpContext;
import ai.vqclip.core.graph.EinsumEquation;
import ai.vqclip.core.graph.FlopCounter;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Node;
import ai.vqclip.core.graph.ShapeInference;
import ai.vqclip.core.graph.Value;

/**
 * Op family (see {@link OpTable}) of MatMul (batched, broadcasting, vector operands), Gemm and
 * Einsum.
 */
final class LinalgRules {
  private LinalgRules() {}

  static void define(OpTable t) {
    t.op("MatMul").shape(ShapeInference::matmul).grad(LinalgRules::matmul).flops((g, n) -> {
      long[] a = FlopCounter.staticShape(g, n, n.input(0));
      long[] y = FlopCounter.staticShape(g, n, n.outputs().get(0));
      return 2 * FlopCounter.product(y, 0) * a[a.length - 1];
    });
    t.op("Gemm").shape(ShapeInference::gemm).grad(LinalgRules::gemm).flops((g, n) -> {
      long[] a = FlopCounter.staticShape(g, n, n.input(0));
      long[] y = FlopCounter.staticShape(g, n, n.outputs().get(0));
      long k = n.attrInt("transA", 0) != 0 ? a[0] : a[1];
      return 2 * FlopCounter.product(y, 0) * k;
    });
    t.op("Einsum").since(12).shape(ShapeInference::einsum).grad(LinalgRules::einsum).flops(LinalgRules::einsumFlops);
  }

  static Value swapLast2(GraphBuilder b, Value v) {
    int r = v.rank();
    long[] perm = new long[r];
    for (int i = 0; i < r; i++) {
      perm[i] = i;
    }
    perm[r - 1] = r - 2;
    perm[r - 2] = r - 1;
    return b.transpose(v, perm);
  }

  private static void matmul(VjpContext c) {
    GraphBuilder b = c.b();
    Value a = c.input(0);
    Value bb = c.input(1);
    Value g = c.gradOutput(0);
    if (!a.shape().hasRank() || !bb.shape().hasRank()) {
      throw c.fail("needs known ranks");
    }
    boolean va = a.rank() == 1;
    boolean vb = bb.rank() == 1;
    Value a2 = va ? b.unsqueeze(a, 0) : a;
    Value b2 = vb ? b.unsqueeze(bb, 1) : bb;
    Value g2 = g;
    if (vb) {
      g2 = b.unsqueeze(g2, -1);
    }
    if (va) {
      g2 = b.unsqueeze(g2, -2);
    }
    if (c.needsGrad(0)) {
      Value da = c.unbroadcast(b.matmul(g2, swapLast2(b, b2)), a2);
      // reshapeLike, not a plain Reshape: a static shape may hold 0, which Reshape reads as "copy"
      c.setGrad(0, va ? TensorRules.reshapeLike(b, da, a) : da);
    }
    if (c.needsGrad(1)) {
      Value db = c.unbroadcast(b.matmul(swapLast2(b, a2), g2), b2);
      c.setGrad(1, vb ? TensorRules.reshapeLike(b, db, bb) : db);
    }
  }

  private static void gemm(VjpContext c) {
    GraphBuilder b = c.b();
    boolean ta = c.node().attrInt("transA", 0) != 0;
    boolean tb = c.node().attrInt("transB", 0) != 0;
    float alpha = c.node().attrFloat("alpha", 1f);
    float beta = c.node().attrFloat("beta", 1f);
    Value a = c.input(0);
    Value bb = c.input(1);
    Value g = c.gradOutput(0);
    Value ga = alpha == 1f ? g : b.mul(g, b.scalarLike(alpha, g));
    // Y = A' B' with A' = op(A), B' = op(B). Each gradient is one Gemm whose trans flags do the
    // transposes, so no Transpose node reads a weight: ONNX Runtime would fold it into a transposed
    // copy of the weight held for the session's lifetime (0.34 GB for CLIP ViT-B/32's image tower).
    if (c.needsGrad(0)) {
      // dA' = g B'^T; dA = transA ? (dA')^T = B' g^T : dA'
      Value da = ta ? gemm(b, bb, tb, ga, true) : gemm(b, ga, false, bb, !tb);
      c.setGrad(0, da);
    }
    if (c.needsGrad(1)) {
      // dB' = A'^T g; dB = transB ? (dB')^T = g^T A' : dB'
      Value db = tb ? gemm(b, ga, true, a, ta) : gemm(b, a, !ta, ga, false);
      c.setGrad(1, db);
    }
    if (c.needsGrad(2)) {
      Value gc = beta == 1f ? g : b.mul(g, b.scalarLike(beta, g));
      c.setGrad(2, c.unbroadcast(gc, c.input(2)));
    }
  }

  /** op(x) op(y) as one Gemm, op transposing where its flag is set. */
  private static Value gemm(GraphBuilder b, Value x, boolean transX, Value y, boolean transY) {
    GraphBuilder.OpBuilder op = b.op("Gemm").in(x, y);
    if (transX) {
      op.attr("transA", 1L);
    }
    if (transY) {
      op.attr("transB", 1L);
    }
    return op.out();
  }

  /**
   * Einsum with one or two operands, each letter naming one axis ({@code "bij,bjk->bik"},
   * {@code "bhid,bhjd->bhij"}, transposes, outer products, sums). The gradient of operand k is the
   * Einsum of the output gradient with the other operand onto k's letters: {@code dA = einsum("O,B->A")};
   * letters of k that appear nowhere else were summed out, so the gradient is broadcast back over
   * them. Repeated letters in one operand (diagonals) and broadcast axes (an ellipsis axis of size 1
   * against a larger one) are refused.
   */
  private static void einsum(VjpContext c) {
    GraphBuilder b = c.b();
    int n = c.inputCount();
    if (n < 1 || n > 2) {
      throw c.fail("only Einsum with one or two operands is differentiated, got " + n);
    }
    int[] ranks = new int[n];
    java.util.List<ai.vqclip.core.graph.Shape> shapes = new java.util.ArrayList<>();
    for (int k = 0; k < n; k++) {
      Value v = c.input(k);
      if (!v.shape().isStatic()) {
        throw c.fail("needs static shapes; " + v + " has none");
      }
      ranks[k] = v.rank();
      shapes.add(v.shape());
    }
    String equation = c.node().attrString("equation", null);
    if (equation == null) {
      throw c.fail("attribute 'equation' is required");
    }
    EinsumEquation eq;
    try {
      eq = EinsumEquation.parse(equation, ranks);
    } catch (IllegalArgumentException e) {
      throw c.fail(e.getMessage());
    }
    for (int k = 0; k < n; k++) {
      String s = eq.inputs().get(k);
      for (int i = 0; i < s.length(); i++) {
        if (s.indexOf(s.charAt(i)) != i) {
          throw c.fail("equation '" + equation + "' repeats letter '" + s.charAt(i) + "' in operand " + k
              + " (a diagonal); only equations with distinct letters per operand are differentiated");
        }
      }
    }
    java.util.Map<Character, ai.vqclip.core.graph.Dim> sizes = eq.sizes(shapes);
    for (int k = 0; k < n; k++) {
      String s = eq.inputs().get(k);
      for (int i = 0; i < s.length(); i++) {
        if (shapes.get(k).size(i) != sizes.get(s.charAt(i)).size()) {
          throw c.fail("equation '" + equation + "' broadcasts axis " + i + " of operand " + k + "; not differentiated");
        }
      }
    }
    Value g = c.gradOutput(0);
    for (int k = 0; k < n; k++) {
      if (!c.needsGrad(k)) {
        continue;
      }
      String target = eq.inputs().get(k);
      String other = n == 2 ? eq.inputs().get(1 - k) : "";
      StringBuilder kept = new StringBuilder();
      java.util.List<Long> missing = new java.util.ArrayList<>();
      for (int i = 0; i < target.length(); i++) {
        char ch = target.charAt(i);
        if (eq.output().indexOf(ch) >= 0 || other.indexOf(ch) >= 0) {
          kept.append(ch);
        } else {
          missing.add((long) i);
        }
      }
      Value d;
      if (eq.output().isEmpty()) {
        // a scalar output: the gradient is g times the other operand summed onto k's letters
        d = n == 2 ? b.op("Einsum").in(c.input(1 - k)).attr("equation", other + "->" + kept).out() : null;
        d = d == null ? g : b.mul(d, g);
      } else if (n == 1 && kept.length() == 0) {
        d = g;
      } else {
        String gradEq = eq.output() + (n == 2 ? "," + other : "") + "->" + kept;
        d = n == 2
            ? b.op("Einsum").in(g, c.input(1 - k)).attr("equation", gradEq).out()
            : b.op("Einsum").in(g).attr("equation", gradEq).out();
      }
      if (!missing.isEmpty()) {
        d = b.expand(b.unsqueeze(d, missing.stream().mapToLong(Long::longValue).toArray()), b.ints(shapes.get(k).toArray()));
      }
      c.setGrad(k, d);
    }
  }

  /**
   * Einsum FLOPs: every combination of all letters' indices is one product of the operands (a
   * multiply-add per extra operand, counted as two); one operand (a sum or transpose) counts one
   * op per combination.
   */
  private static long einsumFlops(Graph g, Node n) {
    int k = n.inputs().size();
    int[] ranks = new int[k];
    java.util.List<ai.vqclip.core.graph.Shape> shapes = new java.util.ArrayList<>();
    for (int i = 0; i < k; i++) {
      long[] s = FlopCounter.staticShape(g, n, n.input(i));
      ranks[i] = s.length;
      shapes.add(ai.vqclip.core.graph.Shape.of(s));
    }
    EinsumEquation eq = EinsumEquation.parse(n.attrString("equation", ""), ranks);
    long p = 1;
    for (ai.vqclip.core.graph.Dim d : eq.sizes(shapes).values()) {
      p = Math.multiplyExact(p, d.size());
    }
    return Math.max(1, 2 * (k - 1)) * p;
  }
}
