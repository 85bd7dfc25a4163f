package ai.vqclip.core.loss;

import ai.vqclip.core.Loss;
import ai.vqclip.core.PromptLoss;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Value;
import java.util.Objects;

/**
 * The built-in content-preservation term {@code "content"} of a from/to edit as a {@link Loss}:
 * {@code sum_e weight * mean_i(d(E_e,i, S_e,i) * (1 - m_i))}, where S are the same cutouts of the
 * source image and m_i the edit region's mean over cutout i, both cut with this step's own cutout
 * parameters ({@link Context#cutoutsOf}): cutouts that lie outside the edit region stay close to the
 * source (METHOD.md §3). Immutable.
 *
 * @param distance how far embeddings are from each other (its {@link PromptLoss#rowwise})
 * @param weight the term's weight (finite, > 0)
 * @param source the source image [1, 3, H, W] in [0, 1]
 * @param region the edit region as an RGB image [1, 3, H, W] in [0, 1] (1: may change)
 */
public record EditContentLoss(PromptLoss distance, double weight, Tensor source, Tensor region) implements Loss {
  /** The term's name. */
  public static final String NAME = "content";

  /**
   * Validates.
   *
   * @param distance how far embeddings are from each other (its {@link PromptLoss#rowwise})
   * @param weight the term's weight (finite, > 0)
   * @param source the source image [1, 3, H, W] in [0, 1]
   * @param region the edit region as an RGB image [1, 3, H, W] in [0, 1] (1: may change)
   * @throws IllegalArgumentException for a value out of range (the message names it)
   * @throws NullPointerException for a null value that is required
   */
  public EditContentLoss {
    Objects.requireNonNull(distance, "distance");
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(region, "region");
    if (!(weight > 0) || !Double.isFinite(weight)) {
      throw new IllegalArgumentException("edit content weight must be a finite number > 0, got " + weight);
    }
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Value build(Context ctx) {
    GraphBuilder b = ctx.builder();
    Value srcCuts = ctx.cutoutsOf(b.constant(source), "source-cutouts");
    Value maskCuts = ctx.cutoutsOf(b.constant(region), "mask-cutouts");
    Value coverage = b.op("ReduceMean").in(maskCuts, b.ints(1, 2, 3)).attr("keepdims", 0L).out(); // [n]
    Value keep = b.sub(b.scalar(1, DType.FLOAT), coverage);
    Value content = null;
    for (int k = 0; k < ctx.embeddings().size(); k++) {
      Value src = ctx.embed(k, srcCuts, "source-encoder" + k);
      Value d = distance.rowwise(b, ctx.embeddings().get(k), src);
      Value t = b.mul(b.reduceMean(b.mul(d, keep), false), b.scalar(weight, DType.FLOAT));
      content = content == null ? t : b.add(content, t);
    }
    return content;
  }
}
