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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Gradient checks of Softmax, LogSoftmax, LayerNormalization and InstanceNormalization. Softmax,
 * LogSoftmax and LayerNormalization run in DOUBLE (ORT's CPU provider has double kernels for them),
 * so they use eps 1e-6 and {@code TOL_F64}; InstanceNormalization has only a float kernel on CPU,
 * so it runs in FLOAT with eps 1e-2 and {@code TOL_F32}.
 */
class NormGradTest {
  private static final long SEED = 11;

  @ParameterizedTest(name = "{0} axis={1}")
  @CsvSource({"Softmax,-1", "Softmax,0", "Softmax,1", "Softmax,-2", "LogSoftmax,-1", "LogSoftmax,1", "LogSoftmax,-3"})
  void softmax(String op, long axis) {
    GraphBuilder b = new GraphBuilder(op + axis);
    Value x = b.input("x", DType.DOUBLE, Shape.of(2, 3, 4));
    b.output(b.op(op).in(x).attr("axis", axis).out());
    Graph g = b.build();
    assertGradient(g, randomInputs(g, Map.of(), SEED), List.of("x"), 1e-6, TOL_F64, SEED);
  }

  @Test
  void softmaxDefaultAxis() {
    GraphBuilder b = new GraphBuilder("softmax_default");
    Value x = b.input("x", DType.DOUBLE, Shape.of(3, 5));
    b.output(b.op("Softmax").in(x).out());
    Graph g = b.build();
    assertGradient(g, randomInputs(g, Map.of(), SEED), List.of("x"), 1e-6, TOL_F64, SEED);
  }

  private static Graph layerNorm(long axis, boolean withBias, int statOutputs, DType t) {
    GraphBuilder b = new GraphBuilder("ln_" + axis + "_" + withBias + "_" + statOutputs);
    long[] xs = {2, 3, 4};
    int ax = (int) (axis < 0 ? axis + 3 : axis);
    long[] ns = java.util.Arrays.copyOfRange(xs, ax, 3);
    Value x = b.input("x", t, Shape.of(xs));
    Value scale = b.input("scale", t, Shape.of(ns));
    Value bias = withBias ? b.input("bias", t, Shape.of(ns)) : null;
    GraphBuilder.OpBuilder o = b.op("LayerNormalization").in(x, scale).attr("axis", axis).attr("epsilon", 1e-3f);
    if (withBias) {
      o.in(bias);
    }
    if (t == DType.DOUBLE && statOutputs == 0) {
      o.attr("stash_type", (long) DType.DOUBLE.onnxCode());
    }
    List<Value> outs = o.outs(1 + statOutputs);
    for (Value v : outs) {
      b.output(v);
    }
    return b.build();
  }

  @ParameterizedTest(name = "axis={0} bias={1}")
  @CsvSource({"-1,true", "-1,false", "1,true", "-2,false", "0,true"})
  void layerNormalization(long axis, boolean withBias) {
    Graph g = layerNorm(axis, withBias, 0, DType.DOUBLE);
    List<String> wrt = new ArrayList<>(List.of("x", "scale"));
    if (withBias) {
      wrt.add("bias");
    }
    for (String w : wrt) {
      assertGradient(g, randomInputs(g, Map.of(), SEED), List.of(w), 1e-6, TOL_F64, SEED);
    }
  }

  @ParameterizedTest(name = "axis={0} stats outputs used")
  @ValueSource(longs = {-1, 1})
  void layerNormalizationWithStatisticsOutputs(long axis) {
    // Mean and InvStdDev are graph outputs here, so they get seeds too and their gradients flow to x.
    // ORT has no double kernel with double statistics (stash_type=11 is NOT_IMPLEMENTED once the
    // Mean/InvStdDev outputs exist), so with double X they come out as float: the rule must cast
    // their gradients and recompute the statistics. The float outputs limit the finite differences
    // to float precision, hence eps 1e-3 and TOL_F32 although X is double.
    Graph g = layerNorm(axis, true, 2, DType.DOUBLE);
    assertGradient(g, randomInputs(g, Map.of(), SEED), List.of("x", "scale", "bias"), 1e-3, TOL_F32, SEED);
  }

  @Test
  void layerNormalizationFloatWithDefaultStash() {
    // float X with float statistics: the rule reuses the saved Mean/InvStdDev outputs
    Graph g = layerNorm(-1, true, 2, DType.FLOAT);
    assertGradient(g, randomInputs(g, Map.of(), SEED), List.of("x", "scale", "bias"), 1e-2, TOL_F32, SEED);
  }

  @ParameterizedTest(name = "x {0}")
  @ValueSource(strings = {"2,3,4,5", "2,3,6", "1,2,3,2,2"})
  void instanceNormalization(String dims) {
    long[] xs = java.util.Arrays.stream(dims.split(",")).mapToLong(Long::parseLong).toArray();
    GraphBuilder b = new GraphBuilder("in_" + dims);
    Value x = b.input("x", DType.FLOAT, Shape.of(xs));
    Value scale = b.input("scale", DType.FLOAT, Shape.of(xs[1]));
    Value bias = b.input("bias", DType.FLOAT, Shape.of(xs[1]));
    b.output(b.op("InstanceNormalization").in(x, scale, bias).attr("epsilon", 1e-3f).out());
    Graph g = b.build();
    for (String w : List.of("x", "scale", "bias")) {
      assertGradient(g, randomInputs(g, Map.of(), SEED), List.of(w), 1e-2, TOL_F32, SEED);
    }
  }

  @Test
  void symbolicBatchDimension() {
    // Only the normalized axes need static sizes; the batch may be symbolic.
    GraphBuilder b = new GraphBuilder("sym_batch");
    Value x = b.input("x", DType.FLOAT, Shape.parse("n", 3, 4, 4));
    Value scale = b.input("scale", DType.FLOAT, Shape.of(3));
    Value bias = b.input("bias", DType.FLOAT, Shape.of(3));
    Value in = b.op("InstanceNormalization").in(x, scale, bias).out();
    Value ls = b.input("ln_scale", DType.FLOAT, Shape.of(4));
    b.output(b.op("LayerNormalization").in(in, ls).attr("axis", -1L).out());
    Graph g = b.build();
    SplittableRandom rnd = new SplittableRandom(SEED);
    Map<String, Tensor> given = Map.of("x", GradCheck.random(DType.FLOAT, new long[] {2, 3, 4, 4}, rnd, 1.0));
    assertGradient(g, randomInputs(g, given, SEED), List.of("x", "scale", "bias", "ln_scale"), 1e-2, TOL_F32, SEED);
  }
}
