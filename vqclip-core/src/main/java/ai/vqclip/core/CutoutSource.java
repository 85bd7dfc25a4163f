package ai.vqclip.core;

import ai.vqclip.core.graph.Graph;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * Makes the encoder's views of the image inside the step graph: a fragment from {@link #IMAGE}
 * [1, 3, H, W] in [0, 1] to {@link #CUTOUTS} [n, 3, S, S], whose other inputs are per-step random
 * parameters drawn on the host by {@link #sample}. The graph is built once; only the parameters
 * change from step to step, so the same seed gives the same cutouts.
 */
public interface CutoutSource {
  /** The fragment's image input. */
  String IMAGE = "image";

  /** The fragment's output. */
  String CUTOUTS = "cutouts";

  /**
   * The number of cutouts n.
   *
   * @return the number of cutouts n per step
   */
  int count();

  /**
   * The fragment for an image of {@code width} x {@code height}.
   *
   * @param width image width W in pixels
   * @param height image height H in pixels
   * @return a new graph fragment
   * @throws IllegalArgumentException for an image size the source cannot cut
   */
  Graph fragment(int width, int height);

  /**
   * One step's parameter inputs (every fragment input except {@link #IMAGE}), drawn from {@code
   * rng}.
   *
   * @param rng the run's generator; advanced by the draws
   * @param width image width W in pixels
   * @param height image height H in pixels
   * @return input name to tensor
   */
  Map<String, Tensor> sample(RandomGenerator rng, int width, int height);
}
