package ai.vqclip.onnx.autodiff;

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

/**
 * Whole-network gradient checks: the two block types VQGAN and CLIP are made of, differentiated
 * with respect to their input and to every weight.
 */
class CompositeGradTest {
  private static final long SEED = 7;

  private static Value weight(GraphBuilder b, String name, DType t, SplittableRandom rnd, double scale, long... shape) {
    return b.initializer(name, GradCheck.random(t, shape, rnd, scale));
  }

  /** GroupNorm in the reshape form vqclip emits (never ONNX GroupNormalization). */
  static Value groupNorm(GraphBuilder b, Value x, int groups, Value gamma, Value beta) {
    long[] s = x.shape().toArray();
    DType t = x.dtype();
    Value r = b.reshape(x, s[0], groups, -1);
    Value ones = b.constant(Tensor.filled(t, new long[] {groups}, 1));
    Value zeros = b.constant(Tensor.filled(t, new long[] {groups}, 0));
    Value n = b.op("InstanceNormalization").in(r, ones, zeros).attr("epsilon", 1e-6f).out();
    Value back = b.reshape(n, s);
    return b.add(b.mul(back, gamma), beta);
  }

  static Value swish(GraphBuilder b, Value x) {
    return b.mul(x, b.op("Sigmoid").in(x).out());
  }

  @Test
  void convNetWithGroupNormAndSwish() {
    Graph g = convNetGraph();
    Map<String, Tensor> in = randomInputs(g, Map.of(), SEED);
    assertGradient(g, in, List.of("x"), 1e-2, GradCheck.TOL_F32, SEED);
    assertGradient(g, in, List.of("conv1.weight", "conv1.bias", "norm.weight", "norm.bias", "conv2.weight", "conv2.bias"), 1e-2,
        GradCheck.TOL_F32, SEED + 1);
  }

  /** Conv, GroupNorm (reshape form), swish, strided conv: a VQGAN-style block, float32. */
  static Graph convNetGraph() {
    // Conv and InstanceNormalization run in float32 only on ORT's CPU provider.
    DType t = DType.FLOAT;
    SplittableRandom rnd = new SplittableRandom(SEED);
    GraphBuilder b = new GraphBuilder("convnet");
    Value x = b.input("x", t, Shape.of(1, 4, 8, 8));
    Value w1 = weight(b, "conv1.weight", t, rnd, 0.3, 8, 4, 3, 3);
    Value b1 = weight(b, "conv1.bias", t, rnd, 0.1, 8);
    Value h = b.op("Conv").in(x, w1, b1).ints("pads", 1, 1, 1, 1).out();
    Value gamma = b.initializer("norm.weight", Tensor.fromDoubles(t, new long[] {8, 1, 1}, shifted(rnd, 8, 1.0)));
    Value beta = weight(b, "norm.bias", t, rnd, 0.1, 8, 1, 1);
    h = swish(b, groupNorm(b, h, 4, gamma, beta));
    Value w2 = weight(b, "conv2.weight", t, rnd, 0.3, 4, 8, 3, 3);
    Value b2 = weight(b, "conv2.bias", t, rnd, 0.1, 4);
    b.output(b.op("Conv").in(h, w2, b2).ints("pads", 1, 1, 1, 1).ints("strides", 2, 2).out());
    return b.build();
  }

  private static double[] shifted(SplittableRandom rnd, int n, double mean) {
    double[] d = new double[n];
    for (int i = 0; i < n; i++) {
      d[i] = mean + 0.1 * GradCheck.gaussian(rnd);
    }
    return d;
  }

  /** A CLIP-style pre-LN residual attention block with multi-head attention and QuickGELU. */
  static Graph transformerBlock(DType t, boolean causal) {
    int n = 2;
    int len = 5;
    int d = 16;
    int heads = 4;
    int dh = d / heads;
    SplittableRandom rnd = new SplittableRandom(SEED);
    GraphBuilder b = new GraphBuilder("block");
    Value x = b.input("x", t, Shape.of(n, len, d));
    Value ln1w = b.initializer("ln_1.weight", Tensor.fromDoubles(t, new long[] {d}, shifted(rnd, d, 1.0)));
    Value ln1b = weight(b, "ln_1.bias", t, rnd, 0.1, d);
    Value h = b.op("LayerNormalization").in(x, ln1w, ln1b).attr("axis", -1L).attr("epsilon", 1e-5f).out();
    Value qkvW = weight(b, "attn.in_proj_weight", t, rnd, 0.25, d, 3 * d);
    Value qkvB = weight(b, "attn.in_proj_bias", t, rnd, 0.1, 3 * d);
    Value qkv = b.add(b.matmul(h, qkvW), qkvB);
    List<Value> parts = b.op("Split").in(qkv, b.ints(d, d, d)).attr("axis", -1L).outs(3);
    List<Value> heads4 = new ArrayList<>();
    for (Value p : parts) {
      heads4.add(b.transpose(b.reshape(p, n, len, heads, dh), 0, 2, 1, 3)); // [n, heads, len, dh]
    }
    Value q = b.mul(heads4.get(0), b.scalar(1 / Math.sqrt(dh), t));
    Value scores = b.matmul(q, b.transpose(heads4.get(1), 0, 1, 3, 2));
    if (causal) {
      double[] mask = new double[len * len];
      for (int i = 0; i < len; i++) {
        for (int j = i + 1; j < len; j++) {
          mask[i * len + j] = -1e9;
        }
      }
      scores = b.add(scores, b.constant(Tensor.fromDoubles(t, new long[] {len, len}, mask)));
    }
    Value p = b.op("Softmax").in(scores).attr("axis", -1L).out();
    Value attn = b.reshape(b.transpose(b.matmul(p, heads4.get(2)), 0, 2, 1, 3), n, len, d);
    Value outW = weight(b, "attn.out_proj.weight", t, rnd, 0.25, d, d);
    Value outB = weight(b, "attn.out_proj.bias", t, rnd, 0.1, d);
    Value x1 = b.add(x, b.add(b.matmul(attn, outW), outB));
    Value ln2w = b.initializer("ln_2.weight", Tensor.fromDoubles(t, new long[] {d}, shifted(rnd, d, 1.0)));
    Value ln2b = weight(b, "ln_2.bias", t, rnd, 0.1, d);
    Value h2 = b.op("LayerNormalization").in(x1, ln2w, ln2b).attr("axis", -1L).attr("epsilon", 1e-5f).out();
    Value fcW = weight(b, "mlp.c_fc.weight", t, rnd, 0.25, d, 4 * d);
    Value fcB = weight(b, "mlp.c_fc.bias", t, rnd, 0.1, 4 * d);
    Value u = b.add(b.matmul(h2, fcW), fcB);
    Value gelu = b.mul(u, b.op("Sigmoid").in(b.mul(u, b.scalar(1.702, t))).out()); // QuickGELU
    Value prW = weight(b, "mlp.c_proj.weight", t, rnd, 0.25, 4 * d, d);
    Value prB = weight(b, "mlp.c_proj.bias", t, rnd, 0.1, d);
    b.output(b.add(x1, b.add(b.matmul(gelu, prW), prB)));
    return b.build();
  }

  @Test
  void emittedGradientGraphsRunOnCudaWithoutCpuFallback() {
    // The float32 forward+backward graphs of both blocks, w.r.t. input and every weight, use only
    // ops, versions and types that ONNX Runtime's CUDA provider implements, and symmetric
    // ConvTranspose pads.
    Graph conv = convNetGraph();
    Graph block = transformerBlock(DType.FLOAT, true);
    for (Graph g : List.of(conv, block)) {
      List<String> wrt = new ArrayList<>(List.of("x"));
      g.initializers().keySet().stream().filter(k -> k.contains(".")).forEach(wrt::add);
      Graph grad = ai.vqclip.core.autodiff.Autodiff.differentiate(
          g, ai.vqclip.core.autodiff.GradientRequest.ofSeeds(List.of(g.outputs().get(0).name()), wrt));
      org.junit.jupiter.api.Assertions.assertEquals(List.of(), ai.vqclip.onnx.CudaCoverage.check(grad), g.name());
    }
  }

  @Test
  void preLnTransformerBlockWithRespectToInput() {
    for (boolean causal : new boolean[] {false, true}) {
      Graph g = transformerBlock(DType.DOUBLE, causal);
      assertGradient(g, randomInputs(g, Map.of(), SEED), List.of("x"), 1e-6, GradCheck.TOL_F64, SEED);
    }
  }

  @Test
  void preLnTransformerBlockWithRespectToWeights() {
    Graph g = transformerBlock(DType.DOUBLE, true);
    List<String> weights = new ArrayList<>(g.initializers().keySet().stream().filter(k -> k.contains(".")).toList());
    assertGradient(g, randomInputs(g, Map.of(), SEED), weights, 1e-6, GradCheck.TOL_F64, SEED);
  }
}
