package ai.vqclip.augment;

import ai.vqclip.core.Augmentation;
import ai.vqclip.core.CutoutAugmentation;
import ai.vqclip.core.GeometricAugmentation;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.CutoutFactory;
import ai.vqclip.core.CutoutSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * The pipeline's standard cutout stage: {@link Cutouts} configured from a request. No augmentation
 * codes gives B.5 {@code original} (plain crops); codes (e.g. {@code Af Pe Ji Er}) add those
 * augmentations and the noise step ({@code Noise=<sigma>} sets its largest sigma); the pseudo-code {@code Pool} switches to pooled cutouts, and
 * {@code Border} makes the geometric augmentations sample the nearest edge pixel outside the image
 * instead of zeros.
 */
public final class StandardCutouts implements CutoutFactory {
  /** Pseudo augmentation code that selects pooled cutouts. */
  public static final String POOLED = "Pool";

  /**
   * Pseudo augmentation code for {@link Cutouts.Padding#BORDER}. With zero padding, an affine or
   * perspective warp shows black wedges where it moves the picture, and the picture's outer pixels
   * leave the frame in most cutouts, so they get little gradient; with border padding every warp
   * repeats the edge pixels, which keeps the edges in view. Measured with the demo models: the
   * background colour came out right for 18 of 20 prompts with it, 10 of 20 without.
   */
  public static final String BORDER = "Border";

  /**
   * Prefix of the pseudo-code {@code Noise=<sigma>} that sets the noise step's largest sigma (pixel
   * units, [0, 10]; default 0.1) of the augmented configuration. A larger noise step averages the
   * encoder's gradient over a wider neighbourhood of the picture (randomized smoothing), which
   * weakens the gradient towards fine textures an encoder reads as the prompt.
   */
  public static final String NOISE = "Noise=";

  @Override
  public CutoutSource create(int count, int size, double cutPow, List<CutoutAugmentation> augmentations) {
    List<GeometricAugmentation> geometric = new ArrayList<>();
    List<Augmentation> pixel = new ArrayList<>();
    boolean pooled = false;
    boolean border = false;
    double noise = Double.NaN; // NaN: the configuration's default
    boolean any = false; // a stage other than the two switches: the augmented configuration (with its noise step)
    for (CutoutAugmentation a : augmentations) {
      if (a instanceof CutoutAugmentation.Code c) {
        if (c.code().equalsIgnoreCase(POOLED)) {
          pooled = true;
        } else if (c.code().equalsIgnoreCase(BORDER)) {
          border = true;
        } else if (c.code().regionMatches(true, 0, NOISE, 0, NOISE.length())) {
          noise = parseNoise(c.code());
        } else {
          AugmentCodes.Parsed p = AugmentCodes.parse(c.code());
          geometric.addAll(p.geometric());
          pixel.addAll(p.pixel());
          any = true;
        }
      } else if (a instanceof GeometricAugmentation g) {
        geometric.add(g);
        any = true;
      } else if (a instanceof Augmentation p) {
        pixel.add(p);
        any = true;
      } else {
        throw new IllegalArgumentException("augmentation " + a + " (" + a.getClass().getName() + ") is neither a GeometricAugmentation, "
            + "an Augmentation nor a code");
      }
    }
    Cutouts.Config config = !any && !pooled
        ? Cutouts.Config.original(count, size, cutPow)
        : Cutouts.Config.withAugments(count, size, cutPow, pooled, "").withAugmentations(geometric, pixel);
    if (!Double.isNaN(noise)) {
      if (!any && !pooled) {
        throw new IllegalArgumentException("augmentation code " + NOISE + noise + " needs an augmentation code beside it (plain crops have no noise step)");
      }
      config = config.withNoiseFac(noise);
    }
    return new Source(border ? config.withPadding(Cutouts.Padding.BORDER) : config);
  }

  /** The sigma of a {@code Noise=<sigma>} code, checked. */
  private static double parseNoise(String code) {
    String v = code.substring(NOISE.length());
    double sigma;
    try {
      sigma = Double.parseDouble(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("augmentation code " + code + ": expected " + NOISE + "<sigma> with a number in [0, 10], got '" + v + "'");
    }
    if (!(sigma >= 0 && sigma <= 10)) {
      throw new IllegalArgumentException("augmentation code " + code + ": sigma must be in [0, 10], got " + sigma);
    }
    return sigma;
  }

  private static final class Source implements CutoutSource {
    private final Cutouts.Config config;
    private final Map<Long, Cutouts> bySize = new HashMap<>();

    Source(Cutouts.Config config) {
      this.config = config;
    }

    private Cutouts at(int width, int height) {
      return bySize.computeIfAbsent(((long) width << 32) | height, k -> Cutouts.create(config, height, width, ""));
    }

    @Override
    public int count() {
      return config.cutn();
    }

    @Override
    public Graph fragment(int width, int height) {
      return at(width, height).fragment();
    }

    @Override
    public Map<String, Tensor> sample(RandomGenerator rng, int width, int height) {
      return at(width, height).sample(rng);
    }
  }
}
