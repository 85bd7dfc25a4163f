package ai.vqclip.bench;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.onnx.OrtExecutable;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A/B of the two forms of a convolution's input gradient on the {@link ConvNetStep} graph (six 3x3
 * 128 -> 128 convolutions with GroupNorm and swish, forward and backward): ConvTranspose (the rule
 * before issue 18, system property {@code vqclip.autodiff.convInputGrad=transpose}) against a Conv
 * with the flipped kernel (the default). Both sessions live in one JVM and their runs alternate, so
 * a shared machine's drift hits both alike; prints the median ms per step of each and their ratio,
 * and the largest difference between the two input gradients.
 *
 * <pre>
 * java -cp vqclip-bench/target/benchmarks.jar ai.vqclip.bench.ConvBackwardAB [size 128] [rounds 5] [threads 2]
 * </pre>
 */
public final class ConvBackwardAB {
  private ConvBackwardAB() {}

  /** Entry point; see the class comment. */
  public static void main(String[] args) {
    int size = args.length > 0 ? Integer.parseInt(args[0]) : 128;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    int threads = args.length > 2 ? Integer.parseInt(args[2]) : 2;
    String property = "vqclip.autodiff.convInputGrad";
    Graph[] graphs = new Graph[2];
    String[] modes = {"transpose", "flipped"};
    for (int i = 0; i < 2; i++) {
      System.setProperty(property, modes[i]);
      graphs[i] = ConvNetStep.graph(size);
    }
    System.clearProperty(property);
    Map<String, Tensor> feed = Map.of(BenchGraphs.INPUT, BenchGraphs.randomInput(2, 1, ConvNetStep.CHANNELS, size, size));
    try (OrtExecutable a = OrtExecutable.create(graphs[0], FullModels.executionOptions(threads));
        OrtExecutable b = OrtExecutable.create(graphs[1], FullModels.executionOptions(threads))) {
      OrtExecutable[] exe = {a, b};
      double[][] ms = new double[2][rounds];
      float[][] grads = new float[2][];
      for (int r = -1; r < rounds; r++) {
        for (int i = 0; i < 2; i++) {
          long t0 = System.nanoTime();
          Map<String, Tensor> out = exe[i].run(feed, Set.of(BenchGraphs.LOSS, BenchGraphs.GRAD));
          if (r >= 0) {
            ms[i][r] = (System.nanoTime() - t0) / 1e6;
          } else {
            grads[i] = out.get(BenchGraphs.GRAD).toFloats();
          }
        }
      }
      double maxAbs = 0;
      double maxDiff = 0;
      for (int k = 0; k < grads[0].length; k++) {
        maxAbs = Math.max(maxAbs, Math.abs(grads[0][k]));
        maxDiff = Math.max(maxDiff, Math.abs(grads[0][k] - grads[1][k]));
      }
      double ta = median(ms[0]);
      double tb = median(ms[1]);
      System.out.printf(Locale.ROOT, "ConvNetStep %dx%d, %d threads, %d alternating rounds: ConvTranspose %.1f ms, flipped Conv %.1f ms "
          + "(medians), flipped/transpose %.2f; max |dx difference| %.3g of max |dx| %.3g%n", size, size, threads, rounds, ta, tb, tb / ta,
          maxDiff, maxAbs);
    }
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }
}
