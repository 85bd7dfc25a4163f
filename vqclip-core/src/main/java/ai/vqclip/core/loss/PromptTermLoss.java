package ai.vqclip.core.loss;

import ai.vqclip.core.Loss;
import ai.vqclip.core.PromptLoss;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A built-in prompt term as a {@link Loss}: one text, image or noise prompt slot ({@code "text0"},
 * {@code "image0"}, {@code "noise0"}, ...) against every encoder, {@code sum_e |w| * mean(sign(w) *
 * d(E_e, T_e))} with the gradient stopped below {@code stop} ({@link SphericalDistance#weighted}),
 * where {@code d} is the pipeline's {@link PromptLoss}. The pipeline makes one per slot and run;
 * the slot's weight, stop and target embeddings are inputs ({@code name + "/weight"}, {@code
 * "/stop"}, {@code "/target" + e}) fed each step from {@link #targets}, so a prompt schedule changes
 * inputs only, never the graph. Immutable if its target source is.
 *
 * @param name the slot's name
 * @param distance how far embeddings are from the targets
 * @param targetShapes per encoder, the shape of the target embeddings [k, D]
 * @param targets the slot's weight, stop and targets at each iteration
 */
public record PromptTermLoss(String name, PromptLoss distance, List<long[]> targetShapes, Targets targets) implements Loss {
  /** Where a prompt slot's values come from, per iteration (called from the run's thread). */
  @FunctionalInterface
  public interface Targets {
    /**
     * The slot's values at an iteration.
     *
     * @param iteration the 0-based iteration
     * @return the weight (0 disables the slot), stop and per-encoder targets
     */
    Target at(int iteration);
  }

  /**
   * A prompt slot's values at one iteration.
   *
   * @param weight the prompt weight (any sign; 0: the slot is off)
   * @param stop the stop value ({@code -inf}: never stop)
   * @param embeddings per encoder, the target embeddings [k, D]
   */
  public record Target(double weight, double stop, List<Tensor> embeddings) {
    /**
     * Validates.
     *
     * @param weight the prompt weight (any sign; 0: the slot is off)
     * @param stop the stop value ({@code -inf}: never stop)
     * @param embeddings per encoder, the target embeddings [k, D]
     * @throws IllegalArgumentException for a value out of range (the message names it)
     */
    public Target {
      if (Double.isNaN(weight) || Double.isNaN(stop)) {
        throw new IllegalArgumentException("prompt weight and stop must be numbers, got " + weight + " and " + stop);
      }
      embeddings = List.copyOf(embeddings);
    }
  }

  /**
   * Validates.
   *
   * @param name the slot's name
   * @param distance how far embeddings are from the targets
   * @param targetShapes per encoder, the shape of the target embeddings [k, D]
   * @param targets the slot's weight, stop and targets at each iteration
   * @throws IllegalArgumentException for a value out of range (the message names it)
   * @throws NullPointerException for a null value that is required
   */
  public PromptTermLoss {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(distance, "distance");
    Objects.requireNonNull(targets, "targets");
    if (name.isBlank()) {
      throw new IllegalArgumentException("prompt term name must not be blank");
    }
    targetShapes = List.copyOf(targetShapes);
    if (targetShapes.isEmpty()) {
      throw new IllegalArgumentException("prompt term '" + name + "' needs a target shape per encoder, got none");
    }
  }

  @Override
  public Value build(Context ctx) {
    GraphBuilder b = ctx.builder();
    if (ctx.embeddings().size() != targetShapes.size()) {
      throw new IllegalArgumentException("prompt term '" + name + "' has targets for " + targetShapes.size() + " encoders, the step graph has "
          + ctx.embeddings().size());
    }
    Value weight = b.input(name + "/weight", DType.FLOAT, Shape.scalar());
    Value stop = b.input(name + "/stop", DType.FLOAT, Shape.scalar());
    Value sum = null;
    for (int e = 0; e < targetShapes.size(); e++) {
      Value target = b.input(targetInput(name, e), DType.FLOAT, Shape.of(targetShapes.get(e)));
      Value l = SphericalDistance.weighted(b, distance.distances(b, ctx.embeddings().get(e), target), weight, stop);
      sum = sum == null ? l : b.add(sum, l);
    }
    return sum;
  }

  @Override
  public Map<String, Tensor> stepInputs(int iteration) {
    Target t = targets.at(iteration);
    if (t.embeddings().size() != targetShapes.size()) {
      throw new IllegalStateException("prompt term '" + name + "': " + t.embeddings().size() + " target embeddings at iteration "
          + iteration + ", expected one per encoder (" + targetShapes.size() + ")");
    }
    Map<String, Tensor> in = new HashMap<>();
    in.put(name + "/weight", Tensor.scalar(DType.FLOAT, t.weight()));
    in.put(name + "/stop", Tensor.scalar(DType.FLOAT, t.stop()));
    for (int e = 0; e < targetShapes.size(); e++) {
      in.put(targetInput(name, e), t.embeddings().get(e));
    }
    return in;
  }

  /**
   * The name of a prompt term's input that holds its target embeddings [k, D] for one encoder, e.g.
   * {@code "text0/target0"}: the first text prompt's targets for the first encoder (another term may
   * read it from the step graph's builder, {@code GraphBuilder.value}, when it is built after the
   * prompt terms, as user losses are).
   *
   * @param term the prompt term's name ({@code "text0"}, {@code "image1"}, ...)
   * @param encoder the encoder's index
   * @return the input's name
   */
  public static String targetInput(String term, int encoder) {
    return term + "/target" + encoder;
  }
}
