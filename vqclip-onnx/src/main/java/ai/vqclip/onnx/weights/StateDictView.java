package ai.vqclip.onnx.weights;

import ai.vqclip.core.Tensor;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/** A filtered, optionally prefix-stripped view of another state dict. */
final class StateDictView implements StateDict {
  private final StateDict base;
  private final String prefix;
  /** View key to base key, in base order. */
  private final Map<String, String> keys = new LinkedHashMap<>();

  StateDictView(StateDict base, Predicate<String> keep, String prefix) {
    this.base = base;
    this.prefix = prefix;
    for (String k : base.keys()) {
      if (keep.test(k)) {
        keys.put(k.substring(prefix.length()), k);
      }
    }
  }

  private String baseKey(String key) {
    String k = keys.get(key);
    if (k == null) {
      throw new IllegalArgumentException(
          "no tensor named '" + key + "'" + (prefix.isEmpty() ? "" : " (after stripping prefix '" + prefix + "')"));
    }
    return k;
  }

  @Override
  public Set<String> keys() {
    return Collections.unmodifiableSet(keys.keySet());
  }

  @Override
  public TensorSpec spec(String key) {
    return base.spec(baseKey(key));
  }

  @Override
  public Tensor tensor(String key) {
    return base.tensor(baseKey(key));
  }

  @Override
  public void checkStorage(String key) {
    base.checkStorage(baseKey(key));
  }

  @Override
  public Tensor floatTensor(String key) {
    return base.floatTensor(baseKey(key));
  }

  @Override
  public Map<String, String> metadata() {
    return base.metadata();
  }

  @Override
  public void close() {
    base.close();
  }
}
