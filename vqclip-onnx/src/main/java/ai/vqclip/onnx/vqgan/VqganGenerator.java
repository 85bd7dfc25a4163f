package ai.vqclip.onnx.vqgan;

import ai.vqclip.core.Generator;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.onnx.ExecutableCache;
import ai.vqclip.onnx.OrtExecutable;
import ai.vqclip.onnx.weights.StateDict;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * A taming-transformers VQGAN as a VQGAN-CLIP {@link Generator}: the latent {@code z} [1, embedDim,
 * H/f, W/f] is quantized to its nearest codes (straight-through gradient), decoded and mapped to
 * [0, 1] (METHOD.md B.1-B.4).
 *
 * <p><b>Sizes.</b> Any width and height that are multiples of the downsampling factor {@code f}
 * (16 for f16 models, 8 for Gumbel f8) and at most {@value #MAX_SIDE} are accepted; other sizes are
 * rejected, naming the factor and the two nearest valid sizes, rather than silently rounded (the
 * caller decides; VQGAN-CLIP itself rounds down).
 *
 * <p><b>Resources.</b> Graphs and ONNX Runtime sessions are built lazily and cached per size;
 * {@link #close()} releases them. Weights are not copied: keep the {@link StateDict} open until
 * this generator is closed.
 *
 * <p><b>Threads.</b> Safe to share between threads: the weights are immutable and held once; the
 * graph and session caches are concurrent ({@link ExecutableCache}), and {@link #releaseCaches()}
 * or {@link #close()} never free a session under a running {@link #encode} or {@link #decode} (that
 * call finishes; the session is freed as it returns). A call after {@link #close()} fails with an
 * {@link IllegalStateException}.
 */
public final class VqganGenerator implements Generator {
  /** Largest accepted image side in pixels. */
  public static final int MAX_SIDE = 8192;

  /** The largest batch {@link #synthesisFragment(int, int, int)} builds. */
  public static final int MAX_BATCH = 256;

  private final VqganWeights weights;
  private final ExecutionOptions options;
  private final Map<List<Integer>, Graph> synthesis = new ConcurrentHashMap<>();
  private final ExecutableCache<List<Integer>> decoders = new ExecutableCache<>("VQGAN generator", 0);
  private final ExecutableCache<List<Integer>> encoders = new ExecutableCache<>("VQGAN generator", 0);
  private volatile Tensor[] bounds;
  private volatile boolean closed;

  private VqganGenerator(VqganWeights weights, ExecutionOptions options) {
    this.weights = Objects.requireNonNull(weights, "weights");
    this.options = Objects.requireNonNull(options, "options");
  }

  /**
   * A generator with every part (encoder, decoder, codebook) of {@code sd}, checked against {@code
   * config}.
   *
   * @param sd the loaded state dict
   * @param config the architecture the weights must fit
   * @param options where and how host-side graphs (encode, decode) run
   * @return an open generator; close it to free its cached sessions
   * @throws ai.vqclip.core.ModelLoadException listing every missing, unexpected or mis-shaped key
   */
  public static VqganGenerator load(StateDict sd, VqganConfig config, ExecutionOptions options) {
    return new VqganGenerator(VqganWeights.load(sd, config, EnumSet.allOf(VqganWeights.Part.class)), options);
  }

  /**
   * {@link #load(StateDict, VqganConfig, ExecutionOptions)} with the config inferred from the
   * tensor shapes (32 groups).
   *
   * @param sd the loaded state dict
   * @param options where and how host-side graphs (encode, decode) run
   * @return an open generator; close it to free its cached sessions
   * @throws ai.vqclip.core.ModelLoadException when the architecture cannot be inferred or the
   *     weights do not fit it
   */
  public static VqganGenerator load(StateDict sd, ExecutionOptions options) {
    return load(sd, VqganConfig.inferFrom(sd), options);
  }

  /**
   * A generator without the encoder (for decode-only weight files): {@link #encode} then throws
   * {@link IllegalStateException}.
   *
   * @param sd the loaded state dict, with at least the decoder and quantizer
   * @param config the architecture the weights must fit
   * @param options where and how host-side graphs run
   * @return an open generator without encoder
   * @throws ai.vqclip.core.ModelLoadException listing every missing, unexpected or mis-shaped
   *     decoder or quantizer key
   */
  public static VqganGenerator loadForSynthesis(StateDict sd, VqganConfig config, ExecutionOptions options) {
    return new VqganGenerator(VqganWeights.load(sd, config, EnumSet.of(VqganWeights.Part.DECODER, VqganWeights.Part.QUANTIZER)), options);
  }

  /**
   * A generator over already loaded weights (must include the decoder and the codebook).
   *
   * @param weights loaded and checked weights (decoder and quantizer at least)
   * @param options where and how host-side graphs run
   * @return an open generator sharing {@code weights}
   * @throws IllegalArgumentException when the decoder or quantizer weights are missing
   */
  public static VqganGenerator of(VqganWeights weights, ExecutionOptions options) {
    if (!weights.has(VqganWeights.Part.DECODER) || !weights.has(VqganWeights.Part.QUANTIZER)) {
      throw new IllegalArgumentException("a VQGAN generator needs the DECODER and QUANTIZER weights, got " + weights.parts());
    }
    return new VqganGenerator(weights, options);
  }

  /**
   * The architecture.
   *
   * @return the architecture
   */
  public VqganConfig config() {
    return weights.config();
  }

  /**
   * The weights.
   *
   * @return the weights the graphs use (shared)
   */
  public VqganWeights weights() {
    return weights;
  }

  // ------------------------------------------------------------------ sizes

  @Override
  public long[] latentShape(int width, int height) {
    int f = config().factor();
    checkSide("width", width, f);
    checkSide("height", height, f);
    return new long[] {1, config().embedDim(), height / f, width / f};
  }

  private static void checkSide(String name, int v, int f) {
    if (v >= f && v <= MAX_SIDE && v % f == 0) {
      return;
    }
    if (v < f) {
      throw new IllegalArgumentException(
          "image " + name + " " + v + " is too small: VQGAN sizes are positive multiples of the downsampling factor " + f + "; nearest valid "
              + name + ": " + f);
    }
    if (v > MAX_SIDE) {
      throw new IllegalArgumentException("image " + name + " " + v + " exceeds the limit of " + MAX_SIDE + " pixels");
    }
    int down = v / f * f;
    throw new IllegalArgumentException("image " + name + " " + v + " is not a multiple of the VQGAN downsampling factor " + f
        + "; nearest valid " + name + "s: " + down + " or " + (down + f));
  }

  private List<Integer> key(int width, int height) {
    long[] s = latentShape(width, height);
    return List.of((int) s[2], (int) s[3]);
  }

  // ------------------------------------------------------------------ Generator

  @Override
  public Graph synthesisFragment(int width, int height) {
    ensureOpen();
    List<Integer> k = key(width, height);
    return synthesis.computeIfAbsent(k, s -> VqganGraphs.synthesis(weights, s.get(0), s.get(1)));
  }

  /** {@inheritDoc} VQGAN synthesizes batches. */
  @Override
  public boolean supportsBatchedSynthesis() {
    return true;
  }

  @Override
  public Graph synthesisFragment(int batch, int width, int height) {
    if (batch == 1) {
      return synthesisFragment(width, height);
    }
    if (batch < 1 || batch > MAX_BATCH) {
      throw new IllegalArgumentException("synthesis batch must be in [1, " + MAX_BATCH + "], got " + batch);
    }
    ensureOpen();
    List<Integer> k = key(width, height);
    return synthesis.computeIfAbsent(List.of(batch, k.get(0), k.get(1)), s -> VqganGraphs.synthesis(weights, s.get(0), s.get(1), s.get(2)));
  }

  /** {@inheritDoc} The two finest decoder levels and the output head ({@link VqganGraphs#recomputeScopes}). */
  @Override
  public List<String> recomputeScopes(int width, int height) {
    latentShape(width, height); // rejects a size this model cannot produce, as synthesisFragment would
    return VqganGraphs.recomputeScopes(config());
  }

  @Override
  public Tensor randomLatent(int width, int height, long seed) {
    ensureOpen();
    long[] s = latentShape(width, height);
    int c = (int) s[1];
    int h = (int) s[2];
    int w = (int) s[3];
    int k = config().nEmbed();
    FloatBuffer cb = weights.get(config().codebookKey()).data().asFloatBuffer();
    SplittableRandom rnd = new SplittableRandom(seed);
    float[] z = new float[c * h * w];
    // One code per cell, drawn row-major over (y, x); z[0, :, y, x] is that codebook row.
    for (int cell = 0; cell < h * w; cell++) {
      int idx = rnd.nextInt(k);
      for (int ch = 0; ch < c; ch++) {
        z[ch * h * w + cell] = cb.get(idx * c + ch);
      }
    }
    return Tensor.ofFloats(s, z);
  }

  @Override
  public Tensor encode(Tensor image) {
    ensureOpen();
    if (!weights.has(VqganWeights.Part.ENCODER)) {
      throw new IllegalStateException("this VQGAN generator was loaded without its encoder; use load(...) to encode images");
    }
    long[] s = checkImage(image);
    List<Integer> k = key((int) s[3], (int) s[2]);
    try (OrtExecutable.Lease ex = encoders.acquire(k, () -> OrtExecutable.create(VqganGraphs.encodeImage(weights, (int) s[2], (int) s[3]), options))) {
      return ex.run(Map.of(VqganGraphs.IMAGE, image)).get(VqganGraphs.Z_Q);
    }
  }

  private long[] checkImage(Tensor image) {
    Objects.requireNonNull(image, "image");
    long[] s = image.shape();
    if (image.dtype() != DType.FLOAT || s.length != 4 || s[0] != 1 || s[1] != config().inChannels()) {
      throw new IllegalArgumentException(
          "image must be float32 [1, " + config().inChannels() + ", H, W], got " + image.dtype() + " " + Arrays.toString(s));
    }
    if (s[2] > MAX_SIDE || s[3] > MAX_SIDE) {
      throw new IllegalArgumentException("image " + Arrays.toString(s) + " exceeds the limit of " + MAX_SIDE + " pixels per side");
    }
    return s;
  }

  @Override
  public Tensor decode(Tensor latent) {
    ensureOpen();
    Objects.requireNonNull(latent, "latent");
    long[] s = latent.shape();
    int f = config().factor();
    if (latent.dtype() != DType.FLOAT || s.length != 4 || s[0] != 1 || s[1] != config().embedDim() || s[2] < 1 || s[3] < 1
        || s[2] * f > MAX_SIDE || s[3] * f > MAX_SIDE) {
      throw new IllegalArgumentException("latent must be float32 [1, " + config().embedDim() + ", h, w] with h, w in [1, " + MAX_SIDE / f
          + "], got " + latent.dtype() + " " + Arrays.toString(s));
    }
    int width = (int) s[3] * f;
    int height = (int) s[2] * f;
    List<Integer> k = key(width, height);
    try (OrtExecutable.Lease ex = decoders.acquire(k, () -> OrtExecutable.create(synthesisFragment(width, height), options))) {
      return ex.run(Map.of(LATENT, latent)).get(IMAGE);
    }
  }

  @Override
  public Tensor[] latentBounds() {
    ensureOpen();
    if (bounds == null) {
      int k = config().nEmbed();
      int c = config().embedDim();
      FloatBuffer cb = weights.get(config().codebookKey()).data().asFloatBuffer();
      float[] lo = new float[c];
      float[] hi = new float[c];
      Arrays.fill(lo, Float.POSITIVE_INFINITY);
      Arrays.fill(hi, Float.NEGATIVE_INFINITY);
      for (int i = 0; i < k; i++) {
        for (int j = 0; j < c; j++) {
          float v = cb.get(i * c + j);
          lo[j] = Math.min(lo[j], v);
          hi[j] = Math.max(hi[j], v);
        }
      }
      long[] shape = {1, c, 1, 1};
      bounds = new Tensor[] {Tensor.ofFloats(shape, lo), Tensor.ofFloats(shape, hi)};
    }
    return bounds.clone();
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("VQGAN generator is closed");
    }
  }

  /**
   * {@inheritDoc} Drops the compiled encode and decode graphs; one that a running call on another
   * thread still uses is freed when that call returns.
   */
  @Override
  public void releaseCaches() {
    decoders.clear();
    encoders.clear();
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    decoders.close();
    encoders.close();
    synthesis.clear();
  }
}
