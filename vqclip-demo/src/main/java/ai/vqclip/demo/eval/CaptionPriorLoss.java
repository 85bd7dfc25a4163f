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
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * A caption-conditioned image prior: each step the picture {@code x} is pulled towards {@code
 * sg(P(x + noise, c))}, the caption prior's redrawing of it for the run's first text prompt (its
 * embedding {@code c} by the first CLIP, read from the prompt term's target input), with weight 0
 * before {@code start} and a linear ramp after. No gradient goes through {@code P}.
 *
 * @param prior the prior's graph (inputs {@link CaptionPriorTraining#DAMAGED} and {@link
 *     CaptionPriorTraining#CAPTION}, output {@link CaptionPriorTraining#RESTORED}) for one picture
 * @param weight the full weight
 * @param start first iteration with the term
 * @param ramp iterations of the linear rise
 * @param noise largest sigma (pixel scale -1..1) of the noise added before the prior sees the picture
 *     (drawn per iteration from U(0, noise)); 0 for none
 * @param seed the noise's seed
 */
public record CaptionPriorLoss(Graph prior, double weight, int start, int ramp, double noise, long seed) implements Loss {
  /** The term's name. */
  public static final String NAME = "cprior";
  private static final String WEIGHT = NAME + "/weight";
  private static final String NOISE = NAME + "/noise";
  /** The prompt term input that holds the first prompt's target embedding by the first CLIP. */
  static final String TARGET = ai.vqclip.core.loss.PromptTermLoss.targetInput("text0", 0);

  /** Checks the values. */
  public CaptionPriorLoss {
    Objects.requireNonNull(prior, "prior");
    for (String in : java.util.List.of(CaptionPriorTraining.DAMAGED, CaptionPriorTraining.CAPTION)) {
      if (prior.inputs().stream().noneMatch(v -> v.name().equals(in))) {
        throw new IllegalArgumentException("caption prior graph '" + prior.name() + "' has no input '" + in + "'; inputs: "
            + prior.inputs().stream().map(Value::name).toList());
      }
    }
    if (prior.outputs().stream().noneMatch(v -> v.name().equals(CaptionPriorTraining.RESTORED))) {
      throw new IllegalArgumentException("caption prior graph '" + prior.name() + "' has no output '" + CaptionPriorTraining.RESTORED
          + "'; outputs: " + prior.outputs().stream().map(Value::name).toList());
    }
    if (!(weight > 0) || !Double.isFinite(weight) || start < 0 || ramp < 0 || noise < 0) {
      throw new IllegalArgumentException("caption prior needs weight > 0, start, ramp, noise >= 0; got " + weight + ", " + start + ", " + ramp
          + ", " + noise);
    }
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
    Value target = b.value(TARGET);
    Value first = b.op("Slice").in(target, b.ints(0), b.ints(1), b.ints(0)).out();
    Value cond = SphericalDistance.normalize(b, first);
    Value x = b.sub(b.mul(image, b.scalarLike(2, image)), b.scalarLike(1, image));
    Value noisy = b.add(x, b.input(NOISE, DType.FLOAT, Shape.of(s)));
    Value r = b.include(prior, NAME, Map.of(CaptionPriorTraining.DAMAGED, noisy, CaptionPriorTraining.CAPTION, cond))
        .get(CaptionPriorTraining.RESTORED);
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
   */
  public record Settings(java.nio.file.Path file, double weight, int start, int ramp, double noise, long seed) {
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

    /** Checks the values. */
    public Settings {
      Objects.requireNonNull(file, "file");
      if (!(weight > 0) || !Double.isFinite(weight) || start < 0 || ramp < 0 || !(noise >= 0) || !Double.isFinite(noise)) {
        throw new IllegalArgumentException("caption prior needs a finite weight > 0 and start, ramp, noise >= 0; got weight " + weight
            + ", start " + start + ", ramp " + ramp + ", noise " + noise);
      }
    }

    /**
     * The demo's settings for a prior's weight file, at a given weight.
     *
     * @param file the weights
     * @param weight the full weight, > 0
     * @return the settings
     */
    public static Settings demo(java.nio.file.Path file, double weight) {
      return new Settings(file, weight, START, RAMP, NOISE, SEED);
    }

    /**
     * The term for pictures of {@code height} x {@code width}, the prior read from {@link #file}
     * (the demo architecture).
     *
     * @param height picture height
     * @param width picture width
     * @return the term
     * @throws ai.vqclip.core.ModelLoadException when the file cannot be read
     */
    public CaptionPriorLoss loss(int height, int width) {
      return new CaptionPriorLoss(CaptionPriorTraining.load(file, CaptionPriorTraining.demoModel(), height, width), weight, start, ramp, noise,
          seed);
    }
  }

  /** The weight at an iteration. */
  public double weightAt(int iteration) {
    return RestorationPrior.rampedWeight(weight, start, ramp, iteration);
  }

  @Override
  public Map<String, Tensor> stepInputs(int iteration) {
    long[] shape = prior.input(CaptionPriorTraining.DAMAGED).shape().toArray();
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
