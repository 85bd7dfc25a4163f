package ai.vqclip.core;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * What a run reports after each iteration's forward and backward pass (before the optimizer step,
 * so the image shows the latent the losses were computed on).
 *
 * @param iteration 0-based iteration
 * @param iterations total iterations of the run
 * @param loss the total loss
 * @param terms each loss term by name
 * @param elapsed time since the run started (setup included)
 * @param image the image [1, 3, H, W] in [0, 1] when this iteration saves one, else null
 * @param setup the part of {@code elapsed} spent before the first step: building, differentiating
 *     and compiling the step graph, embedding the prompts ({@link Duration#ZERO} when unknown). The
 *     wall time of step i is {@code elapsed(i) - elapsed(i - 1)}, of the first step {@code
 *     elapsed - setup}.
 */
public record StepEvent(int iteration, int iterations, double loss, Map<String, Double> terms, Duration elapsed, Tensor image,
    Duration setup) {
  /**
   * Copies the terms and checks the durations.
   *
   * @param iteration 0-based iteration
   * @param iterations total iterations of the run
   * @param loss the total loss
   * @param terms each loss term by name (copied)
   * @param elapsed time since the run started, setup included (not null)
   * @param image the image [1, 3, H, W] in [0, 1] when this iteration saves one, else null
   * @param setup the part of {@code elapsed} spent before the first step (not null)
   * @throws NullPointerException when a duration is null
   */
  public StepEvent {
    terms = Map.copyOf(terms);
    Objects.requireNonNull(elapsed, "elapsed");
    Objects.requireNonNull(setup, "setup");
  }

  /**
   * An event without a known setup time.
   *
   * @param iteration 0-based iteration
   * @param iterations total iterations of the run
   * @param loss the total loss
   * @param terms each loss term by name
   * @param elapsed time since the run started
   * @param image the image when this iteration saves one, else null
   */
  public StepEvent(int iteration, int iterations, double loss, Map<String, Double> terms, Duration elapsed, Tensor image) {
    this(iteration, iterations, loss, terms, elapsed, image, Duration.ZERO);
  }
}
