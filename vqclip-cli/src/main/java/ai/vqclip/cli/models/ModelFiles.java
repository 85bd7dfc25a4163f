package ai.vqclip.cli.models;

import ai.vqclip.core.ModelLoadException;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.onnx.clip.ClipConfig;
import ai.vqclip.onnx.clip.ClipEncoder;
import ai.vqclip.onnx.clip.tokenizer.BpeVocabulary;
import ai.vqclip.onnx.clip.tokenizer.ClipTokenizer;
import ai.vqclip.onnx.vqgan.VqganConfig;
import ai.vqclip.onnx.vqgan.VqganGenerator;
import ai.vqclip.onnx.weights.StateDict;
import ai.vqclip.onnx.weights.WeightFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Models and vocabularies from user files. Shapes do not tell a VQGAN's GroupNorm group count nor a
 * CLIP's attention head width; real models use taming's 32 groups and OpenAI's 64-wide heads, and
 * other models (such as small ones trained by vqclip) say theirs in safetensors metadata under
 * {@value #GROUPS_KEY} and {@value #HEAD_DIM_KEY}, or on the command line.
 */
public final class ModelFiles {
  /** Safetensors metadata key with a VQGAN's GroupNorm group count. */
  public static final String GROUPS_KEY = ai.vqclip.onnx.vqgan.VqganConfig.GROUPS_METADATA_KEY;

  /** Safetensors metadata key with a CLIP's attention head width. */
  public static final String HEAD_DIM_KEY = ai.vqclip.onnx.clip.ClipConfig.HEAD_DIM_METADATA_KEY;

  /** The key whose presence means a VQGAN file has its encoder. */
  static final String ENCODER_KEY = "encoder.conv_in.weight";

  private ModelFiles() {}

  /** A generator with the weights it reads (closed with it). */
  public record OpenedGenerator(VqganGenerator generator, StateDict weights) {}

  /**
   * Opens a VQGAN: the architecture from {@code config} (a taming model.yaml) or inferred from the
   * weights; decode-only files give a generator that cannot encode (no init images).
   *
   * @throws ModelLoadException when a file is unreadable or does not describe a supported VQGAN
   */
  public static OpenedGenerator openVqgan(Path weights, Path config, Integer groups, ExecutionOptions options) {
    StateDict sd = WeightFiles.open(weights);
    try {
      int g = groups != null ? groups : hint(sd, GROUPS_KEY, VqganConfig.DEFAULT_GROUPS, weights);
      VqganConfig cfg;
      try {
        cfg = config != null ? VqganConfig.fromYaml(config).withNumGroups(g) : VqganConfig.inferFrom(sd, g);
      } catch (IllegalArgumentException e) {
        throw new ModelLoadException(weights + ": " + e.getMessage(), e);
      }
      VqganGenerator gen = sd.contains(ENCODER_KEY) ? VqganGenerator.load(sd, cfg, options) : VqganGenerator.loadForSynthesis(sd, cfg, options);
      return new OpenedGenerator(gen, sd);
    } catch (RuntimeException e) {
      sd.close();
      throw e;
    }
  }

  /** An encoder with the weights it reads (closed with it). */
  public record OpenedClip(ClipModel clip, StateDict weights) {}

  /**
   * Opens a CLIP (ViT or ResNet) with the tokenizer of {@code vocab}.
   *
   * @throws ModelLoadException when a file is unreadable, the weights are not a supported CLIP, or the
   *     vocabulary has more tokens than the model has token embeddings
   */
  public static OpenedClip openClip(Path weights, ClipTokenizer tokenizer, Integer headDim, ExecutionOptions options) {
    StateDict sd = WeightFiles.open(weights);
    try {
      int hd = headDim != null ? headDim : hint(sd, HEAD_DIM_KEY, ClipConfig.OPENAI_HEAD_DIM, weights);
      ClipConfig cfg = ClipConfig.infer(sd, hd);
      int tokens = tokenizer.vocabulary().size();
      if (tokens > cfg.vocabSize()) {
        throw new ModelLoadException("the vocabulary " + tokenizer.vocabulary() + " has " + tokens + " tokens but the CLIP model " + weights
            + " has " + cfg.vocabSize() + " token embeddings; use the vocabulary the model was trained with");
      }
      ClipTokenizer t = cfg.contextLength() == tokenizer.options().contextLength() ? tokenizer
          : tokenizer.withOptions(new ClipTokenizer.Options(cfg.contextLength(), tokenizer.options().overflow(),
              tokenizer.options().cacheCapacity()));
      ClipEncoder enc = ClipEncoder.load(sd, cfg, t, options);
      return new OpenedClip(new ClipModel(enc, t, weights.getFileName() + " (" + describe(cfg) + ")"), sd);
    } catch (RuntimeException e) {
      sd.close();
      throw e;
    }
  }

  /**
   * The CLIP tokenizer of a vocabulary file: OpenAI's merges file ({@code bpe_simple_vocab_16e6.txt.gz},
   * gzip or plain), or a Hugging Face {@code vocab.json} with {@code merges.txt} in the same folder.
   *
   * @throws ModelLoadException when the files are missing or malformed
   */
  public static ClipTokenizer tokenizer(Path vocab) {
    String name = vocab.getFileName().toString().toLowerCase(Locale.ROOT);
    if (name.endsWith(".json")) {
      Path merges = vocab.resolveSibling("merges.txt");
      if (!Files.isRegularFile(merges)) {
        throw new ModelLoadException("a Hugging Face vocabulary " + vocab + " needs merges.txt beside it; " + merges + " does not exist");
      }
      return new ClipTokenizer(BpeVocabulary.readHuggingFace(vocab, merges));
    }
    return new ClipTokenizer(BpeVocabulary.readOpenAi(vocab));
  }

  /** An integer from the file's metadata, else the default. */
  static int hint(StateDict sd, String key, int fallback, Path file) {
    String v = sd.metadata().get(key);
    if (v == null) {
      return fallback;
    }
    try {
      int n = Integer.parseInt(v.strip());
      if (n < 1 || n > 65536) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw new ModelLoadException(file + ": metadata " + key + " must be an integer in [1, 65536], got '" + v + "'");
    }
  }

  /** A one-line summary of a CLIP architecture. */
  public static String describe(ClipConfig c) {
    if (c.usesResNet()) {
      return String.format(Locale.ROOT, "ResNet CLIP: embed %d, input %dx%d, ModifiedResNet stages %s x width %d (%d features, attention "
          + "pooling %d heads), text %d layers x %d wide (%d heads), context %d, vocab %d", c.embedDim(), c.imageResolution(),
          c.imageResolution(), c.resnetLayers(), c.visionWidth(), c.visionFeatureWidth(), c.visionHeads(), c.textLayers(), c.textWidth(),
          c.textHeads(), c.contextLength(), c.vocabSize());
    }
    return String.format(Locale.ROOT, "ViT CLIP: embed %d, input %dx%d, patch %d, vision %d layers x %d wide (%d heads), text %d layers x %d wide"
        + " (%d heads), context %d, vocab %d", c.embedDim(), c.imageResolution(), c.imageResolution(), c.visionPatchSize(), c.visionLayers(),
        c.visionWidth(), c.visionHeads(), c.textLayers(), c.textWidth(), c.textHeads(), c.contextLength(), c.vocabSize());
  }
}
