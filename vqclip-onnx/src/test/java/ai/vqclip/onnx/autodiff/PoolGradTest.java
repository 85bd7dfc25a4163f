package ai.vqclip.onnx.autodiff;

import static ai.vqclip.onnx.testing.GradCheck.TOL_F32;
import static ai.vqclip.onnx.testing.GradCheck.assertGradient;
import static ai.vqclip.onnx.testing.GradCheck.randomInputs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.autodiff.Autodiff;
import ai.vqclip.core.autodiff.GradientRequest;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Finite-difference checks of the pooling VJP rules. ORT's CPU provider implements AveragePool and
 * MaxPool only in float32, so checks run in FLOAT with {@link TOL_F32}. Average pooling is linear
 * (eps 1e-2). Max pooling is piecewise linear; its inputs are a shuffled grid of distinct values
 * 0.25 apart and eps is 1e-2, so no perturbation (a pair moves apart by at most about 1e-2 * 9, the
 * directions being standard normal) can change an argmax.
 */
class PoolGradTest {
  private static final long SEED = 11;

  /** kernel, strides, pads (begin..., end...) and the input shape. */
  record PoolCase(String name, long[] x, long[] k, long[] strides, long[] pads) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<Arguments> poolCases() {
    return Stream.of(
        new PoolCase("2x2 s2", new long[] {2, 3, 8, 8}, new long[] {2, 2}, new long[] {2, 2}, new long[] {0, 0, 0, 0}),
        new PoolCase("3x3 s1 p1 odd", new long[] {2, 3, 7, 7}, new long[] {3, 3}, new long[] {1, 1}, new long[] {1, 1, 1, 1}),
        new PoolCase("3x3 s2 asym pads", new long[] {2, 3, 7, 9}, new long[] {3, 3}, new long[] {2, 2}, new long[] {0, 2, 1, 0}),
        new PoolCase("4x4 s2 p1", new long[] {1, 2, 9, 9}, new long[] {4, 4}, new long[] {2, 2}, new long[] {1, 1, 1, 1}),
        new PoolCase("3x2 s(2,1) p(1,0,1,1)", new long[] {2, 2, 7, 6}, new long[] {3, 2}, new long[] {2, 1}, new long[] {1, 0, 1, 1}),
        new PoolCase("1-D k3 s2 p1", new long[] {2, 3, 11}, new long[] {3}, new long[] {2}, new long[] {1, 1}))
        .map(Arguments::of);
  }

  private static Graph avgPool(PoolCase c, long countIncludePad) {
    GraphBuilder b = new GraphBuilder("AveragePool " + c.name() + " cip=" + countIncludePad);
    Value x = b.input("x", DType.FLOAT, Shape.of(c.x()));
    b.output(b.op("AveragePool")
        .in(x)
        .ints("kernel_shape", c.k())
        .ints("strides", c.strides())
        .ints("pads", c.pads())
        .attr("count_include_pad", countIncludePad)
        .out());
    return b.build();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("poolCases")
  void averagePoolExcludingPad(PoolCase c) {
    Graph g = avgPool(c, 0);
    assertGradient(g, randomInputs(g, Map.of(), SEED), List.of("x"), 1e-2, TOL_F32, SEED);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("poolCases")
  void averagePoolIncludingPad(PoolCase c) {
    Graph g = avgPool(c, 1);
    assertGradient(g, randomInputs(g, Map.of(), SEED), List.of("x"), 1e-2, TOL_F32, SEED);
  }

  /** A shuffled grid of distinct values 0.25 apart, so max pooling has no ties, even after perturbation. */
  static Tensor distinct(long[] shape, long seed) {
    int n = Math.toIntExact(Arrays.stream(shape).reduce(1, (a, b) -> a * b));
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = 0.25 * (i - n / 2);
    }
    SplittableRandom rnd = new SplittableRandom(seed);
    for (int i = n - 1; i > 0; i--) {
      int j = rnd.nextInt(i + 1);
      double t = v[i];
      v[i] = v[j];
      v[j] = t;
    }
    return Tensor.fromDoubles(DType.FLOAT, shape, v);
  }

  private static Graph maxPool(PoolCase c, boolean withIndices, long ceilMode, long[] dilations) {
    GraphBuilder b = new GraphBuilder("MaxPool " + c.name() + (withIndices ? " +indices" : "") + " ceil=" + ceilMode);
    Value x = b.input("x", DType.FLOAT, Shape.of(c.x()));
    GraphBuilder.OpBuilder op = b.op("MaxPool")
        .in(x)
        .ints("kernel_shape", c.k())
        .ints("strides", c.strides())
        .ints("pads", c.pads())
        .attr("ceil_mode", ceilMode);
    if (dilations != null) {
      op.ints("dilations", dilations);
    }
    if (withIndices) {
      List<Value> outs = op.outs(2);
      b.output(outs.get(0));
      b.output(outs.get(1));
    } else {
      b.output(op.out());
    }
    return b.build();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("poolCases")
  void maxPoolRecomputedIndices(PoolCase c) {
    Graph g = maxPool(c, false, 0, null);
    assertGradient(g, Map.of("x", distinct(c.x(), SEED)), List.of("x"), 1e-2, TOL_F32, SEED);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("poolCases")
  void maxPoolForwardIndices(PoolCase c) {
    Graph g = maxPool(c, true, 0, null);
    Graph grad = Autodiff.differentiate(g, GradientRequest.ofSeeds(List.of(g.outputs().get(0).name()), List.of("x")));
    // The forward Indices output is reused: the gradient graph holds no second MaxPool.
    assertEquals(1, grad.nodes().stream().filter(n -> n.opType().equals("MaxPool")).count());
    assertGradient(g, Map.of("x", distinct(c.x(), SEED)), List.of("x"), 1e-2, TOL_F32, SEED);
  }

  @Test
  void maxPoolCeilModeAndDilation() {
    PoolCase c = new PoolCase("3x3 s2 p(1,0,0,1)", new long[] {2, 3, 8, 8}, new long[] {3, 3}, new long[] {2, 2}, new long[] {1, 0, 0, 1});
    Graph ceil = maxPool(c, false, 1, null);
    assertGradient(ceil, Map.of("x", distinct(c.x(), SEED)), List.of("x"), 1e-2, TOL_F32, SEED);
    Graph dil = maxPool(c, false, 0, new long[] {2, 2});
    assertGradient(dil, Map.of("x", distinct(c.x(), SEED)), List.of("x"), 1e-2, TOL_F32, SEED);
  }

  @Test
  void globalPools() {
    for (String op : List.of("GlobalAveragePool", "GlobalMaxPool")) {
      GraphBuilder b = new GraphBuilder(op);
      Value x = b.input("x", DType.FLOAT, Shape.of(2, 3, 5, 7));
      b.output(b.op(op).in(x).out());
      Graph g = b.build();
      Map<String, Tensor> in = op.equals("GlobalMaxPool") ? Map.of("x", distinct(new long[] {2, 3, 5, 7}, SEED)) : randomInputs(g, Map.of(), SEED);
      assertGradient(g, in, List.of("x"), 1e-2, TOL_F32, SEED);
    }
  }

  @Test
  void averagePoolCeilModeThatChangesSizeIsRejected() {
    GraphBuilder b = new GraphBuilder("avg ceil");
    Value x = b.input("x", DType.FLOAT, Shape.of(1, 1, 8, 8));
    b.output(b.op("AveragePool").in(x).ints("kernel_shape", 3, 3).ints("strides", 2, 2).attr("ceil_mode", 1L).out());
    Graph g = b.build();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Autodiff.differentiate(g, GradientRequest.ofSeeds(List.of(g.outputs().get(0).name()), List.of("x"))));
    assertTrue(e.getMessage().contains("ceil_mode"), e.getMessage());
  }
}
