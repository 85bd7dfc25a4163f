package ai.vqclip.onnx.vqgan;

import ai.vqclip.core.Generator;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.autodiff.GradientOverrides;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import java.util.HashMap;
import java.util.Map;

/**
 * Builds the VQGAN's float32 graph fragments from {@link VqganWeights}, layer by layer as in
 * taming-transformers (MODELS.md §1.2-1.5). Weight initializers carry their state-dict keys as
 * names (GroupNorm weights and biases as [C, 1, 1] views of the stored [C] vectors, for
 * broadcasting); GroupNorm is emitted as Reshape → InstanceNormalization → Reshape → affine (ONNX's
 * GroupNormalization is avoided: opset 18 scales per group, and ONNX Runtime lacks opset 21).
 *
 * <p>Sizes: the latent is {@code image / factor} on each side; every builder takes static sizes
 * so that shapes, FLOP counts and gradient rules are fully static. Attention placement follows
 * the config's <em>nominal</em> resolution, never the runtime size.
 */
public final class VqganGraphs {
  /** Input name of {@link #decoder} and {@link #quantizer}, output name of {@link #quantizer}. */
  public static final String Z = "z";

  /** Output of {@link #quantizer}: the quantized latent (straight-through gradient to {@link #Z}). */
  public static final String Z_Q = "z_q";

  /** Output of {@link #quantizer}: code index per latent cell [n*h*w], row-major over (n, y, x). */
  public static final String INDICES = "indices";

  /** Input of {@link #encoder}: an image in [-1, 1]; output of {@link #decoder}: the decoded image (about [-1, 1]). */
  public static final String X = "x";

  /** Input of {@link #encodeImage}: an image in [0, 1]. */
  public static final String IMAGE = Generator.IMAGE;

  /** GroupNorm epsilon in taming. */
  private static final float GN_EPS = 1e-6f;

  private VqganGraphs() {}

  /**
   * post_quant_conv + decoder: {@value #Z} [n, embedDim, h, w] → {@value #X} [n, outCh, h*f, w*f].
   *
   * @param w the weights, with the decoder part
   * @param n batch size
   * @param h latent height
   * @param width latent width
   * @return a new graph with the weights as initializers
   * @throws IllegalArgumentException when the decoder weights were not loaded
   */
  public static Graph decoder(VqganWeights w, int n, int h, int width) {
    require(w, VqganWeights.Part.DECODER);
    Ctx c = new Ctx("vqgan_decoder", w);
    Value z = c.b.input(Z, DType.FLOAT, Shape.of(n, w.config().embedDim(), h, width));
    c.b.output(X, c.decode(z));
    return c.b.build();
  }

  /**
   * encoder + quant_conv: {@value #X} [n, inChannels, H, W] (values in [-1, 1]) → {@value #Z} [n,
   * embedDim, H/f, W/f], before quantization.
   *
   * @param w the weights, with the encoder part
   * @param n batch size
   * @param height image height H, a multiple of f
   * @param width image width W, a multiple of f
   * @return a new graph with the weights as initializers
   * @throws IllegalArgumentException when the encoder weights were not loaded
   */
  public static Graph encoder(VqganWeights w, int n, int height, int width) {
    require(w, VqganWeights.Part.ENCODER);
    Ctx c = new Ctx("vqgan_encoder", w);
    Value x = c.b.input(X, DType.FLOAT, Shape.of(n, w.config().inChannels(), height, width));
    c.b.output(Z, c.encode(x));
    return c.b.build();
  }

  /**
   * Nearest-code quantizer (taming's VectorQuantizer2, as VQGAN-CLIP re-implements it): {@value #Z}
   * [n, embedDim, h, w] → {@value #Z_Q} (same shape; the gradient with respect to {@code z} is the
   * gradient with respect to {@code z_q}, straight-through) and {@value #INDICES} [n*h*w] int64.
   *
   * @param w the weights, with the quantizer part
   * @param n batch size
   * @param h latent height
   * @param width latent width
   * @return a new graph with the codebook as initializer
   * @throws IllegalArgumentException when the quantizer weights were not loaded
   */
  public static Graph quantizer(VqganWeights w, int n, int h, int width) {
    require(w, VqganWeights.Part.QUANTIZER);
    Ctx c = new Ctx("vqgan_quantizer", w);
    Value z = c.b.input(Z, DType.FLOAT, Shape.of(n, w.config().embedDim(), h, width));
    Value[] q = c.nearestCode(z);
    c.b.output(Z_Q, q[0]);
    c.b.output(INDICES, q[1]);
    return c.b.build();
  }

  /**
   * The differentiable synthesis of VQGAN-CLIP (METHOD.md B.4): {@link Generator#LATENT} [1,
   * embedDim, h, w] → quantize (straight-through) → post_quant_conv → decoder → (x+1)/2 →
   * clamp-with-gradient to [0, 1] → {@link Generator#IMAGE} [1, outCh, h*f, w*f].
   *
   * @param w the weights, with the decoder and quantizer parts
   * @param h latent height
   * @param width latent width
   * @return a new graph with the weights as initializers
   * @throws IllegalArgumentException when the decoder or quantizer weights were not loaded
   */
  public static Graph synthesis(VqganWeights w, int h, int width) {
    return synthesis(w, 1, h, width);
  }

  /**
   * {@link #synthesis(VqganWeights, int, int)} for a batch of {@code n} latents [n, embedDim, h, w]
   * → [n, outCh, h*f, w*f]. Every op works per image (convolutions, GroupNorm as
   * InstanceNormalization per (n, group), per-row quantizer), so each image is what the batch-1
   * graph makes of its latent.
   *
   * @param w the weights, with the decoder and quantizer parts
   * @param n batch size, at least 1
   * @param h latent height
   * @param width latent width
   * @return a new graph with the weights as initializers
   * @throws IllegalArgumentException for a batch below 1, or when the decoder or quantizer weights
   *     were not loaded
   */
  public static Graph synthesis(VqganWeights w, int n, int h, int width) {
    if (n < 1) {
      throw new IllegalArgumentException("batch must be >= 1, got " + n);
    }
    require(w, VqganWeights.Part.DECODER);
    require(w, VqganWeights.Part.QUANTIZER);
    Ctx c = new Ctx("vqgan_synthesis", w);
    Value z = c.b.input(Generator.LATENT, DType.FLOAT, Shape.of(n, w.config().embedDim(), h, width));
    Value zq = c.nearestCode(z)[0];
    Value x = c.decode(zq);
    Value img = c.b.mul(c.b.add(x, c.b.scalar(1, DType.FLOAT)), c.b.scalar(0.5, DType.FLOAT));
    c.b.output(Generator.IMAGE, GradientOverrides.clampWithGrad(c.b, img, 0, 1));
    return c.b.build();
  }

  /**
   * VQGAN-CLIP's init-image encoding (METHOD.md B.3): {@value #IMAGE} [1, inChannels, H, W] in [0, 1]
   * → x*2-1 → encoder → quant_conv → quantize → {@value #Z_Q} [1, embedDim, H/f, W/f]. Nearest-code
   * models use the nearest code; Gumbel models take the most likely code of their logits
   * projection (the deterministic mode of taming's Gumbel sampling).
   *
   * @param w the weights, with the encoder and quantizer parts
   * @param height image height H, a multiple of f
   * @param width image width W, a multiple of f
   * @return a new graph with the weights as initializers
   * @throws IllegalArgumentException when the encoder or quantizer weights were not loaded
   */
  public static Graph encodeImage(VqganWeights w, int height, int width) {
    require(w, VqganWeights.Part.ENCODER);
    require(w, VqganWeights.Part.QUANTIZER);
    Ctx c = new Ctx("vqgan_encode", w);
    Value img = c.b.input(IMAGE, DType.FLOAT, Shape.of(1, w.config().inChannels(), height, width));
    Value x = c.b.sub(c.b.mul(img, c.b.scalar(2, DType.FLOAT)), c.b.scalar(1, DType.FLOAT));
    Value h = c.encode(x);
    Value zq = w.config().gumbel() ? c.gumbelArgmaxCode(h) : c.nearestCode(h)[0];
    c.b.output(Z_Q, zq);
    return c.b.build();
  }

  /** Name scope of the decoder's output head (norm_out, swish, conv_out). */
  private static final String DECODER_OUT = "decoder.out";

  /**
   * The name scopes of {@link #synthesis} worth recomputing in the backward pass: every resnet and
   * attention block of the two finest decoder levels, the upsampling into the finest level and the
   * output head. They hold most of the activation memory (at 400x400 each 128-channel tensor of the
   * finest level is 82 MB, and a resnet block keeps about ten), while recomputing them costs one
   * more forward pass of those blocks.
   *
   * @param cfg the architecture
   * @return the scope names (as pushed while building the synthesis graph), finest level last
   */
  public static java.util.List<String> recomputeScopes(VqganConfig cfg) {
    java.util.List<String> s = new java.util.ArrayList<>();
    int levels = cfg.numLevels();
    int finestRes = cfg.resolution();
    for (int i = Math.min(1, levels - 1); i >= 0; i--) {
      for (int j = 0; j <= cfg.numResBlocks(); j++) {
        s.add("decoder.up." + i + ".block." + j);
        if (cfg.attnResolutions().contains(finestRes >> i)) {
          s.add("decoder.up." + i + ".attn." + j);
        }
      }
      if (i != 0) {
        s.add("decoder.up." + i + ".upsample");
      }
    }
    s.add(DECODER_OUT);
    return s;
  }

  private static void require(VqganWeights w, VqganWeights.Part p) {
    if (!w.has(p)) {
      throw new IllegalArgumentException("this graph needs the VQGAN " + p + " weights, but only " + w.parts() + " were loaded");
    }
  }

  /** One graph under construction. */
  private static final class Ctx {
    final GraphBuilder b;
    final VqganWeights w;
    final VqganConfig cfg;
    final Map<String, Value> inits = new HashMap<>();
    Value gnOnes;
    Value gnZeros;

    Ctx(String name, VqganWeights w) {
      this.b = new GraphBuilder(name);
      this.w = w;
      this.cfg = w.config();
    }

    /** The initializer of a state-dict key (added once per graph). */
    Value weight(String key) {
      return inits.computeIfAbsent(key, k -> b.initializer(k, w.get(k)));
    }

    /** A per-channel GroupNorm parameter as [C, 1, 1], sharing the stored bytes. */
    Value channelParam(String key) {
      return inits.computeIfAbsent(key, k -> {
        Tensor t = w.get(k);
        return b.initializer(k, VqganWeights.reshaped(t, t.shape()[0], 1, 1));
      });
    }

    Value conv(Value x, String prefix, int pad) {
      return b.op("Conv").in(x, weight(prefix + ".weight"), weight(prefix + ".bias")).ints("pads", pad, pad, pad, pad).out();
    }

    Value groupNorm(Value x, String prefix) {
      int g = cfg.numGroups();
      if (gnOnes == null) {
        gnOnes = b.constant(Tensor.filled(DType.FLOAT, new long[] {g}, 1));
        gnZeros = b.constant(Tensor.filled(DType.FLOAT, new long[] {g}, 0));
      }
      long[] s = x.shape().toArray();
      Value r = b.reshape(x, s[0], g, -1);
      Value n = b.op("InstanceNormalization").in(r, gnOnes, gnZeros).attr("epsilon", GN_EPS).out();
      Value back = b.reshape(n, s);
      return b.add(b.mul(back, channelParam(prefix + ".weight")), channelParam(prefix + ".bias"));
    }

    Value swish(Value x) {
      return b.mul(x, b.op("Sigmoid").in(x).out());
    }

    Value resnet(Value x, String p) {
      b.pushScope(p);
      try {
        Value h = conv(swish(groupNorm(x, p + ".norm1")), p + ".conv1", 1);
        // dropout is 0 in every taming config and inactive at inference.
        h = conv(swish(groupNorm(h, p + ".norm2")), p + ".conv2", 1);
        // taming adds a 1x1 nin_shortcut exactly when the block changes the channel count.
        boolean changes = x.shape().toArray()[1] != w.get(p + ".conv1.weight").shape()[0];
        Value skip = changes ? conv(x, p + ".nin_shortcut", 0) : x;
        return b.add(skip, h);
      } finally {
        b.popScope();
      }
    }

    Value attention(Value x, String p) {
      b.pushScope(p);
      try {
        long[] s = x.shape().toArray();
        long n = s[0];
        long ch = s[1];
        long t = s[2] * s[3];
        Value h = groupNorm(x, p + ".norm");
        Value q = b.reshape(conv(h, p + ".q", 0), n, ch, t);
        Value k = b.reshape(conv(h, p + ".k", 0), n, ch, t);
        Value v = b.reshape(conv(h, p + ".v", 0), n, ch, t);
        // scores[b, i, j] = q[:, i] . k[:, j] * C^-0.5, softmax over keys j.
        Value scores = b.mul(b.matmul(b.transpose(q, 0, 2, 1), k), b.scalar(1 / Math.sqrt(ch), DType.FLOAT));
        Value attn = b.op("Softmax").in(scores).attr("axis", -1L).out();
        // out[b, c, i] = sum_j v[b, c, j] attn[b, i, j]
        Value out = b.reshape(b.matmul(v, b.transpose(attn, 0, 2, 1)), s);
        return b.add(x, conv(out, p + ".proj_out", 0));
      } finally {
        b.popScope();
      }
    }

    Value upsample(Value x, String p) {
      b.pushScope(p);
      try {
        Value scales = b.constant(Tensor.ofFloats(new long[] {4}, 1, 1, 2, 2));
        Value up = b.op("Resize").in(x, null, scales)
            .attr("mode", "nearest")
            .attr("coordinate_transformation_mode", "asymmetric")
            .attr("nearest_mode", "floor")
            .out();
        return conv(up, p + ".conv", 1);
      } finally {
        b.popScope();
      }
    }

    Value downsample(Value x, String p) {
      // F.pad(x, (0,1,0,1)) then a 3x3 stride-2 conv without padding = pads [top, left, bottom, right] = [0, 0, 1, 1].
      return b.op("Conv").in(x, weight(p + ".conv.weight"), weight(p + ".conv.bias"))
          .ints("pads", 0, 0, 1, 1).ints("strides", 2, 2).out();
    }

    Value decode(Value zq) {
      int levels = cfg.numLevels();
      Value h = conv(zq, "post_quant_conv", 0);
      h = conv(h, "decoder.conv_in", 1);
      h = resnet(h, "decoder.mid.block_1");
      h = attention(h, "decoder.mid.attn_1");
      h = resnet(h, "decoder.mid.block_2");
      int curRes = cfg.resolution() / cfg.factor();
      for (int i = levels - 1; i >= 0; i--) {
        for (int j = 0; j <= cfg.numResBlocks(); j++) {
          h = resnet(h, "decoder.up." + i + ".block." + j);
          if (cfg.attnResolutions().contains(curRes)) {
            h = attention(h, "decoder.up." + i + ".attn." + j);
          }
        }
        if (i != 0) {
          h = upsample(h, "decoder.up." + i + ".upsample");
          curRes *= 2;
        }
      }
      b.pushScope(DECODER_OUT);
      try {
        h = swish(groupNorm(h, "decoder.norm_out"));
        return conv(h, "decoder.conv_out", 1);
      } finally {
        b.popScope();
      }
    }

    Value encode(Value x) {
      int levels = cfg.numLevels();
      Value h = conv(x, "encoder.conv_in", 1);
      int curRes = cfg.resolution();
      for (int i = 0; i < levels; i++) {
        for (int j = 0; j < cfg.numResBlocks(); j++) {
          h = resnet(h, "encoder.down." + i + ".block." + j);
          if (cfg.attnResolutions().contains(curRes)) {
            h = attention(h, "encoder.down." + i + ".attn." + j);
          }
        }
        if (i != levels - 1) {
          h = downsample(h, "encoder.down." + i + ".downsample");
          curRes /= 2;
        }
      }
      h = resnet(h, "encoder.mid.block_1");
      h = attention(h, "encoder.mid.attn_1");
      h = resnet(h, "encoder.mid.block_2");
      h = swish(groupNorm(h, "encoder.norm_out"));
      h = conv(h, "encoder.conv_out", 1);
      return conv(h, "quant_conv", 0);
    }

    /** {z_q with a straight-through gradient to z, indices}. */
    Value[] nearestCode(Value z) {
      b.pushScope("quantize");
      try {
        long[] s = z.shape().toArray();
        long ch = s[1];
        Value e = weight(cfg.codebookKey()); // [K, C]
        Value flat = b.reshape(b.transpose(z, 0, 2, 3, 1), -1, ch); // [N*h*w, C], rows in (n, y, x) order
        // d = |z|^2 + |e|^2 - 2 z.e, as taming computes it; |e|^2 is a constant of the weights.
        Value zz = b.op("ReduceSumSquare").in(flat, b.ints(1)).attr("keepdims", 1L).out(); // [M, 1]
        Value ee = b.constant(rowNormsSquared(w.get(cfg.codebookKey()))); // [K]
        Value ze = b.op("Gemm").in(flat, e).attr("transB", 1L).attr("alpha", -2f).out(); // -2 z.e, [M, K]
        Value d = b.add(b.add(zz, ee), ze);
        Value idx = b.op("ArgMin").in(d).attr("axis", 1L).attr("keepdims", 0L).out(); // [M] int64
        Value rows = b.op("Gather").in(e, idx).attr("axis", 0L).out(); // [M, C]
        Value zq = b.transpose(b.reshape(rows, s[0], s[2], s[3], ch), 0, 3, 1, 2);
        return new Value[] {GradientOverrides.straightThrough(b, zq, z), idx};
      } finally {
        b.popScope();
      }
    }

    /** GumbelVQ's deterministic code: argmax of the 1x1 logits projection, looked up in {@code quantize.embed}. */
    Value gumbelArgmaxCode(Value h) {
      b.pushScope("quantize");
      try {
        long[] s = h.shape().toArray();
        Value logits = conv(h, "quantize.proj", 0); // [N, K, h, w]
        Value idx = b.op("ArgMax").in(logits).attr("axis", 1L).attr("keepdims", 0L).out(); // [N, h, w]
        Value rows = b.op("Gather").in(weight(cfg.codebookKey()), idx).attr("axis", 0L).out(); // [N, h, w, C]
        return b.transpose(rows, 0, 3, 1, 2);
      } finally {
        b.popScope();
      }
    }
  }

  /** Squared L2 norm of each row of a [K, C] float32 matrix, accumulated in double. */
  static Tensor rowNormsSquared(Tensor e) {
    long[] s = e.shape();
    int k = Math.toIntExact(s[0]);
    int c = Math.toIntExact(s[1]);
    java.nio.FloatBuffer f = e.data().asFloatBuffer();
    float[] out = new float[k];
    for (int i = 0; i < k; i++) {
      double acc = 0;
      for (int j = 0; j < c; j++) {
        double v = f.get(i * c + j);
        acc += v * v;
      }
      out[i] = (float) acc;
    }
    return Tensor.ofFloats(new long[] {k}, out);
  }
}
