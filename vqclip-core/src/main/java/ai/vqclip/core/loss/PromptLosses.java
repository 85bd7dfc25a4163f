package ai.vqclip.core.loss;

import ai.vqclip.core.PromptLoss;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Value;

/** The built-in prompt distances. */
public final class PromptLosses {
  private PromptLosses() {}

  /** VQGAN-CLIP's squared spherical distance {@code 2 asin(|û - v̂| / 2)^2} (the default; {@link SphericalDistance}). */
  public static final PromptLoss SPHERICAL = new PromptLoss() {
    @Override
    public Value distances(GraphBuilder b, Value u, Value v) {
      return SphericalDistance.distances(b, u, v);
    }

    @Override
    public Value rowwise(GraphBuilder b, Value u, Value v) {
      return SphericalDistance.rowwise(b, u, v);
    }

    @Override
    public String toString() {
      return "spherical";
    }
  };

  /** Cosine distance {@code 1 - û·v̂}: the same ordering as the spherical one, a gentler pull far away. */
  public static final PromptLoss COSINE = new PromptLoss() {
    @Override
    public Value distances(GraphBuilder b, Value u, Value v) {
      Value un = SphericalDistance.normalize(b, u); // [n, D]
      Value vn = SphericalDistance.normalize(b, v); // [k, D]
      Value cos = b.matmul(un, b.transpose(vn, 1, 0)); // [n, k]
      return b.sub(b.scalarLike(1, cos), cos);
    }

    @Override
    public Value rowwise(GraphBuilder b, Value u, Value v) {
      Value prod = b.mul(SphericalDistance.normalize(b, u), SphericalDistance.normalize(b, v));
      Value cos = b.op("ReduceSum").in(prod, b.ints(-1)).attr("keepdims", 0L).out();
      return b.sub(b.scalarLike(1, cos), cos);
    }

    @Override
    public String toString() {
      return "cosine";
    }
  };
}
