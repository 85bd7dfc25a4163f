package ai.vqclip.onnx.clip;

import ai.vqclip.core.ModelLoadException;
import ai.vqclip.onnx.weights.StateDict;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The architecture of a CLIP model: the image encoder (a ViT, or OpenAI's ModifiedResNet when {@link
 * #resnetLayers} is not empty), the text transformer and the shared embedding size. {@link #infer}
 * reads it from a state dict's shapes the way OpenAI's {@code build_model} does; the presets are the
 * published OpenAI models.
 *
 * <p>For a ResNet image encoder (RN50, RN101, RN50x4) the vision fields mean: {@code visionWidth} the
 * stem width (64 for RN50; the final feature map has 32 times as many channels), {@code visionLayers}
 * the bottleneck blocks of all four stages, {@code visionHeads} the heads of the attention pooling,
 * and {@code visionPatchSize} the network's total downsampling, 32, so that {@link #gridSize} is the
 * side of the feature map the attention pooling sees and {@link #visionTokens} its token count.
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
 * @param resnetLayers bottleneck blocks per ResNet stage (RN50: 3, 4, 6, 3); empty for a ViT
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
    int textHeads,
    List<Integer> resnetLayers) {
  /**
   * Safetensors metadata key with the attention head width, for files whose state dict alone
   * cannot say it (OpenAI's CLIPs use 64; vqclip's own demo CLIP writes this key).
   */
  public static final String HEAD_DIM_METADATA_KEY = "vqclip.head_dim";


  /** OpenAI's head width: every published ViT CLIP has heads = width / 64. */
  public static final int OPENAI_HEAD_DIM = 64;

  /** Largest vocabulary: ids up to 2^24 are exact in float32 (see {@code vocabSize}). */
  public static final int MAX_VOCAB = 1 << 24;

  private static final int MAX_WIDTH = 1 << 16;
  private static final int MAX_LAYERS = 1024;
  private static final int MAX_RESOLUTION = 1 << 14;
  private static final int MAX_CONTEXT = 1 << 16;

  /** Downsampling of OpenAI's ModifiedResNet: stride-2 stem conv, stem pooling, three strided stages. */
  public static final int RESNET_DOWNSAMPLING = 32;

  /** Channels of the ResNet's final feature map per stem channel (bottleneck expansion 4 times 8). */
  public static final int RESNET_FEATURE_FACTOR = 32;

  /** OpenAI ViT-B/32. */
  public static final ClipConfig VIT_B_32 = new ClipConfig(512, 224, 768, 12, 12, 32, 77, 49408, 512, 12, 8);

  /** OpenAI ViT-B/16. */
  public static final ClipConfig VIT_B_16 = new ClipConfig(512, 224, 768, 12, 12, 16, 77, 49408, 512, 12, 8);

  /** OpenAI ViT-L/14. */
  public static final ClipConfig VIT_L_14 = new ClipConfig(768, 224, 1024, 24, 16, 14, 77, 49408, 768, 12, 12);

  /** OpenAI RN50. */
  public static final ClipConfig RN50 = resNet(1024, 224, 64, List.of(3, 4, 6, 3), 32, 77, 49408, 512, 12, 8);

  /** OpenAI RN101. */
  public static final ClipConfig RN101 = resNet(512, 224, 64, List.of(3, 4, 23, 3), 32, 77, 49408, 512, 12, 8);

  /** OpenAI RN50x4. */
  public static final ClipConfig RN50X4 = resNet(640, 288, 80, List.of(4, 6, 10, 6), 40, 77, 49408, 640, 12, 10);

  /**
   * A ViT CLIP (no ResNet stages).
   *
   * @param embedDim joint embedding size D
   * @param imageResolution side S of the square input images
   * @param visionWidth width of the image transformer
   * @param visionLayers residual attention blocks of the image transformer
   * @param visionHeads attention heads of the image transformer (a divisor of {@code visionWidth})
   * @param visionPatchSize side of the square patches (a divisor of {@code imageResolution})
   * @param contextLength text tokens per sequence
   * @param vocabSize token vocabulary size, at most {@link #MAX_VOCAB}
   * @param textWidth width of the text transformer
   * @param textLayers residual attention blocks of the text transformer
   * @param textHeads attention heads of the text transformer (a divisor of {@code textWidth})
   * @throws IllegalArgumentException for values out of range or that do not divide, naming the
   *     parameter
   */
  public ClipConfig(int embedDim, int imageResolution, int visionWidth, int visionLayers, int visionHeads, int visionPatchSize,
      int contextLength, int vocabSize, int textWidth, int textLayers, int textHeads) {
    this(embedDim, imageResolution, visionWidth, visionLayers, visionHeads, visionPatchSize, contextLength, vocabSize, textWidth,
        textLayers, textHeads, List.of());
  }

  /**
   * A CLIP with OpenAI's ModifiedResNet image encoder.
   *
   * @param embedDim joint embedding size D (RN50: 1024)
   * @param imageResolution side S of the square input images, a multiple of 32 (RN50: 224)
   * @param width stem width (RN50: 64)
   * @param layers bottleneck blocks of the four stages (RN50: 3, 4, 6, 3)
   * @param heads attention-pooling heads (OpenAI: 32 * width / 64)
   * @param contextLength text tokens per sequence (77)
   * @param vocabSize token vocabulary size, at most {@link #MAX_VOCAB} (49408)
   * @param textWidth width of the text transformer (RN50: 512)
   * @param textLayers residual attention blocks of the text transformer (12)
   * @param textHeads attention heads of the text transformer (RN50: 8)
   * @return the configuration, with {@code visionLayers} the total block count and patch size
   *     {@link #RESNET_DOWNSAMPLING}
   * @throws IllegalArgumentException for values out of range, naming the parameter
   * @throws NullPointerException when {@code layers} is null
   */
  public static ClipConfig resNet(int embedDim, int imageResolution, int width, List<Integer> layers, int heads, int contextLength,
      int vocabSize, int textWidth, int textLayers, int textHeads) {
    Objects.requireNonNull(layers, "layers");
    if (layers.size() != 4 || layers.stream().anyMatch(Objects::isNull)) {
      throw new IllegalArgumentException("layers must list the blocks of 4 ResNet stages, got " + layers);
    }
    long total = 0;
    for (int l : layers) {
      positive("layers[i]", l, MAX_LAYERS);
      total += l;
    }
    return new ClipConfig(embedDim, imageResolution, width, (int) total, heads, RESNET_DOWNSAMPLING, contextLength, vocabSize,
        textWidth, textLayers, textHeads, layers);
  }

  /**
   * Validates every component; a null {@code resnetLayers} (configs written before ResNet support)
   * means a ViT.
   *
   * @param embedDim joint embedding size D
   * @param imageResolution side S of the square input images
   * @param visionWidth width of the image transformer, or the ResNet stem width (even)
   * @param visionLayers blocks of the image encoder (for a ResNet the sum of {@code resnetLayers})
   * @param visionHeads attention heads of the image transformer or the attention pooling
   * @param visionPatchSize side of the square patches (a ResNet: {@link #RESNET_DOWNSAMPLING})
   * @param contextLength text tokens per sequence
   * @param vocabSize token vocabulary size, at most {@link #MAX_VOCAB}
   * @param textWidth width of the text transformer
   * @param textLayers residual attention blocks of the text transformer
   * @param textHeads attention heads of the text transformer (a divisor of {@code textWidth})
   * @param resnetLayers bottleneck blocks per ResNet stage (4 values), or empty or null for a ViT
   * @throws IllegalArgumentException for a value out of range or inconsistent with another, naming
   *     the parameter
   */
  public ClipConfig {
    // null in configs read from JSON written before ResNet support: a ViT
    resnetLayers = resnetLayers == null ? List.of() : List.copyOf(resnetLayers);
    positive("embedDim", embedDim, MAX_WIDTH);
    positive("imageResolution", imageResolution, MAX_RESOLUTION);
    positive("visionWidth", visionWidth, MAX_WIDTH);
    positive("visionLayers", visionLayers, MAX_LAYERS);
    int features = resnetLayers.isEmpty() ? visionWidth : RESNET_FEATURE_FACTOR * visionWidth;
    positive("visionHeads", visionHeads, features);
    positive("visionPatchSize", visionPatchSize, imageResolution);
    positive("contextLength", contextLength, MAX_CONTEXT);
    positive("vocabSize", vocabSize, MAX_VOCAB);
    positive("textWidth", textWidth, MAX_WIDTH);
    positive("textLayers", textLayers, MAX_LAYERS);
    positive("textHeads", textHeads, textWidth);
    if (!resnetLayers.isEmpty()) {
      if (resnetLayers.size() != 4) {
        throw new IllegalArgumentException("resnetLayers must list the blocks of 4 stages (or none for a ViT), got " + resnetLayers);
      }
      long total = 0;
      for (int l : resnetLayers) {
        positive("resnetLayers[i]", l, MAX_LAYERS);
        total += l;
      }
      if (visionLayers != total) {
        throw new IllegalArgumentException("visionLayers " + visionLayers + " must be the sum of resnetLayers " + resnetLayers);
      }
      if (visionPatchSize != RESNET_DOWNSAMPLING) {
        throw new IllegalArgumentException("visionPatchSize of a ResNet CLIP must be its downsampling " + RESNET_DOWNSAMPLING
            + ", got " + visionPatchSize);
      }
      if (visionWidth % 2 != 0) {
        throw new IllegalArgumentException("visionWidth (the ResNet stem width) must be even, got " + visionWidth);
      }
    }
    if (features % visionHeads != 0) {
      throw new IllegalArgumentException(
          (resnetLayers.isEmpty() ? "visionWidth " : "the ResNet feature width 32 * visionWidth = ") + features
              + " must be a multiple of visionHeads " + visionHeads);
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

  /**
   * Whether the image encoder is OpenAI's ModifiedResNet (else a ViT). Not named {@code isResNet}, so
   * that JSON mappers do not take it for a property of the record.
   *
   * @return true for a ModifiedResNet image encoder, false for a ViT
   */
  public boolean usesResNet() {
    return !resnetLayers.isEmpty();
  }

  /**
   * Width of the features the image encoder's attention works on: the ViT width, or the ResNet's
   * final channel count 32 * {@code visionWidth} (2048 for RN50).
   *
   * @return the channel count the image attention works on
   */
  public int visionFeatureWidth() {
    return usesResNet() ? RESNET_FEATURE_FACTOR * visionWidth : visionWidth;
  }

  /**
   * Patches per image side (7 for ViT-B/32); for a ResNet the side of its final feature map (7 for
   * RN50).
   *
   * @return the number of patches (or feature-map positions) per image side
   */
  public int gridSize() {
    return imageResolution / visionPatchSize;
  }

  /**
   * Image tokens: one per patch plus the class token (50 for ViT-B/32); for a ResNet the tokens of
   * the attention pooling, one per feature-map position plus the mean token (50 for RN50).
   *
   * @return the image token count, {@code gridSize()^2 + 1}
   */
  public int visionTokens() {
    return gridSize() * gridSize() + 1;
  }

  /**
   * Infers the architecture from the weights (OpenAI or Hugging Face names) as OpenAI's {@code
   * build_model} does, with heads = width / 64. Only the shapes are read.
   *
   * <p>ResNet CLIPs (keys {@code visual.layer1.*}, {@code visual.attnpool.*}) are inferred like
   * OpenAI's {@code build_model} too: stem width from {@code visual.layer1.0.conv1.weight}, blocks per
   * stage from the block indices, resolution 32 times the attention pooling's grid, heads = 32 *
   * width / 64.
   *
   * @param weights OpenAI or Hugging Face named tensors
   * @return the inferred architecture
   * @throws ModelLoadException when the weights are not CLIP, lack a key the inference needs, or
   *     have shapes no configuration produces
   */
  public static ClipConfig infer(StateDict weights) {
    return infer(ClipWeights.of(weights), OPENAI_HEAD_DIM);
  }

  /**
   * Infers the architecture with heads = width / {@code headDim} (for models whose widths are not
   * multiples of 64, e.g. small test models).
   *
   * @param weights OpenAI or Hugging Face named tensors
   * @param headDim the attention head width, at least 1
   * @return the inferred architecture
   * @throws ModelLoadException as {@link #infer(StateDict)}
   * @throws IllegalArgumentException when {@code headDim} is below 1
   */
  public static ClipConfig infer(StateDict weights, int headDim) {
    return infer(ClipWeights.of(weights), headDim);
  }

  /**
   * Infers the architecture of already mapped weights; see {@link #infer(StateDict, int)}.
   *
   * @param w weights already mapped to OpenAI names
   * @param headDim the attention head width, at least 1
   * @return the inferred architecture
   * @throws IllegalArgumentException when {@code headDim} is below 1
   * @throws ModelLoadException when the weights lack a key the inference needs or have shapes no
   *     configuration produces
   */
  public static ClipConfig infer(ClipWeights w, int headDim) {
    if (headDim < 1) {
      throw new IllegalArgumentException("headDim must be >= 1, got " + headDim);
    }
    if (w.isResNet()) {
      return inferResNet(w, headDim);
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

  private static ClipConfig inferResNet(ClipWeights w, int headDim) {
    long[] l1 = w.requireShape("visual.layer1.0.conv1.weight", 4);
    long[] apos = w.requireShape("visual.attnpool.positional_embedding", 2);
    long[] tproj = w.requireShape("text_projection", 2);
    long[] tpos = w.requireShape("positional_embedding", 2);
    long[] tok = w.requireShape("token_embedding.weight", 2);
    long[] lnFinal = w.requireShape("ln_final.weight", 1);
    int width = dim(w, "visual.layer1.0.conv1.weight", l1[0]);
    List<Integer> layers = new ArrayList<>();
    for (int stage = 1; stage <= 4; stage++) {
      int n = w.blockCount("visual.layer" + stage + ".");
      if (n == 0) {
        throw new ModelLoadException("CLIP weights: no blocks visual.layer" + stage + ".* in a ResNet CLIP; expected 4 stages");
      }
      layers.add(n);
    }
    long tokens = apos[0] - 1;
    int grid = (int) Math.round(Math.sqrt((double) Math.max(tokens, 0)));
    if (tokens < 1 || (long) grid * grid != tokens) {
      throw new ModelLoadException("CLIP weights: visual.attnpool.positional_embedding " + Arrays.toString(apos)
          + " must have 1 + g^2 rows (mean token + a square feature map)");
    }
    long features = (long) RESNET_FEATURE_FACTOR * width;
    if (features % headDim != 0) {
      throw new ModelLoadException("CLIP weights: the ResNet feature width " + features + " is not a multiple of the head width "
          + headDim + " (OpenAI: 64); give the head width or a ClipConfig explicitly");
    }
    int textWidth = dim(w, "ln_final.weight", lnFinal[0]);
    int textLayers = w.layerCount(false);
    if (textLayers == 0) {
      throw new ModelLoadException("CLIP weights: found no text transformer blocks; a CLIP model needs them");
    }
    try {
      return resNet(dim(w, "text_projection", tproj[1]), grid * RESNET_DOWNSAMPLING, width, layers, (int) (features / headDim),
          dim(w, "positional_embedding", tpos[0]), dim(w, "token_embedding.weight", tok[0]), textWidth, textLayers,
          heads(w, "text", textWidth, headDim));
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
   * Every weight this architecture needs, by OpenAI name, with its shape, in model order (for a
   * ResNet including the BatchNorm running statistics). {@code logit_scale} and BatchNorm's {@code
   * num_batches_tracked} are not needed and not listed.
   *
   * @return OpenAI key to shape, in model order (a new mutable map)
   */
  public Map<String, long[]> expectedShapes() {
    Map<String, long[]> m = new LinkedHashMap<>();
    if (usesResNet()) {
      resNetShapes(m);
    } else {
      vitShapes(m);
    }
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

  /**
   * Stride of a ResNet stage (0-based): the first stage keeps the resolution, the others halve it
   * (by average pooling inside their first block).
   *
   * @param stage ResNet stage index, 0 to 3
   * @return 1 for the first stage, else 2
   */
  public static int resNetStageStride(int stage) {
    return stage == 0 ? 1 : 2;
  }

  /**
   * Whether block {@code block} of ResNet stage {@code stage} has a downsample branch (conv + BN on
   * the shortcut).
   *
   * @param stage ResNet stage index, 0 to 3
   * @param block block index within the stage, from 0
   * @return true for the first block of every stage
   */
  public boolean resNetHasDownsample(int stage, int block) {
    return block == 0; // the first block changes the width (stage 0: width -> 4 width) or the stride
  }

  /**
   * Bottleneck width (planes) of a ResNet stage: width, 2 width, 4 width, 8 width; the block
   * outputs 4 times that.
   *
   * @param stage ResNet stage index, 0 to 3
   * @return the bottleneck width, {@code visionWidth * 2^stage}
   */
  public int resNetPlanes(int stage) {
    return visionWidth << stage;
  }

  private void resNetShapes(Map<String, long[]> m) {
    long w = visionWidth;
    conv(m, "visual.conv1", w / 2, 3, 3);
    conv(m, "visual.conv2", w / 2, w / 2, 3);
    conv(m, "visual.conv3", w, w / 2, 3);
    long in = w;
    for (int stage = 0; stage < 4; stage++) {
      long planes = resNetPlanes(stage);
      for (int b = 0; b < resnetLayers.get(stage); b++) {
        String p = "visual.layer" + (stage + 1) + "." + b + ".";
        conv(m, p + "conv1", planes, in, 1);
        conv(m, p + "conv2", planes, planes, 3);
        conv(m, p + "conv3", 4 * planes, planes, 1);
        if (resNetHasDownsample(stage, b)) {
          m.put(p + "downsample.0.weight", new long[] {4 * planes, in, 1, 1});
          batchNorm(m, p + "downsample.1", 4 * planes);
        }
        in = 4 * planes;
      }
    }
    long f = visionFeatureWidth();
    m.put("visual.attnpool.positional_embedding", new long[] {visionTokens(), f});
    for (String proj : List.of("k_proj", "q_proj", "v_proj")) {
      m.put("visual.attnpool." + proj + ".weight", new long[] {f, f});
      m.put("visual.attnpool." + proj + ".bias", new long[] {f});
    }
    m.put("visual.attnpool.c_proj.weight", new long[] {embedDim, f});
    m.put("visual.attnpool.c_proj.bias", new long[] {embedDim});
  }

  /** A bias-free conv {@code <p>.weight} and its BatchNorm (conv1 -> bn1, ...; the digit is shared). */
  private static void conv(Map<String, long[]> m, String p, long out, long in, long k) {
    m.put(p + ".weight", new long[] {out, in, k, k});
    batchNorm(m, p.substring(0, p.length() - 5) + "bn" + p.charAt(p.length() - 1), out);
  }

  private static void batchNorm(Map<String, long[]> m, String p, long c) {
    for (String s : List.of(".weight", ".bias", ".running_mean", ".running_var")) {
      m.put(p + s, new long[] {c});
    }
  }

  private void vitShapes(Map<String, long[]> m) {
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
