package ai.vqclip.core;

import java.time.Duration;
import java.util.Map;

/**
 * What a run reports after each iteration's forward and backward pass (before the optimizer step,
 * so the image shows the latent the losses were computed on).
 *
 * @param iteration 0-based iteration
 * @param iterations total iterations of the run
 * @param loss the total loss
 * @param terms each loss term by name
 * @param elapsed time since the run started
 * @param image the image [1, 3, H, W] in [0, 1] when this iteration saves one, else null
 */
public record StepEvent(int iteration, int iterations, double loss, Map<String, Double> terms, Duration elapsed, Tensor image) {
  public StepEvent {
    terms = Map.copyOf(terms);
  }
}
