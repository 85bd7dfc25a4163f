package ai.vqclip.spark;

import ai.vqclip.cli.models.ModelSelection;
import java.io.Serializable;
import java.util.List;
import java.util.Objects;

/**
 * The models a job runs with, as locations every executor can read: local paths on a shared file
 * system, or Hadoop file system URIs ({@code hdfs://...}, {@code s3a://...}, {@code file:/...}).
 * Executors copy non-local files once into a local cache folder (weights are memory-mapped) and
 * load them once per JVM ({@link ExecutorModels}). Every part is optional: with none, the demo
 * models bundled in the jar are used, as by {@code vqclip generate}.
 *
 * @param demoModels a folder of demo models as {@code vqclip train-demo} writes them, or null
 * @param vqgan VQGAN weights (safetensors, Lightning/torch checkpoint), or null
 * @param vqganConfig taming {@code model.yaml}, or null to infer it from the weights
 * @param clip CLIP weights, several for an ensemble; empty for the built-in CLIP
 * @param vocab CLIP BPE vocabulary (needed with {@code clip}), or null
 */
public record ModelSet(String demoModels, String vqgan, String vqganConfig, List<String> clip, String vocab) implements Serializable {
  private static final long serialVersionUID = 1L;

  /**
   * Copies the list.
   *
   * @param demoModels a folder of demo models as {@code vqclip train-demo} writes them, or null
   * @param vqgan VQGAN weights, or null
   * @param vqganConfig taming {@code model.yaml}, or null
   * @param clip CLIP weights, several for an ensemble; empty for the built-in CLIP
   * @param vocab CLIP BPE vocabulary, or null
   * @throws IllegalArgumentException when CLIP weights are given without a vocabulary, or a config without weights
   */
  public ModelSet {
    clip = clip == null ? List.of() : List.copyOf(clip);
    if (!clip.isEmpty() && vocab == null) {
      throw new IllegalArgumentException("clip: CLIP weights " + clip + " need a vocab (bpe_simple_vocab_16e6.txt.gz or vocab.json)");
    }
    if (vqganConfig != null && vqgan == null) {
      throw new IllegalArgumentException("vqganConfig " + vqganConfig + " is given without vqgan weights");
    }
  }

  /** @return the demo models bundled in the jar (nothing to ship) */
  public static ModelSet bundledDemo() {
    return new ModelSet(null, null, null, List.of(), null);
  }

  /**
   * The demo models in a folder.
   *
   * @param dir a folder (local path or Hadoop URI) holding the files of {@code vqclip train-demo}
   * @return the model set
   */
  public static ModelSet demo(String dir) {
    return new ModelSet(Objects.requireNonNull(dir, "dir"), null, null, List.of(), null);
  }

  /** @return whether the built-in (demo) models draw: their run defaults apply, as in {@code vqclip generate} */
  public boolean builtInDefaults() {
    return vqgan == null && clip.isEmpty();
  }

  /**
   * The selection for {@link ai.vqclip.cli.models.Models#open} once every file is local.
   *
   * @param stage maps each location to a local path
   * @return the selection
   */
  ModelSelection select(Stager stage) {
    return new ModelSelection(stage.file(vqgan), stage.file(vqganConfig), clip.stream().map(stage::file).toList(), stage.vocab(vocab), null, null,
        stage.demoFolder(demoModels));
  }
}
