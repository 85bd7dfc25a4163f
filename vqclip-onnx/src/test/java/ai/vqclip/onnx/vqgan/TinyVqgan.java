package ai.vqclip.onnx.vqgan;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.DType;
import ai.vqclip.onnx.testing.GradCheck;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A tiny VQGAN for tests: ch 8, ch_mult [1, 2] (factor 2), one ResnetBlock per level, attention
 * at the lowest resolution (nominal 8 of 16), 16 codes of width 4, and 4 GroupNorm groups (taming's
 * 32 would not divide 8 channels), with seeded random weights scaled to keep activations O(1).
 */
final class TinyVqgan {
  private TinyVqgan() {}

  static VqganConfig config(boolean gumbel) {
    return new VqganConfig(8, List.of(1, 2), 1, List.of(8), 4, 4, 16, 16, 3, 3, false, gumbel, 4);
  }

  static VqganConfig config() {
    return config(false);
  }

  /** Random weights for every key of {@code cfg} (plus a loss.* entry that loaders must ignore). */
  static Map<String, Tensor> weights(VqganConfig cfg, long seed) {
    Map<String, Tensor> m = new LinkedHashMap<>(ai.vqclip.onnx.RandomWeights.vqgan(cfg, seed));
    m.put("loss.discriminator.main.0.weight", Tensor.filled(DType.FLOAT, new long[] {2, 3, 1, 1}, 0.5));
    return m;
  }

  static VqganReference reference(VqganConfig cfg, Map<String, Tensor> w) {
    return new VqganReference(w, cfg.ch(), cfg.chMult(), cfg.numResBlocks(), cfg.attnResolutions(), cfg.resolution(), cfg.numGroups(),
        cfg.gumbel() ? "quantize.embed.weight" : "quantize.embedding.weight");
  }
}
