package ai.vqclip.onnx.autodiff;

import static ai.vqclip.onnx.testing.GradCheck.TOL_F64;
import static ai.vqclip.onnx.testing.GradCheck.assertGradient;
import static ai.vqclip.onnx.testing.GradCheck.randomInputs;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ElementwiseGradTest {
  private static final long SEED = 42;

  @ParameterizedTest
  @ValueSource(strings = {"Add", "Sub", "Mul", "Div", "Max", "Min"})
  void binaryOpsBroadcast(String op) {
    GraphBuilder b = new GraphBuilder(op);
    Value x = b.input("x", DType.DOUBLE, Shape.of(2, 3, 4));
    Value y = b.input("y", DType.DOUBLE, Shape.of(3, 1));
    Value yPos = op.equals("Div") ? b.add(b.mul(y, y), b.scalar(0.5, DType.DOUBLE)) : y;
    b.output(b.op(op).in(x, yPos).out());
    var g = b.build();
    assertGradient(g, randomInputs(g, Map.of(), SEED), List.of("x", "y"), 1e-6, TOL_F64, SEED);
  }

  @ParameterizedTest
  @ValueSource(strings = {"Neg", "Exp", "Sigmoid", "Tanh", "Abs", "Relu", "Identity"})
  void unaryOps(String op) {
    GraphBuilder b = new GraphBuilder(op);
    Value x = b.input("x", DType.DOUBLE, Shape.of(3, 5));
    b.output(b.op(op).in(x).out());
    var g = b.build();
    assertGradient(g, randomInputs(g, Map.of(), SEED), List.of("x"), 1e-6, TOL_F64, SEED);
  }

  @ParameterizedTest
  @ValueSource(strings = {"Sqrt", "Log", "Reciprocal"})
  void positiveDomainOps(String op) {
    GraphBuilder b = new GraphBuilder(op);
    Value x = b.input("x", DType.DOUBLE, Shape.of(4, 3));
    Value pos = b.add(b.mul(x, x), b.scalar(0.5, DType.DOUBLE));
    b.output(b.op(op).in(pos).out());
    var g = b.build();
    assertGradient(g, randomInputs(g, Map.of(), SEED), List.of("x"), 1e-6, TOL_F64, SEED);
  }

  @org.junit.jupiter.api.Test
  void matmulBatchedBroadcasting() {
    GraphBuilder b = new GraphBuilder("mm");
    Value x = b.input("x", DType.DOUBLE, Shape.of(2, 1, 3, 4));
    Value w = b.initializer("w", Tensor.fromDoubles(DType.DOUBLE, new long[] {5, 4, 2}, ai.vqclip.onnx.testing.GradCheck
        .random(DType.DOUBLE, new long[] {5, 4, 2}, new java.util.SplittableRandom(1), 1).toDoubles()));
    b.output(b.matmul(x, w));
    var g = b.build();
    assertGradient(g, randomInputs(g, Map.of(), SEED), List.of("x", "w"), 1e-6, TOL_F64, SEED);
  }
}
