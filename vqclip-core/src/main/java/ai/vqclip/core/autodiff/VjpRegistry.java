package ai.vqclip.core.autodiff;

import ai.vqclip.core.ops.OpTable;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Vector-Jacobian product rules by op type. {@link #standard()} gives a fresh registry holding every
 * built-in rule; users add or replace rules with {@link #register}. Keys are the op type for the
 * ONNX domain and {@code "domain.OpType"} otherwise. Not thread-safe while being modified.
 *
 * <p>Three kinds of op keys are told apart:
 *
 * <ul>
 *   <li>differentiable ops, with a real rule ({@link #register});
 *   <li>ops with no gradient at all ({@link #registerNonDifferentiable}: Shape, comparisons, ...),
 *       whose outputs are integers, booleans or constants of the inputs' shapes;
 *   <li>ops whose true gradient is zero almost everywhere ({@link #registerPiecewiseConstant}:
 *       Round, Floor, Ceil, Sign, and the index ops ArgMax/ArgMin). Passing a gradient through them
 *       is refused unless the caller chooses what the gradient should be with {@link
 *       #chooseGradient}: {@link FlatGradient#ZERO} (the true, almost-everywhere value) or {@link
 *       FlatGradient#STRAIGHT_THROUGH} (the incoming gradient passes unchanged, as if the op were the
 *       identity). A silent zero would stop an optimization without a word.
 * </ul>
 */
public final class VjpRegistry {
  /** What the gradient of a piecewise-constant op should be, when the caller chooses one. */
  public enum FlatGradient {
    /** Refuse to differentiate through the op (the default). */
    REFUSE,
    /** The true gradient almost everywhere: zero. */
    ZERO,
    /** Treat the op as the identity in the backward pass (x -> x), e.g. a straight-through Round. */
    STRAIGHT_THROUGH
  }

  private final Map<String, VjpRule> rules = new TreeMap<>();
  private final Set<String> piecewiseConstant = new TreeSet<>();
  private final Set<String> nonDifferentiable = new TreeSet<>();
  private final Map<String, FlatGradient> choices = new TreeMap<>();

  /** An empty registry. */
  public VjpRegistry() {}

  /**
   * A new registry with all built-in rules: those of {@link OpTable#standard()}.
   *
   * @return a new, mutable registry
   */
  public static VjpRegistry standard() {
    return OpTable.standard().vjpRegistry();
  }

  /**
   * Adds or replaces the rule of an op type; returns this.
   *
   * @param opKey the op type, or {@code "domain.Op"} outside the ONNX domain
   * @param rule the rule (not null)
   * @return this registry
   */
  public VjpRegistry register(String opKey, VjpRule rule) {
    rules.put(opKey, Objects.requireNonNull(rule, "rule"));
    piecewiseConstant.remove(opKey);
    nonDifferentiable.remove(opKey);
    return this;
  }

  /**
   * Marks op types as carrying no gradient: their outputs are not functions of the input values
   * that a gradient could flow through (Shape, Size, comparisons, boolean logic, constants).
   *
   * @param opKeys op types
   * @return this registry
   */
  public VjpRegistry registerNonDifferentiable(String... opKeys) {
    for (String k : opKeys) {
      register(k, VjpRule.NONE);
      nonDifferentiable.add(k);
    }
    return this;
  }

  /**
   * Marks op types as piecewise constant: their true gradient is zero almost everywhere. A gradient
   * that reaches them is refused unless {@link #chooseGradient} says otherwise. For ops with an
   * integer output (ArgMax, ArgMin) the check is made where that integer turns into a float value
   * on the gradient's path ({@link Autodiff}); only ZERO can be chosen for them.
   *
   * @param opKeys op types
   * @return this registry
   */
  public VjpRegistry registerPiecewiseConstant(String... opKeys) {
    for (String k : opKeys) {
      rules.put(k, VjpRule.NONE);
      nonDifferentiable.remove(k);
      piecewiseConstant.add(k);
    }
    return this;
  }

  /**
   * Chooses the gradient of a piecewise-constant op type (see {@link #registerPiecewiseConstant});
   * returns this.
   *
   * @param opKey an op type registered as piecewise constant
   * @param choice what gradient to give it (not null)
   * @return this registry
   * @throws IllegalArgumentException when the op is not registered as piecewise constant
   */
  public VjpRegistry chooseGradient(String opKey, FlatGradient choice) {
    Objects.requireNonNull(choice, "choice");
    if (!piecewiseConstant.contains(opKey)) {
      throw new IllegalArgumentException(
          "op type '" + opKey + "' is not piecewise constant; chooseGradient applies to " + piecewiseConstant);
    }
    choices.put(opKey, choice);
    return this;
  }

  /**
   * The gradient chosen for a piecewise-constant op type ({@link FlatGradient#REFUSE} unless
   * chosen).
   *
   * @param opKey an op type
   * @return the choice
   */
  public FlatGradient chosenGradient(String opKey) {
    return choices.getOrDefault(opKey, FlatGradient.REFUSE);
  }

  /**
   * Whether the op type is registered as piecewise constant (zero gradient almost everywhere).
   *
   * @param opKey an op type
   * @return true when registered as piecewise constant
   */
  public boolean isPiecewiseConstant(String opKey) {
    return piecewiseConstant.contains(opKey);
  }

  /**
   * Whether the op type is registered as carrying no gradient at all.
   *
   * @param opKey an op type
   * @return true when registered as non-differentiable
   */
  public boolean isNonDifferentiable(String opKey) {
    return nonDifferentiable.contains(opKey);
  }

  /**
   * The rule of an op key.
   *
   * @param opKey the op type, or {@code "domain.Op"}
   * @return the rule, or empty when the op has none
   */
  public Optional<VjpRule> rule(String opKey) {
    return Optional.ofNullable(rules.get(opKey));
  }

  /**
   * The op keys that have rules (differentiable, non-differentiable and piecewise constant).
   *
   * @return the op keys, sorted (a new set)
   */
  public Set<String> opKeys() {
    return new TreeSet<>(rules.keySet());
  }

  /**
   * The op keys with a real gradient rule: neither non-differentiable nor piecewise constant.
   *
   * @return the op keys, sorted (a new set)
   */
  public Set<String> differentiableOpKeys() {
    Set<String> s = new TreeSet<>(rules.keySet());
    s.removeAll(nonDifferentiable);
    s.removeAll(piecewiseConstant);
    return s;
  }

  /**
   * A copy users can extend without touching this registry.
   *
   * @return a new registry with the same rules and choices
   */
  public VjpRegistry copy() {
    VjpRegistry r = new VjpRegistry();
    r.rules.putAll(rules);
    r.piecewiseConstant.addAll(piecewiseConstant);
    r.nonDifferentiable.addAll(nonDifferentiable);
    r.choices.putAll(choices);
    return r;
  }

  /** The message telling how to choose a gradient for a piecewise-constant op. */
  static String howToChoose(String opKey, boolean integerOutput) {
    String opts = integerOutput
        ? "FlatGradient.ZERO"
        : "FlatGradient.ZERO or FlatGradient.STRAIGHT_THROUGH";
    return "its true gradient is zero almost everywhere, so it is refused rather than silently zero; choose one with "
        + "VjpRegistry.standard().chooseGradient(\"" + opKey + "\", " + opts + ") and pass that registry to Autodiff.differentiate"
        + (integerOutput ? ", or route the gradient around it with GradientOverrides.straightThrough" : "");
  }
}
