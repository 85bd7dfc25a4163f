package ai.vqclip.onnx.clip;

import ai.vqclip.core.Encoder;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Objects;

/**
 * Builds the CLIP image encoder (ViT, or OpenAI's ModifiedResNet) and text transformer as float32
 * graphs from {@link ClipWeights}, following OpenAI's {@code clip.model} exactly (pre-LN residual
 * attention blocks, QuickGELU, LayerNorm eps 1e-5, the class token / end token read-out; for the
 * ResNet a 3-conv stem, bottlenecks that stride by average pooling, BatchNorm in inference form with
 * the running statistics, and attention pooling queried by the mean token).
 *
 * <p>Layout: the residual stream is kept as a matrix [n*L, width] so that every Linear layer is one
 * {@code Gemm(x, W, b, transB=1)} on the PyTorch weight as stored (no host transposes, bias fused),
 * and LayerNormalization runs on its last axis. Attention reshapes to [n, heads, L, head_dim]: one
 * Transpose for q/k/v together, one for k^T and one back, per block. Initializers carry the OpenAI
 * weight names, so fragments can also be differentiated with respect to weights by name.
 */
public final class ClipGraphs {
  /** CLIP's per-channel image mean (RGB), applied inside the image graph. */
  public static final double[] MEAN = {0.48145466, 0.4578275, 0.40821073};

  /** CLIP's per-channel image standard deviation (RGB). */
  public static final double[] STD = {0.26862954, 0.26130258, 0.27577711};

  /** Name of the token-id input [n, contextLength] int64 of {@link #text}. */
  public static final String TOKENS = "tokens";

  /** Name of the embedding output of both graphs (same as {@link Encoder#EMBEDDINGS}). */
  public static final String EMBEDDINGS = Encoder.EMBEDDINGS;

  /** Largest batch a graph is built for (bounds the constant index tensors). */
  public static final int MAX_BATCH = 1 << 16;

  private static final float LN_EPS = 1e-5f;
  private static final float BN_EPS = 1e-5f;
  private static final String POS_WITH_CLASS = "visual.positional_embedding+class_embedding";

  private final ClipConfig config;
  private final ClipWeights weights;
  private Tensor posWithClass;
  private Tensor causalMask;

  /**
   * Graphs of {@code config} with these weights (validate them first: {@link
   * ClipWeights#validate}).
   *
   * @param config the architecture
   * @param weights weights that fit {@code config}
   * @throws NullPointerException when either is null
   */
  public ClipGraphs(ClipConfig config, ClipWeights weights) {
    this.config = Objects.requireNonNull(config, "config");
    this.weights = Objects.requireNonNull(weights, "weights");
  }

  /**
   * The architecture.
   *
   * @return the architecture the graphs follow
   */
  public ClipConfig config() {
    return config;
  }

  private static void checkBatch(int batch) {
    if (batch < 1 || batch > MAX_BATCH) {
      throw new IllegalArgumentException("batch must be in [1, " + MAX_BATCH + "], got " + batch);
    }
  }

  private Value w(GraphBuilder b, String key) {
    return b.hasValue(key) ? b.value(key) : b.initializer(key, weights.tensor(key));
  }

  /**
   * The image encoder: {@link Encoder#IMAGES} [batch, 3, S, S] float32 in [0, 1] to {@link
   * #EMBEDDINGS} [batch, D] (not L2-normalised). The CLIP mean/std normalisation is the first op.
   *
   * @param batch number of images, in [1, {@link #MAX_BATCH}]
   * @return a new graph with the weights as initializers
   * @throws IllegalArgumentException when {@code batch} is out of range
   */
  public Graph image(int batch) {
    checkBatch(batch);
    if (config.usesResNet()) {
      return resNetImage(batch);
    }
    ClipConfig c = config;
    int n = batch;
    int s = c.imageResolution();
    int width = c.visionWidth();
    int grid = c.gridSize();
    int len = c.visionTokens();
    GraphBuilder b = new GraphBuilder("clip_image");
    Value x = b.input(Encoder.IMAGES, DType.FLOAT, Shape.of(n, 3, s, s));
    b.pushScope("visual");
    x = normalize(b, x);
    Value p = b.op("Conv").in(x, w(b, "visual.conv1.weight"))
        .ints("kernel_shape", c.visionPatchSize(), c.visionPatchSize())
        .ints("strides", c.visionPatchSize(), c.visionPatchSize()).out();
    p = b.transpose(b.reshape(p, n, width, (long) grid * grid), 0, 2, 1); // [n, g*g, width]
    // The class token goes first: pad one zero token in front and add (positional + class) there,
    // instead of expanding the class embedding over the batch and concatenating.
    Value t = b.op("Pad").in(p, b.ints(0, 1, 0, 0, 0, 0)).out();
    Value pos = b.hasValue(POS_WITH_CLASS) ? b.value(POS_WITH_CLASS) : b.initializer(POS_WITH_CLASS, positionalWithClass());
    Value h = b.reshape(b.add(t, pos), (long) n * len, width);
    h = layerNorm(b, h, "visual.ln_pre");
    for (int i = 0; i < c.visionLayers(); i++) {
      b.pushScope("block" + i);
      h = block(b, h, "visual.transformer.resblocks." + i + ".", n, len, width, c.visionHeads(), null);
      b.popScope();
    }
    Value cls = rows(b, h, n, len, null); // token 0 of each image
    cls = layerNorm(b, cls, "visual.ln_post");
    Value out = b.matmul(cls, w(b, "visual.proj"));
    b.popScope();
    b.output(EMBEDDINGS, out);
    return b.build();
  }

  /**
   * The name scopes of {@link #image} worth recomputing in the backward pass: every residual block
   * of the image tower (the ViT's transformer blocks, or the ResNet's bottlenecks). Kept, a ViT-B/32
   * block holds about 2 MB per cutout (the MLP's hidden activations are 4 times the stream's
   * width); recomputed, only its input stays until the backward pass reaches it, for one more
   * forward pass of the tower.
   *
   * @param c the architecture
   * @return the scope names, as pushed while building {@link #image}, first block first
   */
  public static List<String> recomputeScopes(ClipConfig c) {
    List<String> s = new java.util.ArrayList<>();
    if (c.usesResNet()) {
      for (int stage = 0; stage < 4; stage++) {
        for (int i = 0; i < c.resnetLayers().get(stage); i++) {
          s.add("visual/layer" + (stage + 1) + "." + i);
        }
      }
    } else {
      for (int i = 0; i < c.visionLayers(); i++) {
        s.add("visual/block" + i);
      }
    }
    return s;
  }

  /**
   * The text encoder: {@link #TOKENS} [batch, contextLength] int64 to {@link #EMBEDDINGS} [batch, D],
   * the features at the end token (the position of the largest id, as CLIP takes it).
   *
   * @param batch number of token sequences, in [1, {@link #MAX_BATCH}]
   * @return a new graph with the weights as initializers
   * @throws IllegalArgumentException when {@code batch} is out of range
   */
  public Graph text(int batch) {
    checkBatch(batch);
    ClipConfig c = config;
    int n = batch;
    int len = c.contextLength();
    int width = c.textWidth();
    GraphBuilder b = new GraphBuilder("clip_text");
    Value ids = b.input(TOKENS, DType.INT64, Shape.of(n, len));
    b.pushScope("text");
    Value e = b.op("Gather").in(w(b, "token_embedding.weight"), ids).attr("axis", 0L).out(); // [n, L, width]
    Value h = b.reshape(b.add(e, w(b, "positional_embedding")), (long) n * len, width);
    Value mask = b.initializer("text.causal_mask", causalMask());
    for (int i = 0; i < c.textLayers(); i++) {
      b.pushScope("block" + i);
      h = block(b, h, "transformer.resblocks." + i + ".", n, len, width, c.textHeads(), mask);
      b.popScope();
    }
    // ArgMax has no int64 kernel on every provider; ids < 2^24 (ClipConfig.MAX_VOCAB) are exact in float.
    Value eot = b.op("ArgMax").in(b.cast(ids, DType.FLOAT)).attr("axis", 1L).attr("keepdims", 0L).out(); // [n]
    // LayerNorm is per token, so normalising only the selected rows equals OpenAI's ln_final on all.
    Value f = layerNorm(b, rows(b, h, n, len, eot), "ln_final");
    Value out = b.matmul(f, w(b, "text_projection"));
    b.popScope();
    b.output(EMBEDDINGS, out);
    return b.build();
  }

  /** (x - mean) / std as x * (1/std) + (-mean/std): one multiply-add per pixel. */
  private static Value normalize(GraphBuilder b, Value x) {
    double[] scale = new double[3];
    double[] shift = new double[3];
    for (int i = 0; i < 3; i++) {
      scale[i] = 1 / STD[i];
      shift[i] = -MEAN[i] / STD[i];
    }
    return b.add(b.mul(x, b.constant(Tensor.fromDoubles(DType.FLOAT, new long[] {1, 3, 1, 1}, scale))),
        b.constant(Tensor.fromDoubles(DType.FLOAT, new long[] {1, 3, 1, 1}, shift)));
  }

  /**
   * OpenAI's ModifiedResNet image encoder: stem (three 3x3 convs, the first of stride 2, each with
   * BatchNorm and ReLU; 2x2 average pooling), four stages of bottlenecks, attention pooling.
   */
  private Graph resNetImage(int n) {
    ClipConfig c = config;
    int s = c.imageResolution();
    GraphBuilder b = new GraphBuilder("clip_image");
    Value x = b.input(Encoder.IMAGES, DType.FLOAT, Shape.of(n, 3, s, s));
    b.pushScope("visual");
    x = normalize(b, x);
    b.pushScope("stem");
    x = convBnRelu(b, x, "visual.conv1", "visual.bn1", 2, 1);
    x = convBnRelu(b, x, "visual.conv2", "visual.bn2", 1, 1);
    x = convBnRelu(b, x, "visual.conv3", "visual.bn3", 1, 1);
    x = avgPool(b, x, 2);
    b.popScope();
    for (int stage = 0; stage < 4; stage++) {
      for (int i = 0; i < c.resnetLayers().get(stage); i++) {
        b.pushScope("layer" + (stage + 1) + "." + i);
        int stride = i == 0 ? ClipConfig.resNetStageStride(stage) : 1;
        x = bottleneck(b, x, "visual.layer" + (stage + 1) + "." + i + ".", stride, c.resNetHasDownsample(stage, i));
        b.popScope();
      }
    }
    b.pushScope("attnpool");
    Value out = attentionPool(b, x, n);
    b.popScope();
    b.popScope();
    b.output(EMBEDDINGS, out);
    return b.build();
  }

  /** ONNX BatchNormalization in inference form (training_mode 0): the running mean and variance. */
  private Value batchNorm(GraphBuilder b, Value x, String p) {
    return b.op("BatchNormalization").in(x, w(b, p + ".weight"), w(b, p + ".bias"), w(b, p + ".running_mean"), w(b, p + ".running_var"))
        .attr("epsilon", BN_EPS).out();
  }

  private Value conv(GraphBuilder b, Value x, String key, int stride, int pad) {
    GraphBuilder.OpBuilder op = b.op("Conv").in(x, w(b, key + ".weight"));
    if (stride != 1) {
      op.ints("strides", stride, stride);
    }
    if (pad != 0) {
      op.ints("pads", pad, pad, pad, pad);
    }
    return op.out();
  }

  private Value convBnRelu(GraphBuilder b, Value x, String conv, String bn, int stride, int pad) {
    return b.op("Relu").in(batchNorm(b, conv(b, x, conv, stride, pad), bn)).out();
  }

  private static Value avgPool(GraphBuilder b, Value x, int k) {
    return b.op("AveragePool").in(x).ints("kernel_shape", k, k).ints("strides", k, k).out();
  }

  /**
   * An anti-aliased bottleneck: 1x1, 3x3, [average pooling when strided], 1x1 (expansion 4); the
   * shortcut is the input, or average pooling, a 1x1 conv and BatchNorm when the block changes the
   * width or the resolution.
   */
  private Value bottleneck(GraphBuilder b, Value x, String p, int stride, boolean downsample) {
    Value y = convBnRelu(b, x, p + "conv1", p + "bn1", 1, 0);
    y = convBnRelu(b, y, p + "conv2", p + "bn2", 1, 1);
    if (stride > 1) {
      y = avgPool(b, y, stride);
    }
    y = batchNorm(b, conv(b, y, p + "conv3", 1, 0), p + "bn3");
    Value identity = x;
    if (downsample) {
      if (stride > 1) {
        identity = avgPool(b, identity, stride);
      }
      identity = batchNorm(b, conv(b, identity, p + "downsample.0", 1, 0), p + "downsample.1");
    }
    return b.op("Relu").in(b.add(y, identity)).out();
  }

  /**
   * Attention pooling of the [n, C, g, g] feature map: tokens = [mean of all positions, positions]
   * + positional embedding; one query (the mean token) with separate q/k/v projections over all
   * tokens, heads as contiguous feature slices, then {@code c_proj} to the embedding.
   */
  private Value attentionPool(GraphBuilder b, Value x, int n) {
    ClipConfig c = config;
    int f = c.visionFeatureWidth();
    int t = c.visionTokens();
    int heads = c.visionHeads();
    int dh = f / heads;
    String p = "visual.attnpool.";
    Value seq = b.transpose(b.reshape(x, n, f, (long) t - 1), 0, 2, 1); // [n, g*g, C]
    Value mean = b.reduceMean(seq, true, 1); // [n, 1, C]
    Value tokens = b.add(b.op("Concat").in(mean, seq).attr("axis", 1L).out(), w(b, p + "positional_embedding")); // [n, T, C]
    Value flat = b.reshape(tokens, (long) n * t, f);
    Value q = linear(b, rows(b, flat, n, t, null), p, "q_proj.weight", "q_proj.bias"); // [n, C]
    q = b.reshape(b.mul(q, b.scalar(1 / Math.sqrt(dh), DType.FLOAT)), n, heads, 1, dh);
    Value k = b.transpose(b.reshape(linear(b, flat, p, "k_proj.weight", "k_proj.bias"), n, t, heads, dh), 0, 2, 3, 1); // [n, h, dh, T]
    Value v = b.transpose(b.reshape(linear(b, flat, p, "v_proj.weight", "v_proj.bias"), n, t, heads, dh), 0, 2, 1, 3); // [n, h, T, dh]
    Value attn = b.op("Softmax").in(b.matmul(q, k)).attr("axis", -1L).out(); // [n, h, 1, T]
    Value o = b.reshape(b.matmul(attn, v), n, f); // heads concatenated: [n, C]
    return linear(b, o, p, "c_proj.weight", "c_proj.bias");
  }

  /** Rows {@code i*len + offset_i} of the [n*len, width] stream: one token per sequence, [n, width]. */
  private static Value rows(GraphBuilder b, Value h, int n, int len, Value offsets) {
    long[] base = new long[n];
    for (int i = 0; i < n; i++) {
      base[i] = (long) i * len;
    }
    Value idx = b.constant(Tensor.vector(base));
    if (offsets != null) {
      idx = b.add(idx, offsets);
    }
    return b.op("Gather").in(h, idx).attr("axis", 0L).out();
  }

  private Value layerNorm(GraphBuilder b, Value x, String prefix) {
    return b.op("LayerNormalization").in(x, w(b, prefix + ".weight"), w(b, prefix + ".bias"))
        .attr("axis", -1L).attr("epsilon", LN_EPS).out();
  }

  private Value linear(GraphBuilder b, Value x, String prefix, String weight, String bias) {
    return b.op("Gemm").in(x, w(b, prefix + weight), w(b, prefix + bias)).attr("transB", 1L).out();
  }

  /** One pre-LN residual attention block on the stream h [n*len, width]. */
  private Value block(GraphBuilder b, Value h, String p, int n, int len, int width, int heads, Value mask) {
    int dh = width / heads;
    Value a = layerNorm(b, h, p + "ln_1");
    Value qkv = linear(b, a, p, "attn.in_proj_weight", "attn.in_proj_bias"); // [n*len, 3*width]
    // Features are [q | k | v], each split into contiguous head slices: [n, len, 3*heads, dh].
    qkv = b.transpose(b.reshape(qkv, n, len, 3L * heads, dh), 0, 2, 1, 3); // [n, 3*heads, len, dh]
    List<Value> parts = b.op("Split").in(qkv, b.ints(heads, heads, heads)).attr("axis", 1L).outs(3);
    Value q = b.mul(parts.get(0), b.scalar(1 / Math.sqrt(dh), DType.FLOAT));
    Value scores = b.matmul(q, b.transpose(parts.get(1), 0, 1, 3, 2)); // [n, heads, len, len]
    if (mask != null) {
      scores = b.add(scores, mask);
    }
    Value attn = b.op("Softmax").in(scores).attr("axis", -1L).out();
    Value o = b.matmul(attn, parts.get(2)); // [n, heads, len, dh]
    o = b.reshape(b.transpose(o, 0, 2, 1, 3), (long) n * len, width);
    h = b.add(h, linear(b, o, p, "attn.out_proj.weight", "attn.out_proj.bias"));
    Value m = layerNorm(b, h, p + "ln_2");
    Value u = linear(b, m, p, "mlp.c_fc.weight", "mlp.c_fc.bias");
    // QuickGELU, x * sigmoid(1.702 x), as OpenAI CLIP was trained with (not the erf GELU).
    u = b.mul(u, b.op("Sigmoid").in(b.mul(u, b.scalar(1.702, DType.FLOAT))).out());
    return b.add(h, linear(b, u, p, "mlp.c_proj.weight", "mlp.c_proj.bias"));
  }

  /** positional_embedding with class_embedding added to row 0 (the class token's position). */
  private synchronized Tensor positionalWithClass() {
    if (posWithClass == null) {
      Tensor pos = weights.tensor("visual.positional_embedding");
      Tensor cls = weights.tensor("visual.class_embedding");
      ByteBuffer bytes = ByteBuffer.allocate(Math.toIntExact(pos.elementCount() * 4)).order(ByteOrder.LITTLE_ENDIAN);
      FloatBuffer out = bytes.asFloatBuffer();
      out.put(pos.data().asFloatBuffer());
      FloatBuffer c = cls.data().asFloatBuffer();
      for (int i = 0; i < c.limit(); i++) {
        out.put(i, out.get(i) + c.get(i));
      }
      posWithClass = Tensor.wrap(DType.FLOAT, pos.shape(), bytes);
    }
    return posWithClass;
  }

  /**
   * The additive causal mask [L, L]: 0 on and below the diagonal, a large negative number above it
   * (OpenAI uses -inf; -1e9 gives the same softmax, exp underflows to exactly 0, and keeps every
   * intermediate finite).
   */
  private synchronized Tensor causalMask() {
    if (causalMask == null) {
      int len = config.contextLength();
      float[] m = new float[len * len];
      for (int i = 0; i < len; i++) {
        for (int j = i + 1; j < len; j++) {
          m[i * len + j] = -1e9f;
        }
      }
      causalMask = Tensor.ofFloats(new long[] {len, len}, m);
    }
    return causalMask;
  }
}
