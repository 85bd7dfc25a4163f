package ai.vqclip.onnx.weights;

import ai.vqclip.core.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Named tensors from a weight file (a PyTorch state dict, a safetensors file, ...), read lazily: a
 * tensor's bytes are read only when {@link #tensor} asks for it, so a checkpoint carrying optimizer
 * state costs only the tensors used. May hold a file mapping: close it.
 */
public interface StateDict extends AutoCloseable {
  /**
   * The tensor names, in file order.
   *
   * @return the tensor names (unmodifiable)
   */
  Set<String> keys();

  /**
   * Type and shape of a tensor, without reading its data.
   *
   * @param key a tensor name
   * @return its stored type and shape
   * @throws IllegalArgumentException for an unknown key
   */
  TensorSpec spec(String key);

  /**
   * A tensor as stored (its own dtype).
   *
   * @param key a tensor name
   * @return the tensor in its stored dtype (read from the file on each call unless cached by the
   *     implementation)
   * @throws IllegalArgumentException for an unknown key
   */
  Tensor tensor(String key);

  /**
   * Checks that the file holds tensor {@code key}'s bytes (its storage exists and is as long as its
   * view needs) without reading them, as {@link #tensor} would find out only when reading. Formats
   * whose offsets are checked when the file is opened (safetensors) have nothing left to check.
   *
   * @param key a tensor name
   * @throws ai.vqclip.core.ModelLoadException naming the tensor and what is missing
   * @throws IllegalArgumentException for an unknown key
   */
  default void checkStorage(String key) {
    spec(key);
  }

  /**
   * A tensor converted to float32 (from F16 and BF16 exactly, from F64 rounded, F32 as is).
   *
   * @param key a tensor name
   * @return the tensor as float32
   * @throws IllegalArgumentException for an unknown key or a non-floating tensor
   */
  default Tensor floatTensor(String key) {
    return FloatConversion.toFloat(tensor(key), key);
  }

  /**
   * Whether a key exists.
   *
   * @param key a tensor name
   * @return true when the state dict holds it
   */
  default boolean contains(String key) {
    return keys().contains(key);
  }

  /**
   * Free-form string metadata stored with the tensors (safetensors {@code __metadata__}); empty if
   * none.
   *
   * @return metadata key to value (unmodifiable)
   */
  default Map<String, String> metadata() {
    return Map.of();
  }

  /**
   * A view holding only the keys {@code keep} accepts, in the same order (for example to drop a
   * checkpoint's {@code loss.*} tensors). Closing the view closes this state dict.
   *
   * @param keep accepts the keys to keep
   * @return a view over this state dict
   */
  default StateDict filter(Predicate<String> keep) {
    return new StateDictView(this, keep, "");
  }

  /**
   * A view holding the keys that start with {@code prefix}, with the prefix removed ({@code
   * stripPrefix("model.")} turns {@code model.conv.weight} into {@code conv.weight}). Closing the view
   * closes this state dict.
   *
   * @param prefix the key prefix to select and remove, e.g. {@code "model."}
   * @return a view over this state dict
   */
  default StateDict stripPrefix(String prefix) {
    return new StateDictView(this, k -> k.startsWith(prefix), prefix);
  }

  @Override
  void close();

  /**
   * An in-memory state dict (tests, models built in code).
   *
   * @param tensors name to tensor (copied, in iteration order)
   * @return a state dict over the given tensors; closing it does nothing
   */
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
