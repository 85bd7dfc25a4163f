package ai.vqclip.pipeline;

import ai.vqclip.cli.models.FallbackModels;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.onnx.clip.ClipConfig;
import ai.vqclip.onnx.clip.ClipEncoder;
import ai.vqclip.onnx.clip.TextTokenizer;
import ai.vqclip.onnx.vqgan.VqganConfig;
import ai.vqclip.onnx.vqgan.VqganGenerator;

/** The command's fallback tiny models (a VQGAN with f=2, a CLIP with 32x32 input) for pipeline tests. */
final class TinyModels {
  private TinyModels() {}

  static final VqganConfig VQGAN = FallbackModels.VQGAN;

  static final ClipConfig CLIP = FallbackModels.CLIP;

  static final ExecutionOptions CPU = ExecutionOptions.cpu().withThreads(1);

  static final TextTokenizer CHARS = FallbackModels.CHARS;

  static VqganGenerator generator() {
    return FallbackModels.generator(11, CPU);
  }

  static ClipEncoder encoder(long seed) {
    return FallbackModels.encoder(seed, CPU);
  }
}
