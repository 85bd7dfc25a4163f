package ai.vqclip.cli;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.backend.Backend;
import ai.vqclip.core.backend.Executable;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code vqclip selftest}: checks the demo network's autodiff gradient against central finite
 * differences in dot-product form, {@code (L(x + eps v) - L(x - eps v)) / (2 eps)} against {@code
 * grad . v} for random directions {@code v}. Runs in double precision (ORT's CPU provider has
 * double MatMul, Tanh, Add, Sub and Mul) with graph optimizations at the basic level, so the
 * error is far below float round-off. Exit code 0 when the largest relative error is below the
 * tolerance, 1 otherwise.
 */
@Command(
    name = "selftest",
    mixinStandardHelpOptions = true,
    description = "Check the demo network's gradient against central finite differences.")
final class SelfTestCommand implements Callable<Integer> {
  /** A smaller net than the demo's: the check needs two extra runs per direction. */
  static final DemoNet.Size SIZE = new DemoNet.Size(3, 5, 7, 4);

  @Spec CommandSpec spec;

  @Option(names = "--seed", defaultValue = "0", description = "Seed of weights, point and directions (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--directions", defaultValue = "4", description = "Random directions to check (default: ${DEFAULT-VALUE}).")
  int directions;

  @Option(names = "--eps", defaultValue = "1e-6", description = "Finite-difference step (default: ${DEFAULT-VALUE}).")
  double eps;

  @Option(names = "--tolerance", defaultValue = "1e-6", description = "Largest relative error that passes (default: ${DEFAULT-VALUE}).")
  double tolerance;

  @Option(names = "--threads", defaultValue = "0", description = "ONNX Runtime intra-op threads; 0 lets it choose (default: ${DEFAULT-VALUE}).")
  int threads;

  @Override
  public Integer call() {
    if (directions < 1 || directions > 1000) {
      throw new ParameterException(spec.commandLine(), "--directions must be in [1, 1000], got " + directions);
    }
    if (!(eps > 0) || eps > 1) {
      throw new ParameterException(spec.commandLine(), "--eps must be in (0, 1], got " + eps);
    }
    if (!(tolerance > 0) || Double.isInfinite(tolerance)) {
      throw new ParameterException(spec.commandLine(), "--tolerance must be finite and > 0, got " + tolerance);
    }
    if (threads < 0 || threads > 1024) {
      throw new ParameterException(spec.commandLine(), "--threads must be in [0, 1024] (0 = runtime default), got " + threads);
    }
    PrintWriter out = spec.commandLine().getOut();
    double worst = maxRelativeError(seed, directions, eps, threads, out);
    boolean pass = worst <= tolerance;
    out.printf(Locale.ROOT, "selftest: max relative error %.3e over %d directions (tolerance %.1e): %s%n",
        worst, directions, tolerance, pass ? "PASS" : "FAIL");
    out.flush();
    return pass ? 0 : 1;
  }

  /** The largest relative error between the autodiff and finite-difference directional derivatives. */
  static double maxRelativeError(long seed, int directions, double eps, int threads, PrintWriter out) {
    Graph graph = DemoNet.training(DType.DOUBLE, SIZE, seed);
    long[] xShape = {SIZE.batch(), SIZE.inputs()};
    Random rnd = new Random(seed + 2);
    double[] x = DemoNet.gaussian(rnd, 1, SIZE.inputCount());
    Tensor target = Tensor.fromDoubles(DType.DOUBLE, new long[] {SIZE.batch(), SIZE.outputs()},
        DemoNet.gaussian(rnd, 1, SIZE.outputCount()));
    double worst = 0;
    // BASIC, not ALL: an extended-level ORT fusion of MatMul with a scalar Mul stores the loss's 1/n
    // as a float attribute; in a double graph that rounding alone gave a 3e-8 relative error.
    ExecutionOptions opts = ExecutionOptions.cpu().withThreads(threads).withOptimizationLevel(ExecutionOptions.OptimizationLevel.BASIC);
    try (Executable exe = Backend.load().compile(graph, opts)) {
      double[] grad = exe.run(feed(xShape, x, target)).get(DemoNet.GRAD).toDoubles();
      for (int d = 0; d < directions; d++) {
        double[] v = DemoNet.gaussian(rnd, 1, x.length);
        double analytic = 0;
        double[] plus = x.clone();
        double[] minus = x.clone();
        for (int i = 0; i < x.length; i++) {
          analytic += grad[i] * v[i];
          plus[i] += eps * v[i];
          minus[i] -= eps * v[i];
        }
        double lp = exe.run(feed(xShape, plus, target)).get(DemoNet.LOSS).toDoubles()[0];
        double lm = exe.run(feed(xShape, minus, target)).get(DemoNet.LOSS).toDoubles()[0];
        double numeric = (lp - lm) / (2 * eps);
        double rel = Math.abs(analytic - numeric) / Math.max(1e-12, Math.max(Math.abs(analytic), Math.abs(numeric)));
        out.printf(Locale.ROOT, "direction %d: autodiff %.12e  finite difference %.12e  relative error %.3e%n", d, analytic, numeric, rel);
        worst = Math.max(worst, rel);
      }
    }
    return worst;
  }

  private static Map<String, Tensor> feed(long[] xShape, double[] x, Tensor target) {
    return Map.of(DemoNet.INPUT, Tensor.fromDoubles(DType.DOUBLE, xShape, x), DemoNet.TARGET, target);
  }
}
