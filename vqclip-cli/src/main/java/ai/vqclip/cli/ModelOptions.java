package ai.vqclip.cli;

import ai.vqclip.cli.models.ModelSelection;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** The model options shared by the commands that run models. */
final class ModelOptions {
  @Option(names = "--vqgan", paramLabel = "FILE",
      description = "VQGAN weights: safetensors, or a taming/Lightning .ckpt (default: the built-in model).")
  Path vqgan;

  @Option(names = "--vqgan-config", paramLabel = "FILE",
      description = "The VQGAN's taming model.yaml (default: inferred from the weights' shapes).")
  Path vqganConfig;

  @Option(names = "--clip", paramLabel = "FILE",
      description = "CLIP weights: OpenAI's .pt, safetensors or a torch checkpoint; repeat for an ensemble (default: the built-in model).")
  List<Path> clip = new ArrayList<>();

  @Option(names = "--vocab", paramLabel = "FILE",
      description = "CLIP BPE vocabulary for --clip: bpe_simple_vocab_16e6.txt.gz, or a Hugging Face vocab.json with merges.txt beside it.")
  Path vocab;

  @Option(names = "--vqgan-groups", paramLabel = "N",
      description = "GroupNorm groups of the VQGAN (default: the file's " + ai.vqclip.cli.models.ModelFiles.GROUPS_KEY + " metadata, else 32).")
  Integer vqganGroups;

  @Option(names = "--clip-head-dim", paramLabel = "N",
      description = "Attention head width of the CLIP models (default: the file's " + ai.vqclip.cli.models.ModelFiles.HEAD_DIM_KEY
          + " metadata, else 64).")
  Integer clipHeadDim;

  @Option(names = "--demo-models", paramLabel = "DIR",
      description = "Use the demo models in DIR (as written by 'vqclip train-demo') instead of the bundled ones, for the parts --vqgan and "
          + "--clip do not name.")
  Path demoModels;

  /** The selection, with every named file checked to be a readable file. */
  ModelSelection selection() {
    InputFiles.requireReadable(vqgan, "--vqgan");
    InputFiles.requireReadable(vqganConfig, "--vqgan-config");
    for (Path p : clip) {
      InputFiles.requireReadable(p, "--clip");
    }
    InputFiles.requireReadable(vocab, "--vocab");
    InputFiles.requireDemoModels(demoModels, "--demo-models");
    if (!clip.isEmpty() && vocab == null) {
      throw new UsageException("--clip needs --vocab FILE: the CLIP BPE vocabulary (bpe_simple_vocab_16e6.txt.gz, "
          + "or a Hugging Face vocab.json with merges.txt beside it)");
    }
    if (vqganConfig != null && vqgan == null) {
      throw new UsageException("--vqgan-config describes the --vqgan file; give --vqgan FILE too");
    }
    requireRange(vqganGroups, "--vqgan-groups");
    requireRange(clipHeadDim, "--clip-head-dim");
    return new ModelSelection(abs(vqgan), abs(vqganConfig), clip.stream().map(ModelOptions::abs).toList(), abs(vocab), vqganGroups, clipHeadDim,
        abs(demoModels));
  }

  private static void requireRange(Integer v, String name) {
    if (v != null && (v < 1 || v > 65536)) {
      throw new UsageException(name + " must be in [1, 65536], got " + v);
    }
  }

  static Path abs(Path p) {
    return p == null ? null : p.toAbsolutePath().normalize();
  }
}
