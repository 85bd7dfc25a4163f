package ai.vqclip.demo.eval;

import ai.vqclip.core.graph.DType;
import ai.vqclip.core.Loss;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Value;
import ai.vqclip.core.loss.SphericalDistance;
import java.util.ArrayList;
import java.util.List;

/**
 * A loss term that asks generation for the caption's shape rather than another in the same
 * colours: for each object of the caption, the cross-entropy of a choice among the caption and the
 * caption with that object's shape swapped for each other shape, scored by the CLIP (cosine times
 * {@code scale}), averaged over the cutouts, times {@code weight}. The prompt loss alone is a
 * cosine to the caption, most of which the colours carry; this term's gradient is the part that
 * tells shapes apart, and it stays large while the shape is ambiguous (a blob scores nearly alike
 * for every shape).
 *
 * <p>Immutable: the text embeddings are constants of the step graph.
 */
public final class ShapeContrastLoss implements Loss {
  /** The term's name. */
  public static final String NAME = "shape-contrast";

  private final List<float[][]> groups;
  private final double weight;
  private final double scale;

  /**
   * A term over choice groups.
   *
   * @param groups per object, the text embeddings [k][D] of the choice, the caption's first
   *     (normalised here)
   * @param weight weight of the term, positive
   * @param scale logit scale applied to the cosines, positive
   * @throws IllegalArgumentException for no group, a group of fewer than 2 texts or of uneven
   *     widths, or a weight or scale that is not positive and finite
   */
  public ShapeContrastLoss(List<float[][]> groups, double weight, double scale) {
    if (groups.isEmpty()) {
      throw new IllegalArgumentException("groups must not be empty");
    }
    List<float[][]> copy = new ArrayList<>();
    for (float[][] g : groups) {
      if (g.length < 2) {
        throw new IllegalArgumentException("a choice group needs at least 2 texts, got " + g.length);
      }
      float[][] c = new float[g.length][];
      for (int i = 0; i < g.length; i++) {
        if (g[i].length != g[0].length) {
          throw new IllegalArgumentException("text " + i + " has width " + g[i].length + ", the first " + g[0].length);
        }
        c[i] = g[i].clone();
      }
      copy.add(c);
    }
    if (!(weight > 0 && Double.isFinite(weight))) {
      throw new IllegalArgumentException("weight must be positive and finite, got " + weight);
    }
    if (!(scale > 0 && Double.isFinite(scale))) {
      throw new IllegalArgumentException("scale must be positive and finite, got " + scale);
    }
    this.groups = List.copyOf(copy);
    this.weight = weight;
    this.scale = scale;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Value build(Context ctx) {
    GraphBuilder b = ctx.builder();
    Value e = SphericalDistance.normalize(b, ctx.embeddings().get(0)); // [n, D]
    long n = ctx.embeddings().get(0).shape().size(0);
    Value total = null;
    for (float[][] g : groups) {
      int k = g.length;
      int d = g[0].length;
      float[] flat = new float[k * d];
      for (int i = 0; i < k; i++) {
        System.arraycopy(g[i], 0, flat, i * d, d);
      }
      Value t = SphericalDistance.normalize(b, b.constant(Tensor.ofFloats(new long[] {k, d}, flat)));
      Value logits = b.mul(b.matmul(e, b.transpose(t, 1, 0)), b.scalar(scale, DType.FLOAT)); // [n, k]
      Value logp = b.op("LogSoftmax").in(logits).attr("axis", 1L).out();
      float[] first = new float[k];
      first[0] = 1;
      Value own = b.reduceSum(b.mul(logp, b.constant(Tensor.ofFloats(new long[] {1, k}, first))), false);
      total = total == null ? own : b.add(total, own);
    }
    return b.mul(total, b.scalar(-weight / n, DType.FLOAT));
  }
}
