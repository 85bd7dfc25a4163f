package ai.vqclip.onnx.clip;

import ai.vqclip.core.ModelLoadException;
import ai.vqclip.onnx.weights.StateDict;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The architecture of a ViT CLIP model: the image transformer, the text transformer and the shared
 * embedding size. {@link #infer} reads it from a state dict's shapes the way OpenAI's {@code
 * build_model} does; the presets are the published OpenAI models.
 *
 * @param embedDim joint embedding size D (512 for ViT-B/32)
 * @param imageResolution side S of the square input images (224)
 * @param visionWidth width of the image transformer (768)
 * @param visionLayers residual attention blocks of the image transformer (12)
 * @param visionHeads attention heads of the image transformer (12)
 * @param visionPatchSize side of the square patches (32)
 * @param contextLength text tokens per sequence (77)
 * @param vocabSize token vocabulary size (49408); at most 2^24, since the end-token position is found
 *     by an ArgMax over the ids cast to float32, which represents those ids exactly
 * @param textWidth width of the text transformer (512)
 * @param textLayers residual attention blocks of the text transformer (12)
 * @param textHeads attention heads of the text transformer (8)
 */
public record ClipConfig(
    int embedDim,
    int imageResolution,
    int visionWidth,
    int visionLayers,
    int visionHeads,
    int visionPatchSize,
    int contextLength,
    int vocabSize,
    int textWidth,
    int textLayers,
    int textHeads) {

  /** OpenAI's head width: every published ViT CLIP has heads = width / 64. */
  public static final int OPENAI_HEAD_DIM = 64;

  /** Largest vocabulary: ids up to 2^24 are exact in float32 (see {@code vocabSize}). */
  public static final int MAX_VOCAB = 1 << 24;

  private static final int MAX_WIDTH = 1 << 16;
  private static final int MAX_LAYERS = 1024;
  private static final int MAX_RESOLUTION = 1 << 14;
  private static final int MAX_CONTEXT = 1 << 16;

  /** OpenAI ViT-B/32. */
  public static final ClipConfig VIT_B_32 = new ClipConfig(512, 224, 768, 12, 12, 32, 77, 49408, 512, 12, 8);

  /** OpenAI ViT-B/16. */
  public static final ClipConfig VIT_B_16 = new ClipConfig(512, 224, 768, 12, 12, 16, 77, 49408, 512, 12, 8);

  /** OpenAI ViT-L/14. */
  public static final ClipConfig VIT_L_14 = new ClipConfig(768, 224, 1024, 24, 16, 14, 77, 49408, 768, 12, 12);

  public ClipConfig {
    positive("embedDim", embedDim, MAX_WIDTH);
    positive("imageResolution", imageResolution, MAX_RESOLUTION);
    positive("visionWidth", visionWidth, MAX_WIDTH);
    positive("visionLayers", visionLayers, MAX_LAYERS);
    positive("visionHeads", visionHeads, visionWidth);
    positive("visionPatchSize", visionPatchSize, imageResolution);
    positive("contextLength", contextLength, MAX_CONTEXT);
    positive("vocabSize", vocabSize, MAX_VOCAB);
    positive("textWidth", textWidth, MAX_WIDTH);
    positive("textLayers", textLayers, MAX_LAYERS);
    positive("textHeads", textHeads, textWidth);
    if (visionWidth % visionHeads != 0) {
      throw new IllegalArgumentException(
          "visionWidth " + visionWidth + " must be a multiple of visionHeads " + visionHeads);
    }
    if (textWidth % textHeads != 0) {
      throw new IllegalArgumentException("textWidth " + textWidth + " must be a multiple of textHeads " + textHeads);
    }
    if (imageResolution % visionPatchSize != 0) {
      throw new IllegalArgumentException(
          "imageResolution " + imageResolution + " must be a multiple of visionPatchSize " + visionPatchSize);
    }
  }

  private static void positive(String name, int v, int max) {
    if (v < 1 || v > max) {
      throw new IllegalArgumentException(name + " must be in [1, " + max + "], got " + v);
    }
  }

  /** Patches per image side (7 for ViT-B/32). */
  public int gridSize() {
    return imageResolution / visionPatchSize;
  }

  /** Image tokens: one per patch plus the class token (50 for ViT-B/32). */
  public int visionTokens() {
    return gridSize() * gridSize() + 1;
  }

  /**
   * Infers the architecture from the weights (OpenAI or Hugging Face names) as OpenAI's {@code
   * build_model} does, with heads = width / 64. Only the shapes are read.
   *
   * @throws ModelLoadException when the weights are not a ViT CLIP (e.g. RN50), lack a key the
   *     inference needs, or have shapes no configuration produces
   */
  public static ClipConfig infer(StateDict weights) {
    return infer(ClipWeights.of(weights), OPENAI_HEAD_DIM);
  }

  /**
   * Infers the architecture with heads = width / {@code headDim} (for models whose widths are not
   * multiples of 64, e.g. small test models).
   *
   * @throws ModelLoadException as {@link #infer(StateDict)}
   */
  public static ClipConfig infer(StateDict weights, int headDim) {
    return infer(ClipWeights.of(weights), headDim);
  }

  /** Infers the architecture of already mapped weights; see {@link #infer(StateDict, int)}. */
  public static ClipConfig infer(ClipWeights w, int headDim) {
    if (headDim < 1) {
      throw new IllegalArgumentException("headDim must be >= 1, got " + headDim);
    }
    long[] conv1 = w.requireShape("visual.conv1.weight", 4);
    long[] vpos = w.requireShape("visual.positional_embedding", 2);
    long[] tproj = w.requireShape("text_projection", 2);
    long[] tpos = w.requireShape("positional_embedding", 2);
    long[] tok = w.requireShape("token_embedding.weight", 2);
    long[] lnFinal = w.requireShape("ln_final.weight", 1);
    int visionWidth = dim(w, "visual.conv1.weight", conv1[0]);
    int patch = dim(w, "visual.conv1.weight", conv1[3]);
    if (conv1[2] != conv1[3]) {
      throw new ModelLoadException(
          "CLIP weights: " + w.sourceName("visual.conv1.weight") + " " + Arrays.toString(conv1) + " has non-square patches");
    }
    long tokens = vpos[0] - 1;
    int grid = (int) Math.round(Math.sqrt((double) Math.max(tokens, 0)));
    if (tokens < 1 || (long) grid * grid != tokens) {
      throw new ModelLoadException("CLIP weights: " + w.sourceName("visual.positional_embedding") + " " + Arrays.toString(vpos)
          + " must have 1 + g^2 rows (class token + a square grid of patches)");
    }
    int visionLayers = w.layerCount(true);
    int textLayers = w.layerCount(false);
    if (visionLayers == 0 || textLayers == 0) {
      throw new ModelLoadException("CLIP weights: found " + visionLayers + " image and " + textLayers
          + " text transformer blocks; a CLIP model needs both");
    }
    int textWidth = dim(w, "ln_final.weight", lnFinal[0]);
    int embedDim = dim(w, "text_projection", tproj[1]);
    int context = dim(w, "positional_embedding", tpos[0]);
    int vocab = dim(w, "token_embedding.weight", tok[0]);
    int vHeads = heads(w, "image", visionWidth, headDim);
    int tHeads = heads(w, "text", textWidth, headDim);
    try {
      return new ClipConfig(embedDim, patch * grid, visionWidth, visionLayers, vHeads, patch, context, vocab, textWidth, textLayers,
          tHeads);
    } catch (IllegalArgumentException e) {
      throw new ModelLoadException("CLIP weights describe no valid configuration: " + e.getMessage(), e);
    }
  }

  private static int heads(ClipWeights w, String which, int width, int headDim) {
    if (width % headDim != 0) {
      throw new ModelLoadException("CLIP weights: " + which + " width " + width + " is not a multiple of the head width " + headDim
          + " (OpenAI: 64); give the head width or a ClipConfig explicitly");
    }
    return width / headDim;
  }

  private static int dim(ClipWeights w, String key, long v) {
    if (v < 1 || v > MAX_VOCAB) {
      throw new ModelLoadException("CLIP weights: " + w.sourceName(key) + " has dimension " + v + ", outside [1, " + MAX_VOCAB + "]");
    }
    return (int) v;
  }

  /**
   * Every weight this architecture needs, by OpenAI name, with its shape, in model order. {@code
   * logit_scale} is optional and not listed.
   */
  public Map<String, long[]> expectedShapes() {
    Map<String, long[]> m = new LinkedHashMap<>();
    long vw = visionWidth;
    m.put("visual.class_embedding", new long[] {vw});
    m.put("visual.positional_embedding", new long[] {visionTokens(), vw});
    m.put("visual.conv1.weight", new long[] {vw, 3, visionPatchSize, visionPatchSize});
    m.put("visual.ln_pre.weight", new long[] {vw});
    m.put("visual.ln_pre.bias", new long[] {vw});
    for (int i = 0; i < visionLayers; i++) {
      blockShapes(m, "visual.transformer.resblocks." + i + ".", vw);
    }
    m.put("visual.ln_post.weight", new long[] {vw});
    m.put("visual.ln_post.bias", new long[] {vw});
    m.put("visual.proj", new long[] {vw, embedDim});
    long tw = textWidth;
    m.put("token_embedding.weight", new long[] {vocabSize, tw});
    m.put("positional_embedding", new long[] {contextLength, tw});
    for (int i = 0; i < textLayers; i++) {
      blockShapes(m, "transformer.resblocks." + i + ".", tw);
    }
    m.put("ln_final.weight", new long[] {tw});
    m.put("ln_final.bias", new long[] {tw});
    m.put("text_projection", new long[] {tw, embedDim});
    return m;
  }

  private static void blockShapes(Map<String, long[]> m, String p, long w) {
    m.put(p + "attn.in_proj_weight", new long[] {3 * w, w});
    m.put(p + "attn.in_proj_bias", new long[] {3 * w});
    m.put(p + "attn.out_proj.weight", new long[] {w, w});
    m.put(p + "attn.out_proj.bias", new long[] {w});
    m.put(p + "ln_1.weight", new long[] {w});
    m.put(p + "ln_1.bias", new long[] {w});
    m.put(p + "mlp.c_fc.weight", new long[] {4 * w, w});
    m.put(p + "mlp.c_fc.bias", new long[] {4 * w});
    m.put(p + "mlp.c_proj.weight", new long[] {w, 4 * w});
    m.put(p + "mlp.c_proj.bias", new long[] {w});
    m.put(p + "ln_2.weight", new long[] {w});
    m.put(p + "ln_2.bias", new long[] {w});
  }
}
