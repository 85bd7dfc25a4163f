package ai.vqclip.core.ops;

import ai.vqclip.core.autodiff.GradientOverrides;
import ai.vqclip.core.autodiff.VjpRegistry;
import ai.vqclip.core.autodiff.VjpRule;
import ai.vqclip.core.graph.ShapeInference;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The op table: one {@link OpDef} per op type, so an op's shape rule, gradient rule and FLOP count
 * are registered together. The built-in ops are defined by families, one class each ({@code
 * ElementwiseRules}, {@code ActivationRules}, {@code LinalgRules}, {@code ConvRules}, {@code
 * NormRules}, {@code TensorRules}, {@code ReduceRules}, {@code SamplingRules} and vqclip's {@link
 * GradientOverrides}), which fill the table with calls like
 *
 * <pre>{@code
 * t.op("Relu").shape(ShapeInference::same).grad(c -> ...);
 * t.op("Round").since(11).shape(ShapeInference::same).piecewiseConstant();
 * t.op("MatMul").shape(ShapeInference::matmul).grad(LinalgRules::matmul).flops(...);
 * }</pre>
 *
 * <p>{@link ShapeInference#standard()}, {@link VjpRegistry#standard()} and {@link
 * ai.vqclip.core.graph.FlopCounter#count} all read {@link #standard()}. To add an op everywhere at
 * once, copy the standard table, define the op and build from the copy ({@link #shapeInference()},
 * {@link #vjpRegistry()}); single rules can still be added with {@link ShapeInference#with} and
 * {@link VjpRegistry#register}.
 */
public final class OpTable {
  /** The lowest default-domain opset vqclip's ONNX import accepts. */
  public static final int MIN_IMPORT_OPSET = 7;

  /** The highest default-domain opset vqclip accepts. */
  public static final int MAX_OPSET = 26;

  private static final class Standard {
    static final OpTable TABLE = build();

    private static OpTable build() {
      OpTable t = new OpTable();
      ElementwiseRules.define(t);
      ActivationRules.define(t);
      LinalgRules.define(t);
      ConvRules.define(t);
      NormRules.define(t);
      TensorRules.define(t);
      ReduceRules.define(t);
      SamplingRules.define(t);
      GradientOverrides.define(t);
      t.frozen = true;
      return t;
    }
  }

  private final Map<String, OpDef> defs = new TreeMap<>();
  private boolean frozen;

  /** An empty table. */
  public OpTable() {}

  /**
   * The built-in table (read-only; {@link #copy()} it to extend).
   *
   * @return the shared, read-only table of the ops vqclip supports
   */
  public static OpTable standard() {
    return Standard.TABLE;
  }

  /**
   * A modifiable copy.
   *
   * @return a new table with the same definitions, open to changes
   */
  public OpTable copy() {
    OpTable t = new OpTable();
    t.defs.putAll(defs);
    return t;
  }

  /**
   * Starts (or continues) the definition of an op; each call on the returned entry updates the
   * table at once.
   *
   * @param key the op type, or {@code "domain.OpType"} outside the ONNX domain
   * @return the entry to define the op with (a new op starts with no shape, gradient or FLOP rule)
   * @throws IllegalStateException on the read-only standard table
   */
  public Entry op(String key) {
    if (frozen) {
      throw new IllegalStateException("the standard op table is read-only; define ops in OpTable.standard().copy()");
    }
    defs.computeIfAbsent(key, k -> new OpDef(k, 1, null, OpDef.Gradient.MISSING, null, null));
    return new Entry(key);
  }

  /**
   * The definition of an op key.
   *
   * @param key the op type, or {@code "domain.OpType"}
   * @return the definition, or empty when the op is not in the table
   */
  public Optional<OpDef> def(String key) {
    return Optional.ofNullable(defs.get(key));
  }

  /**
   * All definitions, sorted by key.
   *
   * @return every definition (unmodifiable)
   */
  public Collection<OpDef> defs() {
    return Collections.unmodifiableCollection(defs.values());
  }

  /**
   * Shape inference with the table's shape rules.
   *
   * @return a new shape inference with every shape rule of the table
   */
  public ShapeInference shapeInference() {
    Map<String, ShapeInference.Rule> m = new HashMap<>();
    for (OpDef d : defs.values()) {
      if (d.shape() != null) {
        m.put(d.key(), d.shape());
      }
    }
    return ShapeInference.of(m);
  }

  /**
   * A new gradient registry with the table's gradient rules.
   *
   * @return a new registry with every gradient rule and marking of the table
   */
  public VjpRegistry vjpRegistry() {
    VjpRegistry r = new VjpRegistry();
    for (OpDef d : defs.values()) {
      switch (d.gradient()) {
        case RULE -> r.register(d.key(), d.vjp());
        case NONE -> r.registerNonDifferentiable(d.key());
        case PIECEWISE_CONSTANT -> r.registerPiecewiseConstant(d.key());
        case MISSING -> {}
      }
    }
    return r;
  }

  /**
   * The FLOP rule of an op key, if it is counted.
   *
   * @param key the op type, or {@code "domain.OpType"}
   * @return the FLOP rule, or empty when the op is unknown or not counted
   */
  public Optional<FlopRule> flops(String key) {
    OpDef d = defs.get(key);
    return d == null ? Optional.empty() : Optional.ofNullable(d.flops());
  }

  /** Fluent definition of one op; every method updates the table and returns this. */
  public final class Entry {
    private final String key;

    private Entry(String key) {
      this.key = key;
    }

    private OpDef get() {
      return defs.get(key);
    }

    private Entry put(OpDef d) {
      defs.put(key, d);
      return this;
    }

    /**
     * The first default-domain opset that has the op.
     *
     * @param opset the opset, at least 1
     * @return this entry
     * @throws IllegalArgumentException for an opset below 1
     */
    public Entry since(int opset) {
      OpDef d = get();
      return put(new OpDef(key, opset, d.shape(), d.gradient(), d.vjp(), d.flops()));
    }

    /**
     * The shape rule.
     *
     * @param rule the shape rule
     * @return this entry
     */
    public Entry shape(ShapeInference.Rule rule) {
      OpDef d = get();
      return put(new OpDef(key, d.since(), rule, d.gradient(), d.vjp(), d.flops()));
    }

    /**
     * The gradient rule.
     *
     * @param rule the gradient rule
     * @return this entry
     */
    public Entry grad(VjpRule rule) {
      OpDef d = get();
      return put(new OpDef(key, d.since(), d.shape(), OpDef.Gradient.RULE, rule, d.flops()));
    }

    /**
     * Marks the op as carrying no gradient (integer, boolean or shape-only outputs).
     *
     * @return this entry
     */
    public Entry noGradient() {
      OpDef d = get();
      return put(new OpDef(key, d.since(), d.shape(), OpDef.Gradient.NONE, null, d.flops()));
    }

    /**
     * Marks the op as piecewise constant: its gradient is refused unless the caller chooses one.
     *
     * @return this entry
     */
    public Entry piecewiseConstant() {
      OpDef d = get();
      return put(new OpDef(key, d.since(), d.shape(), OpDef.Gradient.PIECEWISE_CONSTANT, null, d.flops()));
    }

    /**
     * The FLOP count.
     *
     * @param rule the FLOP count, or null for an op that is not counted
     * @return this entry
     */
    public Entry flops(FlopRule rule) {
      OpDef d = get();
      return put(new OpDef(key, d.since(), d.shape(), d.gradient(), d.vjp(), rule));
    }
  }
}
