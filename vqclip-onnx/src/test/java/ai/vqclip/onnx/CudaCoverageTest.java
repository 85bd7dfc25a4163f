package ai.vqclip.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.autodiff.Autodiff;
import ai.vqclip.core.autodiff.GradientOverrides;
import ai.vqclip.core.autodiff.GradientRequest;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import ai.vqclip.onnx.CudaCoverage.Violation;
import ai.vqclip.onnx.testing.GradCheck;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The CUDA coverage checker against ORT's published CUDA kernel table (test resource
 * ort-cuda-kernels.tsv): synthetic graphs with known gaps, and a representative forward + backward
 * graph that must have none.
 */
class CudaCoverageTest {
  private static Tensor rnd(DType t, long... shape) {
    return GradCheck.random(t, shape, new SplittableRandom(11 + shape.length), 0.5);
  }

  private static Violation only(List<Violation> v) {
    assertEquals(1, v.size(), () -> "expected exactly one violation, got " + v);
    return v.get(0);
  }

  private static void assertMentions(Violation v, String... parts) {
    for (String p : parts) {
      assertTrue(v.toString().contains(p), () -> "violation '" + v + "' should mention '" + p + "'");
    }
  }

  @Test
  void resolvesTheOpVersionAModelOpsetUses() {
    CudaCoverage c = CudaCoverage.fromClasspath();
    assertEquals(23, c.maxOpset());
    assertEquals(18, c.resolveVersion("ReduceMean", 18));
    assertEquals(13, c.resolveVersion("ReduceMean", 17));
    assertEquals(13, c.resolveVersion("Softmax", 18));
    assertEquals(18, c.resolveVersion("Pad", 18));
    assertEquals(13, c.resolveVersion("Pad", 17));
    assertEquals(7, c.resolveVersion("Sin", 18));
    assertEquals(22, c.resolveVersion("Conv", 22));
    assertEquals(11, c.resolveVersion("Conv", 21));
    assertEquals(16, c.resolveVersion("GridSample", 18));
    assertEquals(-1, c.resolveVersion("Gelu", 18), "Gelu only exists from opset 20");
    assertEquals(-1, c.resolveVersion("NoSuchOp", 18));
  }

  @Test
  void coveredOpsGiveNoViolations() {
    GraphBuilder b = new GraphBuilder("covered");
    Value x = b.input("x", DType.FLOAT, Shape.of(1, 4, 8, 8));
    Value h = b.op("Conv").in(x, b.initializer("w", rnd(DType.FLOAT, 4, 4, 3, 3))).ints("pads", 1, 1, 1, 1).out();
    h = b.mul(h, b.op("Sigmoid").in(h).out());
    h = b.op("ConvTranspose").in(h, b.initializer("wt", rnd(DType.FLOAT, 4, 2, 4, 4))).ints("strides", 2, 2).ints("pads", 1, 1, 1, 1).out();
    Value flat = b.reshape(h, 1, 2, 256);
    Value att = b.op("Softmax").in(b.matmul(flat, b.transpose(flat, 0, 2, 1))).attr("axis", -1L).out();
    Value ln = b.op("LayerNormalization").in(att, b.initializer("g", rnd(DType.FLOAT, 2)), b.initializer("beta", rnd(DType.FLOAT, 2))).out();
    Value idx = b.op("ArgMax").in(ln).attr("axis", -1L).out();
    b.output("idx", idx);
    b.output("m", b.reduceMean(ln, false, 1));
    // A Constant node never reaches a provider (ORT makes it an initializer).
    b.output("c", b.op("Constant").attr("value", Tensor.vector(1, 2)).out());
    // vqclip's own domain is lowered (StraightThrough -> Identity) before checking.
    b.output("st", GradientOverrides.straightThrough(b, ln, att));
    assertEquals(List.of(), CudaCoverage.check(b.build()));
  }

  @Test
  void int64PadIsReported() {
    GraphBuilder b = new GraphBuilder("pad");
    Value x = b.input("x", DType.INT64, Shape.of(2, 3));
    b.output("y", b.op("Pad").in(x, b.ints(1, 1, 1, 1)).out());
    Value f = b.input("f", DType.FLOAT, Shape.of(2, 3));
    b.output("z", b.op("Pad").in(f, b.ints(1, 1, 1, 1)).attr("mode", "reflect").out());
    Violation v = only(CudaCoverage.check(b.build()));
    assertEquals("Pad", v.opType());
    assertEquals(18, v.version());
    assertEquals(List.of(DType.INT64, DType.INT64), v.inputTypes());
    assertEquals(List.of(DType.INT64), v.outputTypes());
    assertMentions(v, "Pad 18+", "input 0 'x' is tensor(int64)", "tensor(bool), tensor(double), tensor(float), tensor(float16)");
  }

  @Test
  void argMaxIsFloatTypesOnly() {
    // The table lists ArgMax T = double, float, float16 on CUDA: double passes, integers do not.
    for (DType ok : List.of(DType.FLOAT, DType.DOUBLE, DType.FLOAT16)) {
      GraphBuilder b = new GraphBuilder("argmax-" + ok);
      b.output("i", b.op("ArgMax").in(b.input("x", ok, Shape.of(3, 5))).attr("axis", 1L).out());
      assertEquals(List.of(), CudaCoverage.check(b.build()), ok.toString());
    }
    GraphBuilder b = new GraphBuilder("argmax-int");
    b.output("i", b.op("ArgMax").in(b.input("x", DType.INT64, Shape.of(3, 5))).attr("axis", 1L).out());
    b.output("j", b.op("ArgMin").in(b.input("y", DType.INT32, Shape.of(3, 5))).out());
    List<Violation> vs = CudaCoverage.check(b.build());
    assertEquals(2, vs.size(), vs.toString());
    assertMentions(vs.get(0), "ArgMax-13", "'x' is tensor(int64)", "tensor(double), tensor(float), tensor(float16)");
    assertMentions(vs.get(1), "ArgMin-13", "'y' is tensor(int32)");
  }

  @Test
  void asymmetricConvTransposePadsAreReported() {
    GraphBuilder b = new GraphBuilder("convT");
    Value x = b.input("x", DType.FLOAT, Shape.of(1, 2, 5, 5));
    Value w = b.initializer("w", rnd(DType.FLOAT, 2, 3, 3, 3));
    b.output("sym", b.op("ConvTranspose").in(x, w).ints("strides", 2, 2).ints("pads", 1, 1, 1, 1).out());
    b.output("asym", b.op("ConvTranspose").in(x, w).ints("strides", 2, 2).ints("pads", 0, 1, 1, 1).named("up_asym").out());
    Violation v = only(CudaCoverage.check(b.build()));
    assertEquals("up_asym", v.node());
    assertEquals(11, v.version());
    assertMentions(v, "asymmetric pads [0, 1, 1, 1]", "spatial axis 0", "#11312");
  }

  @Test
  void opsWithoutCudaKernelsAreReported() {
    GraphBuilder b = new GraphBuilder("no-kernel");
    Value x = b.input("x", DType.FLOAT, Shape.of(4));
    b.output("a", b.op("Asin").in(x).out());
    b.output("m", b.op("Mean").in(x, x).out());
    List<Violation> vs = CudaCoverage.check(b.build());
    assertEquals(2, vs.size(), vs.toString());
    assertMentions(vs.get(0), "Asin-7", "registers no CUDA kernel for Asin");
    assertMentions(vs.get(1), "Mean-13", "registers no CUDA kernel for Mean");
  }

  @Test
  void outputAndSecondInputTypesAreChecked() {
    GraphBuilder b = new GraphBuilder("types");
    Value img = b.input("img", DType.DOUBLE, Shape.of(1, 1, 4, 4));
    Value grid = b.input("grid", DType.DOUBLE, Shape.of(1, 4, 4, 2));
    b.output("s", b.op("GridSample").in(img, grid).attr("mode", "bilinear").out());
    // LayerNormalization's saved statistics are float-only on CUDA (U = float): stash_type double fails.
    Value x = b.input("x", DType.DOUBLE, Shape.of(2, 8));
    Value sc = b.initializer("sc", rnd(DType.DOUBLE, 8));
    List<Value> ok = b.op("LayerNormalization").in(x, sc).outs(3);
    List<Value> bad = b.op("LayerNormalization").in(x, sc).attr("stash_type", (long) DType.DOUBLE.onnxCode()).named("ln64").outs(3);
    ok.forEach(b::output);
    bad.forEach(b::output);
    List<Violation> vs = CudaCoverage.check(b.build());
    assertEquals(2, vs.size(), vs.toString());
    assertMentions(vs.get(0), "GridSample-16", "input 0 'img' is tensor(double)", "input 1 'grid' is tensor(double)", "allows [tensor(float)]");
    assertEquals("ln64", vs.get(1).node());
    assertEquals(List.of(DType.DOUBLE, DType.DOUBLE, DType.DOUBLE), vs.get(1).outputTypes());
    assertMentions(vs.get(1), "LayerNormalization 17+", "output 1 'ln64.1' is tensor(double)", "Mean:U");
  }

  @Test
  void opsetsBeyondTheTableAreRefused() {
    GraphBuilder b = new GraphBuilder("new").opset(24);
    b.output("y", b.op("Relu").in(b.input("x", DType.FLOAT, Shape.of(2))).out());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CudaCoverage.check(b.build()));
    assertTrue(e.getMessage().contains("opset 24") && e.getMessage().contains("up to opset 23"), e.getMessage());
  }

  @Test
  void malformedTablesNameTheLine(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("t.tsv");
    Files.writeString(f, "# comment\nmeta\tmax_opset\t18\nkernel\tRelu\tnot-a-range\tin X:T, out Y:T\tT = tensor(float)\n");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CudaCoverage.load(f));
    assertTrue(e.getMessage().contains("t.tsv:3"), e.getMessage());
    Files.writeString(f, "kernel\tRelu\t14+\tin X:T, out Y:T\tT = tensor(float)\nonnx\tRelu\t1,6,13,14\n");
    e = assertThrows(IllegalArgumentException.class, () -> CudaCoverage.load(f));
    assertTrue(e.getMessage().contains("max_opset"), e.getMessage());
    // A minimal valid table: Relu-14 float only.
    Files.writeString(f, "meta\tmax_opset\t18\nkernel\tRelu\t14+\tin X:T, out Y:T\tT = tensor(float)\nonnx\tRelu\t1,6,13,14\n");
    CudaCoverage small = CudaCoverage.load(f);
    GraphBuilder b = new GraphBuilder("relu");
    b.output(b.op("Relu").in(b.input("x", DType.DOUBLE, Shape.of(2))).out());
    assertMentions(only(small.violations(b.build())), "Relu-14", "'x' is tensor(double)");
  }

  /**
   * A small net in the style of VQGAN + CLIP: a frozen image branch (Conv, GroupNorm as
   * Reshape + InstanceNormalization + Reshape, swish, nearest Resize, ReduceMean), a token branch
   * (Gather, LayerNormalization, Softmax, ReduceSum), and a trainable MLP branch (MatMul, Add,
   * swish, Tanh, Erf, Div, Sqrt) that is differentiated. Only ops whose VJP rules exist today are on
   * the differentiated path; the backward pass adds Transpose, ReduceSum, Reshape and friends.
   */
  static Graph representative(DType t) {
    GraphBuilder b = new GraphBuilder("representative-" + t);
    Value img = b.input("img", t, Shape.of(1, 3, 8, 8));
    Value h = b.op("Conv").in(img, b.initializer("wc", rnd(t, 8, 3, 3, 3)), b.initializer("bc", rnd(t, 8))).ints("pads", 1, 1, 1, 1).out();
    Value g = b.reshape(h, 1, 2, 256);
    g = b.op("InstanceNormalization").in(g, b.constant(Tensor.filled(t, new long[] {2}, 1)), b.constant(Tensor.filled(t, new long[] {2}, 0)))
        .attr("epsilon", 1e-5f).out();
    h = b.add(b.mul(b.reshape(g, 1, 8, 8, 8), b.initializer("gamma", rnd(t, 8, 1, 1))), b.initializer("beta", rnd(t, 8, 1, 1)));
    h = b.mul(h, b.op("Sigmoid").in(h).out());
    h = b.op("Resize").in(h, null, b.constant(Tensor.ofFloats(new long[] {4}, 1, 1, 2, 2))).attr("mode", "nearest").out();
    Value feat = b.reduceMean(h, false, 2, 3); // [1, 8]

    Value tokens = b.input("tokens", DType.INT64, Shape.of(1, 4));
    Value emb = b.op("Gather").in(b.initializer("table", rnd(t, 10, 8)), tokens).out(); // [1, 4, 8]
    emb = b.op("LayerNormalization").in(emb, b.initializer("ln_g", rnd(t, 8)), b.initializer("ln_b", rnd(t, 8))).out();
    Value txt = b.reduceSum(b.op("Softmax").in(emb).attr("axis", -1L).out(), false, 1); // [1, 8]

    Value z = b.input("z", t, Shape.of(1, 8));
    Value m = b.add(b.matmul(z, b.initializer("w1", rnd(t, 8, 16))), b.initializer("b1", rnd(t, 16)));
    m = b.mul(m, b.op("Sigmoid").in(m).out());
    m = b.op("Erf").in(b.op("Tanh").in(b.matmul(m, b.initializer("w2", rnd(t, 16, 8)))).out()).out();
    Value y = b.mul(b.add(m, feat), txt);
    y = b.div(y, b.op("Sqrt").in(b.add(b.mul(txt, txt), b.scalar(1, t))).out());
    b.output("y", y);
    return b.build();
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"FLOAT", "DOUBLE"})
  void representativeForwardAndBackwardGraphIsCovered(DType t) {
    Graph forward = representative(t);
    Graph grad = Autodiff.differentiate(forward, GradientRequest.ofSeeds(List.of("y"), List.of("w1", "b1", "w2", "z")));
    List<Violation> vs = CudaCoverage.check(grad);
    assertEquals(List.of(), vs, "CUDA gaps in " + grad.opTypes());
    assertTrue(grad.opTypes().size() >= 20, "not representative enough: " + grad.opTypes());
    assertTrue(grad.opTypes().containsAll(List.of("Conv", "InstanceNormalization", "Resize", "Gather", "LayerNormalization", "Softmax",
        "MatMul", "Transpose", "ReduceSum")), grad.opTypes().toString());
    if (t == DType.FLOAT) {
      // The checked graph is a real one: it runs (ORT's CPU InstanceNormalization is float-only).
      Map<String, Tensor> in = new java.util.HashMap<>();
      in.put("img", rnd(t, 1, 3, 8, 8));
      in.put("tokens", Tensor.ofLongs(new long[] {1, 4}, 1, 7, 3, 9));
      in.put("z", rnd(t, 1, 8));
      in.put(GradientRequest.seedName("y"), rnd(t, 1, 8));
      try (OrtExecutable e = OrtExecutable.create(grad, ExecutionOptions.cpu().withThreads(1))) {
        Map<String, Tensor> out = e.run(in);
        assertTrue(Arrays.stream(out.get(GradientRequest.gradName("w1")).toDoubles()).allMatch(Double::isFinite));
        assertTrue(Arrays.stream(out.get(GradientRequest.gradName("w1")).toDoubles()).anyMatch(d -> d != 0));
      }
    }
  }
}
