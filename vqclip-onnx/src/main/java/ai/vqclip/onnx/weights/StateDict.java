package ai.vqclip.onnx.weights;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.DType;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Named tensors from a weight file (a PyTorch state dict, a safetensors file, ...), read lazily: a
 * tensor's bytes are read only when {@link #tensor} asks for it, so a checkpoint carrying optimizer
 * state costs only the tensors used. May hold a file mapping: close it.
 */
public interface StateDict extends AutoCloseable {
  /** The tensor names, in file order. */
  Set<String> keys();

  /**
   * Type and shape of a tensor, without reading its data.
   *
   * @throws IllegalArgumentException for an unknown key
   */
  TensorSpec spec(String key);

  /**
   * A tensor as stored (its own dtype).
   *
   * @throws IllegalArgumentException for an unknown key
   */
  Tensor tensor(String key);

  /** A tensor converted to float32 (from F16, BF16, F64 or F32). */
  default Tensor floatTensor(String key) {
    Tensor t = tensor(key);
    if (t.dtype() == DType.FLOAT) {
      return t;
    }
    if (!t.dtype().isFloating()) {
      throw new IllegalArgumentException("tensor '" + key + "' is " + t.dtype() + ", not a floating type");
    }
    return Tensor.fromDoubles(DType.FLOAT, t.shape(), t.toDoubles());
  }

  /** Whether a key exists. */
  default boolean contains(String key) {
    return keys().contains(key);
  }

  @Override
  void close();

  /** An in-memory state dict (tests, models built in code). */
  static StateDict of(Map<String, Tensor> tensors) {
    Map<String, Tensor> m = new LinkedHashMap<>(tensors);
    return new StateDict() {
      @Override
      public Set<String> keys() {
        return java.util.Collections.unmodifiableSet(m.keySet());
      }

      @Override
      public TensorSpec spec(String key) {
        Tensor t = tensor(key);
        return new TensorSpec(t.dtype(), t.shape());
      }

      @Override
      public Tensor tensor(String key) {
        Tensor t = m.get(key);
        if (t == null) {
          throw new IllegalArgumentException("no tensor named '" + key + "'");
        }
        return t;
      }

      @Override
      public void close() {}
    };
  }
}
