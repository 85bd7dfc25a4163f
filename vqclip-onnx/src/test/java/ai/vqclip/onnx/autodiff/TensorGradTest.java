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
import ai.vqclip.onnx.testing.GradCheck;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Gradient checks of the tensor-manipulation rules. Everything runs in DOUBLE: ORT's CPU provider
 * implements these ops (and the Pad, ScatterND and ScatterElements-add used by their gradients) for
 * double, so the checks can use the tight {@link GradCheck#TOL_F64}.
 */
class TensorGradTest {
  private static final long SEED = 7;
  private static final double EPS = 1e-6;
  private static final long MAX = Long.MAX_VALUE;
  private static final long MIN = Long.MIN_VALUE;

  /** Builds {@code out = f(b, x)} for an input x of {@code shape} and checks d out / d x. */
  private static void check(String name, long[] shape, BiFunction<GraphBuilder, Value, Value> f) {
    GraphBuilder b = new GraphBuilder(name);
    Value x = b.input("x", DType.DOUBLE, Shape.of(shape));
    b.output(f.apply(b, x));
    Graph g = b.build();
    assertGradient(g, randomInputs(g, Map.of(), SEED), List.of("x"), EPS, TOL_F64, SEED);
  }

  /**
   * Sum of all elements of a static-shaped value as a scalar, written as a vector dot product with
   * ones so that these tests depend only on the MatMul rule (Reduce* rules are tested elsewhere).
   */
  static Value sum(GraphBuilder b, Value v) {
    long n = v.shape().elementCount();
    return b.matmul(b.reshape(v, -1), b.constant(Tensor.filled(v.dtype(), new long[] {n}, 1)));
  }

  @Test
  void reshapeFlattenSqueezeUnsqueeze() {
    check("reshape", new long[] {2, 3, 4}, (b, x) -> b.reshape(x, 4, -1));
    check("reshape0", new long[] {2, 3, 4}, (b, x) -> b.reshape(x, 0, 12));
    check("flatten", new long[] {2, 3, 4}, (b, x) -> b.op("Flatten").in(x).attr("axis", 2L).out());
    check("flatten0", new long[] {2, 3, 4}, (b, x) -> b.op("Flatten").in(x).attr("axis", 0L).out());
    check("unsqueeze", new long[] {2, 3}, (b, x) -> b.unsqueeze(x, 0, -1));
    check("squeeze", new long[] {2, 1, 3, 1}, (b, x) -> b.squeeze(x, 1, -1));
    check("squeezeAll", new long[] {1, 3, 1}, (b, x) -> b.op("Squeeze").in(x).out());
  }

  @Test
  void transpose() {
    check("perm", new long[] {2, 3, 4}, (b, x) -> b.transpose(x, 2, 0, 1));
    check("perm4", new long[] {2, 3, 4, 5}, (b, x) -> b.transpose(x, 1, 3, 0, 2));
    check("reverse", new long[] {2, 3, 4}, (b, x) -> b.op("Transpose").in(x).out());
  }

  @ParameterizedTest
  @ValueSource(longs = {1, -2, 0})
  void concatWithConstantInput(long axis) {
    GraphBuilder b = new GraphBuilder("concat");
    long[] sx = {2, 3, 4};
    long[] sy = {2, 3, 4};
    long[] sc = {2, 3, 4};
    int ax = (int) (axis < 0 ? axis + 3 : axis);
    sx[ax] = 2;
    sy[ax] = 5;
    sc[ax] = 1;
    Value x = b.input("x", DType.DOUBLE, Shape.of(sx));
    Value y = b.input("y", DType.DOUBLE, Shape.of(sy));
    Value k = b.constant(GradCheck.random(DType.DOUBLE, sc, new SplittableRandom(3), 1));
    // x twice: its two slices must accumulate
    b.output(b.op("Concat").in(x, k, y, x).attr("axis", axis).out());
    Graph g = b.build();
    assertGradient(g, randomInputs(g, Map.of(), SEED), List.of("x", "y"), EPS, TOL_F64, SEED);
    assertGradient(g, randomInputs(g, Map.of(), SEED), List.of("y"), EPS, TOL_F64, SEED);
  }

  @Test
  void splitWithUnusedOutput() {
    GraphBuilder b = new GraphBuilder("split");
    Value x = b.input("x", DType.DOUBLE, Shape.of(2, 6, 3));
    List<Value> parts = b.op("Split").in(x, b.ints(1, 3, 2)).attr("axis", -2L).outs(3);
    // parts[1] is unused: its gradient is zeros of its shape
    b.output(b.mul(parts.get(0), parts.get(2)));
    Graph g = b.build();
    assertGradient(g, randomInputs(g, Map.of(), SEED), List.of("x"), EPS, TOL_F64, SEED);
  }

  @Test
  void splitEqualPartsAllOutputs() {
    GraphBuilder b = new GraphBuilder("split2");
    Value x = b.input("x", DType.DOUBLE, Shape.of(4, 6));
    List<Value> parts = b.op("Split").in(x).attr("axis", 1L).attr("num_outputs", 3L).outs(3);
    b.output(b.mul(b.mul(parts.get(0), parts.get(1)), parts.get(2)));
    Graph g = b.build();
    assertGradient(g, randomInputs(g, Map.of(), SEED), List.of("x"), EPS, TOL_F64, SEED);
  }

  static Stream<Arguments> slices() {
    return Stream.of(
        // starts, ends, axes (null = default), steps (null = default)
        Arguments.of(new long[] {1}, new long[] {3}, null, null),
        Arguments.of(new long[] {1, 0}, new long[] {-1, 100}, new long[] {1, 2}, null),
        Arguments.of(new long[] {-4, -100}, new long[] {MAX, 4}, new long[] {-1, 0}, null),
        Arguments.of(new long[] {0, 1}, new long[] {MAX, 6}, new long[] {1, 2}, new long[] {2, 3}),
        Arguments.of(new long[] {-1}, new long[] {MIN}, new long[] {2}, new long[] {-1}),
        Arguments.of(new long[] {100, 3}, new long[] {-100, 0}, new long[] {2, 1}, new long[] {-2, -2}),
        Arguments.of(new long[] {5, 0, 0}, new long[] {1, 3, 4}, new long[] {2, 0, 1}, new long[] {-3, 2, 3}),
        Arguments.of(new long[] {1}, new long[] {2}, new long[] {0}, new long[] {5}));
  }

  @ParameterizedTest
  @MethodSource("slices")
  void slice(long[] starts, long[] ends, long[] axes, long[] steps) {
    check("slice", new long[] {3, 4, 7}, (b, x) -> b.op("Slice")
        .in(x, b.ints(starts), b.ints(ends), axes == null ? null : b.ints(axes), steps == null ? null : b.ints(steps)).out());
  }

  @Test
  void emptySliceHasZeroGradient() {
    GraphBuilder b = new GraphBuilder("empty");
    Value x = b.input("x", DType.DOUBLE, Shape.of(3, 4));
    Value s = b.op("Slice").in(x, b.ints(2), b.ints(1), b.ints(1)).out();
    b.output("loss", b.add(sum(b, s), sum(b, b.mul(x, x))));
    Graph g = Autodiff.differentiate(b.build(), GradientRequest.ofLoss("loss", "x"));
    Tensor xv = GradCheck.random(DType.DOUBLE, new long[] {3, 4}, new SplittableRandom(1), 1);
    try (OrtExecutable ex = OrtExecutable.create(g, ExecutionOptions.cpu())) {
      double[] grad = ex.run(Map.of("x", xv)).get(GradientRequest.gradName("x")).toDoubles();
      double[] xs = xv.toDoubles();
      for (int i = 0; i < xs.length; i++) {
        assertTrue(Math.abs(grad[i] - 2 * xs[i]) < 1e-12, "element " + i);
      }
    }
  }

  @Test
  void gatherRepeatedAndNegativeIndicesAxis0() {
    // Codebook lookup shape: rows gathered several times must sum their gradients.
    check("gather0", new long[] {5, 3},
        (b, x) -> b.op("Gather").in(x, b.constant(Tensor.ofLongs(new long[] {2, 3}, 1, -1, 1, 4, 0, -4))).out());
  }

  @Test
  void gatherInnerAxisWithScalarAndMatrixIndices() {
    check("gather1", new long[] {2, 4, 3},
        (b, x) -> b.op("Gather").in(x, b.constant(Tensor.ofLongs(new long[] {2, 2}, 3, -1, 0, 3))).attr("axis", 1L).out());
    check("gatherScalar", new long[] {2, 4, 3},
        (b, x) -> b.op("Gather").in(x, b.constant(Tensor.ofLongs(new long[] {}, -2))).attr("axis", -1L).out());
  }

  @Test
  void gatherWithRuntimeInt32Indices() {
    GraphBuilder b = new GraphBuilder("gatherRt");
    Value x = b.input("x", DType.DOUBLE, Shape.of(3, 5));
    Value idx = b.input("idx", DType.INT32, Shape.of(4));
    b.output(b.op("Gather").in(x, idx).attr("axis", 1L).out());
    Graph g = b.build();
    Map<String, Tensor> in = randomInputs(g, Map.of("idx", Tensor.ofInts(new long[] {4}, -1, 2, 4, 0)), SEED);
    assertGradient(g, in, List.of("x"), EPS, TOL_F64, SEED);
  }

  @Test
  void gatherElements() {
    GraphBuilder b = new GraphBuilder("gatherElements");
    Value x = b.input("x", DType.DOUBLE, Shape.of(3, 4));
    Value idx = b.constant(Tensor.ofLongs(new long[] {3, 2}, 0, -1, 3, 3, 1, 0));
    b.output(b.op("GatherElements").in(x, idx).attr("axis", 1L).out());
    Graph g = b.build();
    assertGradient(g, randomInputs(g, Map.of(), SEED), List.of("x"), EPS, TOL_F64, SEED);
  }

  @Test
  void expand() {
    check("expand", new long[] {3, 1}, (b, x) -> b.expand(x, b.ints(2, 3, 4)));
    check("expandSmallerShape", new long[] {2, 1, 4}, (b, x) -> b.expand(x, b.ints(3, 1)));
  }

  @Test
  void tile() {
    check("tile", new long[] {2, 3}, (b, x) -> b.op("Tile").in(x, b.ints(2, 3)).out());
    check("tile3", new long[] {2, 1, 3}, (b, x) -> b.op("Tile").in(x, b.ints(1, 4, 2)).out());
  }

  static Stream<Arguments> pads() {
    return Stream.of(
        Arguments.of("constant", new long[] {1, 0, 2, 2, 3, 1}, null),
        Arguments.of("constant", new long[] {-1, 2, 0, 1, -2, 3}, null),
        Arguments.of("constant", new long[] {2, 1, 0, 3}, new long[] {-1, 0}),
        Arguments.of("reflect", new long[] {1, 2, 3, 2, 3, 1}, null),
        Arguments.of("reflect", new long[] {0, 3, 0, 0, 0, 6}, null),
        Arguments.of("reflect", new long[] {2, 1}, new long[] {-2}),
        Arguments.of("edge", new long[] {1, 2, 3, 2, 0, 1}, null),
        Arguments.of("edge", new long[] {0, 5, 4, 0}, new long[] {0, 2}));
  }

  @ParameterizedTest
  @MethodSource("pads")
  void pad(String mode, long[] pads, long[] axes) {
    check("pad_" + mode, new long[] {3, 4, 7}, (b, x) -> b.op("Pad")
        .in(x, b.ints(pads), null, axes == null ? null : b.ints(axes)).attr("mode", mode).out());
  }

  @Test
  void padConstantValueGradient() {
    GraphBuilder b = new GraphBuilder("padValue");
    Value x = b.input("x", DType.DOUBLE, Shape.of(3, 4));
    Value v = b.input("v", DType.DOUBLE, Shape.scalar());
    b.output(b.op("Pad").in(x, b.ints(1, -1, 2, 2), v).out());
    Graph g = b.build();
    assertGradient(g, randomInputs(g, Map.of(), SEED), List.of("x", "v"), EPS, TOL_F64, SEED);
    assertGradient(g, randomInputs(g, Map.of(), SEED), List.of("v"), EPS, TOL_F64, SEED);
  }

  @Test
  void unsupportedPadsAreRejected() {
    GraphBuilder b = new GraphBuilder("bad");
    Value x = b.input("x", DType.DOUBLE, Shape.of(3, 4));
    Value p = b.op("Pad").in(x, b.ints(0, 4, 0, 0)).attr("mode", "reflect").named("reflectPad").out();
    b.output("loss", sum(b, p));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Autodiff.differentiate(b.build(), GradientRequest.ofLoss("loss", "x")));
    assertTrue(e.getMessage().contains("reflectPad") && e.getMessage().contains("at most"), e.getMessage());

    GraphBuilder b2 = new GraphBuilder("bad2");
    Value x2 = b2.input("x", DType.DOUBLE, Shape.of(3, 4));
    Value p2 = b2.op("Pad").in(x2, b2.ints(-1, 0, 0, 0)).attr("mode", "edge").named("edgeCrop").out();
    b2.output("loss", sum(b2, p2));
    IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class,
        () -> Autodiff.differentiate(b2.build(), GradientRequest.ofLoss("loss", "x")));
    assertTrue(e2.getMessage().contains("edgeCrop") && e2.getMessage().contains("negative"), e2.getMessage());

    GraphBuilder b3 = new GraphBuilder("bad3");
    Value x3 = b3.input("x", DType.DOUBLE, Shape.of(3, 4));
    Value p3 = b3.op("Pad").in(x3, b3.ints(1, 0, 0, 0)).attr("mode", "wrap").named("wrapPad").out();
    b3.output("loss", sum(b3, p3));
    IllegalArgumentException e3 = assertThrows(IllegalArgumentException.class,
        () -> Autodiff.differentiate(b3.build(), GradientRequest.ofLoss("loss", "x")));
    assertTrue(e3.getMessage().contains("wrapPad") && e3.getMessage().contains("'wrap'"), e3.getMessage());
  }

  /**
   * Symbolic batch dimension: the rules must fall back to runtime shapes (Shape, Slice of the
   * shape, runtime Split sizes) where a static shape is not known.
   */
  @Test
  void symbolicBatchDimension() {
    GraphBuilder b = new GraphBuilder("dynamic");
    Value x = b.input("x", DType.DOUBLE, Shape.parse("n", 3, 4));
    Value y = b.input("y", DType.DOUBLE, Shape.parse("m", 3, 4));
    Value cat = b.op("Concat").in(x, y).attr("axis", 0L).out();
    Value t = b.transpose(b.op("Tile").in(cat, b.ints(1, 2, 1)).out(), 1, 0, 2);
    Value r = b.reshape(t, 6, -1);
    Value gth = b.op("Gather").in(b.op("Flatten").in(x).attr("axis", 1L).out(), b.constant(Tensor.ofLongs(new long[] {3}, 0, -1, 0))).attr("axis", 1L).out();
    Value pad = b.op("Pad").in(gth, b.ints(0, 1, 0, 2)).out();
    Value sl = b.op("Slice").in(y, b.ints(-1, 0), b.ints(0, MAX), b.ints(2, 1), b.ints(-2, 2)).out();
    b.output(r);
    b.output(pad);
    b.output(b.op("Squeeze").in(b.unsqueeze(sl, 1), b.ints(1)).out());
    Graph g = b.build();
    SplittableRandom rnd = new SplittableRandom(5);
    Map<String, Tensor> in = Map.of(
        "x", GradCheck.random(DType.DOUBLE, new long[] {2, 3, 4}, rnd, 1),
        "y", GradCheck.random(DType.DOUBLE, new long[] {3, 3, 4}, rnd, 1));
    assertGradient(g, in, List.of("x", "y"), EPS, TOL_F64, SEED);
  }

  @Test
  void reshapeGradientKeepsInputShape() {
    GraphBuilder b = new GraphBuilder("shape");
    Value x = b.input("x", DType.DOUBLE, Shape.of(2, 3, 4));
    b.output("loss", sum(b, b.mul(b.reshape(x, 6, 4), b.reshape(x, 6, 4))));
    Graph g = Autodiff.differentiate(b.build(), GradientRequest.ofLoss("loss", "x"));
    assertArrayEquals(new long[] {2, 3, 4}, g.output(GradientRequest.gradName("x")).shape().toArray());
  }
}
