package ai.vqclip.cli.models;

import java.nio.file.Path;
import java.util.List;

/**
 * The models named on a command line; a null or empty part is taken from the built-in {@link
 * ModelSource}: the demo models of {@code demoModels} when given, else the bundled ones.
 *
 * @param vqgan VQGAN weights (safetensors, Lightning/torch checkpoint), or null
 * @param vqganConfig taming {@code model.yaml}, or null to infer the architecture from the weights
 * @param clip CLIP weights, several for an ensemble; empty for the built-in CLIP
 * @param vocab CLIP BPE vocabulary (OpenAI merges file, or Hugging Face vocab.json with merges.txt beside it)
 * @param vqganGroups GroupNorm groups of the VQGAN, or null (file metadata, else taming's 32)
 * @param clipHeadDim attention head width of the CLIP models, or null (file metadata, else OpenAI's 64)
 * @param demoModels a folder of demo models (as {@code vqclip train-demo} writes them) standing in
 *     for the bundled ones, or null
 * @param onnx models given as ONNX graphs, or null for none
 */
public record ModelSelection(Path vqgan, Path vqganConfig, List<Path> clip, Path vocab, Integer vqganGroups, Integer clipHeadDim,
    Path demoModels, OnnxModels onnx) {
  public ModelSelection {
    clip = clip == null ? List.of() : List.copyOf(clip);
    onnx = onnx == null || !onnx.any() ? null : onnx;
  }

  /** A selection without ONNX models. */
  public ModelSelection(Path vqgan, Path vqganConfig, List<Path> clip, Path vocab, Integer vqganGroups, Integer clipHeadDim, Path demoModels) {
    this(vqgan, vqganConfig, clip, vocab, vqganGroups, clipHeadDim, demoModels, null);
  }

  /** Nothing named: every part built in. */
  public static ModelSelection builtIn() {
    return new ModelSelection(null, null, List.of(), null, null, null, null);
  }
}
