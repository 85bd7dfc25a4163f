package ai.vqclip.onnx.autodiff;

import static ai.vqclip.onnx.testing.GradCheck.TOL_F64;
import static ai.vqclip.onnx.testing.GradCheck.assertGradient;
import static ai.vqclip.onnx.testing.GradCheck.randomInputs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.autodiff.Autodiff;
import ai.vqclip.core.autodiff.GradientRequest;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import ai.vqclip.onnx.OrtExecutable;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Gradient checks of the Reduce* rules. All in DOUBLE: ORT's CPU provider implements every Reduce*
 * op in double, so the checks can use eps 1e-6 and the tight {@code TOL_F64}.
 */
class ReduceGradTest {
  private static final long SEED = 7;
  private static final List<String> OPS =
      List.of("ReduceSum", "ReduceMean", "ReduceSumSquare", "ReduceMax", "ReduceMin", "ReduceL2", "ReduceL1", "ReduceLogSumExp");

  /** Axes variants: null = no axes input (reduce all). */
  private static final long[][] AXES = {{1}, {-1}, {0, 2}, {-3, -1}, null};

  static Stream<Arguments> cases() {
    Stream.Builder<Arguments> s = Stream.builder();
    for (String op : OPS) {
      for (long[] axes : AXES) {
        for (int keep = 0; keep <= 1; keep++) {
          s.add(Arguments.of(op, axes, keep));
        }
      }
    }
    return s.build();
  }

  private static Graph reduceGraph(String op, long[] axes, long keep, long noop) {
    GraphBuilder b = new GraphBuilder(op + "_" + java.util.Arrays.toString(axes) + "_k" + keep);
    Value x = b.input("x", DType.DOUBLE, Shape.of(2, 3, 4));
    GraphBuilder.OpBuilder o = b.op(op).attr("keepdims", keep);
    if (noop != 0) {
      o.attr("noop_with_empty_axes", noop);
    }
    o = axes == null ? o.in(x) : o.in(x, b.ints(axes));
    b.output(o.out());
    return b.build();
  }

  @ParameterizedTest(name = "{0} axes={1} keepdims={2}")
  @MethodSource("cases")
  void reduce(String op, long[] axes, int keep) {
    Graph g = reduceGraph(op, axes, keep, 0);
    assertGradient(g, randomInputs(g, Map.of(), SEED), List.of("x"), 1e-6, TOL_F64, SEED);
  }

  @ParameterizedTest(name = "{0} noop_with_empty_axes")
  @MethodSource("ops")
  void noopWithEmptyAxes(String op) {
    GraphBuilder b = new GraphBuilder(op + "_noop");
    Value x = b.input("x", DType.DOUBLE, Shape.of(3, 4));
    Value empty = b.constant(Tensor.ofLongs(new long[] {0}));
    b.output(b.op(op).in(x, empty).attr("noop_with_empty_axes", 1L).out());
    Graph g = b.build();
    assertGradient(g, randomInputs(g, Map.of(), SEED), List.of("x"), 1e-6, TOL_F64, SEED);
  }

  static Stream<String> ops() {
    return OPS.stream();
  }

  @ParameterizedTest(name = "{0} ties")
  @MethodSource("maxMin")
  void tiesShareTheGradient(String op) {
    // Row 0 has its extreme value twice, row 1 three times: each tied element gets 1/count.
    GraphBuilder b = new GraphBuilder(op + "_ties");
    Value x = b.input("x", DType.DOUBLE, Shape.of(2, 4));
    b.output(b.op(op).in(x, b.ints(1)).attr("keepdims", 0L).out());
    Graph f = b.build();
    double e = op.equals("ReduceMax") ? 5 : -5;
    Tensor xv = Tensor.ofDoubles(new long[] {2, 4}, e, 1, e, 0, e, e, 2, e);
    Graph grad = Autodiff.differentiate(f, GradientRequest.ofSeeds(List.of(f.outputs().get(0).name()), List.of("x")));
    Map<String, Tensor> feed = new HashMap<>();
    feed.put("x", xv);
    feed.put(GradientRequest.seedName(f.outputs().get(0).name()), Tensor.ofDoubles(new long[] {2}, 1, 3));
    try (OrtExecutable ex = OrtExecutable.create(grad, ExecutionOptions.cpu())) {
      double[] gx = ex.run(feed).get(GradientRequest.gradName("x")).toDoubles();
      assertArrayEquals(new double[] {0.5, 0, 0.5, 0, 1, 1, 0, 1}, gx, 1e-12);
    }
  }

  static Stream<String> maxMin() {
    return Stream.of("ReduceMax", "ReduceMin");
  }

  @Test
  void l2NormOfZeroHasZeroGradient() {
    GraphBuilder b = new GraphBuilder("l2zero");
    Value x = b.input("x", DType.DOUBLE, Shape.of(2, 3));
    b.output(b.op("ReduceL2").in(x, b.ints(1)).attr("keepdims", 1L).out());
    Graph f = b.build();
    Graph grad = Autodiff.differentiate(f, GradientRequest.ofSeeds(List.of(f.outputs().get(0).name()), List.of("x")));
    Map<String, Tensor> feed = new HashMap<>();
    feed.put("x", Tensor.ofDoubles(new long[] {2, 3}, 0, 0, 0, 3, 0, 4));
    feed.put(GradientRequest.seedName(f.outputs().get(0).name()), Tensor.ofDoubles(new long[] {2, 1}, 1, 1));
    try (OrtExecutable ex = OrtExecutable.create(grad, ExecutionOptions.cpu())) {
      double[] gx = ex.run(feed).get(GradientRequest.gradName("x")).toDoubles();
      assertArrayEquals(new double[] {0, 0, 0, 0.6, 0, 0.8}, gx, 1e-12);
    }
  }

  @Test
  void nonConstantAxesAreRejected() {
    GraphBuilder b = new GraphBuilder("dynaxes");
    Value x = b.input("x", DType.DOUBLE, Shape.of(2, 3));
    Value axes = b.input("axes", DType.INT64, Shape.of(1));
    b.output(b.op("ReduceSum").in(x, axes).out());
    Graph f = b.build();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Autodiff.differentiate(f, GradientRequest.ofSeeds(List.of(f.outputs().get(0).name()), List.of("x"))));
    assertTrue(e.getMessage().contains("axes"), e.getMessage());
  }
}
