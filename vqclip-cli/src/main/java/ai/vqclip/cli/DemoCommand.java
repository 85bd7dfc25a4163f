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
 * {@code vqclip demo}: the engine end to end. Builds a small network in the graph IR, appends its
 * backward pass with autodiff, compiles the result once with ONNX Runtime, and runs Adam on the
 * network <em>input</em> until the output matches a target (the network's output at another,
 * hidden input), the way VQGAN-CLIP optimizes a latent. Same seed, same threads: bit-identical
 * losses.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = "Optimize a network input by gradient descent through an autodiff graph run by ONNX Runtime.")
final class DemoCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--steps", defaultValue = "300", description = "Optimizer steps (default: ${DEFAULT-VALUE}).")
  int steps;

  @Option(names = "--seed", defaultValue = "0", description = "Seed of weights, target and start (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--lr", defaultValue = "0.05", description = "Adam learning rate (default: ${DEFAULT-VALUE}).")
  double lr;

  @Option(names = "--threads", defaultValue = "0", description = "ONNX Runtime intra-op threads; 0 lets it choose (default: ${DEFAULT-VALUE}).")
  int threads;

  @Option(names = "--log-every", defaultValue = "0", description = "Print the loss every N steps; 0: ten times per run (default: ${DEFAULT-VALUE}).")
  int logEvery;

  /**
   * What a run produced.
   *
   * @param losses the loss before each step, then the final loss ({@code steps + 1} values)
   * @param msPerStep mean wall time of one graph run plus optimizer step
   */
  record Result(double[] losses, double msPerStep) {
    double first() {
      return losses[0];
    }

    double last() {
      return losses[losses.length - 1];
    }
  }

  @Override
  public Integer call() {
    if (steps < 1 || steps > 10_000_000) {
      throw new ParameterException(spec.commandLine(), "--steps must be in [1, 10000000], got " + steps);
    }
    if (!(lr > 0) || Double.isInfinite(lr)) {
      throw new ParameterException(spec.commandLine(), "--lr must be finite and > 0, got " + lr);
    }
    if (threads < 0 || threads > 1024) {
      throw new ParameterException(spec.commandLine(), "--threads must be in [0, 1024] (0 = runtime default), got " + threads);
    }
    if (logEvery < 0) {
      throw new ParameterException(spec.commandLine(), "--log-every must be >= 0, got " + logEvery);
    }
    PrintWriter out = spec.commandLine().getOut();
    int every = logEvery > 0 ? logEvery : Math.max(1, steps / 10);
    Result r = run(steps, seed, lr, threads, every, out);
    double reduction = 100 * (1 - r.last() / r.first());
    out.printf(Locale.ROOT, "done: loss %.6e -> %.6e (%.2f%% lower) in %d steps, %.3f ms/step%n",
        r.first(), r.last(), reduction, steps, r.msPerStep());
    out.flush();
    return 0;
  }

  /** Runs the demo, printing the loss every {@code logEvery} steps to {@code out}. */
  static Result run(int steps, long seed, double lr, int threads, int logEvery, PrintWriter out) {
    DemoNet.Size size = DemoNet.DEMO;
    Graph graph = DemoNet.training(DType.FLOAT, size, seed);
    long[] xShape = {size.batch(), size.inputs()};
    long[] yShape = {size.batch(), size.outputs()};
    Random data = new Random(seed + 1);
    double[] hidden = DemoNet.gaussian(data, 1, size.inputCount());
    double[] x = DemoNet.gaussian(data, 1, size.inputCount());
    Backend backend = Backend.load();
    out.printf(Locale.ROOT, "demo: 2-layer tanh MLP %dx%d -> %d -> %d, %d nodes with backward; Adam on the input, lr %s, seed %d, %s %s%n",
        size.batch(), size.inputs(), size.hidden(), size.outputs(), graph.nodes().size(), lr, seed, backend.name(),
        threads == 0 ? "default threads" : threads + " threads");
    // The same optimizer the pipeline uses for the latent (ND4J's Adam, beta 0.9/0.999, eps 1e-8).
    ai.vqclip.core.optim.LatentOptimizer adam =
        new ai.vqclip.core.optim.LatentOptimizer(ai.vqclip.core.optim.OptimizerConfig.adam(lr), x.length);
    float[] xf = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      xf[i] = (float) x[i];
    }
    double[] losses = new double[steps + 1];
    long elapsed;
    try (Executable exe = backend.compile(graph, ExecutionOptions.cpu().withThreads(threads))) {
      // The target is the network's own output at a hidden input, so a zero loss is reachable.
      Tensor zeros = Tensor.filled(DType.FLOAT, yShape, 0);
      Tensor target = exe.run(Map.of(DemoNet.INPUT, Tensor.fromDoubles(DType.FLOAT, xShape, hidden), DemoNet.TARGET, zeros))
          .get(DemoNet.OUTPUT);
      long t0 = System.nanoTime();
      for (int step = 0; step <= steps; step++) {
        Map<String, Tensor> res = exe.run(Map.of(DemoNet.INPUT, Tensor.ofFloats(xShape, xf), DemoNet.TARGET, target));
        losses[step] = res.get(DemoNet.LOSS).toDoubles()[0];
        if (step % logEvery == 0 || step == steps) {
          out.printf(Locale.ROOT, "step %6d  loss %.9e%n", step, losses[step]);
          out.flush();
        }
        if (step < steps) {
          adam.step(xf, res.get(DemoNet.GRAD).toFloats());
        }
      }
      elapsed = System.nanoTime() - t0;
    }
    // steps + 1 graph runs for steps updates: time per run is the honest per-step figure.
    return new Result(losses, elapsed / 1e6 / (steps + 1));
  }
}
