package ai.vqclip.augment;

import ai.vqclip.core.Augmentation;
import ai.vqclip.core.GeometricAugmentation;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.autodiff.GradientOverrides;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * MakeCutouts (METHOD.md B.5) as a differentiable graph fragment plus a host-side sampler: the
 * generator's image {@code image} [1, 3, H, W] (float32, values in [0, 1]) becomes {@code cutouts}
 * [cutn, 3, S, S]. All randomness is drawn on the host by {@link #sample} from the run's seeded
 * generator and fed as graph inputs, so the graph is built once and a seed reproduces every step.
 *
 * <p>The fragment has four stages:
 *
 * <ol>
 *   <li><b>Crop and resample</b> ({@code original}): per cutout a square crop of side
 *       {@code floor(U^cut_pow (max - min) + min)} at uniform integer offsets, resampled to S x S
 *       exactly as B.5's {@code resample} (Lanczos-2 prefilter with reflect padding when
 *       downscaling, then bicubic A = -0.75 with align_corners) or, with antialias off, bicubic
 *       only. Crop and resample are linear and separable, so cutout c is {@code A_y[c] X
 *       A_x[c]^T}: the host builds the matrices (inputs {@code ay} [cutn, 1, S, H] and {@code ax}
 *       [W, cutn S], all cutouts side by side) and the graph runs one plain GEMM
 *       ([3H, W] x [W, cutn S]) and one batched MatMul. The prefilter is therefore exact for every
 *       per-cutout ratio (float rounding only), costs 2 cutn 3 S W (H + S) FLOPs, and its backward
 *       pass is two GEMMs with no scatter. <b>Pooled</b> mode instead gives every cutout (adaptive
 *       average pool + adaptive max pool)(image) / 2 (constant pooling matrices and index tables).
 *   <li><b>Geometric augmentations</b> (if any): their homographies, drawn per cutout and composed
 *       on the host in list order, are evaluated at the S x S output pixel centres into one grid
 *       (input {@code grid} [cutn, S, S, 2], GridSample's normalised coordinates with
 *       align_corners = 0, so x = 2u/S - 1 for a continuous pixel coordinate u in [0, S]) and one
 *       bilinear GridSample resamples the cutouts (padding zeros or border, see {@link Padding}).
 *       As in kornia, they act on the S x S cutouts, whose scale is close to 1:1, so no prefilter
 *       is needed there.
 *   <li><b>Pixel augmentations</b> in list order, then the noise step (sigma_i ~ U(0, noise_fac)).
 *   <li>The final clamp to [0, 1] with clamp-with-gradient (optional).
 * </ol>
 *
 * <p>Parameter inputs are named {@code prefix + "ay"}, {@code "ax"}, {@code "grid"} and {@code
 * "aug<k>." + key} for the k-th pixel augmentation (the noise step counts as the last one).
 *
 * <p>Draw order of {@link #sample}: the crops (per cutout: U, then ox, then oy; none in pooled
 * mode), then each geometric augmentation in list order, then each pixel augmentation in list
 * order, then the noise step.
 */
public final class Cutouts {
  /** Name of the image input of {@link #fragment()}. */
  public static final String IMAGE = "image";

  /** Name of the output of {@link #fragment()}. */
  public static final String CUTOUTS = "cutouts";

  /** Default prefix of the parameter inputs. */
  public static final String DEFAULT_PREFIX = "cut.";

  /** Largest number of cutouts. */
  public static final int MAX_CUTN = 1024;

  /** Largest cutout side. */
  public static final int MAX_SIZE = 1024;

  /** Smallest image side (reflect padding needs two samples). */
  public static final int MIN_IMAGE_SIDE = 2;

  /** Largest image side. */
  public static final int MAX_IMAGE_SIDE = 16384;

  /** Largest element count of any one parameter tensor (1 GiB of float32). */
  public static final long MAX_PARAMETER_ELEMENTS = 1L << 28;

  /** How the geometric stage samples outside a cutout. */
  public enum Padding {
    /** Zeros outside (kornia's default; NR's {@code Af}). */
    ZEROS("zeros"),
    /** The nearest edge pixel (B.5 {@code updated}'s RandomAffine). */
    BORDER("border");

    private final String onnx;

    Padding(String onnx) {
      this.onnx = onnx;
    }
  }

  /**
   * A cutout configuration.
   *
   * @param cutn number of cutouts, in [1, 1024]
   * @param size cutout side S (the encoder's input resolution), in [1, 1024]
   * @param cutPow exponent of the crop-size distribution (B.5), positive and finite; unused when
   *     pooled
   * @param pooled pooled cutouts (avg + max pooling of the whole image) instead of random crops
   * @param antialias Lanczos-2 prefilter when a crop is downscaled (B.5 resample)
   * @param geometric geometric augmentations, applied in order
   * @param pixel pixel augmentations, applied in order after the geometric ones
   * @param noiseFac the B.5 noise step's largest sigma, in [0, 10]; 0 disables it
   * @param padding padding of the geometric stage
   * @param clamp clamp the result to [0, 1] with clamp-with-gradient
   */
  public record Config(int cutn, int size, double cutPow, boolean pooled, boolean antialias, List<GeometricAugmentation> geometric,
      List<Augmentation> pixel, double noiseFac, Padding padding, boolean clamp) {
    /**
     * Validates every parameter; the lists are copied.
     *
     * @param cutn number of cutouts, in [1, 1024]
     * @param size cutout side S, in [1, 1024]
     * @param cutPow exponent of the crop-size distribution, positive and finite
     * @param pooled pooled cutouts instead of random crops
     * @param antialias Lanczos-2 prefilter when a crop is downscaled
     * @param geometric geometric augmentations, applied in order (not null; copied)
     * @param pixel pixel augmentations, applied in order (not null; copied)
     * @param noiseFac largest sigma of the noise step, in [0, 10]; 0 disables it
     * @param padding padding of the geometric stage (not null)
     * @param clamp clamp the result to [0, 1] with clamp-with-gradient
     * @throws IllegalArgumentException if a number is out of range or {@code cutn * 3 * size^2}
     *     exceeds {@link #MAX_PARAMETER_ELEMENTS}
     * @throws NullPointerException if {@code geometric}, {@code pixel} or {@code padding} is null
     */
    public Config {
      Checks.range("cutn", cutn, 1, MAX_CUTN);
      Checks.range("size", size, 1, MAX_SIZE);
      if (!(cutPow > 0 && Double.isFinite(cutPow))) {
        throw new IllegalArgumentException("cutPow must be positive and finite, got " + cutPow);
      }
      Checks.range("noiseFac", noiseFac, 0, 10);
      geometric = List.copyOf(Objects.requireNonNull(geometric, "geometric"));
      pixel = List.copyOf(Objects.requireNonNull(pixel, "pixel"));
      Objects.requireNonNull(padding, "padding");
      if ((long) cutn * 3 * size * size > MAX_PARAMETER_ELEMENTS) {
        throw new IllegalArgumentException("cutn * 3 * size^2 must be at most " + MAX_PARAMETER_ELEMENTS + ", got cutn " + cutn
            + " and size " + size);
      }
    }

    /**
     * B.5 {@code original}: random crops with cut_pow, no augmentations, no noise, clamped.
     *
     * @param cutn number of cutouts, in [1, 1024]
     * @param size cutout side S, in [1, 1024]
     * @param cutPow exponent of the crop-size distribution, positive and finite (1 gives uniform
     *     sizes)
     * @return the configuration, antialiased and with zeros padding
     * @throws IllegalArgumentException if a number is out of range
     */
    public static Config original(int cutn, int size, double cutPow) {
      return new Config(cutn, size, cutPow, false, true, List.of(), List.of(), 0, Padding.ZEROS, true);
    }

    /**
     * NR {@code latest} / {@code nrupdated}-style: random crops with cut_pow (or pooled), the
     * augmentations of the NR codes (see {@link AugmentCodes}), noise step 0.1, clamped.
     *
     * @param cutn number of cutouts, in [1, 1024]
     * @param size cutout side S, in [1, 1024]
     * @param cutPow exponent of the crop-size distribution, positive and finite
     * @param pooled pooled cutouts instead of random crops
     * @param codes NR augment codes, e.g. {@link AugmentCodes#NR_DEFAULT}; blank for none
     * @return the configuration, antialiased and with zeros padding
     * @throws IllegalArgumentException if a number is out of range or a code is unknown or
     *     unsupported
     */
    public static Config withAugments(int cutn, int size, double cutPow, boolean pooled, String codes) {
      AugmentCodes.Parsed p = AugmentCodes.parse(codes);
      return new Config(cutn, size, cutPow, pooled, true, p.geometric(), p.pixel(), 0.1, Padding.ZEROS, true);
    }

    /**
     * A copy with other augmentations.
     *
     * @param geometric the new geometric augmentations (not null)
     * @param pixel the new pixel augmentations (not null)
     * @return this configuration with the given augmentation lists
     */
    public Config withAugmentations(List<GeometricAugmentation> geometric, List<Augmentation> pixel) {
      return new Config(cutn, size, cutPow, pooled, antialias, geometric, pixel, noiseFac, padding, clamp);
    }

    /**
     * A copy with another noise factor.
     *
     * @param noiseFac largest sigma of the noise step, in [0, 10]; 0 disables it
     * @return this configuration with the given noise factor
     * @throws IllegalArgumentException if {@code noiseFac} is out of range
     */
    public Config withNoiseFac(double noiseFac) {
      return new Config(cutn, size, cutPow, pooled, antialias, geometric, pixel, noiseFac, padding, clamp);
    }

    /**
     * A copy with the clamp on or off.
     *
     * @param clamp clamp the result to [0, 1] with clamp-with-gradient
     * @return this configuration with the given clamp setting
     */
    public Config withClamp(boolean clamp) {
      return new Config(cutn, size, cutPow, pooled, antialias, geometric, pixel, noiseFac, padding, clamp);
    }

    /**
     * A copy with the antialiasing prefilter on or off.
     *
     * @param antialias Lanczos-2 prefilter when a crop is downscaled
     * @return this configuration with the given antialias setting
     */
    public Config withAntialias(boolean antialias) {
      return new Config(cutn, size, cutPow, pooled, antialias, geometric, pixel, noiseFac, padding, clamp);
    }

    /**
     * A copy with another padding.
     *
     * @param padding padding of the geometric stage (not null)
     * @return this configuration with the given padding
     */
    public Config withPadding(Padding padding) {
      return new Config(cutn, size, cutPow, pooled, antialias, geometric, pixel, noiseFac, padding, clamp);
    }

    /**
     * A copy with pooled cutouts on or off.
     *
     * @param pooled pooled cutouts instead of random crops
     * @return this configuration with the given pooling setting
     */
    public Config withPooled(boolean pooled) {
      return new Config(cutn, size, cutPow, pooled, antialias, geometric, pixel, noiseFac, padding, clamp);
    }
  }

  /**
   * One random square crop: columns [x, x + size), rows [y, y + size).
   *
   * @param x left column of the crop, in pixels from the image's left edge
   * @param y top row of the crop, in pixels from the image's top edge
   * @param size side of the square crop, in pixels
   */
  public record Crop(int x, int y, int size) {}

  private final Config config;
  private final int height;
  private final int width;
  private final String prefix;
  private final List<Augmentation> pixelStages;

  private Cutouts(Config config, int height, int width, String prefix) {
    this.config = config;
    this.height = height;
    this.width = width;
    this.prefix = prefix;
    List<Augmentation> stages = new ArrayList<>(config.pixel());
    if (config.noiseFac() > 0) {
      stages.add(GaussianNoise.uniform(config.noiseFac()));
    }
    this.pixelStages = List.copyOf(stages);
  }

  /**
   * Cutouts of images of {@code height} x {@code width} with the default input prefix.
   *
   * @param config the cutout configuration (not null)
   * @param height image height H in pixels, in [2, 16384]
   * @param width image width W in pixels, in [2, 16384]
   * @return cutouts whose parameter inputs are named {@link #DEFAULT_PREFIX} + ...
   * @throws IllegalArgumentException for an image side outside [2, 16384] or parameter tensors too large
   */
  public static Cutouts create(Config config, int height, int width) {
    return create(config, height, width, DEFAULT_PREFIX);
  }

  /**
   * As {@link #create(Config, int, int)}, naming the parameter inputs {@code prefix + ...}.
   *
   * @param config the cutout configuration (not null)
   * @param height image height H in pixels, in [2, 16384]
   * @param width image width W in pixels, in [2, 16384]
   * @param prefix prefix of the parameter input names (not null), to keep them apart from other
   *     inputs of a step graph
   * @return cutouts for images of this size
   * @throws IllegalArgumentException for an image side outside [2, 16384] or parameter tensors too
   *     large
   * @throws NullPointerException if {@code config} or {@code prefix} is null
   */
  public static Cutouts create(Config config, int height, int width, String prefix) {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(prefix, "prefix");
    Checks.range("image height", height, MIN_IMAGE_SIDE, MAX_IMAGE_SIDE);
    Checks.range("image width", width, MIN_IMAGE_SIDE, MAX_IMAGE_SIDE);
    long biggest = (long) config.cutn() * config.size() * Math.max(height, width);
    if (biggest > MAX_PARAMETER_ELEMENTS) {
      throw new IllegalArgumentException("cutn * size * max(height, width) must be at most " + MAX_PARAMETER_ELEMENTS + ", got "
          + config.cutn() + " * " + config.size() + " * " + Math.max(height, width));
    }
    return new Cutouts(config, height, width, prefix);
  }

  /**
   * The configuration.
   *
   * @return the configuration these cutouts were created with
   */
  public Config config() {
    return config;
  }

  /**
   * The image height.
   *
   * @return the image height H in pixels
   */
  public int height() {
    return height;
  }

  /**
   * The image width.
   *
   * @return the image width W in pixels
   */
  public int width() {
    return width;
  }

  /**
   * Smallest crop side: min(W, H, S).
   *
   * @return the smallest side a random crop can have, in pixels
   */
  public int minCropSize() {
    return Math.min(Math.min(width, height), config.size());
  }

  /**
   * Largest crop side: min(W, H).
   *
   * @return the largest side a random crop can have, in pixels
   */
  public int maxCropSize() {
    return Math.min(width, height);
  }

  /**
   * The fragment from {@link #IMAGE} [1, 3, H, W] float32 to {@link #CUTOUTS} [cutn, 3, S, S], with
   * the parameter inputs after the image.
   *
   * @return a new graph with the image input first, then the parameter inputs, and the single
   *     output {@link #CUTOUTS}
   */
  public Graph fragment() {
    GraphBuilder b = new GraphBuilder("cutouts");
    Value image = b.input(IMAGE, DType.FLOAT, Shape.of(1, 3, height, width));
    b.output(CUTOUTS, apply(b, image));
    return b.build();
  }

  /**
   * Appends the cutouts to {@code b}, declaring the parameter inputs there, and returns the
   * cutouts [cutn, 3, S, S].
   *
   * @param b the builder to append to; the parameter inputs are declared there
   * @param image the image value, float32 [1, 3, H, W] with H and W as created
   * @return the cutouts, float32 [cutn, 3, S, S]
   * @throws IllegalArgumentException if {@code image} is not float32 [1, 3, H, W]
   */
  public Value apply(GraphBuilder b, Value image) {
    if (image.dtype() != DType.FLOAT || !Shape.of(1, 3, height, width).equals(image.shape())) {
      throw new IllegalArgumentException("cutouts: image must be float32 [1, 3, " + height + ", " + width + "], got " + image);
    }
    int n = config.cutn();
    int s = config.size();
    Value x;
    if (config.pooled()) {
      x = b.expand(pooled(b, image), b.ints(n, 3, s, s));
    } else {
      Value ax = b.input(prefix + "ax", DType.FLOAT, Shape.of(width, (long) n * s));
      Value ay = b.input(prefix + "ay", DType.FLOAT, Shape.of(n, 1, s, height));
      // [3H, W] x [W, n S]: one plain GEMM for the expensive axis, then per-cutout rows
      Value t = b.matmul(b.reshape(image, 3L * height, width), ax);
      t = b.transpose(b.reshape(t, 3, height, n, s), 2, 0, 1, 3); // [n, 3, H, S]
      x = b.matmul(ay, t);
    }
    if (!config.geometric().isEmpty()) {
      Value grid = b.input(prefix + "grid", DType.FLOAT, Shape.of(n, s, s, 2));
      x = b.op("GridSample").in(x, grid).attr("mode", "bilinear").attr("padding_mode", config.padding().onnx)
          .attr("align_corners", 0L).out();
    }
    for (int k = 0; k < pixelStages.size(); k++) {
      x = pixelStages.get(k).apply(b, x, prefix + "aug" + k + ".");
    }
    if (config.clamp()) {
      x = GradientOverrides.clampWithGrad(b, x, 0, 1);
    }
    return x;
  }

  /** (adaptive avg pool + adaptive max pool) / 2 of the image: [1, 3, S, S]. */
  private Value pooled(GraphBuilder b, Value image) {
    int s = config.size();
    Value ayAvg = b.constant(matrix(Resample.adaptiveAverage(height, s), false));
    Value axAvgT = b.constant(matrix(Resample.adaptiveAverage(width, s), true));
    Value avg = b.matmul(b.matmul(ayAvg, image), axAvgT);
    int[] kh = new int[1];
    long[] rows = Resample.adaptiveMaxIndices(height, s, kh);
    int[] kw = new int[1];
    long[] cols = Resample.adaptiveMaxIndices(width, s, kw);
    Value r = b.op("Gather").in(image, b.constant(Tensor.ofLongs(new long[] {s, kh[0]}, rows))).attr("axis", 2L).out();
    r = b.op("ReduceMax").in(r, b.ints(3)).attr("keepdims", 0L).out(); // [1, 3, S, W]
    Value c = b.op("Gather").in(r, b.constant(Tensor.ofLongs(new long[] {s, kw[0]}, cols))).attr("axis", 3L).out();
    Value max = b.op("ReduceMax").in(c, b.ints(4)).attr("keepdims", 0L).out(); // [1, 3, S, S]
    return b.mul(b.add(avg, max), b.scalar(0.5, DType.FLOAT));
  }

  private static Tensor matrix(double[][] a, boolean transpose) {
    int rows = a.length;
    int cols = a[0].length;
    double[] d = new double[rows * cols];
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) {
        d[transpose ? j * rows + i : i * cols + j] = a[i][j];
      }
    }
    return Tensor.fromDoubles(DType.FLOAT, transpose ? new long[] {cols, rows} : new long[] {rows, cols}, d);
  }

  /**
   * The crops of one step (B.5 {@code original}), drawn as {@link #sample} draws them first.
   *
   * @param rng the run's generator; consumed by three draws per cutout
   * @return one crop per cutout, each inside the image
   */
  public Crop[] drawCrops(RandomGenerator rng) {
    int max = maxCropSize();
    int min = minCropSize();
    Crop[] c = new Crop[config.cutn()];
    for (int i = 0; i < c.length; i++) {
      int sz = (int) Math.floor(Math.pow(rng.nextDouble(), config.cutPow()) * (max - min) + min);
      int ox = rng.nextInt(width - sz + 1);
      int oy = rng.nextInt(height - sz + 1);
      c[i] = new Crop(ox, oy, sz);
    }
    return c;
  }

  /**
   * Draws one step's parameters: a map from every parameter input name of the fragment to its
   * tensor. The same generator state gives bit-identical tensors.
   *
   * @param rng the run's generator (not null); advanced by every draw
   * @return parameter input name to tensor, in declaration order, ready to feed to the fragment
   * @throws NullPointerException if {@code rng} is null
   * @throws IllegalStateException if a geometric augmentation returns the wrong number of
   *     homographies or one that is not 9 numbers
   */
  public Map<String, Tensor> sample(RandomGenerator rng) {
    Objects.requireNonNull(rng, "rng");
    int n = config.cutn();
    int s = config.size();
    Map<String, Tensor> out = new LinkedHashMap<>();
    if (!config.pooled()) {
      Crop[] crops = drawCrops(rng);
      float[] ax = new float[width * n * s];
      float[] ay = new float[n * s * height];
      Map<Integer, double[][]> cache = new HashMap<>();
      for (int i = 0; i < n; i++) {
        Crop c = crops[i];
        double[][] m = cache.computeIfAbsent(c.size(), sz -> Resample.resample(sz, s, config.antialias()));
        for (int o = 0; o < s; o++) {
          for (int k = 0; k < c.size(); k++) {
            float v = (float) m[o][k];
            ax[(c.x() + k) * n * s + i * s + o] = v;
            ay[(i * s + o) * height + c.y() + k] = v;
          }
        }
      }
      out.put(prefix + "ax", Tensor.ofFloats(new long[] {width, (long) n * s}, ax));
      out.put(prefix + "ay", Tensor.ofFloats(new long[] {n, 1, s, height}, ay));
    }
    if (!config.geometric().isEmpty()) {
      double[][] total = new double[n][];
      for (int i = 0; i < n; i++) {
        total[i] = Homography.identity();
      }
      for (GeometricAugmentation g : config.geometric()) {
        double[][] h = g.sample(rng, n, s);
        if (h.length != n) {
          throw new IllegalStateException(g + " returned " + h.length + " homographies for " + n + " cutouts");
        }
        for (int i = 0; i < n; i++) {
          if (h[i] == null || h[i].length != 9) {
            throw new IllegalStateException(g + " returned a homography that is not 9 numbers for cutout " + i);
          }
          total[i] = Homography.multiply(total[i], h[i]);
        }
      }
      out.put(prefix + "grid", grid(total, s));
    }
    for (int k = 0; k < pixelStages.size(); k++) {
      for (Map.Entry<String, Tensor> e : pixelStages.get(k).sample(rng, n, s).entrySet()) {
        out.put(prefix + "aug" + k + "." + e.getKey(), e.getValue());
      }
    }
    return out;
  }

  /**
   * A continuous pixel coordinate in GridSample's normalised form; points at infinity or far
   * outside (a degenerate perspective) go to a fixed far-away point, which samples padding.
   */
  private static float normalized(double u, int s) {
    double g = 2 * u / s - 1;
    return Double.isFinite(g) ? (float) Math.max(-1e4, Math.min(1e4, g)) : -1e4f;
  }

  /** The GridSample grid [n, S, S, 2] of output pixel centres mapped through each homography. */
  static Tensor grid(double[][] homographies, int s) {
    int n = homographies.length;
    float[] g = new float[n * s * s * 2];
    int p = 0;
    for (double[] m : homographies) {
      for (int y = 0; y < s; y++) {
        for (int x = 0; x < s; x++) {
          double[] src = Homography.apply(m, x + 0.5, y + 0.5);
          g[p++] = normalized(src[0], s);
          g[p++] = normalized(src[1], s);
        }
      }
    }
    return Tensor.ofFloats(new long[] {n, s, s, 2}, g);
  }
}
