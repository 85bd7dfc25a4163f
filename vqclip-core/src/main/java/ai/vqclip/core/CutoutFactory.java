package ai.vqclip.core;

import java.util.List;

/**
 * Creates the cutout stage of a run from its request (an extension point; vqclip-augment's {@code
 * StandardCutouts} is the standard one).
 *
 * <p><b>Contract.</b> {@link #create} returns a new {@link CutoutSource} for one run; it resolves
 * every {@link CutoutAugmentation.Code} it knows and throws an {@link IllegalArgumentException}
 * naming any code it does not, and applies every {@link GeometricAugmentation} and {@link
 * Augmentation} object in the list in order.
 *
 * <p><b>Call order.</b> Once per run, before the step graph is built (and once per {@code
 * Pipeline.snapshot}).
 *
 * <p><b>Threads.</b> Called from several runs' threads at once: keep the factory stateless or
 * thread-safe. The source it returns belongs to one run.
 *
 * <p>Example, the standard cutouts with no augmentation whatever the request says:
 *
 * <pre>{@code
 * CutoutFactory plain = (count, size, cutPow, augmentations) -> new StandardCutouts().create(count, size, cutPow, List.of());
 * }</pre>
 */
@FunctionalInterface
public interface CutoutFactory {
  /**
   * @param count cutouts per step
   * @param size side S of each cutout (the encoder's input resolution)
   * @param cutPow the crop-size exponent (METHOD.md B.5)
   * @param augmentations the request's augmentation stages, in order; empty for none
   * @return a new cutout source for one run
   * @throws IllegalArgumentException for an augmentation code the factory does not know, or
   *     parameters out of range
   */
  CutoutSource create(int count, int size, double cutPow, List<CutoutAugmentation> augmentations);
}
