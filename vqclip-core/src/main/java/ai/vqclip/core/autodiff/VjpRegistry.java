package ai.vqclip.core.autodiff;

import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.Set;

/**
 * Vector-Jacobian product rules by op type. {@link #standard()} gives a fresh registry holding every
 * built-in rule; users add or replace rules with {@link #register}. Keys are the op type for the
 * ONNX domain and {@code "domain.OpType"} otherwise. Not thread-safe while being modified.
 */
public final class VjpRegistry {
  private final Map<String, VjpRule> rules = new TreeMap<>();

  /** An empty registry. */
  public VjpRegistry() {}

  /** A new registry with all built-in rules. */
  public static VjpRegistry standard() {
    VjpRegistry r = new VjpRegistry();
    ElementwiseRules.register(r);
    LinalgRules.register(r);
    ConvRules.register(r);
    NormRules.register(r);
    TensorRules.register(r);
    ReduceRules.register(r);
    SamplingRules.register(r);
    GradientOverrides.register(r);
    return r;
  }

  /** Adds or replaces the rule of an op type; returns this. */
  public VjpRegistry register(String opKey, VjpRule rule) {
    rules.put(opKey, java.util.Objects.requireNonNull(rule, "rule"));
    return this;
  }

  /** Marks op types as carrying no gradient. */
  public VjpRegistry registerNonDifferentiable(String... opKeys) {
    for (String k : opKeys) {
      register(k, VjpRule.NONE);
    }
    return this;
  }

  /** The rule of an op key. */
  public Optional<VjpRule> rule(String opKey) {
    return Optional.ofNullable(rules.get(opKey));
  }

  /** The op keys that have rules. */
  public Set<String> opKeys() {
    return new TreeSet<>(rules.keySet());
  }

  /** A copy users can extend without touching this registry. */
  public VjpRegistry copy() {
    VjpRegistry r = new VjpRegistry();
    r.rules.putAll(rules);
    return r;
  }
}
