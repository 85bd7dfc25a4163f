package ai.vqclip.core.autodiff;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What to differentiate: outputs with seeds (a scalar loss seeded with 1, or outputs whose seed
 * gradients are fed as extra graph inputs) and the inputs or initializers to differentiate with
 * respect to.
 *
 * @param seeded outputs to differentiate; value {@code true} means the seed is an input named {@link
 *     #seedName}, {@code false} means an implicit seed of ones (for a loss)
 * @param wrt the inputs and/or initializers whose gradients become outputs named {@link #gradName}
 * @param keepForwardOutputs whether the result keeps the forward graph's outputs
 * @param recompute name scopes of forward segments whose activations the backward pass recomputes
 *     instead of keeping (activation checkpointing): the nodes named {@code scope/...} form one
 *     segment each; see {@link Autodiff} for how the copies are emitted. Empty for none.
 */
public record GradientRequest(Map<String, Boolean> seeded, List<String> wrt, boolean keepForwardOutputs, List<String> recompute) {
  public GradientRequest {
    seeded = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(seeded));
    wrt = List.copyOf(wrt);
    recompute = List.copyOf(recompute);
    for (String s : recompute) {
      if (s.isEmpty() || s.endsWith("/")) {
        throw new IllegalArgumentException("a recompute scope must be a non-empty name scope without a trailing '/', got '" + s + "'");
      }
    }
    if (recompute.stream().distinct().count() != recompute.size()) {
      throw new IllegalArgumentException("recompute lists a scope twice: " + recompute);
    }
    if (seeded.isEmpty()) {
      throw new IllegalArgumentException("at least one output to differentiate is required");
    }
    if (wrt.isEmpty()) {
      throw new IllegalArgumentException("at least one value to differentiate with respect to is required");
    }
    if (wrt.stream().distinct().count() != wrt.size()) {
      throw new IllegalArgumentException("wrt lists a value twice: " + wrt);
    }
  }

  /** A request that keeps every activation (no recomputation). */
  public GradientRequest(Map<String, Boolean> seeded, List<String> wrt, boolean keepForwardOutputs) {
    this(seeded, wrt, keepForwardOutputs, List.of());
  }

  /** Gradient of a scalar loss output with respect to {@code wrt}. */
  public static GradientRequest ofLoss(String lossOutput, String... wrt) {
    Objects.requireNonNull(lossOutput, "lossOutput");
    return new GradientRequest(Map.of(lossOutput, false), List.of(wrt), true);
  }

  /** Vector-Jacobian products of {@code outputs} (seeds fed as inputs) with respect to {@code wrt}. */
  public static GradientRequest ofSeeds(List<String> outputs, List<String> wrt) {
    Map<String, Boolean> m = new LinkedHashMap<>();
    for (String o : outputs) {
      m.put(o, true);
    }
    return new GradientRequest(m, new ArrayList<>(wrt), true);
  }

  /** The same request with the forward outputs dropped from the result. */
  public GradientRequest withoutForwardOutputs() {
    return new GradientRequest(seeded, wrt, false, recompute);
  }

  /** The same request recomputing the segments of these name scopes in the backward pass. */
  public GradientRequest withRecompute(List<String> scopes) {
    return new GradientRequest(seeded, wrt, keepForwardOutputs, scopes);
  }

  /** Name of the gradient output for {@code wrtName}. */
  public static String gradName(String wrtName) {
    return "grad/" + wrtName;
  }

  /** Name of the seed input for output {@code outputName}. */
  public static String seedName(String outputName) {
    return "seed/" + outputName;
  }
}
