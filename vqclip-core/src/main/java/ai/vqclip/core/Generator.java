package ai.vqclip.core;

import ai.vqclip.core.graph.Graph;

/**
 * An image generator whose synthesis is differentiable: a latent {@code z} [1, C, h, w] becomes an
 * image [1, 3, H, W] with values in [0, 1]. It contributes graph fragments to the fused step graph
 * and offers host-side helpers for initialisation. Implementations own native resources: close
 * them ({@code close()} is idempotent and throws nothing).
 *
 * <p><b>Threads.</b> A loaded generator is meant to be shared: implementations must allow every method
 * to be called from several threads at once (weights immutable and held once; caches of compiled
 * sessions safe under concurrent use), and {@link #releaseCaches()} or {@code close()} on one thread
 * must never free a session under a call running on another ({@link #encode}, {@link #decode}): that call completes, and
 * a call that starts after {@code close()} fails with an {@link IllegalStateException}. Everything
 * per run (latent, optimizer state, random streams) lives in the run, not here. vqclip's own models
 * (VQGAN, CLIP) follow this contract.
 */
public interface Generator extends AutoCloseable {
  /** Name of the latent input of {@link #synthesisFragment}. */
  String LATENT = "z";

  /** Name of the image output of {@link #synthesisFragment}. */
  String IMAGE = "image";

  /**
   * The latent shape [1, C, h, w] for an output image of {@code width} x {@code height}.
   *
   * @param width output image width in pixels
   * @param height output image height in pixels
   * @return the latent shape, 4 values
   * @throws IllegalArgumentException for a size the generator cannot produce (message says which sizes are allowed)
   */
  long[] latentShape(int width, int height);

  /**
   * A fragment from {@link #LATENT} [1, C, h, w] to {@link #IMAGE} [1, 3, H, W] in [0, 1]: the
   * synthesis including any quantisation (with a straight-through gradient) and the final clamp
   * (with clamp-with-gradient).
   *
   * @param width output image width in pixels
   * @param height output image height in pixels
   * @return a new graph fragment
   * @throws IllegalArgumentException for a size the generator cannot produce
   */
  Graph synthesisFragment(int width, int height);

  /**
   * Whether {@link #synthesisFragment(int, int, int)} takes batches larger than 1 (batched steps
   * of several runs, {@link ai.vqclip.core.pipeline.StepBatch}). The default is false.
   *
   * @return true when batches larger than 1 are supported
   */
  default boolean supportsBatchedSynthesis() {
    return false;
  }

  /**
   * The synthesis of {@code batch} latents at once: {@link #LATENT} [batch, C, h, w] to {@link
   * #IMAGE} [batch, 3, H, W], each image exactly what {@link #synthesisFragment(int, int)} makes of
   * its own latent (the same ops per image, so the same pixels where the runtime's kernels work per
   * image). The default supports batch 1 only.
   *
   * @param batch number of latents, at least 1
   * @param width output image width in pixels
   * @param height output image height in pixels
   * @return a new graph fragment
   * @throws UnsupportedOperationException for batch > 1 when {@link #supportsBatchedSynthesis()} is false
   */
  default Graph synthesisFragment(int batch, int width, int height) {
    if (batch == 1) {
      return synthesisFragment(width, height);
    }
    throw new UnsupportedOperationException(getClass().getName() + " does not synthesize batches (batch " + batch + " asked)");
  }

  /**
   * Name scopes of nodes in {@link #synthesisFragment} (for that size) whose activations are large
   * and cheap to recompute: a memory-saving step recomputes each in the backward pass instead of
   * keeping its activations ({@link ai.vqclip.core.autodiff.GradientRequest#recompute()}). The
   * default is none.
   *
   * @param width output image width in pixels
   * @param height output image height in pixels
   * @return the scope names; empty for none
   */
  default java.util.List<String> recomputeScopes(int width, int height) {
    return java.util.List.of();
  }

  /**
   * A random initial latent for that size, from {@code seed} (bit-identical for the same seed).
   *
   * @param width output image width in pixels
   * @param height output image height in pixels
   * @param seed the seed of the draw
   * @return a new latent of shape {@link #latentShape(int, int)}
   */
  Tensor randomLatent(int width, int height, long seed);

  /**
   * The latent of an image [1, 3, H, W] in [0, 1] (for editing and init images).
   *
   * @param image the image, float32 [1, 3, H, W], values in [0, 1]
   * @return its latent, float32 [1, C, h, w]
   */
  Tensor encode(Tensor image);

  /**
   * The image [1, 3, H, W] in [0, 1] of a latent.
   *
   * @param latent a latent, float32 [1, C, h, w]
   * @return the image, float32 [1, 3, H, W], values in [0, 1]
   */
  Tensor decode(Tensor latent);

  /**
   * The image of a latent for an output of {@code width} x {@code height}: what the pipeline calls
   * for a run's final image. Override it when the latent alone does not fix the size (a generator
   * that renders one latent at several sizes); the default decodes and checks the size.
   *
   * @param latent a latent, float32 [1, C, h, w]
   * @param width expected image width in pixels
   * @param height expected image height in pixels
   * @return the image, float32 [1, 3, height, width], values in [0, 1]
   * @throws IllegalStateException when {@link #decode(Tensor)} returns another size
   */
  default Tensor decode(Tensor latent, int width, int height) {
    Tensor image = decode(latent);
    long[] s = image.shape();
    if (s.length != 4 || s[2] != height || s[3] != width) {
      throw new IllegalStateException(getClass().getSimpleName() + ".decode gave an image of shape " + java.util.Arrays.toString(s)
          + " for a " + width + "x" + height + " run; override decode(latent, width, height) for a generator whose latent does not fix its size");
    }
    return image;
  }

  /**
   * Per-channel lower and upper bounds of the latent, each [1, C, 1, 1]: the optimizer clamps z to
   * this box after every step.
   *
   * @return {lower, upper}, each float32 [1, C, 1, 1]
   */
  Tensor[] latentBounds();

  /**
   * Where this generator came from, for run manifests (e.g. {@code file}, {@code sha256}, {@code
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
