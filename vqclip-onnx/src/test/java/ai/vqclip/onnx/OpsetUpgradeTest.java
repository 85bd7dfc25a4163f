package ai.vqclip.onnx;

import static ai.vqclip.onnx.OnnxRoundTripTest.info;
import static ai.vqclip.onnx.OnnxRoundTripTest.intAttr;
import static ai.vqclip.onnx.OnnxRoundTripTest.ints;
import static ai.vqclip.onnx.OnnxRoundTripTest.model;
import static ai.vqclip.onnx.OnnxRoundTripTest.node;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import ai.vqclip.core.ModelLoadException;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.onnx.testing.GradCheck;
import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Old operator forms (opsets 7 to 17) upgraded on import to vqclip's opset-18 form. The reference is
 * ONNX Runtime running the original bytes at their own opset, so each case checks that the upgraded
 * node means what the old one meant.
 */
class OpsetUpgradeTest {
  private static final ExecutionOptions OPTS = ExecutionOptions.cpu().withThreads(1);

  private static OnnxMl.AttributeProto floatAttr(String name, float v) {
    return OnnxMl.AttributeProto.newBuilder().setName(name).setType(OnnxMl.AttributeProto.AttributeType.FLOAT).setF(v).build();
  }

  private static OnnxMl.AttributeProto floats(String name, float... v) {
    OnnxMl.AttributeProto.Builder a = OnnxMl.AttributeProto.newBuilder().setName(name).setType(OnnxMl.AttributeProto.AttributeType.FLOATS);
    for (float x : v) {
      a.addFloats(x);
    }
    return a.build();
  }

  private static OnnxMl.AttributeProto str(String name, String v) {
    return OnnxMl.AttributeProto.newBuilder().setName(name).setType(OnnxMl.AttributeProto.AttributeType.STRING)
        .setS(ByteString.copyFromUtf8(v)).build();
  }

  private static OnnxMl.TensorProto floatInit(String name, long[] dims, float... v) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float x : v) {
      b.putFloat(x);
    }
    OnnxMl.TensorProto.Builder t = OnnxMl.TensorProto.newBuilder().setName(name).setDataType(1).setRawData(ByteString.copyFrom(b.array()));
    for (long d : dims) {
      t.addDims(d);
    }
    return t.build();
  }

  private static OnnxMl.TensorProto longInit(String name, long[] dims, long... v) {
    OnnxMl.TensorProto.Builder t = OnnxMl.TensorProto.newBuilder().setName(name).setDataType(7);
    for (long x : v) {
      t.addInt64Data(x);
    }
    for (long d : dims) {
      t.addDims(d);
    }
    return t.build();
  }

  private static Tensor input(long... shape) {
    return GradCheck.random(DType.FLOAT, shape, new SplittableRandom(11 + shape.length), 1.0);
  }

  /**
   * Imports {@code g} at {@code opset}, runs it and the original bytes (ONNX Runtime at the old
   * opset) on {@code x}, and asserts equal outputs; returns the imported graph.
   */
  private static Graph assertSameAsOriginal(int opset, OnnxMl.GraphProto.Builder g, Tensor x, String... outputs) throws Exception {
    byte[] bytes = model(opset, g).toByteArray();
    Graph imported = OnnxImport.fromBytes(bytes);
    assertTrue(imported.opset() >= Graph.OPSET);
    Map<String, Tensor> actual;
    try (OrtExecutable e = OrtExecutable.create(imported, OPTS)) {
      actual = e.run(Map.of("x", x));
    }
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        OrtSession s = env.createSession(bytes, so);
        OnnxTensor xt = OnnxTensor.createTensor(env, FloatBuffer.wrap(x.toFloats()), x.shape());
        OrtSession.Result r = s.run(Map.of("x", xt))) {
      for (String o : outputs) {
        OnnxTensor t = (OnnxTensor) r.get(o).orElseThrow();
        Tensor a = actual.get(o);
        assertArrayEquals(t.getInfo().getShape(), a.shape(), o + " shape");
        switch (t.getInfo().onnxType) {
          case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 -> assertArrayEquals(t.getLongBuffer().array(), a.toLongs(), o);
          case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL -> {
            ByteBuffer bb = t.getByteBuffer();
            double[] ad = a.toDoubles();
            for (int i = 0; i < ad.length; i++) {
              assertEquals(bb.get(i) != 0 ? 1.0 : 0.0, ad[i], o);
            }
          }
          default -> {
            float[] exp = new float[(int) a.elementCount()];
            t.getFloatBuffer().get(exp);
            assertArrayEquals(exp, a.toFloats(), 1e-6f, o + " at opset " + opset);
          }
        }
      }
    }
    return imported;
  }

  private static OnnxMl.GraphProto.Builder graph(long[] xShape) {
    return OnnxMl.GraphProto.newBuilder().setName("old").addInput(info("x", 1, xShape));
  }

  private static OnnxMl.ValueInfoProto out(String name) {
    // Outputs without a shape: the importer infers them.
    return OnnxMl.ValueInfoProto.newBuilder().setName(name)
        .setType(OnnxMl.TypeProto.newBuilder().setTensorType(OnnxMl.TypeProto.Tensor.newBuilder().setElemType(1))).build();
  }

  private static OnnxMl.ValueInfoProto outTyped(String name, int elemType) {
    return OnnxMl.ValueInfoProto.newBuilder().setName(name)
        .setType(OnnxMl.TypeProto.newBuilder().setTensorType(OnnxMl.TypeProto.Tensor.newBuilder().setElemType(elemType))).build();
  }

  @Test
  void clipAttributesBecomeInputs() throws Exception {
    long[] s = {2, 5};
    OnnxMl.GraphProto.Builder g = graph(s).addOutput(out("both")).addOutput(out("low"))
        .addNode(node("Clip", "c1", List.of("x"), List.of("both")).addAttribute(floatAttr("min", -0.3f)).addAttribute(floatAttr("max", 0.4f)))
        .addNode(node("Clip", "c2", List.of("x"), List.of("low")).addAttribute(floatAttr("min", 0.1f)));
    assertSameAsOriginal(7, g, input(s), "both", "low");
  }

  @Test
  void sliceAttributesBecomeInputs() throws Exception {
    long[] s = {3, 4, 6};
    OnnxMl.GraphProto.Builder g = graph(s).addOutput(out("a")).addOutput(out("b"))
        .addNode(node("Slice", "s1", List.of("x"), List.of("a")).addAttribute(ints("starts", 1, -5)).addAttribute(ints("ends", 3, Long.MAX_VALUE))
            .addAttribute(ints("axes", 1, 2)))
        .addNode(node("Slice", "s2", List.of("x"), List.of("b")).addAttribute(ints("starts", 0, 1, 2)).addAttribute(ints("ends", 2, -1, 4)));
    assertSameAsOriginal(9, g, input(s), "a", "b");
  }

  @Test
  void padAttributesBecomeInputs() throws Exception {
    long[] s = {1, 2, 4, 5};
    OnnxMl.GraphProto.Builder g = graph(s).addOutput(out("r")).addOutput(out("c")).addOutput(out("e"))
        .addNode(node("Pad", "p1", List.of("x"), List.of("r")).addAttribute(str("mode", "reflect")).addAttribute(ints("pads", 0, 0, 1, 2, 0, 0, 2, 1)))
        .addNode(node("Pad", "p2", List.of("x"), List.of("c")).addAttribute(ints("pads", 0, 1, 0, 1, 0, 0, 2, 0))
            .addAttribute(floatAttr("value", 1.5f)))
        .addNode(node("Pad", "p3", List.of("x"), List.of("e")).addAttribute(str("mode", "edge")).addAttribute(ints("pads", 0, 0, 3, 0, 0, 0, 0, 2)));
    assertSameAsOriginal(7, g, input(s), "r", "c", "e");
  }

  @Test
  void squeezeUnsqueezeReduceSumAxesBecomeInputs() throws Exception {
    long[] s = {2, 1, 3, 1};
    OnnxMl.GraphProto.Builder g = graph(s).addOutput(out("sq")).addOutput(out("all")).addOutput(out("un")).addOutput(out("sum"))
        .addNode(node("Squeeze", "q1", List.of("x"), List.of("sq")).addAttribute(ints("axes", -1)))
        .addNode(node("Squeeze", "q2", List.of("x"), List.of("all")))
        .addNode(node("Unsqueeze", "u1", List.of("all"), List.of("un")).addAttribute(ints("axes", 0, 3)))
        .addNode(node("ReduceSum", "r1", List.of("x"), List.of("sum")).addAttribute(ints("axes", 0, 2)).addAttribute(intAttr("keepdims", 0)));
    assertSameAsOriginal(11, g, input(s), "sq", "all", "un", "sum");
  }

  @Test
  void splitAttributeBecomesInputAndEvenSplitNamesItsParts() throws Exception {
    long[] s = {2, 6};
    OnnxMl.GraphProto.Builder g = graph(s).addOutput(out("a")).addOutput(out("b")).addOutput(out("c")).addOutput(out("d")).addOutput(out("e"))
        .addNode(node("Split", "even", List.of("x"), List.of("a", "b", "c")).addAttribute(intAttr("axis", 1)))
        .addNode(node("Split", "uneven", List.of("x"), List.of("d", "e")).addAttribute(intAttr("axis", 1)).addAttribute(ints("split", 4, 2)));
    assertSameAsOriginal(7, g, input(s), "a", "b", "c", "d", "e");
    assertSameAsOriginal(11, g, input(s), "a", "b", "c", "d", "e");
  }

  @Test
  void topKAttributeBecomesInput() throws Exception {
    long[] s = {3, 7};
    OnnxMl.GraphProto.Builder g = graph(s).addOutput(out("v")).addOutput(outTyped("i", 7))
        .addNode(node("TopK", "t", List.of("x"), List.of("v", "i")).addAttribute(intAttr("k", 3)));
    assertSameAsOriginal(7, g, input(s), "v", "i");
  }

  @Test
  void upsampleBecomesAsymmetricResize() throws Exception {
    long[] s = {1, 2, 3, 4};
    OnnxMl.GraphProto.Builder g7 = graph(s).addOutput(out("n")).addOutput(out("l"))
        .addNode(node("Upsample", "u1", List.of("x"), List.of("n")).addAttribute(floats("scales", 1, 1, 2, 3)))
        .addNode(node("Upsample", "u2", List.of("x"), List.of("l")).addAttribute(str("mode", "linear")).addAttribute(floats("scales", 1, 1, 2, 2)));
    Graph g = assertSameAsOriginal(7, g7, input(s), "n", "l");
    assertFalse(g.opTypes().contains("Upsample"));
    OnnxMl.GraphProto.Builder g9 = graph(s).addOutput(out("n")).addOutput(out("l"))
        .addInitializer(floatInit("sc", new long[] {4}, 1, 1, 3, 2))
        .addNode(node("Upsample", "u1", List.of("x", "sc"), List.of("n")))
        .addNode(node("Upsample", "u2", List.of("x", "sc"), List.of("l")).addAttribute(str("mode", "linear")));
    assertSameAsOriginal(9, g9, input(s), "n", "l");
  }

  @Test
  void resize10TakesTheOldSemantics() throws Exception {
    long[] s = {1, 1, 6, 8};
    OnnxMl.GraphProto.Builder g = graph(s).addOutput(out("down")).addOutput(out("up")).addOutput(out("lin"))
        .addInitializer(floatInit("half", new long[] {4}, 1, 1, 0.5f, 0.5f))
        .addInitializer(floatInit("enlarge", new long[] {4}, 1, 1, 1.5f, 2))
        .addNode(node("Resize", "r1", List.of("x", "half"), List.of("down")))
        .addNode(node("Resize", "r2", List.of("x", "enlarge"), List.of("up")))
        .addNode(node("Resize", "r3", List.of("x", "enlarge"), List.of("lin")).addAttribute(str("mode", "linear")));
    assertSameAsOriginal(10, g, input(s), "down", "up", "lin");
  }

  @Test
  void softmaxBefore13CoercesTo2d() throws Exception {
    long[] s = {2, 3, 4};
    OnnxMl.GraphProto.Builder g = graph(s).addOutput(out("sm1")).addOutput(out("lsm")).addOutput(out("last")).addOutput(out("hm"))
        .addNode(node("Softmax", "a", List.of("x"), List.of("sm1")).addAttribute(intAttr("axis", 1)))
        .addNode(node("LogSoftmax", "b", List.of("x"), List.of("lsm")))
        .addNode(node("Softmax", "c", List.of("x"), List.of("last")).addAttribute(intAttr("axis", 2)))
        .addNode(node("Hardmax", "d", List.of("x"), List.of("hm")).addAttribute(intAttr("axis", 0)));
    assertSameAsOriginal(11, g, input(s), "sm1", "lsm", "last", "hm");
  }

  @Test
  void batchNormalizationAndDropoutOldAttributes() throws Exception {
    long[] s = {2, 3, 2, 2};
    OnnxMl.GraphProto.Builder g = graph(s).addOutput(out("bn")).addOutput(out("d"))
        .addInitializer(floatInit("scale", new long[] {3}, 1.5f, 0.5f, -1))
        .addInitializer(floatInit("bias", new long[] {3}, 0.1f, 0.2f, 0.3f))
        .addInitializer(floatInit("mean", new long[] {3}, 0.3f, -0.2f, 0))
        .addInitializer(floatInit("var", new long[] {3}, 0.8f, 1.2f, 2))
        .addNode(node("BatchNormalization", "bn", List.of("x", "scale", "bias", "mean", "var"), List.of("bn"))
            .addAttribute(intAttr("spatial", 1)).addAttribute(floatAttr("epsilon", 1e-3f)))
        .addNode(node("Dropout", "drop", List.of("bn"), List.of("d")).addAttribute(floatAttr("ratio", 0.4f)));
    assertSameAsOriginal(7, g, input(s), "bn", "d");
  }

  @Test
  void dropoutMaskOfOpset10() throws Exception {
    long[] s = {2, 3};
    OnnxMl.GraphProto.Builder g = graph(s).addOutput(out("d")).addOutput(outTyped("m", 9))
        .addNode(node("Dropout", "drop", List.of("x"), List.of("d", "m")).addAttribute(floatAttr("ratio", 0.4f)));
    Graph imp = assertSameAsOriginal(10, g, input(s), "d");
    // In inference every element is kept, so the mask is all true, as opset 12's Dropout defines it.
    // (ONNX Runtime's kernel for opsets 7 to 11 writes all false instead; nothing downstream of an
    // inference Dropout should read the mask.)
    try (OrtExecutable e = OrtExecutable.create(imp, OPTS)) {
      double[] m = e.run(Map.of("x", input(s))).get("m").toDoubles();
      for (double v : m) {
        assertEquals(1.0, v);
      }
    }
  }

  @Test
  void scatterBecomesScatterElements() throws Exception {
    long[] s = {3, 3};
    OnnxMl.GraphProto.Builder g = graph(s).addOutput(out("y"))
        .addInitializer(longInit("idx", new long[] {1, 2}, 2, 0))
        .addInitializer(floatInit("upd", new long[] {1, 2}, 7, 8))
        .addNode(node("Scatter", "sc", List.of("x", "idx", "upd"), List.of("y")).addAttribute(intAttr("axis", 1)));
    Graph imp = assertSameAsOriginal(9, g, input(s), "y");
    assertTrue(imp.opTypes().contains("ScatterElements"));
  }

  @Test
  void notUpgradableFormsAreRefusedNamingOpNodeAndOpset() {
    long[] s = {2, 3, 2, 2};
    OnnxMl.GraphProto.Builder g = graph(s).addOutput(out("bn"))
        .addInitializer(floatInit("p", new long[] {3}, 1, 1, 1))
        .addNode(node("BatchNormalization", "perAct", List.of("x", "p", "p", "p", "p"), List.of("bn")).addAttribute(intAttr("spatial", 0)));
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> OnnxImport.fromBytes(model(7, g).toByteArray()));
    for (String part : List.of("'perAct'", "BatchNormalization", "opset 7", "spatial=0")) {
      assertTrue(e.getMessage().contains(part), e.getMessage());
    }
    OnnxMl.GraphProto.Builder u = graph(new long[] {1, 1, 2, 2}).addOutput(out("y"))
        .addNode(node("Upsample", "cub", List.of("x"), List.of("y")).addAttribute(str("mode", "cubic")).addAttribute(floats("scales", 1, 1, 2, 2)));
    ModelLoadException e2 = assertThrows(ModelLoadException.class, () -> OnnxImport.fromBytes(model(7, u).toByteArray()));
    assertTrue(e2.getMessage().contains("'cub'") && e2.getMessage().contains("Upsample") && e2.getMessage().contains("cubic"), e2.getMessage());
  }

  @Test
  void opsetsBelow7AreRejected() {
    OnnxMl.ModelProto m = OnnxRoundTripTest.reluModel().toBuilder()
        .setOpsetImport(0, OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(6)).build();
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> OnnxImport.fromBytes(m.toByteArray()));
    assertTrue(e.getMessage().contains("opset 6 is not supported") && e.getMessage().contains("7 to 26"), e.getMessage());
  }

  @Test
  void specializeOptionFixesSymbolicDims() {
    // x [batch, 6] -> Reshape(x, Concat(Shape(x)[0], [2, 3])): shape arithmetic an exporter writes.
    OnnxMl.TensorShapeProto.Builder sh = OnnxMl.TensorShapeProto.newBuilder()
        .addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimParam("batch"))
        .addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimValue(6));
    OnnxMl.ValueInfoProto x = OnnxMl.ValueInfoProto.newBuilder().setName("x")
        .setType(OnnxMl.TypeProto.newBuilder().setTensorType(OnnxMl.TypeProto.Tensor.newBuilder().setElemType(1).setShape(sh))).build();
    OnnxMl.GraphProto.Builder g = OnnxMl.GraphProto.newBuilder().setName("dyn").addInput(x).addOutput(out("y"))
        .addInitializer(longInit("zero", new long[] {}, 0))
        .addInitializer(longInit("rest", new long[] {2}, 2, 3))
        .addNode(node("Shape", "shape", List.of("x"), List.of("s")))
        .addNode(node("Gather", "g", List.of("s", "zero"), List.of("n")).addAttribute(intAttr("axis", 0)))
        .addNode(node("Unsqueeze", "u", List.of("n"), List.of("n1")).addAttribute(ints("axes", 0)))
        .addNode(node("Concat", "c", List.of("n1", "rest"), List.of("target")).addAttribute(intAttr("axis", 0)))
        .addNode(node("Reshape", "r", List.of("x", "target"), List.of("y")));
    byte[] bytes = model(11, g).toByteArray();
    Graph dynamic = OnnxImport.fromBytes(bytes);
    assertFalse(dynamic.output("y").shape().isStatic());
    Graph fixed = OnnxImport.fromBytes(bytes, Map.of("batch", 4L));
    assertEquals(List.of("Reshape"), fixed.nodes().stream().map(n -> n.opType()).toList());
    assertArrayEquals(new long[] {4, 2, 3}, fixed.output("y").shape().toArray());
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> OnnxImport.fromBytes(bytes, Map.of("time", 4L)));
    assertTrue(e.getMessage().contains("'batch'") && e.getMessage().contains("input 'x'"), e.getMessage());
    Map<String, Tensor> in = new HashMap<>();
    in.put("x", input(4, 6));
    try (OrtExecutable ex = OrtExecutable.create(fixed, OPTS)) {
      assertArrayEquals(in.get("x").toFloats(), ex.run(in).get("y").toFloats());
    }
  }

  @Test
  void constantValueFormsAreRead() throws Exception {
    long[] s = {2, 3};
    OnnxMl.GraphProto.Builder g = graph(s).addOutput(out("y"))
        .addNode(node("Constant", "k", List.of(), List.of("shape")).addAttribute(ints("value_ints", 3, 2)))
        .addNode(node("Constant", "f", List.of(), List.of("half")).addAttribute(floatAttr("value_float", 0.5f)))
        .addNode(node("Reshape", "r", List.of("x", "shape"), List.of("xr")))
        .addNode(node("Mul", "m", List.of("xr", "half"), List.of("y")));
    assertSameAsOriginal(13, g, input(s), "y");
  }

  @Test
  void malformedConstantsFailClearlyWhenSpecialized() {
    OnnxMl.GraphProto.Builder g = graph(new long[] {2}).addOutput(out("y"))
        .addInitializer(floatInit("c", new long[] {2}, 1, 0))
        .addNode(node("Where", "w", List.of("c", "c", "c"), List.of("cond")))
        .addNode(node("Add", "a", List.of("x", "cond"), List.of("y")));
    byte[] bytes = model(13, g).toByteArray();
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> OnnxImport.fromBytes(bytes, Map.of()));
    assertTrue(e.getMessage().contains("Where node 'w'") && e.getMessage().contains("BOOL"), e.getMessage());
    OnnxMl.GraphProto.Builder neg = graph(new long[] {2}).addOutput(out("y"))
        .addInitializer(longInit("s", new long[] {2}, 3, -2))
        .addNode(node("ConstantOfShape", "cs", List.of("s"), List.of("z")))
        .addNode(node("Add", "a", List.of("x", "z"), List.of("y")));
    ModelLoadException e2 = assertThrows(ModelLoadException.class, () -> OnnxImport.fromBytes(model(13, neg).toByteArray(), Map.of()));
    assertTrue(e2.getMessage().contains("-2"), e2.getMessage());
  }
}
