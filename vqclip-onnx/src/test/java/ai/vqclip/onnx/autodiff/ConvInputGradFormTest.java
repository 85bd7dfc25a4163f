package ai.vqclip.onnx.autodiff;

import static ai.vqclip.onnx.testing.GradCheck.TOL_F32;
import static ai.vqclip.onnx.testing.GradCheck.assertGradient;
import static ai.vqclip.onnx.testing.GradCheck.randomInputs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.autodiff.Autodiff;
import ai.vqclip.core.autodiff.GradientRequest;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Node;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import ai.vqclip.onnx.OrtExecutable;
import ai.vqclip.onnx.testing.GradCheck;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The input gradient of a stride-1 Conv is emitted as a Conv with the flipped, channel-swapped
 * kernel (issue 18; ONNX Runtime runs it with its NCHWc kernels), strided ones as ConvTranspose.
 * Every case is checked three ways: the emitted form (no ConvTranspose at stride 1, and the kernel
 * folded into one initializer when the weight is constant), central finite differences, and
 * equality to float tolerance with the ConvTranspose rule it replaces (selected with the system
 * property {@code vqclip.autodiff.convInputGrad=transpose}), for a weight given as a graph input
 * (the Reshape/Transpose/Slice path) and as an initializer (the folded path).
 */
class ConvInputGradFormTest {
  private static final long SEED = 18;
  private static final String PROPERTY = "vqclip.autodiff.convInputGrad";

  /** x [N, C, spatial...], weights [m, C/group, k...]; {@code flipped}: whether the new form applies. */
  record Case(String name, long[] x, long m, long[] k, long[] strides, long[] pads, long[] dilations, long group, boolean bias,
      boolean flipped) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<Arguments> cases() {
    List<Case> cs = List.of(
        new Case("3x3 p1", new long[] {2, 4, 7, 7}, 6, new long[] {3, 3}, new long[] {1, 1}, new long[] {1, 1, 1, 1}, new long[] {1, 1}, 1, true, true),
        new Case("3x3 p0 no bias", new long[] {1, 3, 6, 8}, 5, new long[] {3, 3}, new long[] {1, 1}, new long[] {0, 0, 0, 0}, new long[] {1, 1}, 1, false, true),
        new Case("1x1", new long[] {2, 8, 5, 6}, 4, new long[] {1, 1}, new long[] {1, 1}, new long[] {0, 0, 0, 0}, new long[] {1, 1}, 1, true, true),
        new Case("3x3 asym pads", new long[] {2, 3, 7, 6}, 4, new long[] {3, 3}, new long[] {1, 1}, new long[] {0, 2, 1, 0}, new long[] {1, 1}, 1, true, true),
        new Case("3x2 rect kernel", new long[] {1, 3, 6, 7}, 2, new long[] {3, 2}, new long[] {1, 1}, new long[] {1, 0, 1, 1}, new long[] {1, 1}, 1, true, true),
        new Case("3x3 dil2 p2", new long[] {2, 4, 9, 7}, 4, new long[] {3, 3}, new long[] {1, 1}, new long[] {2, 2, 2, 2}, new long[] {2, 2}, 1, true, true),
        new Case("3x3 dil(2,1) asym", new long[] {1, 2, 9, 8}, 3, new long[] {3, 3}, new long[] {1, 1}, new long[] {3, 0, 1, 2}, new long[] {2, 1}, 1, false, true),
        new Case("3x3 group2", new long[] {2, 6, 7, 7}, 4, new long[] {3, 3}, new long[] {1, 1}, new long[] {1, 1, 1, 1}, new long[] {1, 1}, 2, true, true),
        new Case("4x4 group2 dil2", new long[] {2, 4, 9, 9}, 6, new long[] {4, 4}, new long[] {1, 1}, new long[] {2, 1, 0, 3}, new long[] {2, 1}, 2, true, true),
        new Case("3x3 depthwise", new long[] {2, 4, 7, 7}, 4, new long[] {3, 3}, new long[] {1, 1}, new long[] {1, 1, 1, 1}, new long[] {1, 1}, 4, true, true),
        new Case("3x3 depthwise mult2", new long[] {1, 3, 6, 7}, 6, new long[] {3, 3}, new long[] {1, 1}, new long[] {0, 1, 1, 0}, new long[] {1, 1}, 3, false, true),
        new Case("1-D k3", new long[] {2, 4, 11}, 5, new long[] {3}, new long[] {1}, new long[] {2, 0}, new long[] {1}, 1, true, true),
        new Case("3-D k3", new long[] {1, 2, 4, 5, 3}, 3, new long[] {3, 3, 3}, new long[] {1, 1, 1}, new long[] {1, 1, 1, 1, 1, 1}, new long[] {1, 1, 1}, 1, true, true),
        // Not the new form: pads beyond the kernel extent, and strides; these keep ConvTranspose.
        new Case("1x1 p1 (pad > extent)", new long[] {1, 3, 5, 5}, 2, new long[] {1, 1}, new long[] {1, 1}, new long[] {1, 1, 1, 1}, new long[] {1, 1}, 1, true, false),
        new Case("3x3 s2 p1", new long[] {2, 3, 8, 8}, 5, new long[] {3, 3}, new long[] {2, 2}, new long[] {1, 1, 1, 1}, new long[] {1, 1}, 1, true, false),
        new Case("4x4 s(1,2) group2", new long[] {2, 4, 9, 9}, 4, new long[] {4, 4}, new long[] {1, 2}, new long[] {2, 1, 0, 3}, new long[] {2, 1}, 2, true, false),
        new Case("2x2 s2 patchify", new long[] {1, 3, 8, 8}, 4, new long[] {2, 2}, new long[] {2, 2}, new long[] {0, 0, 0, 0}, new long[] {1, 1}, 1, false, false));
    List<Arguments> out = new ArrayList<>();
    for (Case c : cs) {
      out.add(Arguments.of(c, false));
      out.add(Arguments.of(c, true));
    }
    return out.stream();
  }

  private static Graph convGraph(Case c, boolean constantWeight) {
    GraphBuilder b = new GraphBuilder("Conv " + c.name() + (constantWeight ? " const w" : " input w"));
    Value x = b.input("x", DType.FLOAT, Shape.of(c.x()));
    long[] ws = new long[c.x().length];
    ws[0] = c.m();
    ws[1] = c.x()[1] / c.group();
    System.arraycopy(c.k(), 0, ws, 2, c.k().length);
    Value w = constantWeight
        ? b.initializer("w", GradCheck.random(DType.FLOAT, ws, new SplittableRandom(SEED + 1), 1.0))
        : b.input("w", DType.FLOAT, Shape.of(ws));
    List<Value> in = new ArrayList<>(List.of(x, w));
    if (c.bias()) {
      in.add(b.input("b", DType.FLOAT, Shape.of(c.m())));
    }
    b.output("y", b.op("Conv")
        .in(in.toArray(Value[]::new))
        .ints("strides", c.strides())
        .ints("pads", c.pads())
        .ints("dilations", c.dilations())
        .attr("group", c.group())
        .out());
    return b.build();
  }

  private static Graph gradientGraph(Graph g, String mode) {
    String before = System.getProperty(PROPERTY);
    System.setProperty(PROPERTY, mode);
    try {
      return Autodiff.differentiate(g, GradientRequest.ofSeeds(List.of("y"), List.of("x")).withoutForwardOutputs());
    } finally {
      if (before == null) {
        System.clearProperty(PROPERTY);
      } else {
        System.setProperty(PROPERTY, before);
      }
    }
  }

  private static float[] run(Graph grad, Map<String, Tensor> feed) {
    ExecutionOptions opts = ExecutionOptions.cpu().withThreads(1);
    try (OrtExecutable e = OrtExecutable.create(grad, opts)) {
      return e.run(feed).get(GradientRequest.gradName("x")).toFloats();
    }
  }

  private static long count(Graph g, String opType) {
    return g.nodes().stream().map(Node::opType).filter(opType::equals).count();
  }

  @ParameterizedTest(name = "{0}, constant weight {1}")
  @MethodSource("cases")
  void flippedConvMatchesTransposeAndFiniteDifferences(Case c, boolean constantWeight) {
    Graph g = convGraph(c, constantWeight);
    Map<String, Tensor> inputs = randomInputs(g, Map.of(), SEED);

    Graph flipped = gradientGraph(g, "flipped");
    Graph transposed = gradientGraph(g, "transpose");
    assertEquals(1, count(transposed, "ConvTranspose"), "reference rule emits one ConvTranspose");
    assertEquals(c.flipped() ? 0 : 1, count(flipped, "ConvTranspose"), () -> "ConvTranspose nodes in " + flipped.opTypes());
    if (c.flipped()) {
      assertEquals(count(transposed, "Conv") + 1, count(flipped, "Conv"), "one gradient Conv in place of the ConvTranspose");
      // The kernel is flipped in the graph (ONNX Runtime folds it when the weight is a constant),
      // the node named after a constant weight, and no flipped copy is held on the Java side.
      assertEquals(constantWeight, flipped.values().containsKey("w/flipped_for_input_grad"));
      assertEquals(1, count(flipped, "Slice"));
      assertFalse(flipped.initializers().containsKey("w/flipped_for_input_grad"), "no flipped initializer");
    }

    Map<String, Tensor> feed = new HashMap<>(inputs);
    Tensor seed = GradCheck.random(DType.FLOAT, g.output("y").shape().toArray(), new SplittableRandom(SEED + 2), 1.0);
    feed.put(GradientRequest.seedName("y"), seed);
    float[] a = run(flipped, feed);
    float[] r = run(transposed, feed);
    assertEquals(r.length, a.length);
    double maxAbs = 0;
    double maxDiff = 0;
    for (int i = 0; i < a.length; i++) {
      maxAbs = Math.max(maxAbs, Math.abs(r[i]));
      maxDiff = Math.max(maxDiff, Math.abs(a[i] - r[i]));
    }
    assertTrue(maxAbs > 0, "reference gradient is identically zero");
    // Both sum the same products in different orders: agreement to float rounding.
    double rel = maxDiff / maxAbs;
    assertTrue(rel <= 1e-5, () -> c + ": flipped Conv differs from ConvTranspose by " + rel + " (relative to max |dx|)");

    assertGradient(g, inputs, List.of("x"), 1e-2, TOL_F32, SEED);
  }

  /**
   * The flip of a constant kernel is emitted as nodes, and ONNX Runtime must fold them into an
   * initializer at session creation: no Transpose or Slice may run per step (the profile of a run
   * lists every kernel executed).
   */
  @org.junit.jupiter.api.Test
  void runtimeFoldsTheFlipOfAConstantKernel() throws Exception {
    Case c = new Case("3x3 16ch", new long[] {1, 16, 8, 8}, 16, new long[] {3, 3}, new long[] {1, 1}, new long[] {1, 1, 1, 1},
        new long[] {1, 1}, 1, false, true);
    Graph grad = gradientGraph(convGraph(c, true), "flipped");
    assertEquals(1, count(grad, "Slice"));
    ai.vqclip.onnx.OnnxModel m = ai.vqclip.onnx.OnnxExport.export(grad, 0);
    ai.onnxruntime.OrtEnvironment env = ai.vqclip.onnx.OrtRuntime.environment();
    List<ai.onnxruntime.OnnxTensor> tensors = new ArrayList<>();
    java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("fold");
    try (ai.onnxruntime.OrtSession.SessionOptions so = new ai.onnxruntime.OrtSession.SessionOptions()) {
      so.enableProfiling(dir.resolve("p").toString());
      Map<String, ai.onnxruntime.OnnxTensorLike> ext = new HashMap<>();
      for (Map.Entry<String, Tensor> e : m.externalInitializers().entrySet()) {
        ai.onnxruntime.OnnxTensor t = ai.onnxruntime.OnnxTensor.createTensor(env, java.nio.FloatBuffer.wrap(e.getValue().toFloats()), e.getValue().shape());
        tensors.add(t);
        ext.put(e.getKey(), t);
      }
      if (!ext.isEmpty()) {
        so.addExternalInitializers(ext);
      }
      Map<String, ai.onnxruntime.OnnxTensor> feed = new HashMap<>();
      for (Value in : grad.inputs()) {
        ai.onnxruntime.OnnxTensor t = ai.onnxruntime.OnnxTensor.createTensor(env, java.nio.FloatBuffer.wrap(new float[(int) in.shape().elementCount()]),
            in.shape().toArray());
        tensors.add(t);
        feed.put(in.name(), t);
      }
      try (ai.onnxruntime.OrtSession s = ai.vqclip.onnx.OrtRuntime.createSession(m.bytes(), so)) {
        s.run(feed).close();
        String profile = java.nio.file.Files.readString(java.nio.file.Path.of(s.endProfiling()));
        List<String> ops = new ArrayList<>();
        java.util.regex.Matcher mt = java.util.regex.Pattern.compile("\"op_name\"\\s*:\\s*\"([A-Za-z]+)\"").matcher(profile);
        while (mt.find()) {
          ops.add(mt.group(1));
        }
        assertTrue(ops.contains("Conv"), () -> "no Conv kernel in the profile: " + ops);
        assertFalse(ops.contains("Slice") || ops.contains("Transpose"), () -> "the flip ran in the step: " + ops);
      }
    } finally {
      tensors.forEach(ai.onnxruntime.OnnxTensor::close);
      try (var files = java.nio.file.Files.list(dir)) {
        for (java.nio.file.Path f : files.toList()) {
          java.nio.file.Files.deleteIfExists(f);
        }
      }
      java.nio.file.Files.deleteIfExists(dir);
    }
  }
}
