package ai.vqclip.core;

import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Value;
import java.util.List;
import java.util.Map;

/**
 * A loss term of the step graph (an extension point): add your own with {@code
 * Pipeline.Builder.loss}, replace a built-in one ({@code "tv"}: {@link
 * ai.vqclip.core.loss.TotalVariationLoss}, {@code "regularization"}: {@link
 * ai.vqclip.core.loss.RegularizationLoss}) with {@code Pipeline.Builder.replaceLoss}, or reweight
 * any term, built-in or yours, with {@code Pipeline.Builder.lossWeight}. The terms are summed and
 * differentiated together.
 *
 * <p><b>Contract.</b> {@link #build} adds graph nodes (ONNX ops with gradient rules) and returns a
 * FLOAT scalar (rank 0); the inputs it declares are named {@code name() + "/..."}, and {@link
 * #stepInputs(Step)} must return a value for every one of them, of the declared shape, each
 * iteration. Values the graph needs on every step but never changes are constants ({@code
 * builder.constant}), not inputs.
 *
 * <p><b>Call order</b> (per run): {@link #build} once, while the step graph is built; then {@link
 * #stepInputs(Step)} once per iteration, before that iteration's step runs.
 *
 * <p><b>Threads.</b> A pipeline's losses are shared by its concurrent runs: keep them immutable (or
 * thread-safe); {@link #stepInputs(Step)} may be called from several threads at once.
 *
 * <p>Example, a brightness term whose weight ramps up over the first 100 iterations:
 *
 * <pre>{@code
 * Loss brightness = new Loss() {
 *   public String name() { return "brightness"; }
 *   public Value build(Loss.Context ctx) {
 *     GraphBuilder b = ctx.builder();
 *     Value w = b.input("brightness/weight", DType.FLOAT, Shape.scalar());
 *     return b.mul(b.reduceMean(ctx.image(), false), w); // lower mean brightness is better
 *   }
 *   public Map<String, Tensor> stepInputs(int iteration) {
 *     return Map.of("brightness/weight", Tensor.scalar(DType.FLOAT, Math.min(1, iteration / 100.0)));
 *   }
 * };
 * }</pre>
 */
public interface Loss {
  /**
   * A short unique name: it labels the term in step events and prefixes its inputs.
   *
   * @return the term's name
   */
  String name();

  /**
   * Adds this term's nodes and returns a scalar (rank 0) value.
   *
   * @param ctx the step graph's builder and its main values
   * @return the term's value, a scalar
   */
  Value build(Context ctx);

  /**
   * The values of the inputs {@link #build} declared, for an iteration (default: none).
   *
   * @param iteration the iteration, from 0
   * @return input name to tensor, for every input the term declared
   */
  default Map<String, Tensor> stepInputs(int iteration) {
    return Map.of();
  }

  /**
   * The values of the inputs {@link #build} declared, for a step of a run; the default calls {@link
   * #stepInputs(int)}. Override this one when the inputs depend on the run's latent.
   *
   * @param step the iteration and the run's current latent
   * @return input name to tensor, for every input the term declared
   */
  default Map<String, Tensor> stepInputs(Step step) {
    return stepInputs(step.iteration());
  }

  /**
   * The step graph seen by a loss.
   *
   * @param builder add nodes (and inputs, named {@code name() + "/..."}) here
   * @param latent z [1, C, h, w]
   * @param image the generated image [1, 3, H, W] in [0, 1]
   * @param cutouts the cutouts [n, 3, S, S]
   * @param embeddings per encoder, the cutout embeddings [n, D]
   */
  record Context(GraphBuilder builder, Value latent, Value image, Value cutouts, List<Value> embeddings) {}

  /**
   * One step of a run, as a loss sees it (do not change the arrays).
   *
   * @param iteration 0-based iteration
   * @param latentShape the shape of z
   * @param latent z before this step
   * @param latentInit z at the start of the run
   */
  record Step(int iteration, long[] latentShape, float[] latent, float[] latentInit) {}
}
