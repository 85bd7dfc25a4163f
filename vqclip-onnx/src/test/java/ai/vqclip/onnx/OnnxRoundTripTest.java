package ai.vqclip.onnx;

import static ai.vqclip.onnx.testing.GradCheck.TOL_F64;
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
import ai.vqclip.core.autodiff.Autodiff;
import ai.vqclip.core.autodiff.GradientRequest;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.graph.Attribute;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import ai.vqclip.onnx.testing.GradCheck;
import com.google.protobuf.ByteString;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** IR -> ONNX -> IR round trips, import of users' files, opset upgrade, and rejection of bad models. */
class OnnxRoundTripTest {
  private static final long SEED = 7;
  // One thread and deterministic kernels, so two sessions of the same model give the same bits.
  private static final ExecutionOptions OPTS = ExecutionOptions.cpu().withThreads(1);

  private static Tensor rnd(DType t, long... shape) {
    return GradCheck.random(t, shape, new SplittableRandom(SEED + shape.length * 31L + shape[0]), 0.5);
  }

  private static Map<String, Tensor> run(Graph g, Map<String, Tensor> in) {
    try (OrtExecutable e = OrtExecutable.create(g, OPTS)) {
      return e.run(in);
    }
  }

  /** Runs {@code g} and its re-imported export on the same inputs and asserts identical bits. */
  private static Graph assertRoundTripIdentical(Graph g, Map<String, Tensor> in) {
    Graph back = OnnxImport.fromBytes(OnnxExport.toBytes(g));
    Map<String, Tensor> expected = run(g, in);
    Map<String, Tensor> actual = run(back, in);
    assertEquals(expected.keySet(), actual.keySet());
    for (String k : expected.keySet()) {
      // Tensor.equals compares type, shape and every byte.
      assertEquals(expected.get(k), actual.get(k), "output " + k);
    }
    return back;
  }

  static Graph convNet(DType t) {
    GraphBuilder b = new GraphBuilder("convnet");
    Value x = b.input("x", t, Shape.of(1, 3, 8, 8));
    Value w1 = b.initializer("w1", rnd(t, 4, 3, 3, 3));
    Value b1 = b.initializer("b1", rnd(t, 4));
    Value w2 = b.initializer("w2", rnd(t, 2, 4, 3, 3));
    Value h = b.op("Conv").in(x, w1, b1).ints("pads", 1, 1, 1, 1).out();
    h = b.op("Relu").in(h).out();
    h = b.op("Conv").in(h, w2).ints("pads", 1, 1, 1, 1).ints("strides", 2, 2).out();
    b.output("y", b.op("Sigmoid").in(h).out());
    return b.build();
  }

  @Test
  void convNetIsBitIdentical() {
    Graph g = convNet(DType.FLOAT);
    Graph back = assertRoundTripIdentical(g, Map.of("x", rnd(DType.FLOAT, 1, 3, 8, 8)));
    assertEquals(g.initializers().keySet(), back.initializers().keySet());
    assertEquals(g.output("y"), back.output("y"));
  }

  @Test
  void everyAttributeKindSurvives() {
    GraphBuilder b = new GraphBuilder("attrs");
    Value x = b.input("x", DType.FLOAT, Shape.of(2, 3, 4)); // [seq, batch, input]
    Value w = b.initializer("w", rnd(DType.FLOAT, 1, 5, 4));
    Value r = b.initializer("r", rnd(DType.FLOAT, 1, 5, 5));
    // RNN carries INT (hidden_size), STRINGS (activations) and FLOATS (activation_alpha).
    List<Value> rnn = b.op("RNN").in(x, w, r)
        .attr("hidden_size", 5L)
        .attr("activations", Attribute.strings(List.of("LeakyRelu")))
        .floats("activation_alpha", 0.1f)
        .outs(2);
    Value y = b.op("LeakyRelu").in(rnn.get(1)).attr("alpha", 0.2f).out(); // FLOAT; Y_h is [1, 3, 5]
    y = b.op("Transpose").in(y).ints("perm", 1, 0, 2).out(); // INTS -> [3, 1, 5]
    y = b.op("Pad").in(y, b.ints(0, 0, 1, 0, 0, 1)).attr("mode", "reflect").out(); // STRING -> [3, 1, 7]
    Value filled = b.op("ConstantOfShape").in(b.ints(3, 1, 7)).attr("value", Tensor.ofFloats(new long[] {1}, 0.25f)).out(); // TENSOR
    b.output("y", b.add(y, filled));
    Graph g = b.build();
    Graph back = assertRoundTripIdentical(g, Map.of("x", rnd(DType.FLOAT, 2, 3, 4)));
    assertEquals(g.nodes().size(), back.nodes().size());
    java.util.Set<Attribute.Kind> kinds = java.util.EnumSet.noneOf(Attribute.Kind.class);
    for (int i = 0; i < g.nodes().size(); i++) {
      assertEquals(g.nodes().get(i).attributes(), back.nodes().get(i).attributes(), "attributes of " + g.nodes().get(i).describe());
      g.nodes().get(i).attributes().values().forEach(a -> kinds.add(a.kind()));
    }
    assertEquals(java.util.EnumSet.allOf(Attribute.Kind.class), kinds, "the graph must exercise every attribute kind");
  }

  @Test
  void int64AndBoolValuesSurvive() {
    GraphBuilder b = new GraphBuilder("ints");
    Value x = b.input("x", DType.INT64, Shape.of(5));
    Value y = b.input("y", DType.INT64, Shape.of(5));
    Value mask = b.input("mask", DType.BOOL, Shape.of(5));
    Value big = b.initializer("big", Tensor.ofLongs(new long[] {5}, Long.MAX_VALUE, Long.MIN_VALUE, 1L << 53, -(1L << 53) - 1, 0));
    Value sum = b.add(b.mul(x, y), b.ints(3));
    Value eq = b.op("Equal").in(x, y).out();
    Value sel = b.op("Where").in(b.op("And").in(b.op("Not").in(eq).out(), mask).out(), big, sum).out();
    b.output("sel", sel);
    b.output("any", b.op("Or").in(eq, mask).out());
    Graph g = b.build();
    Map<String, Tensor> in = Map.of(
        "x", Tensor.ofLongs(new long[] {5}, 1, -2, 3, 4, 1L << 40),
        "y", Tensor.ofLongs(new long[] {5}, 1, 5, -3, 4, 3),
        "mask", Tensor.ofBools(new long[] {5}, true, true, false, true, false));
    assertRoundTripIdentical(g, in);
    Map<String, Tensor> out = run(OnnxImport.fromBytes(OnnxExport.toBytes(g)), in);
    // x != y and mask -> big; else x*y+3 (int64 exactly, no float round trip)
    assertArrayEquals(new long[] {4, Long.MIN_VALUE, -6, 19, 3L * (1L << 40) + 3}, out.get("sel").toLongs());
    assertEquals(DType.BOOL, out.get("any").dtype());
    assertArrayEquals(new double[] {1, 1, 0, 1, 0}, out.get("any").toDoubles());
  }

  /** A small MLP in double, so its gradients check to TOL_F64 (ORT's CPU MatMul/Add/Tanh have double kernels). */
  private static Graph mlp(int hidden) {
    GraphBuilder b = new GraphBuilder("user-model");
    Value x = b.input("x", DType.DOUBLE, Shape.of(3, 128));
    Value w = b.initializer("w", rnd(DType.DOUBLE, 128, hidden));
    Value bias = b.initializer("bias", rnd(DType.DOUBLE, hidden));
    b.output("y", b.op("Tanh").in(b.add(b.matmul(x, w), bias)).out());
    return b.build();
  }

  @Test
  void usersFileImportsAndDifferentiates(@TempDir Path dir) throws Exception {
    Graph g = mlp(4);
    Path file = dir.resolve("model.onnx");
    Files.write(file, OnnxExport.toBytes(g));
    Graph imported = OnnxImport.fromFile(file);
    Map<String, Tensor> in = Map.of("x", rnd(DType.DOUBLE, 3, 128));
    assertEquals(run(g, in).get("y"), run(imported, in).get("y"));
    Graph grad = Autodiff.differentiate(imported, GradientRequest.ofSeeds(List.of("y"), List.of("x", "w")));
    assertTrue(grad.outputs().stream().anyMatch(v -> v.name().equals(GradientRequest.gradName("w"))));
    GradCheck.assertGradient(imported, in, List.of("x", "w", "bias"), 1e-6, TOL_F64, SEED);
  }

  @Test
  void usersFileWithExternalDataImportsAndDifferentiates(@TempDir Path dir) throws Exception {
    // w is 128 x 64 doubles = 64 KiB, the size at which the exporter moves a tensor out of the proto.
    Graph g = mlp(64);
    OnnxModel m = OnnxExport.export(g, 0);
    assertEquals(java.util.Set.of("w"), m.externalInitializers().keySet());
    // Turn the in-memory declaration into a real side file, laid out as other exporters write it.
    OnnxMl.ModelProto.Builder mp = OnnxMl.ModelProto.parseFrom(m.bytes()).toBuilder();
    ByteArrayOutputStream data = new ByteArrayOutputStream();
    data.write(new byte[] {1, 2, 3, 4, 5, 6, 7}); // a leading gap, so offsets are exercised
    for (OnnxMl.TensorProto.Builder t : mp.getGraphBuilder().getInitializerBuilderList()) {
      if (t.getDataLocation() != OnnxMl.TensorProto.DataLocation.EXTERNAL) {
        continue;
      }
      byte[] bytes = new byte[m.externalInitializers().get(t.getName()).data().remaining()];
      m.externalInitializers().get(t.getName()).data().get(bytes);
      long offset = data.size();
      data.write(bytes);
      t.clearExternalData()
          .addExternalData(OnnxMl.StringStringEntryProto.newBuilder().setKey("location").setValue("weights.bin"))
          .addExternalData(OnnxMl.StringStringEntryProto.newBuilder().setKey("offset").setValue(Long.toString(offset)))
          .addExternalData(OnnxMl.StringStringEntryProto.newBuilder().setKey("length").setValue(Long.toString(bytes.length)));
    }
    Files.write(dir.resolve("weights.bin"), data.toByteArray());
    Path file = dir.resolve("model.onnx");
    Files.write(file, mp.build().toByteArray());

    Graph imported = OnnxImport.fromFile(file);
    assertEquals(g.initializers().get("w"), imported.initializers().get("w"));
    Map<String, Tensor> in = Map.of("x", rnd(DType.DOUBLE, 3, 128));
    assertEquals(run(g, in).get("y"), run(imported, in).get("y"));
    GradCheck.assertGradient(imported, in, List.of("w", "bias"), 1e-6, TOL_F64, SEED);
    // The same bytes without their directory cannot resolve the side file.
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> OnnxImport.fromBytes(mp.build().toByteArray()));
    assertTrue(e.getMessage().contains("tensor 'w' uses external data") && e.getMessage().contains("fromFile"), e.getMessage());
  }

  // ------------------------------------------------------------------ hand-built protos

  static OnnxMl.ValueInfoProto info(String name, int elemType, long... dims) {
    OnnxMl.TensorShapeProto.Builder s = OnnxMl.TensorShapeProto.newBuilder();
    for (long d : dims) {
      s.addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimValue(d));
    }
    return OnnxMl.ValueInfoProto.newBuilder().setName(name)
        .setType(OnnxMl.TypeProto.newBuilder().setTensorType(OnnxMl.TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(s)))
        .build();
  }

  static OnnxMl.AttributeProto ints(String name, long... v) {
    OnnxMl.AttributeProto.Builder a = OnnxMl.AttributeProto.newBuilder().setName(name).setType(OnnxMl.AttributeProto.AttributeType.INTS);
    for (long x : v) {
      a.addInts(x);
    }
    return a.build();
  }

  static OnnxMl.AttributeProto intAttr(String name, long v) {
    return OnnxMl.AttributeProto.newBuilder().setName(name).setType(OnnxMl.AttributeProto.AttributeType.INT).setI(v).build();
  }

  static OnnxMl.NodeProto.Builder node(String op, String name, List<String> in, List<String> out) {
    return OnnxMl.NodeProto.newBuilder().setOpType(op).setName(name).addAllInput(in).addAllOutput(out);
  }

  static OnnxMl.ModelProto model(long opset, OnnxMl.GraphProto.Builder g) {
    return OnnxMl.ModelProto.newBuilder().setIrVersion(8).setProducerName("test")
        .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset)).setGraph(g).build();
  }

  /** A valid single-Relu model, the base of the malformed variants below. */
  static OnnxMl.ModelProto reluModel() {
    OnnxMl.GraphProto.Builder g = OnnxMl.GraphProto.newBuilder().setName("relu")
        .addInput(info("x", 1, 2, 3)).addOutput(info("y", 1, 2, 3))
        .addNode(node("Relu", "relu", List.of("x"), List.of("y")));
    return model(18, g);
  }

  @Test
  void opset13ReduceAxesAttributeIsUpgraded() throws Exception {
    // Opset 13: ReduceMean/ReduceMax take axes as an attribute (ReduceSum already as an input).
    OnnxMl.GraphProto.Builder g = OnnxMl.GraphProto.newBuilder().setName("old")
        .addInput(info("x", 11, 2, 3, 4)).addOutput(info("mean", 11, 2, 4)).addOutput(info("max", 11, 2, 1, 1))
        .addNode(node("ReduceMean", "", List.of("x"), List.of("mean")).addAttribute(ints("axes", 1)).addAttribute(intAttr("keepdims", 0)))
        .addNode(node("ReduceMax", "", List.of("x"), List.of("max")).addAttribute(ints("axes", -1, 1)));
    byte[] bytes = model(13, g).toByteArray();
    Tensor x = rnd(DType.DOUBLE, 2, 3, 4);

    Graph imported = OnnxImport.fromBytes(bytes);
    assertEquals(Graph.OPSET, imported.opset(), "an opset-13 model is upgraded to vqclip's opset");
    assertEquals(Shape.of(2, 4), imported.output("mean").shape());
    assertEquals(Shape.of(2, 1, 1), imported.output("max").shape());
    Map<String, Tensor> actual = run(imported, Map.of("x", x));

    // Expected: ONNX Runtime running the original opset-13 bytes.
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        OrtSession s = env.createSession(bytes, so);
        OnnxTensor xt = OnnxTensor.createTensor(env, java.nio.DoubleBuffer.wrap(x.toDoubles()), x.shape());
        OrtSession.Result r = s.run(Map.of("x", xt))) {
      double[] mean = ((OnnxTensor) r.get("mean").orElseThrow()).getDoubleBuffer().array();
      double[] max = ((OnnxTensor) r.get("max").orElseThrow()).getDoubleBuffer().array();
      assertArrayEquals(mean, actual.get("mean").toDoubles(), 0);
      assertArrayEquals(max, actual.get("max").toDoubles(), 0);
    }
  }

  @Nested
  class BadModels {
    private ModelLoadException rejected(byte[] bytes, String... expectedParts) {
      ModelLoadException e = assertThrows(ModelLoadException.class, () -> OnnxImport.fromBytes(bytes));
      for (String p : expectedParts) {
        assertTrue(e.getMessage().contains(p), () -> "message '" + e.getMessage() + "' should contain '" + p + "'");
      }
      return e;
    }

    @Test
    void emptyBytes() {
      rejected(new byte[0], "is empty");
      rejected(null, "is empty");
    }

    @Test
    void garbageBytes() {
      byte[] junk = new byte[4096];
      new java.util.Random(SEED).nextBytes(junk);
      junk[0] = (byte) 0xff; // an invalid field tag, so the parse cannot accidentally succeed
      rejected(junk, "not a valid ONNX model", "4096 bytes");
      // Bytes that happen to parse as an empty message are no model either.
      rejected(new byte[] {0x08, 0x07}, "has no graph");
    }

    @Test
    void truncatedModel() {
      byte[] full = OnnxExport.toBytes(convNet(DType.FLOAT));
      byte[] half = java.util.Arrays.copyOf(full, full.length / 2);
      rejected(half, "truncated or garbage", half.length + " bytes");
    }

    @Test
    void opset27() {
      OnnxMl.ModelProto m = reluModel().toBuilder()
          .setOpsetImport(0, OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(27)).build();
      rejected(m.toByteArray(), "opset 27 is not supported", "7 to 26");
    }

    @Test
    void unknownDomain() {
      OnnxMl.ModelProto.Builder m = reluModel().toBuilder();
      m.getGraphBuilder().getNodeBuilder(0).setDomain("com.example").setOpType("FancyRelu");
      m.addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("com.example").setVersion(1));
      rejected(m.build().toByteArray(), "'relu'", "FancyRelu", "domain 'com.example'", "only the default ONNX domain");
    }

    @Test
    void subgraphAttribute() {
      OnnxMl.GraphProto branch = OnnxMl.GraphProto.newBuilder().setName("then").addOutput(info("x", 1, 2, 3)).build();
      OnnxMl.GraphProto.Builder g = OnnxMl.GraphProto.newBuilder().setName("if")
          .addInput(info("c", 9)).addInput(info("x", 1, 2, 3)).addOutput(info("y", 1, 2, 3))
          .addNode(node("If", "branch", List.of("c"), List.of("y"))
              .addAttribute(OnnxMl.AttributeProto.newBuilder().setName("then_branch").setType(OnnxMl.AttributeProto.AttributeType.GRAPH).setG(branch))
              .addAttribute(OnnxMl.AttributeProto.newBuilder().setName("else_branch").setType(OnnxMl.AttributeProto.AttributeType.GRAPH).setG(branch)));
      rejected(model(18, g).toByteArray(), "node 'branch' (If)", "then_branch", "GRAPH", "no subgraphs");
    }

    private OnnxMl.ModelProto withInitializer(OnnxMl.TensorProto t) {
      OnnxMl.ModelProto.Builder m = reluModel().toBuilder();
      m.getGraphBuilder().addInitializer(t);
      return m.build();
    }

    @Test
    void rawDataLengthDisagreesWithDims() {
      OnnxMl.TensorProto t = OnnxMl.TensorProto.newBuilder().setName("w").setDataType(1).addDims(2).addDims(3)
          .setRawData(ByteString.copyFrom(new byte[10])).build();
      rejected(withInitializer(t).toByteArray(), "tensor 'w'", "raw data has 10 bytes", "[2, 3]", "needs 24");
    }

    @Test
    void dimsProductOverflows() {
      OnnxMl.TensorProto t = OnnxMl.TensorProto.newBuilder().setName("huge").setDataType(1)
          .addDims(1L << 40).addDims(1L << 40).addDims(1L << 40).setRawData(ByteString.copyFrom(new byte[4])).build();
      rejected(withInitializer(t).toByteArray(), "tensor 'huge'", "more than " + Tensor.MAX_ELEMENTS + " elements");
      OnnxMl.TensorProto neg = OnnxMl.TensorProto.newBuilder().setName("neg").setDataType(1).addDims(-3).build();
      rejected(withInitializer(neg).toByteArray(), "tensor 'neg'", "negative dimension");
    }

    private OnnxMl.TensorProto external(String location, long offset, long length) {
      return OnnxMl.TensorProto.newBuilder().setName("w").setDataType(1).addDims(2).addDims(4)
          .setDataLocation(OnnxMl.TensorProto.DataLocation.EXTERNAL)
          .addExternalData(OnnxMl.StringStringEntryProto.newBuilder().setKey("location").setValue(location))
          .addExternalData(OnnxMl.StringStringEntryProto.newBuilder().setKey("offset").setValue(Long.toString(offset)))
          .addExternalData(OnnxMl.StringStringEntryProto.newBuilder().setKey("length").setValue(Long.toString(length)))
          .build();
    }

    private ModelLoadException rejectedFile(Path dir, OnnxMl.TensorProto t, String... parts) throws Exception {
      Path f = dir.resolve("model.onnx");
      Files.write(f, withInitializer(t).toByteArray());
      ModelLoadException e = assertThrows(ModelLoadException.class, () -> OnnxImport.fromFile(f));
      for (String p : parts) {
        assertTrue(e.getMessage().contains(p), () -> "message '" + e.getMessage() + "' should contain '" + p + "'");
      }
      return e;
    }

    @Test
    void externalDataOutsideModelDirectory(@TempDir Path root) throws Exception {
      Path dir = Files.createDirectory(root.resolve("model"));
      Files.write(root.resolve("secret.bin"), new byte[32]);
      rejectedFile(dir, external("../secret.bin", 0, 32), "tensor 'w'", "'../secret.bin'", "leaves the model's directory");
      rejectedFile(dir, external(root.resolve("secret.bin").toString(), 0, 32), "leaves the model's directory");
      // A link inside the directory that points out of it.
      Files.createSymbolicLink(dir.resolve("link.bin"), root.resolve("secret.bin"));
      rejectedFile(dir, external("link.bin", 0, 32), "'link.bin'", "through a link");
    }

    @Test
    void externalDataPastEndOfFile(@TempDir Path dir) throws Exception {
      Files.write(dir.resolve("w.bin"), new byte[40]);
      rejectedFile(dir, external("w.bin", 16, 32), "[16, 48)", "beyond the end", "40 bytes");
      rejectedFile(dir, external("w.bin", Long.MAX_VALUE - 8, 32), "beyond the end");
      rejectedFile(dir, external("w.bin", 0, 12), "length 12", "32 bytes");
      rejectedFile(dir, external("missing.bin", 0, 32), "cannot read external data");
    }
  }

  @Test
  void importedGraphsRunUnderTheirOwnNamesOnce() {
    // Unnamed and duplicate node names get unique, deterministic names.
    OnnxMl.GraphProto.Builder g = OnnxMl.GraphProto.newBuilder().setName("names")
        .addInput(info("x", 1, 2)).addOutput(info("z", 1, 2))
        .addNode(node("Relu", "", List.of("x"), List.of("y")))
        .addNode(node("Neg", "", List.of("y"), List.of("z0")))
        .addNode(node("Identity", "Neg", List.of("z0"), List.of("z")));
    Graph a = OnnxImport.fromBytes(model(18, g).toByteArray());
    Graph b = OnnxImport.fromBytes(model(18, g).toByteArray());
    assertEquals(a.nodes(), b.nodes());
    assertEquals(3, a.nodes().stream().map(n -> n.name()).distinct().count());
    Map<String, Tensor> out = run(a, Map.of("x", Tensor.ofFloats(new long[] {2}, -1f, 2f)));
    assertArrayEquals(new float[] {-0f, -2f}, out.get("z").toFloats());
    assertFalse(a.nodes().get(0).name().isEmpty());
  }
}
