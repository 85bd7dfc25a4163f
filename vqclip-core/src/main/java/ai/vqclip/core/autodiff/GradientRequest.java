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
  /**
   * Copies the collections and checks them.
   *
   * @param seeded outputs to differentiate (at least one); {@code true} for a seed input, {@code
   *     false} for a seed of ones
   * @param wrt the inputs and/or initializers to differentiate with respect to (at least one, no
   *     repeats)
   * @param keepForwardOutputs whether the result keeps the forward graph's outputs
   * @param recompute name scopes to recompute (non-empty, no trailing {@code /}, no repeats); empty
   *     for none
   * @throws IllegalArgumentException for an empty {@code seeded} or {@code wrt}, a repeated entry
   *     or a malformed scope
   */
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

  /**
   * A request that keeps every activation (no recomputation).
   *
   * @param seeded outputs to differentiate; {@code true} for a seed input, {@code false} for a seed
   *     of ones
   * @param wrt the inputs and/or initializers to differentiate with respect to
   * @param keepForwardOutputs whether the result keeps the forward graph's outputs
   * @throws IllegalArgumentException for an empty {@code seeded} or {@code wrt}, or a repeated
   *     entry
   */
  public GradientRequest(Map<String, Boolean> seeded, List<String> wrt, boolean keepForwardOutputs) {
    this(seeded, wrt, keepForwardOutputs, List.of());
  }

  /**
   * Gradient of a scalar loss output with respect to {@code wrt}.
   *
   * @param lossOutput name of a scalar output (not null)
   * @param wrt the inputs and/or initializers to differentiate with respect to, at least one
   * @return the request, keeping the forward outputs
   */
  public static GradientRequest ofLoss(String lossOutput, String... wrt) {
    Objects.requireNonNull(lossOutput, "lossOutput");
    return new GradientRequest(Map.of(lossOutput, false), List.of(wrt), true);
  }

  /**
   * Vector-Jacobian products of {@code outputs} (seeds fed as inputs) with respect to {@code wrt}.
   *
   * @param outputs the outputs to differentiate, each with a seed input {@link #seedName}
   * @param wrt the inputs and/or initializers to differentiate with respect to
   * @return the request, keeping the forward outputs
   */
  public static GradientRequest ofSeeds(List<String> outputs, List<String> wrt) {
    Map<String, Boolean> m = new LinkedHashMap<>();
    for (String o : outputs) {
      m.put(o, true);
    }
    return new GradientRequest(m, new ArrayList<>(wrt), true);
  }

  /**
   * The same request with the forward outputs dropped from the result.
   *
   * @return a copy with {@code keepForwardOutputs} false
   */
  public GradientRequest withoutForwardOutputs() {
    return new GradientRequest(seeded, wrt, false, recompute);
  }

  /**
   * The same request recomputing the segments of these name scopes in the backward pass.
   *
   * @param scopes name scopes to recompute; empty for none
   * @return a copy with these scopes
   * @throws IllegalArgumentException for a malformed or repeated scope
   */
  public GradientRequest withRecompute(List<String> scopes) {
    return new GradientRequest(seeded, wrt, keepForwardOutputs, scopes);
  }

  /**
   * Name of the gradient output for {@code wrtName}.
   *
   * @param wrtName an input or initializer name
   * @return {@code "grad/" + wrtName}
   */
  public static String gradName(String wrtName) {
    return "grad/" + wrtName;
  }

  /**
   * Name of the seed input for output {@code outputName}.
   *
   * @param outputName an output name
   * @return {@code "seed/" + outputName}
   */
  public static String seedName(String outputName) {
    return "seed/" + outputName;
  }
}
