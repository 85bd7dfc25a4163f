package ai.vqclip.core;

import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Value;
import java.util.List;
import java.util.Map;

/**
 * A loss term of the step graph (an extension point): add your own with {@code
 * Pipeline.Builder.loss}, replace or drop a built-in one with {@code Pipeline.Builder.replaceLoss},
 * or reweight any term, built-in or yours, with {@code Pipeline.Builder.lossWeight}. Every built-in
 * term is a {@code Loss}: the prompt slots {@code "text0"}, ..., {@code "image0"}, ..., {@code
 * "noise0"}, ... ({@link ai.vqclip.core.loss.PromptTermLoss}, {@link
 * ai.vqclip.core.loss.LockstepPromptLoss}), the edit terms {@code "direction"} ({@link
 * ai.vqclip.core.loss.EditDirectionLoss}) and {@code "content"} ({@link
 * ai.vqclip.core.loss.EditContentLoss}), {@code "regularization"} ({@link
 * ai.vqclip.core.loss.RegularizationLoss}) and {@code "tv"} ({@link
 * ai.vqclip.core.loss.TotalVariationLoss}). The terms are summed and differentiated together.
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
   * @param stages this step's cutout stage and encoders, for terms that cut or embed other images in
   *     lockstep with the generated one ({@link #cutoutsOf}, {@link #embed}); null when the graph
   *     offers none
   */
  record Context(GraphBuilder builder, Value latent, Value image, Value cutouts, List<Value> embeddings, Stages stages) {
    /**
     * A context without {@link Stages}: {@link #cutoutsOf} and {@link #embed} are refused.
     *
     * @param builder add nodes here
     * @param latent z [1, C, h, w]
     * @param image the generated image [1, 3, H, W]
     * @param cutouts the cutouts [n, 3, S, S]
     * @param embeddings per encoder, the cutout embeddings [n, D]
     */
    public Context(GraphBuilder builder, Value latent, Value image, Value cutouts, List<Value> embeddings) {
      this(builder, latent, image, cutouts, embeddings, null);
    }

    /**
     * Cuts another image [1, 3, H, W] (the run's size) with this step's own cutout parameters and
     * augmentations, so that cutout i of it covers what cutout i of the generated image covers.
     *
     * @param otherImage an image value of the step graph (e.g. a {@code builder.constant})
     * @param scope a name scope for the nodes added, unique in the graph
     * @return the cutouts [n, 3, S, S]
     * @throws IllegalStateException when this context has no stages
     */
    public Value cutoutsOf(Value otherImage, String scope) {
      return requireStages().cutoutsOf(otherImage, scope);
    }

    /**
     * Embeds images with one of the step's encoders (the graph includes its image fragment again).
     *
     * @param encoder the encoder's index, as in {@link #embeddings}
     * @param images images [n, 3, S, S] (e.g. from {@link #cutoutsOf})
     * @param scope a name scope for the nodes added, unique in the graph
     * @return the embeddings [n, D]
     * @throws IllegalStateException when this context has no stages
     */
    public Value embed(int encoder, Value images, String scope) {
      return requireStages().embed(encoder, images, scope);
    }

    private Stages requireStages() {
      if (stages == null) {
        throw new IllegalStateException("this loss context offers no cutout stage or encoders (built without Loss.Stages)");
      }
      return stages;
    }
  }

  /** The step's cutout stage and encoders, as {@link Context#cutoutsOf} and {@link Context#embed} use them. */
  interface Stages {
    /**
     * Cuts an image with this step's cutout parameters.
     *
     * @param image the image [1, 3, H, W]
     * @param scope a name scope, unique in the graph
     * @return the cutouts [n, 3, S, S]
     */
    Value cutoutsOf(Value image, String scope);

    /**
     * Embeds images with encoder {@code encoder}.
     *
     * @param encoder the encoder's index
     * @param images [n, 3, S, S]
     * @param scope a name scope, unique in the graph
     * @return the embeddings [n, D]
     */
    Value embed(int encoder, Value images, String scope);
  }

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
