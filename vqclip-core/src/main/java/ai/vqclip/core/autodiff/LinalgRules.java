package ai.vqclip.core.autodiff;

import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Value;

/** VJP rules of MatMul (batched, broadcasting, vector operands) and Gemm. */
final class LinalgRules {
  private LinalgRules() {}

  static void register(VjpRegistry r) {
    r.register("MatMul", LinalgRules::matmul);
    r.register("Gemm", LinalgRules::gemm);
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
    if (c.needsGrad(0)) {
      // Y = A' B' with A' = op(A): dA' = g B'^T; dA = transA ? (dA')^T = B' g^T : dA'
      Value bPrime = tb ? b.transpose(bb, 1, 0) : bb;
      Value da = ta ? b.matmul(bPrime, b.transpose(ga, 1, 0)) : b.matmul(ga, b.transpose(bPrime, 1, 0));
      c.setGrad(0, da);
    }
    if (c.needsGrad(1)) {
      Value aPrime = ta ? b.transpose(a, 1, 0) : a;
      Value db = tb ? b.matmul(b.transpose(ga, 1, 0), aPrime) : b.matmul(b.transpose(aPrime, 1, 0), ga);
      c.setGrad(1, db);
    }
    if (c.needsGrad(2)) {
      Value gc = beta == 1f ? g : b.mul(g, b.scalarLike(beta, g));
      c.setGrad(2, c.unbroadcast(gc, c.input(2)));
    }
  }
}
