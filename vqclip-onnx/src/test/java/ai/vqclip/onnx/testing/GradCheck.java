package ai.vqclip.onnx.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.autodiff.Autodiff;
import ai.vqclip.core.autodiff.GradientRequest;
import ai.vqclip.core.autodiff.VjpRegistry;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.Value;
import ai.vqclip.onnx.OrtExecutable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Central finite-difference gradient check in dot-product form: for random output cotangents
 * {@code u} and a random direction {@code v} over the {@code wrt} values, compares the autodiff
 * value {@code sum_w <grad_w(u), v_w>} with {@code (L(x + eps v) - L(x - eps v)) / (2 eps)}, where
 * {@code L(x) = sum_o <u_o, f_o(x)>} is accumulated in double on the host.
 */
public final class GradCheck {
  private GradCheck() {}

  /** The outcome of one check. */
  public record Result(double analytic, double numeric, double error, double gradNorm) {
    @Override
    public String toString() {
      return String.format("analytic=%.10g numeric=%.10g error=%.3g |grad|=%.3g", analytic, numeric, error, gradNorm);
    }
  }

  /** Standard normal inputs for every floating graph input not given (seeded). */
  public static Map<String, Tensor> randomInputs(Graph g, Map<String, Tensor> given, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    Map<String, Tensor> m = new LinkedHashMap<>(given);
    for (Value in : g.inputs()) {
      if (!m.containsKey(in.name())) {
        if (!in.dtype().isFloating()) {
          throw new IllegalArgumentException("give a value for non-floating input " + in);
        }
        m.put(in.name(), random(in.dtype(), in.shape().toArray(), rnd, 1.0));
      }
    }
    return m;
  }

  /** A tensor of N(0, scale^2) values. */
  public static Tensor random(DType t, long[] shape, SplittableRandom rnd, double scale) {
    int n = Math.toIntExact(count(shape));
    double[] d = new double[n];
    for (int i = 0; i < n; i++) {
      d[i] = gaussian(rnd) * scale;
    }
    return Tensor.fromDoubles(t, shape, d);
  }

  /** A seeded standard normal draw (Box-Muller; SplittableRandom has no nextGaussian on Java 17). */
  public static double gaussian(SplittableRandom rnd) {
    return ai.vqclip.core.Gaussian.next(rnd);
  }

  private static long count(long[] s) {
    long n = 1;
    for (long x : s) {
      n *= x;
    }
    return n;
  }

  /** Runs the check with the standard rules. */
  public static Result check(Graph forward, Map<String, Tensor> inputs, List<String> wrt, double eps, long seed) {
    return check(forward, inputs, wrt, eps, seed, VjpRegistry.standard());
  }

  /** Runs the check. */
  public static Result check(Graph forward, Map<String, Tensor> inputs, List<String> wrt, double eps, long seed, VjpRegistry rules) {
    SplittableRandom rnd = new SplittableRandom(seed ^ 0x9E3779B97F4A7C15L);
    List<String> outs = new ArrayList<>();
    for (Value o : forward.outputs()) {
      if (o.dtype().isFloating()) {
        outs.add(o.name());
      }
    }
    Graph grad = Autodiff.differentiate(forward, GradientRequest.ofSeeds(outs, wrt).withoutForwardOutputs(), rules);
    // BASIC: checks vqclip's graph, not ONNX Runtime's extended fusions, which at EXTENDED/ALL
    // rewrite x*Sigmoid(1.702x) into a float-only com.microsoft.QuickGelu and fold scalars into
    // float attributes (a 3e-8 relative shift that would pollute float64 checks).
    ExecutionOptions opts =
        ExecutionOptions.cpu().withThreads(1).withOptimizationLevel(ExecutionOptions.OptimizationLevel.BASIC);
    Map<String, Tensor> y0;
    try (OrtExecutable f = OrtExecutable.create(forward, opts)) {
      y0 = f.run(inputs);
    }
    Map<String, Tensor> seeds = new HashMap<>(inputs);
    Map<String, double[]> u = new HashMap<>();
    for (String o : outs) {
      Tensor t = random(y0.get(o).dtype(), y0.get(o).shape(), rnd, 1.0);
      seeds.put(GradientRequest.seedName(o), t);
      u.put(o, t.toDoubles());
    }
    Map<String, Tensor> v = new HashMap<>();
    for (String w : wrt) {
      Tensor base = inputs.containsKey(w) ? inputs.get(w) : forward.initializers().get(w);
      v.put(w, random(base.dtype(), base.shape(), rnd, 1.0));
    }
    double analytic = 0;
    double gradNormSq = 0;
    double vNormSq = 0;
    try (OrtExecutable gx = OrtExecutable.create(grad, opts)) {
      Map<String, Tensor> g = gx.run(seeds);
      for (String w : wrt) {
        double[] gw = g.get(GradientRequest.gradName(w)).toDoubles();
        double[] vw = v.get(w).toDoubles();
        for (int i = 0; i < gw.length; i++) {
          analytic += gw[i] * vw[i];
          gradNormSq += gw[i] * gw[i];
          vNormSq += vw[i] * vw[i];
        }
      }
    }
    double lp = objective(forward, inputs, v, eps, outs, u, opts);
    double lm = objective(forward, inputs, v, -eps, outs, u, opts);
    double numeric = (lp - lm) / (2 * eps);
    double scale = Math.max(Math.max(Math.abs(analytic), Math.abs(numeric)), 1e-3 * Math.sqrt(gradNormSq * vNormSq));
    double err = scale == 0 ? 0 : Math.abs(analytic - numeric) / scale;
    return new Result(analytic, numeric, err, Math.sqrt(gradNormSq));
  }

  private static double objective(
      Graph forward, Map<String, Tensor> inputs, Map<String, Tensor> dir, double eps, List<String> outs, Map<String, double[]> u,
      ExecutionOptions opts) {
    Graph g = forward;
    Map<String, Tensor> feed = new HashMap<>(inputs);
    for (Map.Entry<String, Tensor> e : dir.entrySet()) {
      String w = e.getKey();
      Tensor base = inputs.containsKey(w) ? inputs.get(w) : forward.initializers().get(w);
      double[] b = base.toDoubles();
      double[] d = e.getValue().toDoubles();
      double[] x = new double[b.length];
      for (int i = 0; i < b.length; i++) {
        x[i] = b[i] + eps * d[i];
      }
      Tensor moved = Tensor.fromDoubles(base.dtype(), base.shape(), x);
      if (inputs.containsKey(w)) {
        feed.put(w, moved);
      } else {
        g = g.withInitializer(w, moved);
      }
    }
    try (OrtExecutable f = OrtExecutable.create(g, opts)) {
      Map<String, Tensor> y = f.run(feed);
      double l = 0;
      for (String o : outs) {
        double[] yo = y.get(o).toDoubles();
        double[] uo = u.get(o);
        for (int i = 0; i < yo.length; i++) {
          l += uo[i] * yo[i];
        }
      }
      return l;
    }
  }

  /**
   * Asserts the check passes within {@code tolerance} (relative) and that the gradient is not
   * identically zero, so the check cannot pass vacuously.
   */
  public static Result assertGradient(Graph forward, Map<String, Tensor> inputs, List<String> wrt, double eps, double tolerance, long seed) {
    Result r = check(forward, inputs, wrt, eps, seed);
    assertTrue(r.gradNorm() > 0, () -> "gradient of " + forward.name() + " w.r.t. " + wrt + " is identically zero: " + r);
    assertTrue(r.error() <= tolerance, () -> forward.name() + " w.r.t. " + wrt + ": " + r + " exceeds tolerance " + tolerance);
    // Recorded in the surefire output so the achieved errors can be reported.
    System.out.println("gradcheck " + forward.name() + " wrt " + wrt + ": " + r);
    return r;
  }

  /** Tolerances used across the suite. */
  public static final double TOL_F64 = 1e-6;

  /** Relative tolerance for float32 checks (central differences with eps 1e-2, host-side double sums). */
  public static final double TOL_F32 = 1e-2;
}
