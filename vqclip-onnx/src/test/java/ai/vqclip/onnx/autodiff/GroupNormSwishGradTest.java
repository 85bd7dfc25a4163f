package ai.vqclip.onnx.autodiff;

import static ai.vqclip.onnx.testing.GradCheck.TOL_F32;
import static ai.vqclip.onnx.testing.GradCheck.TOL_F64;
import static ai.vqclip.onnx.testing.GradCheck.assertGradient;
import static ai.vqclip.onnx.testing.GradCheck.randomInputs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.autodiff.Autodiff;
import ai.vqclip.core.autodiff.GradientRequest;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Node;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import ai.vqclip.onnx.testing.GradCheck;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The fused backward forms of issue 18: swish ({@code x * Sigmoid(x)}) differentiated as one
 * expression, and InstanceNormalization without affine (GroupNorm as VQGAN writes it) reusing its
 * forward output as xhat. Finite-difference checks, and the emitted form.
 */
class GroupNormSwishGradTest {
  private static final long SEED = 23;

  private static long backwardCount(Graph g, String opType) {
    return g.nodes().stream().filter(n -> n.name().startsWith("grad/") && n.opType().equals(opType)).count();
  }

  @ParameterizedTest(name = "sigmoid first {0}")
  @ValueSource(booleans = {false, true})
  void swishIsOneFusedGradient(boolean sigmoidFirst) {
    GraphBuilder b = new GraphBuilder("swish " + sigmoidFirst);
    Value x = b.input("x", DType.DOUBLE, Shape.of(2, 3, 4));
    Value s = b.op("Sigmoid").in(x).out();
    b.output("y", sigmoidFirst ? b.mul(s, x) : b.mul(x, s));
    Graph g = b.build();
    Graph grad = Autodiff.differentiate(g, GradientRequest.ofSeeds(List.of("y"), List.of("x")));
    // g * (s + y * (1 - s)): two Muls, one Sub, one Add; the Sigmoid rule does not run.
    assertEquals(2, backwardCount(grad, "Mul"), () -> grad.nodes().stream().map(Node::describe).toList().toString());
    assertEquals(1, backwardCount(grad, "Sub"));
    assertEquals(1, backwardCount(grad, "Add"));
    assertGradient(g, randomInputs(g, Map.of(), SEED), List.of("x"), 1e-6, TOL_F64, SEED);
  }

  @Test
  void swishWhoseSigmoidHasAnotherConsumer() {
    // The Sigmoid's other consumer still sends its gradient through the Sigmoid rule.
    GraphBuilder b = new GraphBuilder("swish shared sigmoid");
    Value x = b.input("x", DType.DOUBLE, Shape.of(3, 5));
    Value s = b.op("Sigmoid").in(x).out();
    b.output("y", b.mul(x, s));
    b.output("z", b.mul(s, s));
    Graph g = b.build();
    assertGradient(g, randomInputs(g, Map.of(), SEED), List.of("x"), 1e-6, TOL_F64, SEED);
  }

  @Test
  void swishOfABroadcastProductIsNotFused() {
    // x [3, 1] times Sigmoid of another value: the plain Mul rule (with its unbroadcast) applies.
    GraphBuilder b = new GraphBuilder("not swish");
    Value x = b.input("x", DType.DOUBLE, Shape.of(3, 1));
    Value u = b.input("u", DType.DOUBLE, Shape.of(3, 4));
    b.output("y", b.mul(x, b.op("Sigmoid").in(u).out()));
    Graph g = b.build();
    var in = randomInputs(g, Map.of(), SEED);
    assertGradient(g, in, List.of("x"), 1e-6, TOL_F64, SEED);
    assertGradient(g, in, List.of("u"), 1e-6, TOL_F64, SEED);
  }

  /** GroupNorm(groups) + per-channel affine + swish + 3x3 Conv, written as VqganGraphs writes it. */
  private static Graph groupNormSwishConv(int groups) {
    long[] xs = {2, 8, 5, 6};
    SplittableRandom r = new SplittableRandom(SEED);
    GraphBuilder b = new GraphBuilder("gn swish " + groups);
    Value x = b.input("x", DType.FLOAT, Shape.of(xs));
    Value ones = b.constant(Tensor.filled(DType.FLOAT, new long[] {groups}, 1));
    Value zeros = b.constant(Tensor.filled(DType.FLOAT, new long[] {groups}, 0));
    Value n = b.op("InstanceNormalization").in(b.reshape(x, xs[0], groups, -1), ones, zeros).attr("epsilon", 1e-6f).out();
    Value gamma = b.initializer("gamma", GradCheck.random(DType.FLOAT, new long[] {xs[1], 1, 1}, r, 1.0));
    Value beta = b.initializer("beta", GradCheck.random(DType.FLOAT, new long[] {xs[1], 1, 1}, r, 1.0));
    Value h = b.add(b.mul(b.reshape(n, xs), gamma), beta);
    h = b.mul(h, b.op("Sigmoid").in(h).out());
    Value w = b.initializer("w", GradCheck.random(DType.FLOAT, new long[] {4, xs[1], 3, 3}, r, 0.3));
    b.output("y", b.op("Conv").in(h, w).ints("pads", 1, 1, 1, 1).out());
    return b.build();
  }

  @ParameterizedTest(name = "groups {0}")
  @ValueSource(ints = {1, 2, 8})
  void groupNormSwishReusesTheForwardOutput(int groups) {
    Graph g = groupNormSwishConv(groups);
    Graph grad = Autodiff.differentiate(g, GradientRequest.ofSeeds(List.of("y"), List.of("x")));
    String normOut = g.nodes().stream().filter(n -> n.opType().equals("InstanceNormalization")).findFirst().orElseThrow().outputs().get(0);
    assertTrue(grad.nodes().stream().anyMatch(n -> n.name().startsWith("grad/") && n.inputs().contains(normOut)),
        "the backward pass reads the InstanceNormalization output as xhat");
    assertEquals(1, backwardCount(grad, "ReduceSumSquare"));
    assertGradient(g, randomInputs(g, Map.of(), SEED), List.of("x"), 1e-2, TOL_F32, SEED);
  }
}
