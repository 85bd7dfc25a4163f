package ai.vqclip.cli;

import ai.vqclip.cli.models.ModelSelection;
import ai.vqclip.cli.models.OnnxModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** The model options shared by the commands that run models. */
final class ModelOptions {
  // -ckpt, -conf and -m are generate.py's names for the same things.
  @Option(names = {"-ckpt", "--vqgan"}, paramLabel = "FILE",
      description = "VQGAN weights: safetensors, or a taming/Lightning .ckpt (default: the built-in model).")
  Path vqgan;

  @Option(names = {"-conf", "--vqgan-config"}, paramLabel = "FILE",
      description = "The VQGAN's taming model.yaml (default: inferred from the weights' shapes).")
  Path vqganConfig;

  @Option(names = {"-m", "--clip"}, paramLabel = "FILE",
      description = "CLIP weights: OpenAI's .pt, safetensors or a torch checkpoint; repeat for an ensemble (default: the built-in model). "
          + "generate.py's -m takes a model name (ViT-B/32): here give the downloaded file (ViT-B-32.pt).")
  List<Path> clip = new ArrayList<>();

  @Option(names = "--vocab", paramLabel = "FILE",
      description = "CLIP BPE vocabulary for --clip: bpe_simple_vocab_16e6.txt.gz, or a Hugging Face vocab.json with merges.txt beside it. "
          + "Once for every --clip file, or repeated, one per --clip file in order (CLIPs trained apart have their own).")
  List<Path> vocab = new ArrayList<>();

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

  @Option(names = "--generator-onnx", paramLabel = "FILE",
      description = "Generator as a forward ONNX graph: latent [1, C, h, w] to image [1, 3, H, W] (instead of --vqgan).")
  Path generatorOnnx;

  @Option(names = "--generator-encoder-onnx", paramLabel = "FILE",
      description = "ONNX graph from image [1, 3, H, W] in [0, 1] to the --generator-onnx latent, for init images and edits.")
  Path generatorEncoderOnnx;

  @Option(names = "--generator-range", paramLabel = "RANGE",
      description = "Pixel range of the --generator-onnx output: unit ([0, 1], default) or signed ([-1, 1], tanh outputs).")
  String generatorRange;

  @Option(names = "--latent-init", paramLabel = "KIND",
      description = "Random latents of --generator-onnx: normal (default) or uniform, centred on 0.")
  String latentInit;

  @Option(names = "--latent-scale", paramLabel = "X",
      description = "Their deviation (normal) or half-width (uniform) (default: 1).")
  Double latentScale;

  @Option(names = "--latent-bounds", arity = "2", paramLabel = "X",
      description = "Lower and upper bound of every --generator-onnx latent value; the optimizer clamps to them (default: none).")
  List<Double> latentBounds;

  @Option(names = "--encoder-onnx", paramLabel = "FILE",
      description = "Image encoder as a forward ONNX graph: images [n, 3, S, S] to embeddings [n, D] (with or instead of --clip).")
  Path encoderOnnx;

  @Option(names = "--encoder-text-onnx", paramLabel = "FILE",
      description = "Text encoder of --encoder-onnx: int64 token ids [1, L] (from the --vocab tokenizer) to [1, D].")
  Path encoderTextOnnx;

  @Option(names = "--text-embeddings", paramLabel = "FILE",
      description = "Fixed text embeddings for --encoder-onnx: a JSON object {\"text\": [D numbers], ...}.")
  Path textEmbeddings;

  @Option(names = "--encoder-resolution", paramLabel = "N",
      description = "Image side of an --encoder-onnx graph whose side is symbolic.")
  Integer encoderResolution;

  @Option(names = "--encoder-normalize", paramLabel = "MODE",
      description = "Pixels --encoder-onnx takes: none ([0, 1], default) or clip (CLIP's per-channel mean and std).")
  String encoderNormalize;

  /** The selection, with every named file checked to be a readable file. */
  ModelSelection selection() {
    InputFiles.requireReadable(vqgan, "--vqgan");
    InputFiles.requireReadable(vqganConfig, "--vqgan-config");
    for (Path p : clip) {
      if (!java.nio.file.Files.exists(p) && p.toString().matches("(ViT-[BL]/\\d+(@\\d+px)?|RN\\d+(x\\d+)?)")) {
        // generate.py's -m takes a model name and downloads it; vqclip never downloads.
        throw new UsageException("--clip/-m: '" + p + "' is a model name; vqclip does not download models: give the downloaded file, e.g. "
            + p.toString().replace('/', '-') + ".pt (see the README's Real models)");
      }
      InputFiles.requireReadable(p, "--clip");
    }
    for (Path v : vocab) {
      InputFiles.requireReadable(v, "--vocab");
    }
    if (vocab.size() > 1 && vocab.size() != clip.size()) {
      throw new UsageException("--vocab given " + vocab.size() + " times for " + clip.size()
          + " --clip files: give one vocabulary for all of them, or one per --clip file, in order");
    }
    InputFiles.requireDemoModels(demoModels, "--demo-models");
    if (!clip.isEmpty() && vocab.isEmpty()) {
      throw new UsageException("--clip needs --vocab FILE: the CLIP BPE vocabulary (bpe_simple_vocab_16e6.txt.gz, "
          + "or a Hugging Face vocab.json with merges.txt beside it)");
    }
    if (vqganConfig != null && vqgan == null) {
      throw new UsageException("--vqgan-config describes the --vqgan file; give --vqgan FILE too");
    }
    requireRange(vqganGroups, "--vqgan-groups");
    requireRange(clipHeadDim, "--clip-head-dim");
    return new ModelSelection(abs(vqgan), abs(vqganConfig), clip.stream().map(ModelOptions::abs).toList(), vocab.isEmpty() ? null : abs(vocab.get(0)),
        vqganGroups, clipHeadDim, abs(demoModels), onnx(), vocab.stream().skip(1).map(ModelOptions::abs).toList());
  }

  private OnnxModels onnx() {
    InputFiles.requireReadable(generatorOnnx, "--generator-onnx");
    InputFiles.requireReadable(generatorEncoderOnnx, "--generator-encoder-onnx");
    InputFiles.requireReadable(encoderOnnx, "--encoder-onnx");
    InputFiles.requireReadable(encoderTextOnnx, "--encoder-text-onnx");
    InputFiles.requireReadable(textEmbeddings, "--text-embeddings");
    if (generatorOnnx != null && vqgan != null) {
      throw new UsageException("--generator-onnx and --vqgan both name a generator; give one");
    }
    if (generatorOnnx == null && (generatorEncoderOnnx != null || generatorRange != null)) {
      throw new UsageException((generatorEncoderOnnx != null ? "--generator-encoder-onnx" : "--generator-range")
          + " describes the --generator-onnx graph; give --generator-onnx FILE too");
    }
    if (generatorOnnx == null && (latentInit != null || latentScale != null || latentBounds != null)) {
      throw new UsageException("--latent-init, --latent-scale and --latent-bounds describe the --generator-onnx latent; give --generator-onnx "
          + "FILE too");
    }
    if (latentInit != null && !latentInit.equals("normal") && !latentInit.equals("uniform")) {
      throw new UsageException("--latent-init must be normal or uniform, got '" + latentInit + "'");
    }
    if (latentScale != null && !(latentScale > 0 && latentScale < 1e6)) {
      throw new UsageException("--latent-scale must be in (0, 1e6), got " + latentScale);
    }
    if (latentBounds != null && !(latentBounds.get(0) < latentBounds.get(1))) {
      throw new UsageException("--latent-bounds needs MIN < MAX, got " + latentBounds.get(0) + " " + latentBounds.get(1));
    }
    if (generatorRange != null && !generatorRange.equals("unit") && !generatorRange.equals("signed")) {
      throw new UsageException("--generator-range must be unit or signed, got '" + generatorRange + "'");
    }
    if (encoderOnnx == null && (encoderTextOnnx != null || textEmbeddings != null || encoderResolution != null || encoderNormalize != null)) {
      throw new UsageException("--encoder-text-onnx, --text-embeddings, --encoder-resolution and --encoder-normalize describe the "
          + "--encoder-onnx graph; give --encoder-onnx FILE too");
    }
    if (encoderOnnx != null && encoderTextOnnx == null && textEmbeddings == null) {
      throw new UsageException("--encoder-onnx " + encoderOnnx + " needs text: --encoder-text-onnx FILE (with --vocab) or --text-embeddings FILE");
    }
    if (encoderTextOnnx != null && vocab.isEmpty()) {
      throw new UsageException("--encoder-text-onnx needs --vocab FILE: the BPE vocabulary whose token ids the graph takes");
    }
    if (encoderNormalize != null && !encoderNormalize.equals("none") && !encoderNormalize.equals("clip")) {
      throw new UsageException("--encoder-normalize must be none or clip, got '" + encoderNormalize + "'");
    }
    if (encoderResolution != null && (encoderResolution < 1 || encoderResolution > 8192)) {
      throw new UsageException("--encoder-resolution must be in [1, 8192], got " + encoderResolution);
    }
    return new OnnxModels(abs(generatorOnnx), abs(generatorEncoderOnnx), generatorRange, abs(encoderOnnx), abs(encoderTextOnnx),
        abs(textEmbeddings), encoderResolution, encoderNormalize, latentInit, latentScale, latentBounds == null ? null : latentBounds.get(0),
        latentBounds == null ? null : latentBounds.get(1));
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
