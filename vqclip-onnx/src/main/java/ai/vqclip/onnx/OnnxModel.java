package ai.vqclip.onnx;

import ai.vqclip.core.Tensor;
import java.util.Map;

/**
 * An exported ONNX model: the ModelProto bytes and the initializers kept outside them (declared
 * EXTERNAL in the proto and handed to ONNX Runtime from memory), which is how graphs whose weights
 * exceed protobuf's 2 GB limit are run.
 *
 * @param bytes serialized ModelProto
 * @param externalInitializers initializers referenced but not stored in {@code bytes}
 */
public record OnnxModel(byte[] bytes, Map<String, Tensor> externalInitializers) {
  /**
   * Copies the external initializer map.
   *
   * @param bytes serialized ModelProto
   * @param externalInitializers initializers referenced but not stored in {@code bytes} (not null)
   */
  public OnnxModel {
    externalInitializers = Map.copyOf(externalInitializers);
  }
}
