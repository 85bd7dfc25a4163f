package ai.vqclip.core;

import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Value;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * A pixel augmentation of a batch of cutouts [cutn, 3, S, S] (float32), differentiable with
 * respect to the cutouts. Its random parameters are drawn on the host, once per optimisation step,
 * and fed to the graph as inputs, so the graph is built once and a seeded generator reproduces a
 * run bit for bit.
 *
 * <p>Call order: {@link #apply} once while the step graph is built (it declares the parameter
 * inputs, each named {@code inputPrefix + key}); then, every step, {@link #sample} with the run's
 * generator, whose keys (prefixed by the same {@code inputPrefix}) feed exactly those inputs.
 * Implementations are immutable and draw from {@code rng} in a fixed, documented order.
 */
public interface Augmentation extends CutoutAugmentation {
  /**
   * Appends the augmentation to {@code b}: declares its float32 parameter inputs {@code
   * inputPrefix + key} for every key that {@link #sample} returns and returns the augmented
   * cutouts, of the same shape as {@code cutouts}.
   *
   * @param b the builder of the step graph
   * @param cutouts the cutouts, float32 [cutn, 3, S, S]
   * @param inputPrefix prefix of this stage's parameter input names
   * @return the augmented cutouts
   */
  Value apply(GraphBuilder b, Value cutouts, String inputPrefix);

  /**
   * Draws one step's parameters for {@code cutn} cutouts of side {@code size}: a map from input
   * key (without prefix) to tensor, whose shapes match the inputs {@link #apply} declares.
   *
   * @param rng the run's generator; advanced by the draws
   * @param cutn number of cutouts
   * @param size cutout side S in pixels
   * @return input key to tensor
   */
  Map<String, Tensor> sample(RandomGenerator rng, int cutn, int size);
}
