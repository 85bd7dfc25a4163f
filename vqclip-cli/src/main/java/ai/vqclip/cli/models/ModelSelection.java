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
 * @param moreVocabs the vocabularies of the second and later {@code clip} files, in order, when each
 *     has its own (CLIPs trained apart, e.g. the two demo CLIPs); empty when {@code vocab} serves all
 */
public record ModelSelection(Path vqgan, Path vqganConfig, List<Path> clip, Path vocab, Integer vqganGroups, Integer clipHeadDim,
    Path demoModels, OnnxModels onnx, List<Path> moreVocabs) {
  /**
   * Copies the lists.
   *
   * @throws IllegalArgumentException when {@code moreVocabs} is given but not one per {@code clip} file after the first
   */
  public ModelSelection {
    clip = clip == null ? List.of() : List.copyOf(clip);
    onnx = onnx == null || !onnx.any() ? null : onnx;
    moreVocabs = moreVocabs == null ? List.of() : List.copyOf(moreVocabs);
    if (!moreVocabs.isEmpty() && moreVocabs.size() != clip.size() - 1) {
      throw new IllegalArgumentException((moreVocabs.size() + 1) + " vocabularies for " + clip.size()
          + " CLIP files: give one vocabulary for all of them, or one per CLIP file, in order");
    }
  }

  /** Whether the run is guided by the built-in CLIPs (no {@code --clip} file and no ONNX encoder). */
  public boolean builtInClips() {
    return clip.isEmpty() && (onnx == null || onnx.encoder() == null);
  }

  /** A selection where one vocabulary serves every CLIP file. */
  public ModelSelection(Path vqgan, Path vqganConfig, List<Path> clip, Path vocab, Integer vqganGroups, Integer clipHeadDim,
      Path demoModels, OnnxModels onnx) {
    this(vqgan, vqganConfig, clip, vocab, vqganGroups, clipHeadDim, demoModels, onnx, List.of());
  }

  /**
   * The vocabulary of CLIP file {@code i}.
   *
   * @param i the index into {@link #clip()}
   * @return its own vocabulary, or {@link #vocab()} when one serves all
   */
  public Path vocabOf(int i) {
    return i == 0 || moreVocabs.isEmpty() ? vocab : moreVocabs.get(i - 1);
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
