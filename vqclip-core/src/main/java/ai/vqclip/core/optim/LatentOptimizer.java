package ai.vqclip.core.optim;

import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.AMSGrad;
import org.nd4j.linalg.learning.config.AdaGrad;
import org.nd4j.linalg.learning.config.AdaMax;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nadam;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.RmsProp;
import org.nd4j.linalg.learning.config.Sgd;

/**
 * Applies an optimizer's updates to a flat float32 parameter vector (the latent), through ND4J's
 * updaters. Its whole state (moment estimates and the step count) can be saved and restored, so a
 * resumed run continues bit for bit. Call order: {@link #step} once per iteration with that
 * iteration's gradient; {@link #state}/{@link #restore} around checkpoints. Not thread-safe. This is
 * the {@link ai.vqclip.core.Optimizer.State} of the built-in optimizers ({@link OptimizerConfig#start}).
 */
public final class LatentOptimizer implements ai.vqclip.core.Optimizer.State {
  private final int size;
  private OptimizerConfig config;
  private final INDArray stateView;
  private GradientUpdater<?> updater;
  private int steps;

  /**
   * An optimizer for {@code size} parameters.
   *
   * @param config the update rule and its settings
   * @param size the number of parameters, at least 1
   * @throws IllegalArgumentException if size is not positive
   */
  public LatentOptimizer(OptimizerConfig config, int size) {
    if (size <= 0) {
      throw new IllegalArgumentException("parameter count must be > 0, got " + size);
    }
    this.size = size;
    this.config = java.util.Objects.requireNonNull(config, "config");
    IUpdater u = updaterConfig(config);
    long stateSize = u.stateSize(size);
    // ND4J refuses a zero-length view for stateless updaters (SGD without momentum): keep one slot.
    this.stateView = Nd4j.zeros(DataType.FLOAT, 1, Math.max(1, stateSize));
    this.updater = u.instantiate(stateSize == 0 ? null : stateView, true);
  }

  /**
   * The length of {@link #state()} for an optimizer of {@code config}'s kind over {@code size}
   * parameters (a checkpoint's optimizer state must have it).
   *
   * @param config the update rule and its settings
   * @param size the number of parameters
   * @return the number of state floats
   */
  public static long stateSize(OptimizerConfig config, int size) {
    return Math.max(1, updaterConfig(config).stateSize(size));
  }

  private static IUpdater updaterConfig(OptimizerConfig c) {
    return switch (c.kind()) {
      case ADAM, ADAMW -> new Adam(c.learningRate(), c.beta1(), c.beta2(), c.epsilon());
      case ADAMAX -> new AdaMax(c.learningRate(), c.beta1(), c.beta2(), c.epsilon());
      case NADAM -> new Nadam(c.learningRate(), c.beta1(), c.beta2(), c.epsilon());
      case AMSGRAD -> new AMSGrad(c.learningRate(), c.beta1(), c.beta2(), c.epsilon());
      case ADAGRAD -> new AdaGrad(c.learningRate(), c.epsilon());
      case RMSPROP -> new RmsProp(c.learningRate(), c.beta2(), c.epsilon());
      case SGD -> c.beta1() == 0 ? new Sgd(c.learningRate()) : new Nesterovs(c.learningRate(), c.beta1());
    };
  }

  /**
   * The current settings.
   *
   * @return the configuration now in use (with the latest learning rate)
   */
  public OptimizerConfig config() {
    return config;
  }

  /** Steps taken so far. */
  @Override
  public int steps() {
    return steps;
  }

  /**
   * Changes the learning rate, keeping the moment estimates (learning-rate drops, story mode).
   *
   * @param lr the new learning rate, finite and &gt; 0
   * @throws IllegalArgumentException for a learning rate that is not finite and positive
   */
  public void setLearningRate(double lr) {
    OptimizerConfig next = config.withLearningRate(lr);
    updater.getConfig().setLrAndSchedule(lr, null);
    config = next;
  }

  /**
   * One update: {@code params -= update(grad)} in place. SGD momentum uses Nesterov's form.
   *
   * @param params the parameters, updated in place; {@code size} values
   * @param grad the gradient of the loss with respect to {@code params}; {@code size} finite values
   * @throws IllegalArgumentException on a length mismatch or a non-finite gradient (naming the index)
   */
  public void step(float[] params, float[] grad) {
    if (params.length != size || grad.length != size) {
      throw new IllegalArgumentException("expected " + size + " parameters and gradients, got " + params.length + " and " + grad.length);
    }
    for (int i = 0; i < grad.length; i++) {
      if (!Float.isFinite(grad[i])) {
        throw new IllegalArgumentException("gradient element " + i + " is " + grad[i] + " at optimizer step " + steps);
      }
    }
    INDArray g = Nd4j.createFromArray(grad.clone()).reshape(1, size);
    updater.applyUpdater(g, steps, 0);
    float[] update = g.data().asFloat();
    if (config.kind() == OptimizerConfig.Kind.ADAMW) {
      // Decoupled weight decay (Loshchilov & Hutter, arXiv:1711.05101): shrink the parameters
      // directly, outside the adaptive scaling.
      float decay = (float) (config.learningRate() * config.weightDecay());
      for (int i = 0; i < size; i++) {
        params[i] -= decay * params[i];
      }
    }
    for (int i = 0; i < size; i++) {
      params[i] -= update[i];
    }
    steps++;
  }

  /**
   * One update at learning rate {@code learningRate} (kept for the next steps). A rate of 0 (a
   * schedule that pauses) counts the step but changes neither the parameters nor the moments.
   */
  @Override
  public void step(float[] params, float[] grad, double learningRate) {
    if (learningRate == 0) {
      steps++;
      return;
    }
    if (learningRate != config.learningRate()) {
      setLearningRate(learningRate);
    }
    step(params, grad);
  }

  @Override
  public float[] save() {
    return state();
  }

  /**
   * The updater state (moments), a copy.
   *
   * @return a new array of the updater state
   */
  public float[] state() {
    return stateView.data().asFloat();
  }

  /**
   * Restores a state saved by {@link #state} together with the step count.
   *
   * @throws IllegalArgumentException when the state does not belong to this optimizer's kind and size
   */
  @Override
  public void restore(float[] state, int stepCount) {
    float[] now = stateView.data().asFloat();
    if (state.length != now.length) {
      throw new IllegalArgumentException("optimizer state has " + state.length + " values, " + config.kind() + " for " + size
          + " parameters needs " + now.length);
    }
    if (stepCount < 0) {
      throw new IllegalArgumentException("step count must be >= 0, got " + stepCount);
    }
    stateView.assign(Nd4j.createFromArray(state).reshape(stateView.shape()));
    steps = stepCount;
  }

  @Override
  public String toString() {
    return "LatentOptimizer" + Arrays.asList(config.kind(), size, steps);
  }
}
