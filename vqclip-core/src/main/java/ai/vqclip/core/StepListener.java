package ai.vqclip.core;

/** Receives step events; returning false stops the run after this step (its result is kept). */
@FunctionalInterface
public interface StepListener {
  /**
   * @param event the iteration that just ran
   * @return true to go on, false to stop
   */
  boolean onStep(StepEvent event);
}
