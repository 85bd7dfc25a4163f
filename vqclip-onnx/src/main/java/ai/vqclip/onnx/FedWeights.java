package ai.vqclip.onnx;

import ai.onnx.proto.OnnxMl;
import ai.vqclip.core.Tensor;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Turns the large weights that only matrix products read into graph inputs, fed on every run from
 * the caller's own buffers, so that ONNX Runtime keeps no copy of them.
 *
 * <p>Why: ONNX Runtime copies every initializer it is given (also those handed over from memory
 * with {@code addExternalInitializers}) or prepacks it into a buffer of its own, and a shared
 * initializer ({@code addInitializer}) still needs the data inside the proto. A graph input is read
 * in place. For CLIP ViT-B/32's image tower that is 0.34 GB less per session. The price: such a
 * weight is not prepacked, so each Gemm packs it as it goes, and nothing is constant-folded from
 * it, which is why only weights whose every reader is a Gemm or MatMul qualify (no Conv: its NCHWc
 * form is made once from a constant weight). Results are not bit-identical to the prepacked
 * session's (another GEMM path), but identical from run to run.
 */
public final class FedWeights {
  private FedWeights() {}

  /** The ops that may read a fed weight. */
  private static final Set<String> READERS = Set.of("Gemm", "MatMul");

  /**
   * A model whose qualifying weights are inputs, and those weights by input name.
   *
   * @param model the rewritten model (its external initializers no longer include the fed ones)
   * @param fed the weights to feed on every run, by input name
   */
  public record Split(OnnxModel model, Map<String, Tensor> fed) {}

  /**
   * Moves every external initializer of {@code model} that only Gemm and MatMul nodes read into
   * the graph's inputs.
   *
   * @param model an exported model with external initializers ({@link OnnxExport#export})
   * @return the rewritten model and the weights to feed; the model unchanged and no weights when none qualifies
   * @throws IllegalArgumentException when the model's bytes are not an ONNX model
   */
  public static Split split(OnnxModel model) {
    if (model.externalInitializers().isEmpty()) {
      return new Split(model, Map.of());
    }
    OnnxMl.ModelProto proto;
    try {
      proto = OnnxMl.ModelProto.parseFrom(model.bytes());
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new IllegalArgumentException("model bytes are not an ONNX model: " + e.getMessage(), e);
    }
    Map<String, Boolean> onlyProducts = new HashMap<>();
    for (OnnxMl.NodeProto n : proto.getGraph().getNodeList()) {
      boolean product = n.getDomain().isEmpty() && READERS.contains(n.getOpType());
      for (String in : n.getInputList()) {
        if (model.externalInitializers().containsKey(in)) {
          onlyProducts.merge(in, product, Boolean::logicalAnd);
        }
      }
    }
    Set<String> fedNames = new HashSet<>();
    onlyProducts.forEach((k, v) -> {
      if (v) {
        fedNames.add(k);
      }
    });
    if (fedNames.isEmpty()) {
      return new Split(model, Map.of());
    }
    OnnxMl.GraphProto.Builder g = proto.getGraph().toBuilder();
    g.clearInitializer();
    Map<String, Tensor> fed = new LinkedHashMap<>();
    for (OnnxMl.TensorProto t : proto.getGraph().getInitializerList()) {
      if (!fedNames.contains(t.getName())) {
        g.addInitializer(t);
        continue;
      }
      OnnxMl.TensorShapeProto.Builder shape = OnnxMl.TensorShapeProto.newBuilder();
      for (long d : t.getDimsList()) {
        shape.addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimValue(d));
      }
      g.addInput(OnnxMl.ValueInfoProto.newBuilder().setName(t.getName()).setType(OnnxMl.TypeProto.newBuilder()
          .setTensorType(OnnxMl.TypeProto.Tensor.newBuilder().setElemType(t.getDataType()).setShape(shape))));
      fed.put(t.getName(), model.externalInitializers().get(t.getName()));
    }
    Map<String, Tensor> rest = new LinkedHashMap<>(model.externalInitializers());
    rest.keySet().removeAll(fedNames);
    return new Split(new OnnxModel(proto.toBuilder().setGraph(g).build().toByteArray(), rest), fed);
  }
}
