package ai.vqclip.core.loss;

import ai.vqclip.core.Loss;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import ai.vqclip.core.pipeline.Regularization;
import java.util.Map;
import java.util.Objects;

/**
 * The built-in latent regularizer {@code "regularization"} ({@link LatentRegularization}) as a
 * {@link Loss}: what a request's {@code regularization} adds. Its weight (after the decay) and its
 * target (zeros or the run's initial latent) are fed each step. Immutable.
 *
 * @param regularization the settings (weight > 0)
 */
public record RegularizationLoss(Regularization regularization) implements Loss {
  /** The term's name. */
  public static final String NAME = "regularization";

  /**
   * Checks the settings.
   *
   * @param regularization the settings (not null)
   * @throws NullPointerException when {@code regularization} is null
   */
  public RegularizationLoss {
    Objects.requireNonNull(regularization, "regularization");
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Value build(Context ctx) {
    GraphBuilder b = ctx.builder();
    Value t = b.input(NAME + "/target", DType.FLOAT, ctx.latent().shape());
    Value w = b.input(NAME + "/weight", DType.FLOAT, Shape.scalar());
    return LatentRegularization.loss(b, ctx.latent(), t, w);
  }

  @Override
  public Map<String, Tensor> stepInputs(Step step) {
    float[] target = regularization.target() == Regularization.Target.INIT ? step.latentInit() : new float[step.latent().length];
    return Map.of(NAME + "/weight", Tensor.scalar(DType.FLOAT, regularization.decay().weightAt(regularization.weight(), step.iteration())),
        NAME + "/target", Tensor.ofFloats(step.latentShape(), target));
  }
}
