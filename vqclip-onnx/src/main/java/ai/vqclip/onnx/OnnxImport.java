package ai.vqclip.onnx;

import ai.onnx.proto.OnnxMl;
import ai.vqclip.core.ModelLoadException;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.Attribute;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Dim;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Node;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Specialize;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads ONNX models (untrusted input) into vqclip graphs, so a user's exported forward graph becomes
 * differentiable. Every size read from the file is bounded; anything malformed or unsupported is a
 * {@link ModelLoadException} that says what was found and what is accepted.
 */
public final class OnnxImport {
  /** Largest model accepted from bytes (protobuf's own limit). */
  public static final long MAX_MODEL_BYTES = Integer.MAX_VALUE;

  /** Lowest default-domain opset accepted (older forms are upgraded on import, see {@link OpsetUpgrade}). */
  public static final int MIN_OPSET = 7;

  /** Highest default-domain opset accepted (ONNX Runtime 1.29 rejects 27). */
  public static final int MAX_OPSET = 26;

  /** Highest tensor rank accepted (ONNX Runtime's own limit is far above what models use). */
  public static final int MAX_RANK = 64;

  private OnnxImport() {}

  /**
   * Reads a model from bytes (external data is not allowed: there is no directory to resolve it).
   *
   * @param bytes a serialized ModelProto
   * @return the model's main graph, with its symbolic dimensions as they are
   * @throws ai.vqclip.core.ModelLoadException when the bytes are not a valid model vqclip can read,
   *     or refer to external data
   */
  public static Graph fromBytes(byte[] bytes) {
    return fromProto(parse(bytes, "ONNX bytes"), null, "ONNX bytes");
  }

  /**
   * Reads a model file and specializes it ({@link Specialize}): each named symbolic input dimension
   * (for example {@code "batch" -> 1}) gets its size, then shape arithmetic and constant
   * computations are folded so every value has a static shape, as differentiation needs.
   *
   * <p>Initializers that are to be differentiated (weights, embeddings) should be specialized
   * with {@link Specialize#apply(Graph, Map, java.util.Set)} on {@link #fromFile(Path)}'s result
   * instead, so that nothing computed from them is folded into a constant.
   *
   * @param path the ONNX file; external data is resolved in its directory
   * @param dimSizes size of each named symbolic input dimension, e.g. {@code "batch" -> 1}
   * @return the graph with static shapes everywhere
   * @throws ModelLoadException also when a dimension is left symbolic or a value cannot be made static
   */
  public static Graph fromFile(Path path, Map<String, Long> dimSizes) {
    return specialize(fromFile(path), dimSizes, path.toString());
  }

  /**
   * Reads a model from bytes and specializes it, as {@link #fromFile(Path, Map)}.
   *
   * @param bytes a serialized ModelProto without external data
   * @param dimSizes size of each named symbolic input dimension, e.g. {@code "batch" -> 1}
   * @return the graph with static shapes everywhere
   * @throws ai.vqclip.core.ModelLoadException when the model cannot be read or made static
   */
  public static Graph fromBytes(byte[] bytes, Map<String, Long> dimSizes) {
    return specialize(fromBytes(bytes), dimSizes, "ONNX bytes");
  }

  private static Graph specialize(Graph g, Map<String, Long> dimSizes, String source) {
    try {
      return Specialize.apply(g, dimSizes);
    } catch (IllegalArgumentException | IllegalStateException | ArithmeticException e) {
      throw new ModelLoadException(source + ": cannot specialize: " + e.getMessage(), e);
    }
  }

  /**
   * Reads a model file; external data is resolved inside the file's directory only.
   *
   * @param path the ONNX file, at most {@code MAX_MODEL_BYTES} bytes
   * @return the model's main graph, with its symbolic dimensions as they are
   * @throws ai.vqclip.core.ModelLoadException when the file cannot be read, is too big, is not a
   *     valid model or its external data is missing, too big or outside the file's directory
   */
  public static Graph fromFile(Path path) {
    long size;
    try {
      size = Files.size(path);
    } catch (IOException e) {
      throw new ModelLoadException("cannot read ONNX file " + path + ": " + e.getMessage(), e);
    }
    if (size > MAX_MODEL_BYTES) {
      throw new ModelLoadException("ONNX file " + path + " is " + size + " bytes; at most " + MAX_MODEL_BYTES
          + " are accepted (keep weights in external data files)");
    }
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(path);
    } catch (IOException e) {
      throw new ModelLoadException("cannot read ONNX file " + path + ": " + e.getMessage(), e);
    }
    Path dir = path.toAbsolutePath().getParent();
    return fromProto(parse(bytes, path.toString()), dir, path.toString());
  }

  private static OnnxMl.ModelProto parse(byte[] bytes, String source) {
    if (bytes == null || bytes.length == 0) {
      throw new ModelLoadException(source + " is empty; expected a serialized ONNX ModelProto");
    }
    try {
      CodedInputStream in = CodedInputStream.newInstance(bytes);
      in.setSizeLimit(Integer.MAX_VALUE);
      in.setRecursionLimit(64);
      OnnxMl.ModelProto m = OnnxMl.ModelProto.parseFrom(in);
      in.checkLastTagWas(0);
      if (!m.hasGraph()) {
        throw new ModelLoadException(source + " is not an ONNX model: it has no graph (" + bytes.length + " bytes)");
      }
      return m;
    } catch (InvalidProtocolBufferException e) {
      throw new ModelLoadException(source + " is not a valid ONNX model (" + bytes.length + " bytes, truncated or garbage): " + e.getMessage(), e);
    } catch (IOException e) {
      throw new ModelLoadException("cannot parse " + source + ": " + e.getMessage(), e);
    }
  }

  private static Graph fromProto(OnnxMl.ModelProto m, Path dir, String source) {
    int opset = -1;
    for (OnnxMl.OperatorSetIdProto o : m.getOpsetImportList()) {
      if (o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx")) {
        opset = (int) Math.min(Integer.MAX_VALUE, o.getVersion());
      }
    }
    if (opset < MIN_OPSET || opset > MAX_OPSET) {
      throw new ModelLoadException(source + ": default-domain opset " + (opset < 0 ? "missing" : opset) + " is not supported; accepted: "
          + MIN_OPSET + " to " + MAX_OPSET);
    }
    OnnxMl.GraphProto gp = m.getGraph();
    // Models older than vqclip's opset are upgraded to it (see node()): the graph then follows
    // opset-18 semantics, so its export, shape inference and VJP rules all see one form.
    int graphOpset = Math.max(opset, Graph.OPSET);
    GraphBuilder b = new GraphBuilder(gp.getName().isEmpty() ? "imported" : gp.getName()).opset(graphOpset);
    Set<String> initNames = new java.util.HashSet<>();
    try {
      for (OnnxMl.TensorProto t : gp.getInitializerList()) {
        b.initializer(t.getName(), tensor(t, dir, source));
        initNames.add(t.getName());
      }
      for (OnnxMl.ValueInfoProto vi : gp.getInputList()) {
        if (initNames.contains(vi.getName())) {
          continue; // old exporters list initializers as inputs too
        }
        if (!vi.getType().hasTensorType()) {
          throw new ModelLoadException(source + ": input '" + vi.getName() + "' is not a tensor; only tensor inputs are supported");
        }
        OnnxMl.TypeProto.Tensor tt = vi.getType().getTensorType();
        b.input(vi.getName(), dtype(tt.getElemType(), "input '" + vi.getName() + "'", source), shape(tt));
      }
      OpsetUpgrade upgrade = new OpsetUpgrade(opset, b, source);
      for (OnnxMl.NodeProto np : gp.getNodeList()) {
        for (Node n : node(np, upgrade, b, source)) {
          b.addNamedNode(n);
        }
      }
      for (OnnxMl.ValueInfoProto vi : gp.getOutputList()) {
        if (!b.hasValue(vi.getName())) {
          throw new ModelLoadException(source + ": output '" + vi.getName() + "' is not produced by any node");
        }
        b.output(b.value(vi.getName()));
      }
      return b.build();
    } catch (ModelLoadException e) {
      throw e;
    } catch (IllegalArgumentException | IllegalStateException | ArithmeticException e) {
      throw new ModelLoadException(source + ": invalid graph: " + e.getMessage(), e);
    }
  }

  private static List<Node> node(OnnxMl.NodeProto np, OpsetUpgrade upgrade, GraphBuilder b, String source) {
    String domain = np.getDomain().equals("ai.onnx") ? "" : np.getDomain();
    if (!domain.isEmpty() && !domain.equals(Graph.VQCLIP_DOMAIN)) {
      throw new ModelLoadException(source + ": node '" + np.getName() + "' uses op " + np.getOpType() + " from domain '" + domain
          + "'; only the default ONNX domain is supported");
    }
    Map<String, Attribute> attrs = new LinkedHashMap<>();
    for (OnnxMl.AttributeProto a : np.getAttributeList()) {
      attrs.put(a.getName(), attribute(a, np, source));
    }
    String op = np.getOpType();
    // Node names are optional and need not be unique in ONNX; vqclip's graphs need unique ones.
    String name = b.freshName(np.getName().isEmpty() ? op : np.getName());
    // Older forms are rewritten into the opset-18 form, so export, shape inference and VJP rules all see one form.
    return upgrade.upgrade(name, op, domain, np.getInputList(), np.getOutputList(), attrs);
  }

  private static Attribute attribute(OnnxMl.AttributeProto a, OnnxMl.NodeProto np, String source) {
    return switch (a.getType()) {
      case INT -> Attribute.of(a.getI());
      case FLOAT -> Attribute.of(a.getF());
      case STRING -> Attribute.of(a.getS().toStringUtf8());
      case INTS -> Attribute.ints(a.getIntsList().stream().mapToLong(Long::longValue).toArray());
      case FLOATS -> {
        float[] f = new float[a.getFloatsCount()];
        for (int i = 0; i < f.length; i++) {
          f[i] = a.getFloats(i);
        }
        yield Attribute.floats(f);
      }
      case STRINGS -> Attribute.strings(a.getStringsList().stream().map(com.google.protobuf.ByteString::toStringUtf8).toList());
      case TENSOR -> Attribute.of(tensor(a.getT(), null, source));
      default -> throw new ModelLoadException(source + ": node '" + np.getName() + "' (" + np.getOpType() + ") attribute '" + a.getName()
          + "' has type " + a.getType() + "; supported: INT, FLOAT, STRING, INTS, FLOATS, STRINGS, TENSOR (no subgraphs)");
    };
  }

  private static DType dtype(int code, String what, String source) {
    try {
      return DType.fromOnnx(code);
    } catch (IllegalArgumentException e) {
      throw new ModelLoadException(source + ": " + what + " has " + e.getMessage(), e);
    }
  }

  private static Shape shape(OnnxMl.TypeProto.Tensor tt) {
    if (!tt.hasShape()) {
      return Shape.UNKNOWN;
    }
    List<Dim> dims = new ArrayList<>();
    int k = 0;
    for (OnnxMl.TensorShapeProto.Dimension d : tt.getShape().getDimList()) {
      if (d.hasDimValue() && d.getDimValue() >= 0) {
        dims.add(Dim.of(d.getDimValue()));
      } else if (d.hasDimParam() && !d.getDimParam().isEmpty()) {
        dims.add(Dim.symbol(d.getDimParam()));
      } else {
        dims.add(Dim.symbol("unk" + k));
      }
      k++;
    }
    return Shape.of(dims);
  }

  /** Decodes a TensorProto, bounding every size by the data actually present. */
  static Tensor tensor(OnnxMl.TensorProto t, Path dir, String source) {
    String what = "tensor '" + t.getName() + "'";
    DType dt = dtype(t.getDataType(), what, source);
    if (t.getDimsCount() > MAX_RANK) {
      throw new ModelLoadException(source + ": " + what + " has rank " + t.getDimsCount() + "; at most " + MAX_RANK + " is accepted");
    }
    long[] shape = t.getDimsList().stream().mapToLong(Long::longValue).toArray();
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new ModelLoadException(source + ": " + what + " has negative dimension in " + java.util.Arrays.toString(shape));
      }
      if (d == 0) {
        n = 0;
      }
    }
    if (n != 0) {
      // Divide instead of multiply so a product that would overflow a long is caught too.
      for (long d : shape) {
        if (n > Tensor.MAX_ELEMENTS / d) {
          throw new ModelLoadException(source + ": " + what + " shape " + java.util.Arrays.toString(shape) + " has more than "
              + Tensor.MAX_ELEMENTS + " elements, the most a tensor may hold");
        }
        n *= d;
      }
    }
    long bytes = n * dt.byteSize();
    if (t.getDataLocation() == OnnxMl.TensorProto.DataLocation.EXTERNAL) {
      return external(t, dt, shape, bytes, dir, source);
    }
    if (!t.getRawData().isEmpty() || n == 0) {
      if (t.getRawData().size() != bytes) {
        throw new ModelLoadException(source + ": " + what + " raw data has " + t.getRawData().size() + " bytes, shape "
            + java.util.Arrays.toString(shape) + " of " + dt + " needs " + bytes);
      }
      return Tensor.wrap(dt, shape, t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN));
    }
    double[] vals;
    switch (dt) {
      case FLOAT -> {
        vals = new double[t.getFloatDataCount()];
        for (int i = 0; i < vals.length; i++) {
          vals[i] = t.getFloatData(i);
        }
      }
      case DOUBLE -> vals = t.getDoubleDataList().stream().mapToDouble(Double::doubleValue).toArray();
      case INT64 -> {
        if (t.getInt64DataCount() != n) {
          throw countMismatch(source, what, t.getInt64DataCount(), n);
        }
        return Tensor.ofLongs(shape, t.getInt64DataList().stream().mapToLong(Long::longValue).toArray());
      }
      case INT32, INT8, UINT8, BOOL -> vals = t.getInt32DataList().stream().mapToDouble(Integer::doubleValue).toArray();
      default -> throw new ModelLoadException(source + ": " + what + " of " + dt + " must use raw_data");
    }
    if (vals.length != n) {
      throw countMismatch(source, what, vals.length, n);
    }
    return Tensor.fromDoubles(dt, shape, vals);
  }

  private static ModelLoadException countMismatch(String source, String what, long found, long needed) {
    return new ModelLoadException(source + ": " + what + " has " + found + " values, its shape needs " + needed);
  }

  private static Tensor external(OnnxMl.TensorProto t, DType dt, long[] shape, long bytes, Path dir, String source) {
    String what = "tensor '" + t.getName() + "'";
    if (dir == null) {
      throw new ModelLoadException(source + ": " + what + " uses external data; load the model with OnnxImport.fromFile so it can be resolved");
    }
    Map<String, String> kv = new LinkedHashMap<>();
    for (OnnxMl.StringStringEntryProto e : t.getExternalDataList()) {
      kv.put(e.getKey(), e.getValue());
    }
    String loc = kv.get("location");
    if (loc == null) {
      throw new ModelLoadException(source + ": " + what + " external data has no location");
    }
    Path base = dir.toAbsolutePath().normalize();
    Path file;
    try {
      file = base.resolve(loc).normalize();
    } catch (java.nio.file.InvalidPathException e) {
      throw new ModelLoadException(source + ": " + what + " external data location '" + loc + "' is not a valid path", e);
    }
    if (loc.isEmpty() || !file.startsWith(base) || file.equals(base)) {
      throw new ModelLoadException(source + ": " + what + " external data location '" + loc + "' leaves the model's directory " + base);
    }
    try {
      // A symbolic link inside the directory could still point outside it.
      if (Files.exists(file) && !file.toRealPath().startsWith(base.toRealPath())) {
        throw new ModelLoadException(source + ": " + what + " external data location '" + loc + "' resolves outside the model's directory "
            + base + " (through a link)");
      }
    } catch (IOException e) {
      throw new ModelLoadException(source + ": cannot resolve external data " + file + " for " + what + ": " + e.getMessage(), e);
    }
    long offset;
    long length;
    try {
      offset = Long.parseLong(kv.getOrDefault("offset", "0"));
      length = Long.parseLong(kv.getOrDefault("length", Long.toString(bytes)));
    } catch (NumberFormatException e) {
      throw new ModelLoadException(source + ": " + what + " external data offset/length are not numbers: " + kv, e);
    }
    if (length != bytes || offset < 0) {
      throw new ModelLoadException(source + ": " + what + " external data length " + length + " at offset " + offset + " does not fit shape "
          + java.util.Arrays.toString(shape) + " of " + dt + " (" + bytes + " bytes)");
    }
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      if (offset > ch.size() - length) {
        throw new ModelLoadException(source + ": " + what + " external data [" + offset + ", " + (offset + length) + ") lies beyond the end of "
            + file + " (" + ch.size() + " bytes)");
      }
      ByteBuffer buf = ch.map(FileChannel.MapMode.READ_ONLY, offset, length).order(ByteOrder.LITTLE_ENDIAN);
      return Tensor.wrap(dt, shape, buf);
    } catch (IOException e) {
      throw new ModelLoadException(source + ": cannot read external data " + file + " for " + what + ": " + e.getMessage(), e);
    }
  }
}
