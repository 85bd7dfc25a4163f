package ai.vqclip.onnx.clip;

import ai.vqclip.core.Encoder;
import ai.vqclip.core.ModelLoadException;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.onnx.ExecutableCache;
import ai.vqclip.onnx.OrtExecutable;
import ai.vqclip.onnx.weights.StateDict;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;

/**
 * A CLIP model (ViT, or OpenAI's ResNet) built from its weights (OpenAI or Hugging Face names) as an {@link Encoder}: the
 * differentiable image fragment for the generation graph, and host-side text and image embedding
 * on ONNX Runtime. The text graph is compiled on first use and cached; image graphs are cached for
 * the last {@value #CACHED_IMAGE_BATCHES} batch sizes. {@link #close()} is
 * idempotent. The state dict stays the caller's: tensors are read from it while graphs are built.
 *
 * <p><b>Threads.</b> Safe to share between threads: the weights are immutable and held once, the
 * compiled graphs live in concurrent caches ({@link ExecutableCache}), and {@link #releaseCaches()},
 * eviction or {@link #close()} never free a session under a running {@link #embedText} or {@link
 * #embedImages} on another thread (it finishes; the session is freed as it returns). A call after
 * {@link #close()} fails with an {@link IllegalStateException}.
 */
public final class ClipEncoder implements Encoder {
  /** Image executables kept (one per batch size). */
  public static final int CACHED_IMAGE_BATCHES = 2;

  private final ClipConfig config;
  private final ClipGraphs graphs;
  private final TextTokenizer tokenizer;
  private final ExecutionOptions options;
  private final ExecutableCache<Integer> text = new ExecutableCache<>("CLIP encoder", 0);
  private final ExecutableCache<Integer> images = new ExecutableCache<>("CLIP encoder", CACHED_IMAGE_BATCHES);
  private volatile boolean closed;

  private ClipEncoder(ClipConfig config, ClipWeights weights, TextTokenizer tokenizer, ExecutionOptions options) {
    this.config = config;
    this.graphs = new ClipGraphs(config, weights);
    this.tokenizer = tokenizer;
    this.options = options;
  }

  /**
   * Loads a CLIP (ViT or ResNet), inferring its architecture from the weights' shapes as OpenAI does (heads =
   * width / 64).
   *
   * @param weights OpenAI or Hugging Face named tensors (any floating type; converted to float32)
   * @param tokenizer turns texts into ids for {@link #embedText}; null for an image-only encoder
   * @param options where and how the host-side graphs run
   * @return an open encoder; close it to free its cached sessions
   * @throws ModelLoadException for weights that are not a CLIP, or that miss tensors, have
   *     unexpected ones, or have wrong shapes (all reported together)
   */
  public static ClipEncoder load(StateDict weights, TextTokenizer tokenizer, ExecutionOptions options) {
    ClipWeights w = ClipWeights.of(weights);
    return create(ClipConfig.infer(w, ClipConfig.OPENAI_HEAD_DIM), w, tokenizer, options);
  }

  /**
   * Loads a CLIP of a given architecture (e.g. one whose head width is not 64).
   *
   * @param weights OpenAI or Hugging Face named tensors (any floating type; converted to float32)
   * @param config the architecture the weights must fit
   * @param tokenizer turns texts into ids for {@link #embedText}; null for an image-only encoder
   * @param options where and how the host-side graphs run
   * @return an open encoder; close it to free its cached sessions
   * @throws ModelLoadException when the weights do not fit {@code config} (every problem listed)
   */
  public static ClipEncoder load(StateDict weights, ClipConfig config, TextTokenizer tokenizer, ExecutionOptions options) {
    return create(Objects.requireNonNull(config, "config"), ClipWeights.of(weights), tokenizer, options);
  }

  private static ClipEncoder create(ClipConfig config, ClipWeights w, TextTokenizer tokenizer, ExecutionOptions options) {
    Objects.requireNonNull(options, "options");
    w.validate(config);
    return new ClipEncoder(config, w, tokenizer, options);
  }

  /**
   * The architecture.
   *
   * @return the architecture this encoder was built for
   */
  public ClipConfig config() {
    return config;
  }

  @Override
  public int inputResolution() {
    return config.imageResolution();
  }

  @Override
  public int embeddingDim() {
    return config.embedDim();
  }

  /**
   * {@inheritDoc} Built afresh on each call (the weights are shared); initializers carry the OpenAI
   * weight names.
   *
   * @throws IllegalArgumentException for a batch outside [1, {@value ClipGraphs#MAX_BATCH}]
   */
  @Override
  public Graph imageFragment(int batch) {
    checkOpen();
    return graphs.image(batch);
  }

  /** {@inheritDoc} Every residual block of the image tower ({@link ClipGraphs#recomputeScopes}). */
  @Override
  public java.util.List<String> recomputeScopes() {
    return ClipGraphs.recomputeScopes(config);
  }

  /**
   * The text graph {@link ClipGraphs#TOKENS} [batch, context] int64 to embeddings [batch, D].
   *
   * @param batch number of token sequences, in [1, {@link ClipGraphs#MAX_BATCH}]
   * @return a new graph
   * @throws IllegalStateException when the encoder is closed
   * @throws IllegalArgumentException when {@code batch} is out of range
   */
  public Graph textGraph(int batch) {
    checkOpen();
    return graphs.text(batch);
  }

  /**
   * {@inheritDoc} The text is tokenized by the encoder's {@link TextTokenizer}; the text graph (batch
   * 1) is compiled on first use.
   *
   * @throws IllegalStateException when the encoder has no tokenizer
   * @throws IllegalArgumentException when the tokenizer's output does not fit (see {@link #embedTokens})
   */
  @Override
  public Tensor embedText(String text) {
    checkOpen();
    Objects.requireNonNull(text, "text");
    if (tokenizer == null) {
      throw new IllegalStateException("this CLIP encoder was loaded without a tokenizer; use embedTokens");
    }
    return embedTokens(tokenizer.tokenize(text));
  }

  /**
   * The embedding [1, D] of one token sequence.
   *
   * @param ids exactly {@code contextLength} ids in [0, vocabSize), the end token being the largest
   * @return the embedding, float32 [1, D], not L2-normalised
   * @throws IllegalArgumentException for a wrong length or an id out of range
   */
  public Tensor embedTokens(int[] ids) {
    checkOpen();
    Objects.requireNonNull(ids, "ids");
    if (ids.length != config.contextLength()) {
      throw new IllegalArgumentException(
          "token ids must have the context length " + config.contextLength() + ", got " + ids.length);
    }
    long[] l = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      if (ids[i] < 0 || ids[i] >= config.vocabSize()) {
        throw new IllegalArgumentException(
            "token id " + ids[i] + " at position " + i + " is outside the vocabulary [0, " + config.vocabSize() + ")");
      }
      l[i] = ids[i];
    }
    try (OrtExecutable.Lease exe = text.acquire(1, () -> OrtExecutable.create(graphs.text(1), options))) {
      return exe.run(Map.of(ClipGraphs.TOKENS, Tensor.ofLongs(new long[] {1, ids.length}, l))).get(EMBEDDINGS);
    }
  }

  /**
   * {@inheritDoc} One compiled image graph is kept per batch size (the last {@value
   * #CACHED_IMAGE_BATCHES} used).
   *
   * @throws IllegalArgumentException unless {@code images} is [n, 3, S, S] float32 (or float64,
   *     converted) with S = {@link #inputResolution()}
   */
  @Override
  public Tensor embedImages(Tensor images) {
    checkOpen();
    Objects.requireNonNull(images, "images");
    long[] s = images.shape();
    int res = config.imageResolution();
    boolean ok = s.length == 4 && s[0] >= 1 && s[0] <= ClipGraphs.MAX_BATCH && s[1] == 3 && s[2] == res && s[3] == res
        && (images.dtype() == DType.FLOAT || images.dtype() == DType.DOUBLE);
    if (!ok) {
      throw new IllegalArgumentException("images must be [n, 3, " + res + ", " + res + "] FLOAT (n in [1, " + ClipGraphs.MAX_BATCH
          + "]) with values in [0, 1], got " + Arrays.toString(s) + " " + images.dtype());
    }
    if (images.dtype() != DType.FLOAT) {
      images = Tensor.fromDoubles(DType.FLOAT, s, images.toDoubles());
    }
    int n = (int) s[0];
    try (OrtExecutable.Lease exe = this.images.acquire(n, () -> OrtExecutable.create(graphs.image(n), options))) {
      return exe.run(Map.of(IMAGES, images)).get(EMBEDDINGS);
    }
  }

  /**
   * {@inheritDoc} Drops the compiled text and image graphs; one that a running call on another
   * thread still uses is freed when that call returns.
   */
  @Override
  public void releaseCaches() {
    text.clear();
    images.clear();
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("CLIP encoder is closed");
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    text.close();
    images.close();
  }
}
