package ai.vqclip.onnx;

import ai.onnx.proto.OnnxMl;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.autodiff.GradientOverrides;
import ai.vqclip.core.graph.Attribute;
import ai.vqclip.core.graph.Dim;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.Node;
import ai.vqclip.core.graph.Value;
import com.google.protobuf.ByteString;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** Serializes vqclip graphs to ONNX ModelProto (IR version 10, the graph's opset). */
public final class OnnxExport {
  /** The ONNX IR version written. */
  public static final long IR_VERSION = 10;

  /**
   * Default total initializer size above which large initializers are kept out of the proto: 0, so
   * every initializer of at least {@link #EXTERNAL_MIN_TENSOR_BYTES} always is. Serialized into the
   * proto, weights existed three times during session creation (the Java tensors, the proto bytes,
   * ONNX Runtime's copy); handed over from memory, ONNX Runtime uses off-heap tensors in place.
   */
  public static final long DEFAULT_EXTERNAL_THRESHOLD_BYTES = 0;

  /** Initializers at least this big are the ones moved out when externalizing. */
  public static final long EXTERNAL_MIN_TENSOR_BYTES = 1L << 16;

  private OnnxExport() {}

  /**
   * Serializes a graph whose initializers fit in the proto (see {@link #export(Graph, long)}).
   *
   * @param g the graph to serialize
   * @return the serialized ModelProto, with every initializer inside it
   * @throws IllegalArgumentException when the proto would exceed protobuf's 2 GB limit
   */
  public static byte[] toBytes(Graph g) {
    OnnxModel m = export(g, Long.MAX_VALUE);
    return m.bytes();
  }

  /**
   * Exports a graph. When the initializers total more than {@code externalThresholdBytes}, every
   * initializer of at least {@link #EXTERNAL_MIN_TENSOR_BYTES} is declared EXTERNAL and returned in
   * {@link OnnxModel#externalInitializers()} instead of being copied into the proto.
   *
   * @param g the graph to export
   * @param externalThresholdBytes total initializer bytes above which large initializers are kept
   *     outside the proto, at least 0 ({@code Long.MAX_VALUE}: never)
   * @return the proto bytes and the initializers kept outside it
   * @throws IllegalArgumentException when the proto would still exceed protobuf's 2 GB limit (too
   *     much data in small initializers or tensor attributes); the message gives the sizes
   */
  public static OnnxModel export(Graph g, long externalThresholdBytes) {
    return export(g, externalThresholdBytes, MAX_PROTO_BYTES);
  }

  /** Largest serialized ModelProto protobuf (and a Java byte array) can hold. */
  static final long MAX_PROTO_BYTES = Integer.MAX_VALUE - 8;

  /** Room kept for everything in the proto that is not tensor data (nodes, names, shapes). */
  private static final long PROTO_OVERHEAD_MARGIN = 1L << 20;

  /** {@link #export(Graph, long)} with the proto size limit as a parameter (tests use a small one). */
  static OnnxModel export(Graph g, long externalThresholdBytes, long maxProtoBytes) {
    if (externalThresholdBytes < 0) {
      throw new IllegalArgumentException("externalThresholdBytes must be >= 0, got " + externalThresholdBytes);
    }
    Graph lowered = GradientOverrides.lower(g);
    long total = 0;
    for (Tensor t : lowered.initializers().values()) {
      total += t.data().remaining();
    }
    boolean externalize = total > externalThresholdBytes;
    // Count, in long arithmetic, what stays inside the proto, so an oversized model is refused here
    // with a message instead of overflowing protobuf's int sizes into a corrupt or failing write.
    long inlineBytes = 0;
    for (Tensor t : lowered.initializers().values()) {
      if (!(externalize && t.data().remaining() >= EXTERNAL_MIN_TENSOR_BYTES)) {
        inlineBytes += t.data().remaining();
      }
    }
    for (Node n : lowered.nodes()) {
      for (Attribute a : n.attributes().values()) {
        if (a.kind() == Attribute.Kind.TENSOR) {
          inlineBytes += a.asTensor().data().remaining();
        }
      }
    }
    if (inlineBytes + PROTO_OVERHEAD_MARGIN > maxProtoBytes) {
      throw new IllegalArgumentException("graph '" + g.name() + "' cannot be exported: " + inlineBytes + " bytes of tensor data would stay "
          + "inside the ONNX proto (initializers under " + EXTERNAL_MIN_TENSOR_BYTES + " bytes and tensor attributes are never "
          + "externalized; " + total + " bytes of initializers in all), and a proto holds at most " + maxProtoBytes + " bytes. "
          + "Merge small weights into larger tensors or feed them as inputs.");
    }
    Map<String, Tensor> external = new LinkedHashMap<>();
    OnnxMl.GraphProto.Builder gp = OnnxMl.GraphProto.newBuilder().setName(lowered.name());
    // Shape inference names dims it cannot compute with placeholders ("d0", "concat", ...) that do
    // not mean "equal sizes" across values; ORT does read equal dim_params as equal sizes (its
    // allocation planner reuses buffers on that basis), so only the graph inputs' symbols are exported.
    java.util.Set<String> inputSymbols = new java.util.HashSet<>();
    for (Value v : lowered.inputs()) {
      gp.addInput(valueInfo(v, null));
      if (v.shape().hasRank()) {
        v.shape().dims().stream().filter(d -> !d.isStatic()).forEach(d -> inputSymbols.add(d.symbol()));
      }
    }
    for (Value v : lowered.outputs()) {
      gp.addOutput(valueInfo(v, inputSymbols));
    }
    for (Map.Entry<String, Tensor> e : lowered.initializers().entrySet()) {
      Tensor t = e.getValue();
      if (externalize && t.data().remaining() >= EXTERNAL_MIN_TENSOR_BYTES) {
        external.put(e.getKey(), t);
        OnnxMl.TensorProto.Builder tp = OnnxMl.TensorProto.newBuilder().setName(e.getKey()).setDataType(t.dtype().onnxCode());
        for (long d : t.shape()) {
          tp.addDims(d);
        }
        tp.setDataLocation(OnnxMl.TensorProto.DataLocation.EXTERNAL);
        // The file named here never exists: ONNX Runtime takes the data from memory
        // (SessionOptions.addExternalInitializers), but the proto must still say where it "is".
        tp.addExternalData(OnnxMl.StringStringEntryProto.newBuilder().setKey("location").setValue("vqclip-in-memory.bin"));
        tp.addExternalData(OnnxMl.StringStringEntryProto.newBuilder().setKey("offset").setValue("0"));
        tp.addExternalData(OnnxMl.StringStringEntryProto.newBuilder().setKey("length").setValue(Long.toString(t.data().remaining())));
        gp.addInitializer(tp);
      } else {
        gp.addInitializer(tensor(e.getKey(), t));
      }
    }
    for (Node n : lowered.nodes()) {
      gp.addNode(node(n));
    }
    Set<String> io = new HashSet<>();
    lowered.inputs().forEach(v -> io.add(v.name()));
    lowered.outputs().forEach(v -> io.add(v.name()));
    for (Value v : lowered.values().values()) {
      if (!lowered.initializers().containsKey(v.name()) && v.shape().hasRank() && !io.contains(v.name())) {
        gp.addValueInfo(valueInfo(v, inputSymbols));
      }
    }
    OnnxMl.ModelProto model = OnnxMl.ModelProto.newBuilder()
        .setIrVersion(IR_VERSION)
        .setProducerName("vqclip")
        .setProducerVersion("0.1")
        .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(lowered.opset()))
        .setGraph(gp)
        .build();
    int size = model.getSerializedSize();
    if (size < 0 || size > maxProtoBytes) {
      throw new IllegalArgumentException("graph '" + g.name() + "' serializes to " + Integer.toUnsignedLong(size) + " bytes; a proto holds at most "
          + maxProtoBytes + " bytes even with " + external.size() + " initializers kept outside");
    }
    return new OnnxModel(model.toByteArray(), external);
  }

  static OnnxMl.TensorProto tensor(String name, Tensor t) {
    OnnxMl.TensorProto.Builder tp = OnnxMl.TensorProto.newBuilder().setName(name).setDataType(t.dtype().onnxCode());
    for (long d : t.shape()) {
      tp.addDims(d);
    }
    tp.setRawData(ByteString.copyFrom(t.data()));
    return tp.build();
  }

  /** A value's type; symbolic dims outside {@code symbols} (when not null) are left unnamed. */
  private static OnnxMl.ValueInfoProto valueInfo(Value v, java.util.Set<String> symbols) {
    OnnxMl.TypeProto.Tensor.Builder tt = OnnxMl.TypeProto.Tensor.newBuilder().setElemType(v.dtype().onnxCode());
    if (v.shape().hasRank()) {
      OnnxMl.TensorShapeProto.Builder sp = OnnxMl.TensorShapeProto.newBuilder();
      for (Dim d : v.shape().dims()) {
        OnnxMl.TensorShapeProto.Dimension.Builder db = OnnxMl.TensorShapeProto.Dimension.newBuilder();
        if (d.isStatic()) {
          db.setDimValue(d.size());
        } else if (symbols == null || symbols.contains(d.symbol())) {
          db.setDimParam(d.symbol());
        }
        sp.addDim(db);
      }
      tt.setShape(sp);
    }
    return OnnxMl.ValueInfoProto.newBuilder().setName(v.name()).setType(OnnxMl.TypeProto.newBuilder().setTensorType(tt)).build();
  }

  private static OnnxMl.NodeProto node(Node n) {
    OnnxMl.NodeProto.Builder nb = OnnxMl.NodeProto.newBuilder().setName(n.name()).setOpType(n.opType()).setDomain(n.domain());
    nb.addAllInput(n.inputs());
    nb.addAllOutput(n.outputs());
    for (Map.Entry<String, Attribute> e : n.attributes().entrySet()) {
      nb.addAttribute(attribute(e.getKey(), e.getValue()));
    }
    return nb.build();
  }

  private static OnnxMl.AttributeProto attribute(String name, Attribute a) {
    OnnxMl.AttributeProto.Builder ab = OnnxMl.AttributeProto.newBuilder().setName(name);
    switch (a.kind()) {
      case INT -> ab.setType(OnnxMl.AttributeProto.AttributeType.INT).setI(a.asInt());
      case FLOAT -> ab.setType(OnnxMl.AttributeProto.AttributeType.FLOAT).setF(a.asFloat());
      case STRING -> ab.setType(OnnxMl.AttributeProto.AttributeType.STRING).setS(ByteString.copyFromUtf8(a.asString()));
      case TENSOR -> ab.setType(OnnxMl.AttributeProto.AttributeType.TENSOR).setT(tensor("", a.asTensor()));
      case INTS -> {
        ab.setType(OnnxMl.AttributeProto.AttributeType.INTS);
        for (long v : a.asInts()) {
          ab.addInts(v);
        }
      }
      case FLOATS -> {
        ab.setType(OnnxMl.AttributeProto.AttributeType.FLOATS);
        for (float v : a.asFloats()) {
          ab.addFloats(v);
        }
      }
      case STRINGS -> {
        ab.setType(OnnxMl.AttributeProto.AttributeType.STRINGS);
        for (String s : a.asStrings()) {
          ab.addStrings(ByteString.copyFromUtf8(s));
        }
      }
    }
    return ab.build();
  }
}
