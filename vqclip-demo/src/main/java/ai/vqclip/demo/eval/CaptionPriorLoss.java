package ai.vqclip.demo.eval;

import ai.vqclip.core.Loss;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import ai.vqclip.core.loss.RestorationPrior;
import ai.vqclip.core.loss.SphericalDistance;
import ai.vqclip.demo.train.CaptionPriorTraining;
import ai.vqclip.onnx.RandomWeights;
import ai.vqclip.onnx.vqgan.VqganConfig;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * A caption-conditioned image prior: each step the picture {@code x} is pulled towards {@code
 * sg(P(x + noise, c))}, the caption prior's redrawing of it for the run's first text prompt (its
 * embedding {@code c} by the first CLIP, read from the prompt term's target input), with weight 0
 * before {@code start} and a linear ramp after. No gradient goes through {@code P}.
 *
 * <p>One term serves runs of every picture size: the prior's graph is built for each step graph's
 * picture ({@link Prior}), and the noise takes the shape of the picture whose latent the step
 * carries. Immutable apart from that record of shapes, which is thread-safe, so pipelines may share it.
 */
public final class CaptionPriorLoss implements Loss {
  /** The term's name. */
  public static final String NAME = "cprior";
  private static final String WEIGHT = NAME + "/weight";
  private static final String NOISE = NAME + "/noise";
  /** The prompt term input that holds the first prompt's target embedding by the first CLIP. */
  static final String TARGET = ai.vqclip.core.loss.PromptTermLoss.targetInput("text0", 0);

  /** The prior's graph for one picture of a size. */
  @FunctionalInterface
  public interface Prior {
    /**
     * The graph for one picture of {@code height} x {@code width}: inputs {@link
     * CaptionPriorTraining#DAMAGED} [1, 3, height, width] and {@link CaptionPriorTraining#CAPTION}
     * [1, D], output {@link CaptionPriorTraining#RESTORED}.
     *
     * @param height picture height
     * @param width picture width
     * @return the graph
     */
    Graph graph(int height, int width);
  }

  private final Prior prior;
  private final double weight;
  private final int start;
  private final int ramp;
  private final double noise;
  private final long seed;
  /** Picture shape [1, 3, H, W] per latent shape, recorded as step graphs are built (for the noise's shape). */
  private final Map<java.util.List<Long>, long[]> pictures = new java.util.concurrent.ConcurrentHashMap<>();
  /** The picture shape of a prior given as one graph, or null. */
  private final long[] fixed;
  /** The outer band left out of the pull, as a fraction of the shorter side (0: none). */
  private final double band;

  /**
   * A term over a prior built for each picture size.
   *
   * @param prior the prior's graphs
   * @param weight the full weight, finite and > 0
   * @param start first iteration with the term
   * @param ramp iterations of the linear rise
   * @param noise largest sigma (pixel scale -1..1) of the noise added before the prior sees the
   *     picture (drawn per iteration from U(0, noise)); 0 for none
   * @param seed the noise's seed
   * @throws IllegalArgumentException for a weight, start, ramp or noise out of range
   */
  public CaptionPriorLoss(Prior prior, double weight, int start, int ramp, double noise, long seed) {
    this(prior, null, weight, start, ramp, noise, seed, 0);
  }

  /**
   * As {@link #CaptionPriorLoss(Prior, double, int, int, double, long)}, leaving the picture's outer
   * band out of the pull: there the target is the picture itself, so the background the CLIPs and the
   * frame prior choose is not tinted by the prior's redrawing.
   *
   * @param band the band's width as a fraction of the shorter side (as {@link
   *     ai.vqclip.core.loss.FrameLoss}'s), in [0, 0.5); 0 for none
   * @throws IllegalArgumentException for values out of range
   */
  public CaptionPriorLoss(Prior prior, double weight, int start, int ramp, double noise, long seed, double band) {
    this(prior, null, weight, start, ramp, noise, seed, band);
  }

  /**
   * A term over a prior for one picture size only.
   *
   * @param prior the prior's graph (inputs {@link CaptionPriorTraining#DAMAGED} and {@link
   *     CaptionPriorTraining#CAPTION}, output {@link CaptionPriorTraining#RESTORED}) for one picture
   * @param weight the full weight, finite and > 0
   * @param start first iteration with the term
   * @param ramp iterations of the linear rise
   * @param noise largest sigma of the noise; 0 for none
   * @param seed the noise's seed
   * @throws IllegalArgumentException for a graph without those inputs and output, or values out of range
   */
  public CaptionPriorLoss(Graph prior, double weight, int start, int ramp, double noise, long seed) {
    this(fixedSize(check(Objects.requireNonNull(prior, "prior"))), prior.input(CaptionPriorTraining.DAMAGED).shape().toArray(), weight, start,
        ramp, noise, seed, 0);
  }

  private CaptionPriorLoss(Prior prior, long[] fixed, double weight, int start, int ramp, double noise, long seed, double band) {
    this.prior = Objects.requireNonNull(prior, "prior");
    checkValues(weight, start, ramp, noise, band);
    this.band = band;
    this.fixed = fixed;
    this.weight = weight;
    this.start = start;
    this.ramp = ramp;
    this.noise = noise;
    this.seed = seed;
  }

  /** Refuses a weight, start, ramp, noise or band out of range, naming them (the term's and {@link Settings}' check). */
  static void checkValues(double weight, int start, int ramp, double noise, double band) {
    if (!(band >= 0 && band < 0.5)) {
      throw new IllegalArgumentException("caption prior band must be in [0, 0.5) of the shorter side, got " + band);
    }
    if (!(weight > 0) || !Double.isFinite(weight) || start < 0 || ramp < 0 || !(noise >= 0) || !Double.isFinite(noise)) {
      throw new IllegalArgumentException("caption prior needs a finite weight > 0 and start, ramp, noise >= 0; got weight " + weight
          + ", start " + start + ", ramp " + ramp + ", noise " + noise);
    }
  }

  /** The one graph, refusing other sizes by name. */
  private static Prior fixedSize(Graph g) {
    long[] s = g.input(CaptionPriorTraining.DAMAGED).shape().toArray();
    return (h, w) -> {
      if (s[2] != h || s[3] != w) {
        throw new IllegalArgumentException("caption prior graph '" + g.name() + "' is for " + s[3] + "x" + s[2] + " pictures, not " + w + "x" + h);
      }
      return g;
    };
  }

  /** {@code g} when it has the prior's inputs and output. */
  private static Graph check(Graph g) {
    for (String in : java.util.List.of(CaptionPriorTraining.DAMAGED, CaptionPriorTraining.CAPTION)) {
      if (g.inputs().stream().noneMatch(v -> v.name().equals(in))) {
        throw new IllegalArgumentException("caption prior graph '" + g.name() + "' has no input '" + in + "'; inputs: "
            + g.inputs().stream().map(Value::name).toList());
      }
    }
    if (g.outputs().stream().noneMatch(v -> v.name().equals(CaptionPriorTraining.RESTORED))) {
      throw new IllegalArgumentException("caption prior graph '" + g.name() + "' has no output '" + CaptionPriorTraining.RESTORED
          + "'; outputs: " + g.outputs().stream().map(Value::name).toList());
    }
    return g;
  }

  /** The full weight. */
  public double weight() {
    return weight;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Value build(Context ctx) {
    GraphBuilder b = ctx.builder();
    if (!b.hasValue(TARGET)) {
      throw new IllegalArgumentException("the caption prior needs a text prompt (no value '" + TARGET + "' in the step graph)");
    }
    Value image = ctx.image();
    long[] s = image.shape().toArray();
    Graph g = check(prior.graph(Math.toIntExact(s[2]), Math.toIntExact(s[3])));
    pictures.put(java.util.Arrays.stream(ctx.latent().shape().toArray()).boxed().toList(), s);
    Value target = b.value(TARGET);
    Value first = b.op("Slice").in(target, b.ints(0), b.ints(1), b.ints(0)).out();
    Value cond = SphericalDistance.normalize(b, first);
    Value x = b.sub(b.mul(image, b.scalarLike(2, image)), b.scalarLike(1, image));
    Value noisy = b.add(x, b.input(NOISE, DType.FLOAT, Shape.of(s)));
    Value r = b.include(g, NAME, Map.of(CaptionPriorTraining.DAMAGED, noisy, CaptionPriorTraining.CAPTION, cond))
        .get(CaptionPriorTraining.RESTORED);
    if (band > 0) {
      // In the band the target is the picture itself (x in [-1, 1], without the noise): no pull there.
      Tensor inside = interior(s, ai.vqclip.core.loss.FrameLoss.bandPixels((int) s[2], (int) s[3], band));
      Value m = b.constant(inside);
      Value outside = b.sub(b.scalarLike(1, m), m);
      r = b.add(b.mul(r, m), b.mul(x, outside));
    }
    return RestorationPrior.pullTowards(b, image, r, b.input(WEIGHT, DType.FLOAT, Shape.scalar()));
  }

  /**
   * How a run uses a caption prior: its weight file and the term's settings, from which the term is
   * built for each picture size ({@link #loss}).
   *
   * @param file the prior's weights ({@code TrainDemo caption-prior} writes them)
   * @param weight the full weight, > 0
   * @param start first iteration with the term
   * @param ramp iterations of the linear rise
   * @param noise largest sigma of the noise added before the prior sees the picture
   * @param seed the noise's seed
   * @param band the outer band left out of the pull, as a fraction of the shorter side (0: none)
   */
  public record Settings(java.nio.file.Path file, double weight, int start, int ramp, double noise, long seed, double band) {
    /** The demo's weight: chosen on the tuning prompts (weight 20 drew 20 of 50 pictures right, 10 drew 22; docs/demo-models.md). */
    public static final double WEIGHT = 10;
    /** The demo's first iteration with the term: the CLIPs lay out colours and places first. */
    public static final int START = 50;
    /** The demo's ramp. */
    public static final int RAMP = 25;
    /** The demo's noise sigma bound. */
    public static final double NOISE = 0.2;
    /** The demo's noise seed. */
    public static final long SEED = 20240901L;
    /**
     * The demo's band left out of the pull: an eighth of the side, the frame prior's band (round 9:
     * the prior no longer tints the backgrounds; test set 45 to 54 of 150, docs/demo-models.md).
     */
    public static final double BAND = 0.125;

    /** Settings that pull the whole picture. */
    public Settings(java.nio.file.Path file, double weight, int start, int ramp, double noise, long seed) {
      this(file, weight, start, ramp, noise, seed, 0);
    }

    /** Checks the values. */
    public Settings {
      Objects.requireNonNull(file, "file");
      checkValues(weight, start, ramp, noise, band);
    }

    /**
     * The demo's settings for a prior's weight file, at a given weight.
     *
     * @param file the weights
     * @param weight the full weight, > 0
     * @return the settings
     */
    public static Settings demo(java.nio.file.Path file, double weight) {
      return new Settings(file, weight, START, RAMP, NOISE, SEED, BAND);
    }

    /**
     * The term, the prior read from {@link #file} (the demo architecture) once and built for each
     * picture size the runs use.
     *
     * @return the term
     * @throws ai.vqclip.core.ModelLoadException when the file cannot be read
     * @throws IllegalArgumentException when it is not a caption prior's weights
     */
    public CaptionPriorLoss loss() {
      Map<String, Tensor> w = CaptionPriorTraining.readPrior(file);
      VqganConfig cfg = CaptionPriorTraining.architectureOf(w); // the round 8 prior and the deep one
      return new CaptionPriorLoss((h, wd) -> CaptionPriorTraining.prior(cfg, w, h, wd), weight, start, ramp, noise, seed, band);
    }
  }

  /** A mask [1, 1, H, W] of picture shape {@code s}: 1 inside the band of {@code px} pixels, 0 in it. */
  private static Tensor interior(long[] s, int px) {
    int h = (int) s[2];
    int w = (int) s[3];
    float[] m = new float[h * w];
    for (int y = px; y < h - px; y++) {
      for (int x = px; x < w - px; x++) {
        m[y * w + x] = 1;
      }
    }
    return Tensor.ofFloats(new long[] {1, 1, h, w}, m);
  }

  /** The weight at an iteration. */
  public double weightAt(int iteration) {
    return RestorationPrior.rampedWeight(weight, start, ramp, iteration);
  }

  /**
   * The inputs for an iteration of a run whose picture is the prior graph's one size (a term built
   * from one {@link Graph}, or one that has built step graphs for a single picture size only).
   *
   * @throws IllegalStateException when the picture's shape is not known that way (use {@link #stepInputs(Step)})
   */
  @Override
  public Map<String, Tensor> stepInputs(int iteration) {
    long[] shape = fixed;
    if (shape == null) {
      java.util.Set<java.util.List<Long>> seen = new java.util.HashSet<>();
      pictures.values().forEach(v -> seen.add(java.util.Arrays.stream(v).boxed().toList()));
      if (seen.size() != 1) {
        throw new IllegalStateException("the caption prior has built " + seen.size() + " picture sizes; the step's latent says which (stepInputs(Step))");
      }
      shape = pictures.values().iterator().next();
    }
    return inputs(iteration, shape);
  }

  @Override
  public Map<String, Tensor> stepInputs(Step step) {
    long[] shape = pictures.get(java.util.Arrays.stream(step.latentShape()).boxed().toList());
    return shape == null ? stepInputs(step.iteration()) : inputs(step.iteration(), shape);
  }

  /** The weight and the noise, of {@code shape}, at an iteration. */
  private Map<String, Tensor> inputs(int iteration, long[] shape) {
    float[] e = new float[Math.toIntExact(java.util.Arrays.stream(shape).reduce(1, Math::multiplyExact))];
    if (noise > 0) {
      SplittableRandom rnd = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + iteration);
      double sigma = rnd.nextDouble() * noise;
      for (int i = 0; i < e.length; i++) {
        e[i] = (float) (sigma * RandomWeights.gaussian(rnd));
      }
    }
    return Map.of(WEIGHT, Tensor.scalar(DType.FLOAT, weightAt(iteration)), NOISE, Tensor.ofFloats(shape, e));
  }
}
