package ai.vqclip.onnx.autodiff;

import static ai.vqclip.onnx.testing.GradCheck.TOL_F32;
import static ai.vqclip.onnx.testing.GradCheck.TOL_F64;
import static ai.vqclip.onnx.testing.GradCheck.assertGradient;
import static ai.vqclip.onnx.testing.GradCheck.randomInputs;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import ai.vqclip.onnx.testing.GradCheck;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Gradient checks of the elementwise and linear-algebra rules not covered by ElementwiseGradTest.
 * DOUBLE where ORT's CPU provider has double kernels; FLOAT for Erf and Asin (float-only kernels)
 * and for the Cast chain, which must start and end in FLOAT.
 */
class MoreElementwiseGradTest {
  private static final long SEED = 11;
  private static final double EPS = 1e-6;

  private static void check(Graph g, Map<String, Tensor> given, String... wrt) {
    assertGradient(g, randomInputs(g, given, SEED), List.of(wrt), EPS, TOL_F64, SEED);
  }

  /** Uniform values in (lo, hi), for ops with a restricted domain. */
  private static Tensor uniform(long[] shape, double lo, double hi, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    int n = 1;
    for (long s : shape) {
      n *= (int) s;
    }
    double[] d = new double[n];
    for (int i = 0; i < n; i++) {
      d[i] = lo + (hi - lo) * rnd.nextDouble();
    }
    return Tensor.ofDoubles(shape, d);
  }

  @Test
  void powConstantExponent() {
    GraphBuilder b = new GraphBuilder("pow3");
    Value x = b.input("x", DType.DOUBLE, Shape.of(3, 4));
    // integer exponent: defined for negative bases too
    b.output(b.op("Pow").in(x, b.scalar(3, DType.DOUBLE)).out());
    check(b.build(), Map.of(), "x");

    GraphBuilder b2 = new GraphBuilder("powInt64Exponent");
    Value x2 = b2.input("x", DType.DOUBLE, Shape.of(3, 4));
    b2.output(b2.op("Pow").in(x2, b2.constant(Tensor.ofLongs(new long[] {4}, 2, 3, 1, 0))).out());
    check(b2.build(), Map.of(), "x");

    GraphBuilder b3 = new GraphBuilder("powFractional");
    Value x3 = b3.input("x", DType.DOUBLE, Shape.of(3, 4));
    b3.output(b3.op("Pow").in(x3, b3.scalar(2.5, DType.DOUBLE)).out());
    check(b3.build(), Map.of("x", uniform(new long[] {3, 4}, 0.2, 2, 1)), "x");
  }

  @Test
  void powWithRespectToExponentAndBase() {
    GraphBuilder b = new GraphBuilder("powBoth");
    Value x = b.input("x", DType.DOUBLE, Shape.of(2, 3));
    Value p = b.input("p", DType.DOUBLE, Shape.of(3));
    b.output(b.op("Pow").in(x, p).out());
    Graph g = b.build();
    Map<String, Tensor> in = Map.of("x", uniform(new long[] {2, 3}, 0.3, 2.5, 2), "p", uniform(new long[] {3}, -1.5, 2.5, 3));
    check(g, in, "x", "p");
    check(g, in, "p");
  }

  // ORT's CPU provider implements Erf and Asin for float only (NOT_IMPLEMENTED for double), so
  // these two run in FLOAT with eps 1e-2 and TOL_F32.
  @Test
  void erf() {
    GraphBuilder b = new GraphBuilder("erf");
    Value x = b.input("x", DType.FLOAT, Shape.of(4, 5));
    b.output(b.op("Erf").in(x).out());
    Graph g = b.build();
    assertGradient(g, randomInputs(g, Map.of(), SEED), List.of("x"), 1e-2, TOL_F32, SEED);
  }

  @Test
  void asin() {
    GraphBuilder b = new GraphBuilder("asin");
    Value x = b.input("x", DType.FLOAT, Shape.of(4, 5));
    b.output(b.op("Asin").in(x).out());
    Graph g = b.build();
    Tensor xs = Tensor.fromDoubles(DType.FLOAT, new long[] {4, 5}, uniform(new long[] {4, 5}, -0.9, 0.9, 4).toDoubles());
    assertGradient(g, Map.of("x", xs), List.of("x"), 1e-2, TOL_F32, SEED);
  }

  @ParameterizedTest
  @ValueSource(strings = {"Softplus", "Sin", "Cos"})
  void smoothUnary(String op) {
    GraphBuilder b = new GraphBuilder(op);
    Value x = b.input("x", DType.DOUBLE, Shape.of(3, 5));
    b.output(b.op(op).in(x).out());
    check(b.build(), Map.of(), "x");
  }

  @ParameterizedTest
  @ValueSource(floats = {0.01f, 0.2f, 1.5f})
  void leakyRelu(float alpha) {
    GraphBuilder b = new GraphBuilder("leakyRelu");
    Value x = b.input("x", DType.DOUBLE, Shape.of(3, 5));
    b.output(b.op("LeakyRelu").in(x).attr("alpha", alpha).out());
    check(b.build(), Map.of(), "x");
  }

  @Test
  void whereBothBranchesWithBroadcastCondition() {
    GraphBuilder b = new GraphBuilder("where");
    Value cond = b.input("cond", DType.BOOL, Shape.of(3, 1));
    Value x = b.input("x", DType.DOUBLE, Shape.of(2, 3, 4));
    Value y = b.input("y", DType.DOUBLE, Shape.of(4));
    b.output(b.op("Where").in(cond, x, y).out());
    Graph g = b.build();
    Map<String, Tensor> given = Map.of("cond", Tensor.ofBools(new long[] {3, 1}, true, false, true));
    check(g, given, "x", "y");
    check(g, given, "y");
  }

  @Test
  void castChainFloatDoubleFloat() {
    // FLOAT ends: the check runs in float32, so eps 1e-2 and TOL_F32.
    GraphBuilder b = new GraphBuilder("cast");
    Value x = b.input("x", DType.FLOAT, Shape.of(3, 4));
    Value d = b.cast(x, DType.DOUBLE);
    Value sq = b.mul(d, b.op("Sin").in(d).out());
    b.output(b.cast(sq, DType.FLOAT));
    Graph g = b.build();
    assertGradient(g, randomInputs(g, Map.of(), SEED), List.of("x"), 1e-2, TOL_F32, SEED);
  }

  @Test
  void clipWithMinMaxInputs() {
    GraphBuilder b = new GraphBuilder("clip");
    Value x = b.input("x", DType.DOUBLE, Shape.of(4, 6));
    Value lo = b.input("lo", DType.DOUBLE, Shape.scalar());
    Value hi = b.input("hi", DType.DOUBLE, Shape.scalar());
    b.output(b.op("Clip").in(x, lo, hi).out());
    Graph g = b.build();
    Map<String, Tensor> given = Map.of("lo", Tensor.scalar(DType.DOUBLE, -0.5), "hi", Tensor.scalar(DType.DOUBLE, 0.7));
    check(g, given, "x");
    check(g, given, "x", "lo", "hi");
    check(g, given, "lo");
    check(g, given, "hi");
  }

  @Test
  void clipWithOnlyMax() {
    GraphBuilder b = new GraphBuilder("clipMax");
    Value x = b.input("x", DType.DOUBLE, Shape.of(4, 6));
    Value hi = b.input("hi", DType.DOUBLE, Shape.scalar());
    b.output(b.op("Clip").in(x, null, hi).out());
    Graph g = b.build();
    check(g, Map.of("hi", Tensor.scalar(DType.DOUBLE, 0.3)), "x", "hi");
  }

  static Stream<Arguments> gemms() {
    Stream.Builder<Arguments> s = Stream.builder();
    long[][] cShapes = {{5}, {1, 5}, {3, 5}, {3, 1}, {}, null};
    for (int ta = 0; ta < 2; ta++) {
      for (int tb = 0; tb < 2; tb++) {
        for (long[] cs : cShapes) {
          s.add(Arguments.of(ta, tb, 1.0f, 1.0f, cs));
        }
        s.add(Arguments.of(ta, tb, 0.5f, -2.0f, new long[] {1, 5}));
      }
    }
    return s.build();
  }

  @ParameterizedTest
  @MethodSource("gemms")
  void gemm(int ta, int tb, float alpha, float beta, long[] cShape) {
    // Y[3,5] = alpha * op(A) op(B) + beta * C, op(A) [3,4], op(B) [4,5]
    GraphBuilder b = new GraphBuilder("gemm");
    Value a = b.input("a", DType.DOUBLE, ta == 1 ? Shape.of(4, 3) : Shape.of(3, 4));
    Value w = b.input("w", DType.DOUBLE, tb == 1 ? Shape.of(5, 4) : Shape.of(4, 5));
    Value c = cShape == null ? null : b.input("c", DType.DOUBLE, Shape.of(cShape));
    b.output(b.op("Gemm").in(a, w, c).attr("transA", (long) ta).attr("transB", (long) tb)
        .attr("alpha", alpha).attr("beta", beta).out());
    Graph g = b.build();
    if (cShape == null) {
      check(g, Map.of(), "a", "w");
    } else {
      check(g, Map.of(), "a", "w", "c");
      check(g, Map.of(), "c");
    }
  }

  @Test
  void gemmGradientReadsAConstantWeightOnlyThroughGemm() {
    // A Transpose reading a weight would be folded by ONNX Runtime into a transposed copy held for
    // the session's lifetime, and would keep the weight from being fed in place (FedWeights).
    for (int ta = 0; ta < 2; ta++) {
      for (int tb = 0; tb < 2; tb++) {
        GraphBuilder b = new GraphBuilder("gemmw");
        Value a = b.input("a", DType.FLOAT, ta == 1 ? Shape.of(4, 3) : Shape.of(3, 4));
        Value w = b.initializer("w", Tensor.filled(DType.FLOAT, tb == 1 ? new long[] {5, 4} : new long[] {4, 5}, 0.5));
        Value y = b.op("Gemm").in(a, w).attr("transA", (long) ta).attr("transB", (long) tb).out();
        b.output("loss", b.op("ReduceSum").in(b.mul(y, y)).attr("keepdims", 0L).out());
        Graph g = ai.vqclip.core.autodiff.Autodiff.differentiate(b.build(), ai.vqclip.core.autodiff.GradientRequest.ofLoss("loss", "a"));
        List<String> readers = g.nodes().stream().filter(n -> n.inputs().contains("w")).map(n -> n.opType()).toList();
        org.junit.jupiter.api.Assertions.assertEquals(List.of("Gemm", "Gemm"), readers, "transA " + ta + ", transB " + tb);
      }
    }
  }

  static Stream<Arguments> matmuls() {
    return Stream.of(
        Arguments.of(new long[] {4}, new long[] {4, 3}),
        Arguments.of(new long[] {3, 4}, new long[] {4}),
        Arguments.of(new long[] {4}, new long[] {4}),
        Arguments.of(new long[] {2, 3, 4}, new long[] {4}),
        Arguments.of(new long[] {4}, new long[] {2, 4, 3}));
  }

  @ParameterizedTest
  @MethodSource("matmuls")
  void matmulWithVectors(long[] sa, long[] sb) {
    GraphBuilder b = new GraphBuilder("mmv");
    Value a = b.input("a", DType.DOUBLE, Shape.of(sa));
    Value w = b.input("w", DType.DOUBLE, Shape.of(sb));
    b.output(b.matmul(a, w));
    Graph g = b.build();
    check(g, Map.of(), "a", "w");
    check(g, Map.of(), "w");
  }

  @Test
  void sumVariadicBroadcasting() {
    GraphBuilder b = new GraphBuilder("sum");
    Value x = b.input("x", DType.DOUBLE, Shape.of(2, 3, 4));
    Value y = b.input("y", DType.DOUBLE, Shape.of(3, 1));
    Value z = b.input("z", DType.DOUBLE, Shape.of(4));
    // x twice: both operand slots must accumulate
    b.output(b.op("Sum").in(x, y, z, x).out());
    Graph g = b.build();
    check(g, Map.of(), "x", "y", "z");
    check(g, Map.of(), "z");

    GraphBuilder b1 = new GraphBuilder("sum1");
    Value x1 = b1.input("x", DType.DOUBLE, Shape.of(2, 3));
    b1.output(b1.mul(b1.op("Sum").in(x1).out(), x1));
    check(b1.build(), Map.of(), "x");
  }

  @Test
  void maxMinWithTies() {
    // Ties split the gradient evenly; x against itself is a tie everywhere.
    GraphBuilder b = new GraphBuilder("maxTie");
    Value x = b.input("x", DType.DOUBLE, Shape.of(3, 4));
    Value k = b.constant(GradCheck.random(DType.DOUBLE, new long[] {4}, new SplittableRandom(9), 1));
    b.output(b.mul(b.op("Max").in(x, x, k).out(), b.op("Min").in(k, x).out()));
    check(b.build(), Map.of(), "x");
  }
}
