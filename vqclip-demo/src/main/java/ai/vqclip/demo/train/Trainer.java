package ai.vqclip.demo.train;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.autodiff.Autodiff;
import ai.vqclip.core.autodiff.GradientRequest;
import ai.vqclip.core.backend.Backend;
import ai.vqclip.core.backend.Executable;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.optim.LatentOptimizer;
import ai.vqclip.core.optim.OptimizerConfig;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Trains the weights of a graph with vqclip's own autodiff: the chosen float32 initializers of a
 * forward graph with a scalar loss output become inputs ({@link Graph#withInitializersAsInputs}),
 * the graph is differentiated with respect to them once and compiled once, and every {@link #step}
 * feeds a batch plus the current weights, reads the loss and the gradients, and applies an
 * optimizer ({@link LatentOptimizer}, e.g. Adam) to all parameters as one flat vector.
 *
 * <p>Deterministic for a fixed graph, batch sequence and thread count (the CPU backend runs
 * deterministic kernels and the optimizer is ND4J's). Not thread-safe; owns a native session:
 * close it.
 */
public final class Trainer implements AutoCloseable {
  private final Graph forward;
  private final String loss;
  private final List<String> params;
  private final List<long[]> shapes = new ArrayList<>();
  private final int[] offsets;
  private final float[] flat;
  private final LatentOptimizer optimizer;
  private final Executable exec;
  private final Set<String> fetch = new HashSet<>();
  private final Set<String> inputGradientNames = new HashSet<>();
  private double clipNorm = Double.POSITIVE_INFINITY;
  private double lastGradNorm;

  /**
   * The outcome of one step: the loss before the update, and the extra outputs and input gradients
   * (as {@code GradientRequest.gradName(input)}) asked for.
   */
  public record Step(double loss, double gradNorm, Map<String, Tensor> outputs) {}

  /**
   * A trainer for {@code forward}.
   *
   * @param forward a graph with a scalar float output {@code lossName}; the parameters are its
   *     initializers, holding their initial values
   * @param lossName the loss output
   * @param paramNames the initializers to train (all float32)
   * @param extraOutputs other forward outputs every step returns (e.g. code indices)
   * @param optimizer the update rule
   * @param options how to run the compiled step
   * @throws IllegalArgumentException for an unknown or non-float32 parameter, or an unknown output
   */
  public Trainer(Graph forward, String lossName, List<String> paramNames, List<String> extraOutputs, OptimizerConfig optimizer,
      ExecutionOptions options) {
    this(forward, lossName, paramNames, extraOutputs, List.of(), optimizer, options);
  }

  /**
   * A trainer that also returns the loss's gradient with respect to some graph inputs (e.g. the
   * pictures, for adversarial training): {@link #gradients} returns them as {@code
   * GradientRequest.gradName(input)}.
   *
   * @param forward a graph with a scalar float output {@code lossName}; the parameters are its
   *     initializers, holding their initial values
   * @param lossName the loss output
   * @param paramNames the initializers to train (all float32)
   * @param extraOutputs other forward outputs every step returns (e.g. code indices)
   * @param inputGradients float inputs of {@code forward} whose gradients {@link #gradients} returns too
   * @param optimizer the update rule
   * @param options how to run the compiled step
   * @throws IllegalArgumentException for an unknown or non-float32 parameter, or an unknown output or input
   */
  public Trainer(Graph forward, String lossName, List<String> paramNames, List<String> extraOutputs, List<String> inputGradients,
      OptimizerConfig optimizer, ExecutionOptions options) {
    this.forward = Objects.requireNonNull(forward, "forward");
    this.loss = Objects.requireNonNull(lossName, "lossName");
    this.params = List.copyOf(paramNames);
    forward.output(lossName);
    for (String o : extraOutputs) {
      forward.output(o);
    }
    offsets = new int[params.size() + 1];
    long total = 0;
    for (int i = 0; i < params.size(); i++) {
      Tensor t = forward.initializers().get(params.get(i));
      if (t == null) {
        throw new IllegalArgumentException("parameter '" + params.get(i) + "' is not an initializer of graph '" + forward.name() + "'");
      }
      if (t.dtype() != DType.FLOAT) {
        throw new IllegalArgumentException("parameter '" + params.get(i) + "' is " + t.dtype() + "; only float32 weights are trained");
      }
      shapes.add(t.shape());
      offsets[i] = Math.toIntExact(total);
      total += t.elementCount();
    }
    offsets[params.size()] = Math.toIntExact(total);
    flat = new float[Math.toIntExact(total)];
    for (int i = 0; i < params.size(); i++) {
      forward.initializers().get(params.get(i)).data().asFloatBuffer().get(flat, offsets[i], offsets[i + 1] - offsets[i]);
    }
    Graph trainable = forward.withInitializersAsInputs(params);
    List<String> wrt = new ArrayList<>(params);
    for (String in : inputGradients) {
      forward.input(in);
      wrt.add(in);
      inputGradientNames.add(GradientRequest.gradName(in));
    }
    Graph grads = Autodiff.differentiate(trainable, GradientRequest.ofLoss(lossName, wrt.toArray(String[]::new)));
    fetch.add(lossName);
    fetch.addAll(extraOutputs);
    for (String p : wrt) {
      fetch.add(GradientRequest.gradName(p));
    }
    this.optimizer = new LatentOptimizer(optimizer, flat.length);
    this.exec = Backend.load().compile(grads, options);
  }

  /** Limits the global gradient norm (clipping by norm, as transformer training does); infinity: off. */
  public Trainer clipGradientNorm(double maxNorm) {
    if (!(maxNorm > 0)) {
      throw new IllegalArgumentException("gradient clip norm must be > 0, got " + maxNorm);
    }
    this.clipNorm = maxNorm;
    return this;
  }

  /** Sets the learning rate for the next steps (schedules), keeping the optimizer state. */
  public void setLearningRate(double lr) {
    optimizer.setLearningRate(lr);
  }

  /** Number of trained scalars. */
  public int parameterCount() {
    return flat.length;
  }

  /** The trained parameter names, in flat-vector order. */
  public List<String> parameterNames() {
    return params;
  }

  /** Steps taken. */
  public int steps() {
    return optimizer.steps();
  }

  /**
   * One training step on a batch: forward, backward, optimizer update.
   *
   * @param batch the graph's non-parameter inputs
   * @throws IllegalArgumentException when the loss or a gradient is not finite (naming the step)
   */
  public Step step(Map<String, Tensor> batch) {
    float[] g = new float[flat.length];
    Map<String, Tensor> out = gradients(batch, g);
    double l = out.get(loss).toDoubles()[0];
    double sq = 0;
    for (float v : g) {
      sq += (double) v * v;
    }
    lastGradNorm = Math.sqrt(sq);
    if (lastGradNorm > clipNorm) {
      float s = (float) (clipNorm / lastGradNorm);
      for (int i = 0; i < g.length; i++) {
        g[i] *= s;
      }
    }
    optimizer.step(flat, g);
    Map<String, Tensor> extra = new LinkedHashMap<>();
    for (String k : fetch) {
      if (!k.equals(loss) && (!k.startsWith("grad/") || inputGradientNames.contains(k))) {
        extra.put(k, out.get(k));
      }
    }
    return new Step(l, lastGradNorm, extra);
  }

  /**
   * Forward and backward without an update: writes the flat gradient (in {@link #parameterNames}
   * order) into {@code grad} and returns the run's outputs (loss, extras, per-parameter gradients).
   *
   * @throws IllegalArgumentException when the loss is not finite, or grad has the wrong length
   */
  public Map<String, Tensor> gradients(Map<String, Tensor> batch, float[] grad) {
    if (grad.length != flat.length) {
      throw new IllegalArgumentException("gradient buffer has " + grad.length + " values, the parameters " + flat.length);
    }
    Map<String, Tensor> in = new LinkedHashMap<>(batch);
    in.putAll(parameters());
    Map<String, Tensor> out = exec.run(in, fetch);
    double l = out.get(loss).toDoubles()[0];
    if (!Double.isFinite(l)) {
      throw new IllegalArgumentException("loss is " + l + " at step " + optimizer.steps());
    }
    for (int i = 0; i < params.size(); i++) {
      FloatBuffer fb = out.get(GradientRequest.gradName(params.get(i))).data().asFloatBuffer();
      fb.get(grad, offsets[i], offsets[i + 1] - offsets[i]);
    }
    return out;
  }

  /** Runs the compiled graph without updating (e.g. evaluation); returns every requested output. */
  public Map<String, Tensor> evaluate(Map<String, Tensor> batch) {
    Map<String, Tensor> in = new LinkedHashMap<>(batch);
    in.putAll(parameters());
    return exec.run(in, fetch);
  }

  /** The current value of every parameter, in the graph's shapes. */
  public Map<String, Tensor> parameters() {
    Map<String, Tensor> m = new LinkedHashMap<>();
    for (int i = 0; i < params.size(); i++) {
      m.put(params.get(i), parameter(i));
    }
    return m;
  }

  private Tensor parameter(int i) {
    float[] v = java.util.Arrays.copyOfRange(flat, offsets[i], offsets[i + 1]);
    return Tensor.ofFloats(shapes.get(i), v);
  }

  /** The current values of one parameter (a copy). */
  public float[] get(String name) {
    int i = index(name);
    return java.util.Arrays.copyOfRange(flat, offsets[i], offsets[i + 1]);
  }

  /**
   * Overwrites one parameter (e.g. re-initialising dead codebook entries); the optimizer's moments
   * are kept.
   *
   * @throws IllegalArgumentException for an unknown name or a length mismatch
   */
  public void set(String name, float[] values) {
    int i = index(name);
    int n = offsets[i + 1] - offsets[i];
    if (values.length != n) {
      throw new IllegalArgumentException("parameter '" + name + "' has " + n + " values, got " + values.length);
    }
    System.arraycopy(values, 0, flat, offsets[i], n);
  }

  private int index(String name) {
    int i = params.indexOf(name);
    if (i < 0) {
      throw new IllegalArgumentException("'" + name + "' is not a trained parameter; parameters: " + params);
    }
    return i;
  }

  /** The flat parameter vector (a copy), for bit-identity checks. */
  public float[] flatParameters() {
    return flat.clone();
  }

  /** The forward graph with its initial weights. */
  public Graph forward() {
    return forward;
  }

  @Override
  public void close() {
    exec.close();
  }
}
