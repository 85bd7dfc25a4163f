package ai.vqclip.core.loss;

import ai.vqclip.core.Loss;
import ai.vqclip.core.PromptLoss;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Value;
import java.util.List;
import java.util.Objects;

/**
 * The built-in direction term {@code "direction"} of a from/to edit as a {@link Loss}: {@code sum_e
 * scale * mean_i(d(E_e,i, to_e) - d(E_e,i, from_e))}, which pulls the cutouts from the {@code from}
 * text toward the {@code to} text (METHOD.md §3). The text embeddings are constants of the step
 * graph. Immutable.
 *
 * @param distance how far embeddings are from the texts
 * @param scale the term's weight (finite, > 0)
 * @param from per encoder, the embedding [1, D] of the text describing what to change
 * @param to per encoder, the embedding [1, D] of the text describing what it should become
 */
public record EditDirectionLoss(PromptLoss distance, double scale, List<Tensor> from, List<Tensor> to) implements Loss {
  /** The term's name. */
  public static final String NAME = "direction";

  /**
   * Validates.
   *
   * @param distance how far embeddings are from the texts
   * @param scale the term's weight (finite, > 0)
   * @param from per encoder, the embedding [1, D] of the text describing what to change
   * @param to per encoder, the embedding [1, D] of the text describing what it should become
   * @throws IllegalArgumentException for a value out of range (the message names it)
   * @throws NullPointerException for a null value that is required
   */
  public EditDirectionLoss {
    Objects.requireNonNull(distance, "distance");
    if (!(scale > 0) || !Double.isFinite(scale)) {
      throw new IllegalArgumentException("edit direction scale must be a finite number > 0, got " + scale);
    }
    from = List.copyOf(from);
    to = List.copyOf(to);
    if (from.size() != to.size() || from.isEmpty()) {
      throw new IllegalArgumentException("edit direction needs one from and one to embedding per encoder, got " + from.size() + " and "
          + to.size());
    }
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Value build(Context ctx) {
    GraphBuilder b = ctx.builder();
    Value direction = null;
    for (int k = 0; k < from.size(); k++) {
      Value t = b.constant(to.get(k));
      Value f = b.constant(from.get(k));
      Value diff = b.sub(distance.distances(b, ctx.embeddings().get(k), t), distance.distances(b, ctx.embeddings().get(k), f));
      Value term = b.mul(b.reduceMean(diff, false), b.scalar(scale, DType.FLOAT));
      direction = direction == null ? term : b.add(direction, term);
    }
    return direction;
  }
}
