package ai.vqclip.onnx.clip;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.DType;
import ai.vqclip.onnx.testing.GradCheck;
import ai.vqclip.onnx.weights.StateDict;
import ai.vqclip.onnx.weights.TensorSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Tiny random CLIP weights, a Hugging Face renaming of them, a fake tokenizer, lazy full-size weights. */
final class ClipTestModels {
  private ClipTestModels() {}

  /** Width 32, 2 layers, 4 heads (head width 8), patch 8 on 32x32 images, context 77, vocab 100, D 16. */
  static final ClipConfig TINY = new ClipConfig(16, 32, 32, 2, 4, 8, 77, 100, 32, 2, 4);

  static final int TINY_HEAD_DIM = 8;

  /** Random OpenAI-named weights of a config, scaled so activations stay O(1) (seeded). */
  static Map<String, Tensor> openAiWeights(ClipConfig cfg, long seed) {
    return ai.vqclip.onnx.RandomWeights.clip(cfg, seed);
  }

  private static Tensor shifted(long[] s, SplittableRandom rnd, double mean, double sd) {
    int n = (int) Arrays.stream(s).reduce(1, (a, b) -> a * b);
    double[] d = new double[n];
    for (int i = 0; i < n; i++) {
      d[i] = mean + sd * GradCheck.gaussian(rnd);
    }
    return Tensor.fromDoubles(DType.FLOAT, s, d);
  }

  private static final Pattern BLOCK = Pattern.compile("(visual\\.)?transformer\\.resblocks\\.(\\d+)\\.(.+)");

  /**
   * The same weights under Hugging Face CLIPModel names (MODELS.md 2.6): in_proj split into q/k/v,
   * projections transposed (Linear), pre_layrnorm (sic), position_ids buffers added.
   */
  static Map<String, Tensor> toHuggingFace(Map<String, Tensor> openai) {
    Map<String, Tensor> hf = new LinkedHashMap<>();
    for (Map.Entry<String, Tensor> e : openai.entrySet()) {
      String k = e.getKey();
      Tensor t = e.getValue();
      Matcher bm = BLOCK.matcher(k);
      if (bm.matches()) {
        String p = (bm.group(1) != null ? "vision_model" : "text_model") + ".encoder.layers." + bm.group(2) + ".";
        String r = bm.group(3);
        if (r.startsWith("attn.in_proj_")) {
          String kind = r.endsWith("weight") ? "weight" : "bias";
          Tensor[] qkv = splitRows(t, 3);
          hf.put(p + "self_attn.q_proj." + kind, qkv[0]);
          hf.put(p + "self_attn.k_proj." + kind, qkv[1]);
          hf.put(p + "self_attn.v_proj." + kind, qkv[2]);
        } else {
          String hr = r.replace("attn.out_proj.", "self_attn.out_proj.").replace("ln_1.", "layer_norm1.")
              .replace("ln_2.", "layer_norm2.").replace("mlp.c_fc.", "mlp.fc1.").replace("mlp.c_proj.", "mlp.fc2.");
          hf.put(p + hr, t);
        }
        continue;
      }
      switch (k) {
        case "visual.class_embedding" -> hf.put("vision_model.embeddings.class_embedding", t);
        case "visual.conv1.weight" -> hf.put("vision_model.embeddings.patch_embedding.weight", t);
        case "visual.positional_embedding" -> {
          hf.put("vision_model.embeddings.position_embedding.weight", t);
          hf.put("vision_model.embeddings.position_ids", positionIds(t.shape()[0]));
        }
        case "visual.ln_pre.weight" -> hf.put("vision_model.pre_layrnorm.weight", t);
        case "visual.ln_pre.bias" -> hf.put("vision_model.pre_layrnorm.bias", t);
        case "visual.ln_post.weight" -> hf.put("vision_model.post_layernorm.weight", t);
        case "visual.ln_post.bias" -> hf.put("vision_model.post_layernorm.bias", t);
        case "visual.proj" -> hf.put("visual_projection.weight", transpose(t));
        case "token_embedding.weight" -> hf.put("text_model.embeddings.token_embedding.weight", t);
        case "positional_embedding" -> {
          hf.put("text_model.embeddings.position_embedding.weight", t);
          hf.put("text_model.embeddings.position_ids", positionIds(t.shape()[0]));
        }
        case "ln_final.weight" -> hf.put("text_model.final_layer_norm.weight", t);
        case "ln_final.bias" -> hf.put("text_model.final_layer_norm.bias", t);
        case "text_projection" -> hf.put("text_projection.weight", transpose(t));
        case "logit_scale" -> hf.put("logit_scale", t);
        default -> throw new IllegalArgumentException("no HF name for " + k);
      }
    }
    return hf;
  }

  private static Tensor positionIds(long n) {
    long[] ids = new long[(int) n];
    for (int i = 0; i < n; i++) {
      ids[i] = i;
    }
    return Tensor.ofLongs(new long[] {1, n}, ids);
  }

  static Tensor transpose(Tensor t) {
    long[] s = t.shape();
    float[] a = t.toFloats();
    float[] o = new float[a.length];
    int r = (int) s[0];
    int c = (int) s[1];
    for (int i = 0; i < r; i++) {
      for (int j = 0; j < c; j++) {
        o[j * r + i] = a[i * c + j];
      }
    }
    return Tensor.ofFloats(new long[] {c, r}, o);
  }

  private static Tensor[] splitRows(Tensor t, int parts) {
    long[] s = t.shape();
    float[] a = t.toFloats();
    int chunk = a.length / parts;
    Tensor[] out = new Tensor[parts];
    long[] ps = s.clone();
    ps[0] /= parts;
    for (int i = 0; i < parts; i++) {
      out[i] = Tensor.ofFloats(ps, Arrays.copyOfRange(a, i * chunk, (i + 1) * chunk));
    }
    return out;
  }

  /** Fake tokenizer: start = vocab-2, each char -> 1 + (c mod (vocab-3)), end = vocab-1, padded with 0. */
  static TextTokenizer fakeTokenizer(ClipConfig cfg) {
    return text -> {
      int[] ids = new int[cfg.contextLength()];
      int v = cfg.vocabSize();
      if (text.length() + 2 > ids.length) {
        throw new IllegalArgumentException("text too long");
      }
      ids[0] = v - 2;
      for (int i = 0; i < text.length(); i++) {
        ids[i + 1] = 1 + text.charAt(i) % (v - 3);
      }
      ids[text.length() + 1] = v - 1;
      return ids;
    };
  }

  /**
   * Full-size weights that exist only as shapes until read; a read fills the tensor with cheap
   * pseudo-random floats (xorshift, small amplitude), so building a ViT-B/32 graph needs no file.
   */
  static StateDict lazyRandom(ClipConfig cfg) {
    Map<String, long[]> shapes = cfg.expectedShapes();
    return new StateDict() {
      @Override
      public Set<String> keys() {
        return Collections.unmodifiableSet(shapes.keySet());
      }

      @Override
      public TensorSpec spec(String key) {
        long[] s = shapes.get(key);
        if (s == null) {
          throw new IllegalArgumentException("no tensor named '" + key + "'");
        }
        return new TensorSpec(DType.FLOAT, s);
      }

      @Override
      public Tensor tensor(String key) {
        long[] s = spec(key).shape();
        long n = spec(key).elementCount();
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(n * 4)).order(ByteOrder.LITTLE_ENDIAN);
        FloatBuffer f = b.asFloatBuffer();
        long x = 0x9E3779B97F4A7C15L ^ key.hashCode();
        for (int i = 0; i < n; i++) {
          x ^= x << 13;
          x ^= x >>> 7;
          x ^= x << 17;
          f.put(i, ((x >>> 40) - (1 << 23)) * (0.02f / (1 << 23)));
        }
        return Tensor.wrap(DType.FLOAT, s, b);
      }

      @Override
      public void close() {}
    };
  }
}
