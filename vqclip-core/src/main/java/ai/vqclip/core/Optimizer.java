package ai.vqclip.core;

/**
 * An update rule for the flat float32 latent (an extension point): the pipeline hands it the
 * gradient of every iteration and it changes the latent in place. vqclip's built-ins are {@link
 * ai.vqclip.core.optim.OptimizerConfig} (ND4J's updaters: Adam, AdamW, Adagrad, Adamax, RMSProp,
 * Nadam, AMSGrad, SGD with Nesterov momentum); a user optimizer implements this interface and is
 * passed with {@code GenerationRequest.Builder.optimizer(...)}, with no change to vqclip.
 *
 * <p><b>Contract.</b> The optimizer object itself is an immutable description (it sits in a request,
 * which may be run many times and from several threads); everything that changes lives in the
 * {@link State} that {@link #start} returns, one per run. A state's {@link State#save()} must hold
 * everything {@link State#step} depends on besides the step count, so that {@link State#restore}
 * followed by the same steps gives bit-identical latents (checkpoints and resume rely on this). So
 * that checkpoint files can be validated, a saved state holds either 1 value (a stateless
 * optimizer) or 1, 2 or 3 values per parameter, all finite.
 *
 * <p><b>Call order</b> (per run): {@link #start} once; on resume {@link State#restore} once; then
 * per iteration {@link State#step} once, with that iteration's learning rate from the request's
 * {@link LearningRateSchedule} (which starts from {@link #learningRate()}); {@link State#save}
 * whenever a checkpoint is written (between steps).
 *
 * <p><b>Threads.</b> {@link #start} may be called from several threads at once; a {@link State} is
 * used by one run's thread only and need not be thread-safe.
 *
 * <p>Example, plain gradient descent (stateless: one slot):
 *
 * <pre>{@code
 * Optimizer descent = new Optimizer() {
 *   public double learningRate() { return 5; }
 *   public State start(int size) {
 *     return new State() {
 *       int steps;
 *       public void step(float[] z, float[] grad, double lr) {
 *         for (int i = 0; i < z.length; i++) z[i] -= (float) (lr * grad[i]);
 *         steps++;
 *       }
 *       public int steps() { return steps; }
 *       public float[] save() { return new float[1]; }
 *       public void restore(float[] state, int stepCount) { steps = stepCount; }
 *     };
 *   }
 * };
 * }</pre>
 */
public interface Optimizer {
  /**
   * The base learning rate, what the schedule starts from (a finite number > 0).
   *
   * @return the base learning rate
   */
  double learningRate();

  /**
   * A fresh state for {@code size} parameters.
   *
   * @param size number of parameters, at least 1
   * @return a new state for one run
   * @throws IllegalArgumentException if size is not positive
   */
  State start(int size);

  /**
   * A short name for manifests, logs and study tables (default: the class's simple name).
   *
   * @return the name
   */
  default String name() {
    return getClass().getSimpleName();
  }

  /** One run's optimizer state. */
  interface State {
    /**
     * One update of {@code params} in place from {@code grad} (same length) at learning rate
     * {@code learningRate} (finite, >= 0; 0 when a schedule pauses the run: the built-ins then
     * count the step and change nothing else).
     *
     * @param params the parameters, updated in place
     * @param grad the gradient of the loss with respect to {@code params}, same length
     * @param learningRate this step's learning rate, finite and at least 0
     */
    void step(float[] params, float[] grad, double learningRate);

    /**
     * Steps taken so far (restored ones included).
     *
     * @return the step count
     */
    int steps();

    /**
     * The state as floats (a copy): 1 value, or 1 to 3 values per parameter.
     *
     * @return a new array with the state
     */
    float[] save();

    /**
     * Restores a state saved by {@link #save} of the same kind and size, with its step count.
     *
     * @param state what {@link #save} returned
     * @param steps the step count to continue from
     * @throws IllegalArgumentException when the state does not fit, naming what was expected
     */
    void restore(float[] state, int steps);
  }
}
