package ai.vqclip.augment;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.pipeline.CutoutFactory;
import ai.vqclip.core.pipeline.CutoutSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * The pipeline's standard cutout stage: {@link Cutouts} configured from a request. No augmentation
 * codes gives B.5 {@code original} (plain crops); codes (e.g. {@code Af Pe Ji Er}) add those
 * augmentations and the noise step; the pseudo-code {@code Pool} switches to pooled cutouts.
 */
public final class StandardCutouts implements CutoutFactory {
  /** Pseudo augmentation code that selects pooled cutouts. */
  public static final String POOLED = "Pool";

  @Override
  public CutoutSource create(int count, int size, double cutPow, List<String> augmentations) {
    List<String> codes = new ArrayList<>(augmentations);
    boolean pooled = codes.removeIf(c -> c.equalsIgnoreCase(POOLED));
    Cutouts.Config config = codes.isEmpty() && !pooled
        ? Cutouts.Config.original(count, size, cutPow)
        : Cutouts.Config.withAugments(count, size, cutPow, pooled, String.join(" ", codes));
    return new Source(config);
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
