package ai.vqclip.cli.models;

import java.nio.file.Path;

/**
 * Models given as forward ONNX graphs ({@code --generator-onnx}, {@code --encoder-onnx}), adapted
 * by {@link ai.vqclip.onnx.adapt.OnnxGenerator} and {@link ai.vqclip.onnx.adapt.OnnxEncoder}.
 *
 * @param generator latent-to-image graph, or null
 * @param generatorEncoder image-to-latent graph for init images and edits, or null
 * @param generatorRange the generator graph's pixel range: "unit" ([0, 1]) or "signed" ([-1, 1]); null for unit
 * @param encoder image-embedding graph, or null
 * @param encoderText text-embedding graph (int64 token ids from the {@code --vocab} tokenizer), or null
 * @param textEmbeddings JSON file of fixed text embeddings ({@code {"text": [floats], ...}}), or null
 * @param encoderResolution image side for an encoder graph whose side is symbolic, or null
 * @param encoderNormalization "none" (pixels in [0, 1]) or "clip" (CLIP's mean and std); null for none
 * @param latentInit the generator's random latents: "normal" or "uniform"; null for normal
 * @param latentScale their deviation (normal) or half-width (uniform); null for 1
 * @param latentMin lower bound of every latent value, or null for none
 * @param latentMax upper bound of every latent value, or null for none
 */
public record OnnxModels(Path generator, Path generatorEncoder, String generatorRange, Path encoder, Path encoderText, Path textEmbeddings,
    Integer encoderResolution, String encoderNormalization, String latentInit, Double latentScale, Double latentMin, Double latentMax) {
  /** Whether any ONNX model is named. */
  public boolean any() {
    return generator != null || encoder != null;
  }
}
