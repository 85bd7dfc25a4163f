package ai.vqclip.core;

import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Value;
import java.util.List;
import java.util.Map;

/**
 * A user-defined loss term added to the step graph. {@link #build} runs once, when the run's step
 * graph is built; {@link #stepInputs} runs every iteration and feeds the inputs the term declared
 * (for example a weight that changes over time). The term is differentiated with the rest.
 */
public interface Loss {
  /** A short unique name: it labels the term in step events and prefixes its inputs. */
  String name();

  /**
   * Adds this term's nodes and returns a scalar (rank 0) value.
   *
   * @param ctx the step graph's builder and its main values
   */
  Value build(Context ctx);

  /** The values of the inputs {@link #build} declared, for an iteration (default: none). */
  default Map<String, Tensor> stepInputs(int iteration) {
    return Map.of();
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
}
