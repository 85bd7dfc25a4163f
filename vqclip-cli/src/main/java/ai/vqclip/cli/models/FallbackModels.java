package ai.vqclip.cli.models;

import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.onnx.RandomWeights;
import ai.vqclip.onnx.clip.ClipConfig;
import ai.vqclip.onnx.clip.ClipEncoder;
import ai.vqclip.onnx.clip.TextTokenizer;
import ai.vqclip.onnx.vqgan.VqganConfig;
import ai.vqclip.onnx.vqgan.VqganGenerator;
import ai.vqclip.onnx.weights.StateDict;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tiny models with seeded random weights: a VQGAN with downsampling factor 2 and 16 codes of width
 * 4, and a CLIP with 32x32 input and 16-dimensional embeddings. They exercise the whole pipeline in
 * milliseconds per step, but their images are noise: they stand in when the build has no demo
 * models (and serve tests).
 */
public final class FallbackModels implements ModelSource {
  private static final Logger LOG = LoggerFactory.getLogger(FallbackModels.class);

  /** The tiny VQGAN: f=2, 16 codes of width 4, 4 GroupNorm groups. */
  public static final VqganConfig VQGAN = new VqganConfig(8, List.of(1, 2), 1, List.of(8), 4, 4, 16, 16, 3, 3, false, false, 4);

  /** The tiny CLIP: 32x32 input, D 16, 77 tokens, 100 ids, 4 heads of width 8. */
  public static final ClipConfig CLIP = new ClipConfig(16, 32, 32, 2, 4, 8, 77, 100, 32, 2, 4);

  /** Seed of the VQGAN weights. */
  public static final long VQGAN_SEED = 11;

  /** Seed of the CLIP weights. */
  public static final long CLIP_SEED = 5;

  /**
   * A character tokenizer for the tiny vocabulary: start = 98, one id in [1, 97] per character (the
   * first 75), end = 99 (the largest id, as CLIP requires).
   */
  public static final TextTokenizer CHARS = text -> {
    int[] ids = new int[77];
    ids[0] = 98;
    int n = Math.min(text.length(), 75);
    for (int i = 0; i < n; i++) {
      ids[i + 1] = 1 + text.charAt(i) % 97;
    }
    ids[n + 1] = 99;
    return ids;
  };

  @Override
  public String description() {
    return "seeded random tiny models (this build has no demo models)";
  }

  /** Small runs: the images are noise whatever the settings. */
  @Override
  public RunDefaults defaults() {
    return new RunDefaults(32, 50, 8, RunDefaults.GENERATE_PY.augments(), 1.0);
  }

  @Override
  public VqganGenerator openGenerator(ExecutionOptions options) {
    LOG.warn("no --vqgan given and no demo models in this build: using a seeded random tiny VQGAN; images will be noise");
    return generator(VQGAN_SEED, options);
  }

  @Override
  public ClipModel openClip(ExecutionOptions options) {
    LOG.warn("no --clip given and no demo models in this build: using a seeded random tiny CLIP; prompts cannot steer it");
    return new ClipModel(encoder(CLIP_SEED, options), CHARS, "random tiny CLIP (seed " + CLIP_SEED + ")");
  }

  /** The tiny VQGAN with weights drawn from {@code seed}. */
  public static VqganGenerator generator(long seed, ExecutionOptions options) {
    return VqganGenerator.load(StateDict.of(RandomWeights.vqgan(VQGAN, seed)), VQGAN, options);
  }

  /** The tiny CLIP with weights drawn from {@code seed} and the character tokenizer. */
  public static ClipEncoder encoder(long seed, ExecutionOptions options) {
    return ClipEncoder.load(StateDict.of(RandomWeights.clip(CLIP, seed)), CLIP, CHARS, options);
  }
}
