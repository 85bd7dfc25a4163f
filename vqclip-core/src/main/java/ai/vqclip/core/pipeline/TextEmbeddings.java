package ai.vqclip.core.pipeline;

import ai.vqclip.core.Encoder;
import ai.vqclip.core.Tensor;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * A pipeline's text embeddings by encoder and text, the least recently used dropped first when
 * more than {@link #SIZE} are held (a long-lived service sees unboundedly many texts). Thread-safe:
 * texts are embedded outside the lock, so other threads go on meanwhile.
 */
final class TextEmbeddings {
  /** How many text embeddings are kept. */
  static final int SIZE = 4096;

  private final List<Encoder> encoders;
  /** Guarded by itself; access order, so that the eldest entry is the least recently used. */
  private final LinkedHashMap<String, Tensor> cache = new LinkedHashMap<>(64, 0.75f, true);

  TextEmbeddings(List<Encoder> encoders) {
    this.encoders = encoders;
  }

  /** The embedding [1, D] of {@code text} by encoder {@code encoder}. */
  Tensor get(int encoder, String text) {
    String key = encoder + "\u0000" + text;
    synchronized (cache) {
      Tensor t = cache.get(key);
      if (t != null) {
        return t;
      }
    }
    // Two threads may embed one text at once, which gives the same tensor.
    Tensor t = encoders.get(encoder).embedText(text);
    synchronized (cache) {
      cache.put(key, t);
      if (cache.size() > SIZE) {
        cache.remove(cache.keySet().iterator().next());
      }
    }
    return t;
  }
}
