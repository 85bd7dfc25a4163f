package ai.vqclip.core;

import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Value;

/**
 * How far image embeddings are from prompt embeddings (an extension point): the distance of every
 * prompt term (text, image and noise prompts, the edit terms). The pipeline applies each prompt's
 * weight and stop to these distances ({@link ai.vqclip.core.loss.SphericalDistance#weighted}). The
 * built-ins are in {@link ai.vqclip.core.loss.PromptLosses}: {@code SPHERICAL} (VQGAN-CLIP's squared
 * great-circle distance, the default) and {@code COSINE} ({@code 1 - cos}); choose one with {@code
 * Pipeline.Builder.promptLoss}.
 *
 * <p><b>Contract.</b> Both methods add graph nodes only (differentiable ONNX ops), return FLOAT
 * distances that are 0 for identical directions and grow as the embeddings part, and are pure: the
 * same inputs give the same nodes. <b>Call order:</b> while the step graph is built, once per prompt
 * term and encoder. <b>Threads:</b> shared by concurrent runs; keep it stateless.
 *
 * <p>Example, squared Euclidean distance of the normalised embeddings:
 *
 * <pre>{@code
 * PromptLoss chordSquared = new PromptLoss() {
 *   public Value distances(GraphBuilder b, Value u, Value v) {
 *     Value d = b.sub(b.unsqueeze(SphericalDistance.normalize(b, u), 1), b.unsqueeze(SphericalDistance.normalize(b, v), 0));
 *     return b.op("ReduceSumSquare").in(d, b.ints(-1)).attr("keepdims", 0L).out();
 *   }
 *   public Value rowwise(GraphBuilder b, Value u, Value v) {
 *     Value d = b.sub(SphericalDistance.normalize(b, u), SphericalDistance.normalize(b, v));
 *     return b.op("ReduceSumSquare").in(d, b.ints(-1)).attr("keepdims", 0L).out();
 *   }
 * };
 * }</pre>
 */
public interface PromptLoss {
  /**
   * {@code d} [n, k]: the distance between every row of {@code u} [n, D] and every row of {@code v}
   * [k, D].
   *
   * @param b the builder to append to
   * @param u embeddings [n, D]
   * @param v embeddings [k, D]
   * @return the distances, [n, k]
   */
  Value distances(GraphBuilder b, Value u, Value v);

  /**
   * {@code d} [n]: the distance between row i of {@code u} and row i of {@code v} (both [n, D]).
   *
   * @param b the builder to append to
   * @param u embeddings [n, D]
   * @param v embeddings [n, D]
   * @return the distances, [n]
   */
  Value rowwise(GraphBuilder b, Value u, Value v);
}
