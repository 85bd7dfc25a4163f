package ai.vqclip.pipeline;

import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.onnx.RandomWeights;
import ai.vqclip.onnx.clip.ClipConfig;
import ai.vqclip.onnx.clip.ClipEncoder;
import ai.vqclip.onnx.clip.TextTokenizer;
import ai.vqclip.onnx.vqgan.VqganConfig;
import ai.vqclip.onnx.vqgan.VqganGenerator;
import ai.vqclip.onnx.weights.StateDict;
import java.util.List;

/** A tiny VQGAN (f=2, 16 codes of width 4) and a tiny CLIP (32x32 input, D 16) with seeded random weights. */
final class TinyModels {
  private TinyModels() {}

  static final VqganConfig VQGAN = new VqganConfig(8, List.of(1, 2), 1, List.of(8), 4, 4, 16, 16, 3, 3, false, false, 4);

  static final ClipConfig CLIP = new ClipConfig(16, 32, 32, 2, 4, 8, 77, 100, 32, 2, 4);

  static final ExecutionOptions CPU = ExecutionOptions.cpu().withThreads(1);

  /** A character tokenizer for the tiny vocabulary: start = 98, one id per char, end = 99 (the largest id). */
  static final TextTokenizer CHARS = text -> {
    int[] ids = new int[77];
    ids[0] = 98;
    for (int i = 0; i < text.length() && i < 75; i++) {
      ids[i + 1] = 1 + text.charAt(i) % 97;
    }
    ids[Math.min(text.length(), 75) + 1] = 99;
    return ids;
  };

  static VqganGenerator generator() {
    return VqganGenerator.load(StateDict.of(RandomWeights.vqgan(VQGAN, 11)), VQGAN, CPU);
  }

  static ClipEncoder encoder(long seed) {
    return ClipEncoder.load(StateDict.of(RandomWeights.clip(CLIP, seed)), CLIP, CHARS, CPU);
  }
}
