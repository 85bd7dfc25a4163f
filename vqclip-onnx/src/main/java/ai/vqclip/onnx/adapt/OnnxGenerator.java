package ai.vqclip.onnx.adapt;

import ai.vqclip.core.Gaussian;
import ai.vqclip.core.Generator;
import ai.vqclip.core.ModelLoadException;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.autodiff.GradientOverrides;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import ai.vqclip.onnx.OrtExecutable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * A latent-to-image ONNX graph (any exporter's) as a {@link Generator}, in one call: {@code
 * OnnxGenerator.fromFile(decoder, OnnxGenerator.Options.defaults())}.
 *
 * <p>The decoder graph takes one latent [1, C, h, w] (FLOAT; C static, h and w static or symbolic)
 * and gives an image [1, 3, H, W] (FLOAT) in {@link Range#UNIT} or {@link Range#SIGNED}. If h and w
 * are symbolic the graph is specialized to each run's size and the downsampling factor f = H / h
 * is measured once on an 8 x 8 latent; otherwise the graph's one image size is the only size. The
 * fragment maps the image to [0, 1] and clamps it with a straight gradient, as the VQGAN does.
 *
 * <p>An optional encoder graph (image [1, 3, H, W] in {@link Options#encoderRange()} to a latent
 * of the decoder's shape) makes init images and edits possible; without it {@link #encode} throws.
 *
 * <p>Compiled host-side sessions are cached per size and freed by {@link #releaseCaches()}. Not
 * thread-safe; {@link #close()} is idempotent.
 */
public final class OnnxGenerator implements Generator {
  /** Largest accepted image side in pixels. */
  public static final int MAX_SIDE = 8192;

  /** The value range of an image graph's pixels. */
  public enum Range {
    /** [0, 1]. */
    UNIT,
    /** [-1, 1] (tanh outputs, most GAN and VAE decoders). */
    SIGNED
  }

  /** How random initial latents are drawn. */
  public enum Init {
    /** Independent normal values with mean {@link Options#initCenter()} and deviation {@link Options#initScale()}. */
    NORMAL,
    /** Independent uniform values in center +- scale. */
    UNIFORM
  }

  /**
   * How to use the graphs.
   *
   * @param latentInput the decoder's latent input; null for its only input
   * @param imageOutput the decoder's image output; null for its only output
   * @param outputRange the decoder's pixel range
   * @param encoder an optional graph from image to latent (null: none)
   * @param encoderRange the pixel range the encoder graph takes
   * @param init the distribution of {@link #randomLatent}
   * @param initCenter its center
   * @param initScale its scale (> 0)
   * @param latentMin lower bound of every latent value (the optimizer clamps to it)
   * @param latentMax upper bound of every latent value
   */
  public record Options(
      String latentInput, String imageOutput, Range outputRange, Path encoder, Range encoderRange, Init init, double initCenter,
      double initScale, double latentMin, double latentMax) {
    /**
     * Checks the values.
     *
     * @param latentInput the decoder's latent input; null for its only input
     * @param imageOutput the decoder's image output; null for its only output
     * @param outputRange the decoder's pixel range (not null)
     * @param encoder an optional graph from image to latent (null: none)
     * @param encoderRange the pixel range the encoder graph takes (not null)
     * @param init the distribution of {@link #randomLatent} (not null)
     * @param initCenter its center, finite
     * @param initScale its scale, finite and &gt; 0
     * @param latentMin lower bound of every latent value
     * @param latentMax upper bound of every latent value, greater than {@code latentMin}
     * @throws NullPointerException when a range or {@code init} is null
     * @throws IllegalArgumentException for a non-finite center, a scale that is not positive and
     *     finite, or bounds that are NaN or not increasing
     */
    public Options {
      Objects.requireNonNull(outputRange, "outputRange");
      Objects.requireNonNull(encoderRange, "encoderRange");
      Objects.requireNonNull(init, "init");
      if (!(initScale > 0) || !Double.isFinite(initScale) || !Double.isFinite(initCenter)) {
        throw new IllegalArgumentException("init center must be finite and scale > 0, got " + initCenter + " and " + initScale);
      }
      if (Double.isNaN(latentMin) || Double.isNaN(latentMax) || !(latentMin < latentMax)) {
        throw new IllegalArgumentException("latent bounds need min < max, got [" + latentMin + ", " + latentMax + "]");
      }
    }

    /**
     * The graph's only input and output, a [0, 1] image, no encoder, standard normal latents, no
     * bounds.
     *
     * @return options for a [0, 1] decoder with one input and output, no encoder, N(0, 1) latents
     *     and no bounds
     */
    public static Options defaults() {
      return new Options(null, null, Range.UNIT, null, Range.UNIT, Init.NORMAL, 0, 1, -Float.MAX_VALUE, Float.MAX_VALUE);
    }

    /**
     * With another output range.
     *
     * @param r the decoder's pixel range
     * @return a copy with this output range
     */
    public Options withOutputRange(Range r) {
      return new Options(latentInput, imageOutput, r, encoder, encoderRange, init, initCenter, initScale, latentMin, latentMax);
    }

    /**
     * With named input and output.
     *
     * @param latent name of the decoder's latent input, or null for its only input
     * @param image name of the decoder's image output, or null for its only output
     * @return a copy with these names
     */
    public Options withNames(String latent, String image) {
      return new Options(latent, image, outputRange, encoder, encoderRange, init, initCenter, initScale, latentMin, latentMax);
    }

    /**
     * With an encoder graph taking images in {@code range}.
     *
     * @param file ONNX file of a graph from image to latent, or null for none
     * @param range the pixel range that graph takes
     * @return a copy with this encoder
     */
    public Options withEncoder(Path file, Range range) {
      return new Options(latentInput, imageOutput, outputRange, file, range, init, initCenter, initScale, latentMin, latentMax);
    }

    /**
     * With another initial distribution.
     *
     * @param kind the distribution (not null)
     * @param center its center (mean or midpoint), finite
     * @param scale its scale (deviation or half-width), finite and &gt; 0
     * @return a copy with this initial distribution
     * @throws IllegalArgumentException when {@code center} or {@code scale} is invalid
     */
    public Options withInit(Init kind, double center, double scale) {
      return new Options(latentInput, imageOutput, outputRange, encoder, encoderRange, kind, center, scale, latentMin, latentMax);
    }

    /**
     * With latent bounds.
     *
     * @param min lower bound of every latent value
     * @param max upper bound of every latent value, greater than {@code min}
     * @return a copy with these bounds
     * @throws IllegalArgumentException when the bounds are NaN or not increasing
     */
    public Options withBounds(double min, double max) {
      return new Options(latentInput, imageOutput, outputRange, encoder, encoderRange, init, initCenter, initScale, min, max);
    }
  }

  private final ImportedGraph decoder;
  private final ImportedGraph encoder;
  private final Options opts;
  private final ExecutionOptions exec;
  private final String latentName;
  private final String imageName;
  private final String encoderIn;
  private final String encoderOut;
  private final int channels;
  /** Downsampling factor, or 0 when the decoder's latent size is fixed. */
  private final int factor;
  /** The one image size [W, H] of a decoder with a fixed latent size. */
  private final int[] fixedSize;
  private final long[] fixedLatent;
  private final Map<List<Integer>, Graph> fragments = new HashMap<>();
  private final Map<List<Integer>, OrtExecutable> decoders = new HashMap<>();
  private final Map<List<Integer>, OrtExecutable> encoders = new HashMap<>();
  private boolean closed;

  private OnnxGenerator(ImportedGraph decoder, ImportedGraph encoder, Options opts, ExecutionOptions exec) {
    this.decoder = decoder;
    this.encoder = encoder;
    this.opts = opts;
    this.exec = exec;
    Value z = decoder.input(opts.latentInput(), "latent");
    Value img = decoder.output(opts.imageOutput(), "image");
    latentName = z.name();
    imageName = img.name();
    decoder.check(z, DType.FLOAT, 4, "a FLOAT latent [1, C, h, w]");
    decoder.check(img, DType.FLOAT, 4, "a FLOAT image [1, 3, H, W]");
    long c = ImportedGraph.staticDim(z, 1);
    if (c < 1) {
      throw new ModelLoadException(decoder.file + ": latent '" + latentName + "' is " + z.shape()
          + "; its channel dimension (1) must be static (export it with a fixed channel count)");
    }
    channels = Math.toIntExact(c);
    long h = ImportedGraph.staticDim(z, 2);
    long w = ImportedGraph.staticDim(z, 3);
    if (h > 0 && w > 0) {
      // A fixed-size decoder: its one output size is the only size.
      fixedLatent = new long[] {1, channels, h, w};
      long[] out = probe(fixedLatent);
      fixedSize = new int[] {(int) out[3], (int) out[2]};
      factor = 0;
    } else {
      fixedLatent = null;
      fixedSize = null;
      long[] out = probe(new long[] {1, channels, 8, 8});
      if (out[2] % 8 != 0 || out[3] != out[2] || out[2] < 8) {
        throw new ModelLoadException(decoder.file + ": an 8 x 8 latent gives an image " + Arrays.toString(out)
            + "; expected a square image whose side is a whole multiple of 8 (a decoder with one integer upsampling factor)");
      }
      factor = (int) (out[2] / 8);
    }
    if (encoder != null) {
      Value ei = encoder.input(null, "image");
      Value eo = encoder.output(null, "latent");
      encoder.check(ei, DType.FLOAT, 4, "a FLOAT image [1, 3, H, W]");
      encoder.check(eo, DType.FLOAT, 4, "a FLOAT latent [1, " + channels + ", h, w]");
      encoderIn = ei.name();
      encoderOut = eo.name();
    } else {
      encoderIn = null;
      encoderOut = null;
    }
  }

  private long[] probe(long[] latent) {
    Graph g = decoder.specialize(latentName, latent, imageName);
    long[] out = g.output(imageName).shape().toArray();
    if (out.length != 4 || out[0] != 1 || out[1] != 3) {
      throw new ModelLoadException(decoder.file + ": latent " + Arrays.toString(latent) + " gives image '" + imageName + "' "
          + Arrays.toString(out) + "; expected [1, 3, H, W]");
    }
    return out;
  }

  /**
   * Reads a decoder graph (and the options' encoder graph) and runs host-side work on CPU.
   *
   * @param decoder ONNX file of the decoder, latent [1, C, h, w] to image [1, 3, H, W]
   * @param options names, ranges, encoder and initial distribution
   * @return an open generator; close it to free its sessions
   * @throws ai.vqclip.core.ModelLoadException naming the file, the value, what was found and what
   *     is expected
   */
  public static OnnxGenerator fromFile(Path decoder, Options options) {
    return fromFile(decoder, options, ExecutionOptions.cpu());
  }

  /**
   * Reads a decoder graph (and the options' encoder graph), checks names, ranks, dtypes and sizes.
   *
   * @param decoder ONNX file of the decoder, latent [1, C, h, w] to image [1, 3, H, W]
   * @param options names, ranges, encoder and initial distribution
   * @param exec where host-side graphs (encoding, decoding) run
   * @return an open generator; close it to free its sessions
   * @throws ModelLoadException naming the file, the value, what was found and what is expected
   */
  public static OnnxGenerator fromFile(Path decoder, Options options, ExecutionOptions exec) {
    Objects.requireNonNull(options, "options");
    Objects.requireNonNull(exec, "exec");
    ImportedGraph d = ImportedGraph.read(decoder, "generator");
    ImportedGraph e = options.encoder() == null ? null : ImportedGraph.read(options.encoder(), "generator encoder");
    return new OnnxGenerator(d, e, options, exec);
  }

  /**
   * Latent channels C.
   *
   * @return the number of latent channels C
   */
  public int channels() {
    return channels;
  }

  /**
   * Whether an encoder graph was given ({@link #encode} works).
   *
   * @return true when an encoder graph was given
   */
  public boolean hasEncoder() {
    return encoder != null;
  }

  /**
   * The downsampling factor f (image side / latent side), or 0 for a decoder of one fixed size.
   *
   * @return the downsampling factor f, or 0 for a decoder of one fixed size
   */
  public int factor() {
    return factor;
  }

  @Override
  public long[] latentShape(int width, int height) {
    if (fixedSize != null) {
      if (width != fixedSize[0] || height != fixedSize[1]) {
        throw new IllegalArgumentException("image size " + width + "x" + height + " does not fit " + decoder.file
            + ": its latent is fixed to " + Arrays.toString(fixedLatent) + ", so the only size is " + fixedSize[0] + "x" + fixedSize[1]);
      }
      return fixedLatent.clone();
    }
    checkSide("width", width);
    checkSide("height", height);
    return new long[] {1, channels, height / factor, width / factor};
  }

  private void checkSide(String name, int v) {
    if (v < factor || v > MAX_SIDE || v % factor != 0) {
      throw new IllegalArgumentException("image " + name + " " + v + " does not fit " + decoder.file + ": sizes are multiples of its factor "
          + factor + " in [" + factor + ", " + MAX_SIDE + "]");
    }
  }

  @Override
  public Graph synthesisFragment(int width, int height) {
    ensureOpen();
    long[] s = latentShape(width, height);
    return fragments.computeIfAbsent(List.of(width, height), k -> fragment(s, width, height));
  }

  private Graph fragment(long[] latent, int width, int height) {
    Graph g = decoder.specialize(latentName, latent, imageName);
    long[] out = g.output(imageName).shape().toArray();
    if (!Arrays.equals(out, new long[] {1, 3, height, width})) {
      throw new ModelLoadException(decoder.file + ": latent " + Arrays.toString(latent) + " gives image " + Arrays.toString(out)
          + "; expected [1, 3, " + height + ", " + width + "]");
    }
    GraphBuilder b = new GraphBuilder("onnx-generator").opset(Math.max(g.opset(), Graph.OPSET));
    Value z = b.input(LATENT, DType.FLOAT, Shape.of(latent));
    Value img = b.include(g, "decoder", Map.of(latentName, z)).get(imageName);
    if (opts.outputRange() == Range.SIGNED) {
      img = b.mul(b.add(img, b.scalar(1, DType.FLOAT)), b.scalar(0.5, DType.FLOAT));
    }
    b.output(IMAGE, GradientOverrides.clampWithGrad(b, img, 0, 1));
    return b.build();
  }

  @Override
  public Tensor randomLatent(int width, int height, long seed) {
    ensureOpen();
    long[] s = latentShape(width, height);
    float[] z = new float[Math.toIntExact(s[1] * s[2] * s[3])];
    SplittableRandom rnd = new SplittableRandom(seed);
    for (int i = 0; i < z.length; i++) {
      double u = opts.init() == Init.NORMAL ? Gaussian.next(rnd) : 2 * rnd.nextDouble() - 1;
      double v = opts.initCenter() + opts.initScale() * u;
      z[i] = (float) Math.max(opts.latentMin(), Math.min(opts.latentMax(), v));
    }
    return Tensor.ofFloats(s, z);
  }

  @Override
  public Tensor encode(Tensor image) {
    ensureOpen();
    if (encoder == null) {
      throw new IllegalStateException("generator " + decoder.file + " has no encoder graph; give one (Options.withEncoder) to use init images or edits");
    }
    Objects.requireNonNull(image, "image");
    long[] s = image.shape();
    if (image.dtype() != DType.FLOAT || s.length != 4 || s[0] != 1 || s[1] != 3) {
      throw new IllegalArgumentException("image must be FLOAT [1, 3, H, W] in [0, 1], got " + image.dtype() + " " + Arrays.toString(s));
    }
    long[] latent = latentShape((int) s[3], (int) s[2]);
    OrtExecutable ex = encoders.computeIfAbsent(List.of((int) s[3], (int) s[2]), k -> {
      Graph g = encoder.specialize(encoderIn, s, encoderOut);
      long[] out = g.output(encoderOut).shape().toArray();
      if (!Arrays.equals(out, latent)) {
        throw new ModelLoadException(encoder.file + ": image " + Arrays.toString(s) + " gives latent '" + encoderOut + "' "
            + Arrays.toString(out) + "; the decoder " + decoder.file + " takes " + Arrays.toString(latent));
      }
      return OrtExecutable.create(g, exec);
    });
    Tensor in = image;
    if (opts.encoderRange() == Range.SIGNED) {
      float[] v = image.toFloats();
      for (int i = 0; i < v.length; i++) {
        v[i] = 2 * v[i] - 1;
      }
      in = Tensor.ofFloats(s, v);
    }
    return ex.run(Map.of(encoderIn, in)).get(encoderOut);
  }

  @Override
  public Tensor decode(Tensor latent) {
    ensureOpen();
    Objects.requireNonNull(latent, "latent");
    long[] s = latent.shape();
    int width;
    int height;
    if (fixedSize != null) {
      width = fixedSize[0];
      height = fixedSize[1];
    } else {
      if (s.length != 4 || s[2] < 1 || s[3] < 1 || s[2] * factor > MAX_SIDE || s[3] * factor > MAX_SIDE) {
        throw new IllegalArgumentException("latent must be FLOAT [1, " + channels + ", h, w] with h, w in [1, " + MAX_SIDE / factor + "], got "
            + latent.dtype() + " " + Arrays.toString(s));
      }
      width = (int) s[3] * factor;
      height = (int) s[2] * factor;
    }
    long[] want = latentShape(width, height);
    if (latent.dtype() != DType.FLOAT || !Arrays.equals(s, want)) {
      throw new IllegalArgumentException("latent must be FLOAT " + Arrays.toString(want) + ", got " + latent.dtype() + " " + Arrays.toString(s));
    }
    OrtExecutable ex = decoders.computeIfAbsent(List.of(width, height), k -> OrtExecutable.create(synthesisFragment(width, height), exec));
    return ex.run(Map.of(LATENT, latent)).get(IMAGE);
  }

  @Override
  public Tensor[] latentBounds() {
    float[] lo = new float[channels];
    float[] hi = new float[channels];
    Arrays.fill(lo, (float) Math.max(-Float.MAX_VALUE, opts.latentMin()));
    Arrays.fill(hi, (float) Math.min(Float.MAX_VALUE, opts.latentMax()));
    long[] shape = {1, channels, 1, 1};
    return new Tensor[] {Tensor.ofFloats(shape, lo), Tensor.ofFloats(shape, hi)};
  }

  @Override
  public Map<String, String> provenance() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("class", getClass().getName());
    m.put("file", decoder.file.toString());
    if (encoder != null) {
      m.put("encoder", encoder.file.toString());
    }
    m.put("outputRange", opts.outputRange().name());
    return m;
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("ONNX generator " + decoder.file + " is closed");
    }
  }

  /** {@inheritDoc} Closes the compiled decode and encode sessions. */
  @Override
  public void releaseCaches() {
    List<OrtExecutable> all = new ArrayList<>(decoders.values());
    all.addAll(encoders.values());
    decoders.clear();
    encoders.clear();
    all.forEach(OrtExecutable::close);
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    releaseCaches();
    fragments.clear();
  }
}
