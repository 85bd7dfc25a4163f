package ai.vqclip.core;

import ai.vqclip.core.graph.Graph;

/**
 * A joint image-text embedding model (CLIP): a differentiable image fragment plus host-side text
 * and image embedding. Implementations own native resources: close them ({@code close()} is
 * idempotent and throws nothing).
 *
 * <p><b>Threads.</b> A loaded encoder is meant to be shared: implementations must allow every method
 * to be called from several threads at once (weights immutable and held once; caches of compiled
 * sessions safe under concurrent use), and {@link #releaseCaches()} or {@code close()} on one thread
 * must never free a session under a call running on another ({@link #embedText}, {@link
 * #embedImages}): that call completes, and a call that starts after {@code close()} fails with an
 * {@link IllegalStateException}. Everything per run lives in the run, not here. vqclip's own CLIP
 * encoder follows this contract.
 */
public interface Encoder extends AutoCloseable {
  /** Name of the image input of {@link #imageFragment}. */
  String IMAGES = "images";

  /** Name of the embedding output of {@link #imageFragment}. */
  String EMBEDDINGS = "embeddings";

  /**
   * Side of the square images the encoder takes (224 for ViT-B/32).
   *
   * @return the image side S in pixels
   */
  int inputResolution();

  /**
   * Embedding dimension.
   *
   * @return the embedding size D
   */
  int embeddingDim();

  /**
   * A fragment from {@link #IMAGES} [n, 3, S, S] with values in [0, 1] (normalised inside) to
   * {@link #EMBEDDINGS} [n, D] (not L2-normalised).
   *
   * @param batch number of images n, at least 1
   * @return a new graph fragment
   * @throws IllegalArgumentException for a batch the encoder cannot take
   */
  Graph imageFragment(int batch);

  /**
   * Name scopes of nodes in {@link #imageFragment} whose activations a memory-saving step may
   * recompute in the backward pass instead of keeping them (e.g. a transformer's blocks: only each
   * block's input is then kept). The default is none.
   *
   * @return the scope names; empty for none
   */
  default java.util.List<String> recomputeScopes() {
    return java.util.List.of();
  }

  /**
   * The embedding [1, D] of a text.
   *
   * @param text the prompt text
   * @return the embedding, float32 [1, D] (not L2-normalised)
   */
  Tensor embedText(String text);

  /**
   * The embeddings [n, D] of images [n, 3, S, S] in [0, 1].
   *
   * @param images float32 [n, 3, S, S], values in [0, 1]
   * @return the embeddings, float32 [n, D] (not L2-normalised)
   */
  Tensor embedImages(Tensor images);

  /**
   * Where this encoder came from, for run manifests (e.g. {@code file}, {@code sha256}, {@code
   * architecture}). The default names the implementation class only.
   *
   * @return key to value, in a stable order; never holds secrets or absolute paths
   */
  default java.util.Map<String, String> provenance() {
    return java.util.Map.of("class", getClass().getName());
  }

  /**
   * Frees what is kept only to be faster next time: compiled host-side sessions, each holding its
   * own runtime copy of the weights (hundreds of MB for full-size models). They are rebuilt on the
   * next call that needs them. {@link ai.vqclip.core.pipeline.Pipeline} calls this before its step
   * graph runs, whose session is the only one it needs then. Safe while other threads use the model:
   * a session in use is freed when its call returns. The default does nothing.
   */
  default void releaseCaches() {}

  @Override
  void close();
}
