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
    SplittableRandom rnd = new SplittableRandom(seed);
    Map<String, Tensor> m = new LinkedHashMap<>();
    for (Map.Entry<String, long[]> e : VqganWeights.expectedShapes(cfg, EnumSet.allOf(VqganWeights.Part.class)).entrySet()) {
      String k = e.getKey();
      long[] s = e.getValue();
      Tensor t;
      if (k.equals(cfg.codebookKey())) {
        t = GradCheck.random(DType.FLOAT, s, rnd, 1.0);
      } else if (s.length == 4) {
        t = GradCheck.random(DType.FLOAT, s, rnd, 1 / Math.sqrt(s[1] * s[2] * s[3]));
      } else if (s.length == 1 && k.endsWith(".weight")) {
        // GroupNorm gamma (the only 1-D weights), near 1
        double[] d = new double[(int) s[0]];
        for (int i = 0; i < d.length; i++) {
          d[i] = 1 + 0.1 * GradCheck.gaussian(rnd);
        }
        t = Tensor.fromDoubles(DType.FLOAT, s, d);
      } else {
        t = GradCheck.random(DType.FLOAT, s, rnd, 0.1);
      }
      m.put(k, t);
    }
    m.put("loss.discriminator.main.0.weight", Tensor.filled(DType.FLOAT, new long[] {2, 3, 1, 1}, 0.5));
    return m;
  }

  static VqganReference reference(VqganConfig cfg, Map<String, Tensor> w) {
    return new VqganReference(w, cfg.ch(), cfg.chMult(), cfg.numResBlocks(), cfg.attnResolutions(), cfg.resolution(), cfg.numGroups(),
        cfg.gumbel() ? "quantize.embed.weight" : "quantize.embedding.weight");
  }
}
