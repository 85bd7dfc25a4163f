package ai.vqclip.core.loss;

import ai.vqclip.core.Loss;
import ai.vqclip.core.PromptLoss;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import java.util.Map;
import java.util.Objects;

/**
 * A built-in image prompt re-augmented in lockstep with the cutouts ({@code "image0"}, ... when a
 * request asks for lockstep image prompts, pixray's way) as a {@link Loss}: the prompt image, at the
 * run's size, is cut with this step's own cutout parameters ({@link Context#cutoutsOf}), embedded
 * ({@link Context#embed}), and cutout i of the generated image is compared with cutout i of the
 * prompt: {@code sum_e |w| * mean_i(sign(w) * d(E_e,i, P_e,i))}, the gradient stopped below {@code
 * stop}. Weight and stop are inputs ({@code name + "/weight"}, {@code "/stop"}). Immutable.
 *
 * @param name the slot's name
 * @param distance how far embeddings are from each other (its {@link PromptLoss#rowwise})
 * @param image the prompt image [1, 3, H, W] at the run's size, in [0, 1]
 * @param weight the prompt weight (finite, non-zero)
 * @param stop the stop value ({@code -inf}: never stop)
 */
public record LockstepPromptLoss(String name, PromptLoss distance, Tensor image, double weight, double stop) implements Loss {
  /**
   * Validates.
   *
   * @param name the slot's name
   * @param distance how far embeddings are from each other (its {@link PromptLoss#rowwise})
   * @param image the prompt image [1, 3, H, W] at the run's size, in [0, 1]
   * @param weight the prompt weight (finite, non-zero)
   * @param stop the stop value ({@code -inf}: never stop)
   * @throws IllegalArgumentException for a value out of range (the message names it)
   * @throws NullPointerException for a null value that is required
   */
  public LockstepPromptLoss {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(distance, "distance");
    Objects.requireNonNull(image, "image");
    if (!Double.isFinite(weight) || weight == 0) {
      throw new IllegalArgumentException("lockstep prompt '" + name + "' weight must be finite and non-zero, got " + weight);
    }
    if (Double.isNaN(stop)) {
      throw new IllegalArgumentException("lockstep prompt '" + name + "' stop must be a number, got NaN");
    }
  }

  @Override
  public Value build(Context ctx) {
    GraphBuilder b = ctx.builder();
    Value w = b.input(name + "/weight", DType.FLOAT, Shape.scalar());
    Value s = b.input(name + "/stop", DType.FLOAT, Shape.scalar());
    Value promptCuts = ctx.cutoutsOf(b.constant(image), name + "-cutouts");
    Value sum = null;
    for (int e = 0; e < ctx.embeddings().size(); e++) {
      Value target = ctx.embed(e, promptCuts, name + "-encoder" + e);
      Value l = SphericalDistance.weighted(b, distance.rowwise(b, ctx.embeddings().get(e), target), w, s);
      sum = sum == null ? l : b.add(sum, l);
    }
    return sum;
  }

  @Override
  public Map<String, Tensor> stepInputs(int iteration) {
    return Map.of(name + "/weight", Tensor.scalar(DType.FLOAT, weight), name + "/stop", Tensor.scalar(DType.FLOAT, stop));
  }
}
