package ai.vqclip.onnx.autodiff;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.autodiff.Autodiff;
import ai.vqclip.core.autodiff.GradientRequest;
import ai.vqclip.core.autodiff.VjpRegistry;
import ai.vqclip.core.autodiff.VjpRegistry.FlatGradient;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Ops whose true gradient is zero almost everywhere (Round, Floor, Ceil, Sign, and ArgMax/ArgMin
 * feeding float values) are refused unless the caller chooses ZERO or STRAIGHT_THROUGH; Dropout in
 * training mode and unsupported Einsum equations are refused with clear messages.
 */
class PiecewiseConstantGradTest {
  private static final double[] X = {-1.7, -0.4, 0.3, 1.2, 2.6, -2.2};

  private static IllegalArgumentException assertIae(Runnable r, String... fragments) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
    for (String f : fragments) {
      assertTrue(e.getMessage().contains(f), () -> "message lacks '" + f + "': " + e.getMessage());
    }
    return e;
  }

  /** y = op(x) * w, seeded with ones: the gradient w.r.t. x is w * (op's chosen derivative). */
  private static Graph scaled(String op) {
    GraphBuilder b = new GraphBuilder(op);
    Value x = b.input("x", DType.DOUBLE, Shape.of(6));
    Value w = b.input("w", DType.DOUBLE, Shape.of(6));
    b.output("y", b.mul(b.op(op).in(x).out(), w));
    return b.build();
  }

  private static double[] gradX(Graph g, VjpRegistry reg, double[] w) {
    Graph d = Autodiff.differentiate(g, GradientRequest.ofSeeds(List.of("y"), List.of("x")).withoutForwardOutputs(), reg);
    Map<String, Tensor> in = new HashMap<>();
    in.put("x", Tensor.ofDoubles(new long[] {6}, X));
    in.put("w", Tensor.ofDoubles(new long[] {6}, w));
    in.put(GradientRequest.seedName("y"), Tensor.filled(DType.DOUBLE, new long[] {6}, 1));
    try (OrtExecutable ex = OrtExecutable.create(d, ExecutionOptions.cpu().withThreads(1))) {
      return ex.run(in).get(GradientRequest.gradName("x")).toDoubles();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"Round", "Floor", "Ceil", "Sign"})
  void refusedUnlessChosen(String op) {
    Graph g = scaled(op);
    assertIae(() -> Autodiff.differentiate(g, GradientRequest.ofSeeds(List.of("y"), List.of("x"))),
        "'" + op + "'", "zero almost everywhere", "chooseGradient(\"" + op + "\"", "STRAIGHT_THROUGH");
    double[] w = {1, 2, 3, 4, 5, 6};
    assertArrayEquals(w, gradX(g, VjpRegistry.standard().chooseGradient(op, FlatGradient.STRAIGHT_THROUGH), w), 0);
    assertArrayEquals(new double[6], gradX(g, VjpRegistry.standard().chooseGradient(op, FlatGradient.ZERO), w), 0);
    // an explicit REFUSE is the default
    assertIae(() -> Autodiff.differentiate(g, GradientRequest.ofSeeds(List.of("y"), List.of("x")),
        VjpRegistry.standard().chooseGradient(op, FlatGradient.REFUSE)), "chooseGradient");
  }

  @Test
  void chooseGradientOnlyForPiecewiseConstantOps() {
    assertIae(() -> VjpRegistry.standard().chooseGradient("Relu", FlatGradient.ZERO), "'Relu'", "not piecewise constant");
  }

  @Test
  void absStillUsesSignInItsBackward() {
    Graph g = scaled("Abs");
    double[] w = {1, 2, 3, 4, 5, 6};
    double[] expected = new double[6];
    for (int i = 0; i < 6; i++) {
      expected[i] = Math.signum(X[i]) * w[i];
    }
    assertArrayEquals(expected, gradX(g, VjpRegistry.standard(), w), 0);
  }

  /** loss = sum(w * Cast(ArgMax(x))) or a constant table looked up at ArgMax(x): no gradient can reach x. */
  @ParameterizedTest
  @ValueSource(strings = {"ArgMax", "ArgMin"})
  void argIndexFeedingFloatsIsRefusedUnlessZeroIsChosen(String op) {
    for (boolean lookup : new boolean[] {false, true}) {
      GraphBuilder b = new GraphBuilder(op + (lookup ? "_lookup" : "_cast"));
      Value x = b.input("x", DType.DOUBLE, Shape.of(3, 4));
      Value idx = b.op(op).in(x).attr("axis", 1L).attr("keepdims", 0L).out();
      Value shifted = b.add(idx, b.constant(Tensor.ofLongs(new long[] {}, 1)));
      Value f = lookup
          ? b.op("Gather").in(b.constant(Tensor.ofDoubles(new long[] {6}, 1, 2, 3, 4, 5, 6)), shifted).out()
          : b.cast(shifted, DType.DOUBLE);
      b.output("y", b.mul(f, b.input("w", DType.DOUBLE, Shape.of(3))));
      Graph g = b.build();
      GradientRequest req = GradientRequest.ofSeeds(List.of("y"), List.of("x"));
      assertIae(() -> Autodiff.differentiate(g, req), op, "integer output", "chooseGradient(\"" + op + "\", FlatGradient.ZERO)");
      Graph d = Autodiff.differentiate(g, req.withoutForwardOutputs(), VjpRegistry.standard().chooseGradient(op, FlatGradient.ZERO));
      Map<String, Tensor> in = new HashMap<>();
      in.put("x", Tensor.ofDoubles(new long[] {3, 4}, 1, 5, 2, 0, 3, 1, 4, 1, 5, 9, 2, 6));
      in.put("w", Tensor.ofDoubles(new long[] {3}, 1, 2, 3));
      in.put(GradientRequest.seedName("y"), Tensor.filled(DType.DOUBLE, new long[] {3}, 1));
      try (OrtExecutable ex = OrtExecutable.create(d, ExecutionOptions.cpu().withThreads(1))) {
        assertArrayEquals(new double[12], ex.run(in).get(GradientRequest.gradName("x")).toDoubles(), 0);
      }
    }
  }

  @Test
  void argIndexSelectingFromADifferentiatedTableIsAllowed() {
    // max via GatherElements(x, ArgMax(x)): the gradient flows through the data input, as for ReduceMax
    GraphBuilder b = new GraphBuilder("argmaxGather");
    Value x = b.input("x", DType.DOUBLE, Shape.of(3, 4));
    Value idx = b.op("ArgMax").in(x).attr("axis", 1L).attr("keepdims", 1L).out();
    b.output("y", b.op("GatherElements").in(x, idx).attr("axis", 1L).out());
    Graph g = b.build();
    Graph d = Autodiff.differentiate(g, GradientRequest.ofSeeds(List.of("y"), List.of("x")));
    assertTrue(d.outputs().stream().anyMatch(v -> v.name().equals(GradientRequest.gradName("x"))));
  }

  @Test
  void integerTokensFromInputsAreNotChecked() {
    // ArgMax over int token ids (CLIP's end-of-text position) is not on a path from wrt
    GraphBuilder b = new GraphBuilder("tokens");
    Value ids = b.input("ids", DType.INT64, Shape.of(2, 5));
    Value table = b.input("table", DType.DOUBLE, Shape.of(10, 3));
    Value eot = b.op("ArgMax").in(b.cast(ids, DType.DOUBLE)).attr("axis", 1L).attr("keepdims", 0L).out();
    b.output("y", b.op("Gather").in(table, eot).out());
    Graph g = b.build();
    Autodiff.differentiate(g, GradientRequest.ofSeeds(List.of("y"), List.of("table")));
  }

  @Test
  void dropoutInTrainingModeIsRefused() {
    for (boolean constant : new boolean[] {true, false}) {
      GraphBuilder b = new GraphBuilder("dropoutTraining");
      Value x = b.input("x", DType.DOUBLE, Shape.of(3, 4));
      Value mode = constant ? b.constant(Tensor.ofBools(new long[] {}, true)) : b.input("mode", DType.BOOL, Shape.scalar());
      b.output("y", b.op("Dropout").in(x, b.scalar(0.5, DType.DOUBLE), mode).out());
      Graph g = b.build();
      assertIae(() -> Autodiff.differentiate(g, GradientRequest.ofSeeds(List.of("y"), List.of("x"))),
          "Dropout", "training_mode", "eval mode");
    }
  }

  @Test
  void batchNormalizationInTrainingModeIsRefused() {
    GraphBuilder b = new GraphBuilder("bnTraining");
    Value x = b.input("x", DType.DOUBLE, Shape.of(2, 3, 4));
    Value[] p = new Value[4];
    for (int i = 0; i < 4; i++) {
      p[i] = b.input("p" + i, DType.DOUBLE, Shape.of(3));
    }
    b.output("y", b.op("BatchNormalization").in(x, p[0], p[1], p[2], p[3]).attr("training_mode", 1L).out());
    Graph g = b.build();
    assertIae(() -> Autodiff.differentiate(g, GradientRequest.ofSeeds(List.of("y"), List.of("x"))),
        "BatchNormalization", "inference form", "eval mode");
  }

  @Test
  void unsupportedEinsumEquationsAreRefusedClearly() {
    GraphBuilder b = new GraphBuilder("einsumDiag");
    Value x = b.input("x", DType.DOUBLE, Shape.of(3, 3));
    b.output("y", b.op("Einsum").in(x).attr("equation", "ii->i").out());
    Graph g = b.build();
    assertIae(() -> Autodiff.differentiate(g, GradientRequest.ofSeeds(List.of("y"), List.of("x"))), "ii->i", "repeats letter 'i'");

    GraphBuilder b3 = new GraphBuilder("einsum3");
    Value p = b3.input("p", DType.DOUBLE, Shape.of(2, 3));
    Value q = b3.input("q", DType.DOUBLE, Shape.of(3, 4));
    Value r = b3.input("r", DType.DOUBLE, Shape.of(4, 5));
    b3.output("y", b3.op("Einsum").in(p, q, r).attr("equation", "ij,jk,kl->il").out());
    Graph g3 = b3.build();
    assertIae(() -> Autodiff.differentiate(g3, GradientRequest.ofSeeds(List.of("y"), List.of("p"))), "one or two operands");

    GraphBuilder bb = new GraphBuilder("einsumBad");
    Value a = bb.input("a", DType.DOUBLE, Shape.of(2, 3));
    assertIae(() -> bb.op("Einsum").in(a).attr("equation", "ijk->i").out(), "names 3 axes but its rank is 2");
  }
}
