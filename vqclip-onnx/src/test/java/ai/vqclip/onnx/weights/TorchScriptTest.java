package ai.vqclip.onnx.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.DType;
import ai.vqclip.onnx.weights.TorchWriters.Module;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TorchScriptTest {
  @TempDir Path dir;

  private static Map<String, Object> attrs(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("training", false);
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }

  private static Tensor half(long... shape) {
    int n = 1;
    for (long s : shape) {
      n *= (int) s;
    }
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = (i % 7) * 0.25 - 0.5;
    }
    return Tensor.fromDoubles(DType.FLOAT16, shape, v);
  }

  private static Module linear(String cls, Tensor w, Tensor b) {
    return new Module(cls, attrs("weight", w, "bias", b));
  }

  /** A miniature of OpenAI's CLIP TorchScript module tree (width 4, one block each side). */
  static Module tinyClip() {
    Module ln = new Module("__torch__.clip.model.LayerNorm", attrs("weight", Tensor.ofFloats(new long[] {4}, 1, 1, 1, 1),
        "bias", Tensor.ofFloats(new long[] {4}, 0, 0, 0, 0)));
    Module attn = new Module("__torch__.torch.nn.modules.activation.MultiheadAttention", attrs(
        "in_proj_weight", half(12, 4), "in_proj_bias", half(12),
        "out_proj", linear("__torch__.torch.nn.modules.linear.NonDynamicallyQuantizableLinear", half(4, 4), half(4))));
    Module block = new Module("__torch__.clip.model.ResidualAttentionBlock", attrs(
        "attn", attn, "ln_1", ln, "mlp", new Module("__torch__.torch.nn.modules.container.Sequential", attrs(
            "c_fc", linear("__torch__.torch.nn.modules.linear.Linear", half(16, 4), half(16)),
            "gelu", new Module("__torch__.clip.model.QuickGELU", attrs()),
            "c_proj", linear("__torch__.torch.nn.modules.linear.Linear", half(4, 16), half(4)))),
        "ln_2", ln, "attn_mask", null));
    Module visual = new Module("__torch__.clip.model.VisionTransformer", attrs(
        "input_resolution", 32L, "output_dim", 4L,
        "conv1", new Module("__torch__.torch.nn.modules.conv.Conv2d", attrs("weight", half(4, 3, 16, 16))),
        "class_embedding", half(4), "positional_embedding", half(5, 4), "ln_pre", ln,
        "transformer", new Module("__torch__.clip.model.Transformer", attrs("width", 4L, "layers", 1L,
            "resblocks", new Module("__torch__.torch.nn.modules.container.Sequential", attrs("0", block)))),
        "ln_post", ln, "proj", half(4, 4)));
    Module textBlock = new Module("__torch__.clip.model.ResidualAttentionBlock", attrs(
        "attn", attn, "ln_1", ln, "ln_2", ln, "attn_mask", Tensor.ofFloats(new long[] {2, 2}, 0, Float.NEGATIVE_INFINITY, 0, 0)));
    return new Module("__torch__.clip.model.CLIP", attrs(
        "context_length", 2L, "visual", visual,
        "transformer", new Module("__torch__.clip.model.Transformer", attrs("width", 4L,
            "resblocks", new Module("__torch__.torch.nn.modules.container.Sequential", attrs("0", textBlock)))),
        "vocab_size", 10L, "token_embedding", new Module("__torch__.torch.nn.modules.sparse.Embedding",
            attrs("weight", half(10, 4))),
        "positional_embedding", Tensor.ofFloats(new long[] {2, 4}, 1, 2, 3, 4, 5, 6, 7, 8),
        "ln_final", ln, "text_projection", half(4, 4), "logit_scale", Tensor.ofFloats(new long[0], 4.6052f)));
  }

  @Test
  void flattensTheModuleTreeToStateDictNames() {
    Path p = dir.resolve("ViT-B-32.pt");
    TorchWriters.writeTorchScript(p, "ViT-B-32", tinyClip(), List.of(Tensor.ofFloats(new long[] {1}, 3f)));
    try (TorchCheckpoint c = TorchCheckpoint.open(p)) {
      assertEquals(TorchCheckpoint.Kind.TORCHSCRIPT, c.kind());
      assertEquals(1, c.constantCount());
    }
    try (StateDict sd = WeightFiles.open(p)) {
      List<String> keys = new ArrayList<>(sd.keys());
      assertEquals(List.of(
          "visual.conv1.weight", "visual.class_embedding", "visual.positional_embedding",
          "visual.ln_pre.weight", "visual.ln_pre.bias",
          "visual.transformer.resblocks.0.attn.in_proj_weight", "visual.transformer.resblocks.0.attn.in_proj_bias",
          "visual.transformer.resblocks.0.attn.out_proj.weight", "visual.transformer.resblocks.0.attn.out_proj.bias",
          "visual.transformer.resblocks.0.ln_1.weight", "visual.transformer.resblocks.0.ln_1.bias",
          "visual.transformer.resblocks.0.mlp.c_fc.weight", "visual.transformer.resblocks.0.mlp.c_fc.bias",
          "visual.transformer.resblocks.0.mlp.c_proj.weight", "visual.transformer.resblocks.0.mlp.c_proj.bias",
          "visual.transformer.resblocks.0.ln_2.weight", "visual.transformer.resblocks.0.ln_2.bias",
          "visual.ln_post.weight", "visual.ln_post.bias", "visual.proj",
          "transformer.resblocks.0.attn.in_proj_weight", "transformer.resblocks.0.attn.in_proj_bias",
          "transformer.resblocks.0.attn.out_proj.weight", "transformer.resblocks.0.attn.out_proj.bias",
          "transformer.resblocks.0.ln_1.weight", "transformer.resblocks.0.ln_1.bias",
          "transformer.resblocks.0.ln_2.weight", "transformer.resblocks.0.ln_2.bias",
          "transformer.resblocks.0.attn_mask",
          "token_embedding.weight", "positional_embedding", "ln_final.weight", "ln_final.bias",
          "text_projection", "logit_scale"), keys);
      assertEquals(DType.FLOAT16, sd.spec("visual.conv1.weight").dtype());
      assertArrayEquals(new long[] {4, 3, 16, 16}, sd.spec("visual.conv1.weight").shape());
      assertEquals(half(12, 4), sd.tensor("visual.transformer.resblocks.0.attn.in_proj_weight"));
      float[] f = sd.floatTensor("visual.proj").toFloats();
      assertEquals(-0.5f, f[0]);
      assertEquals(-0.25f, f[1]);
      assertEquals(4.6052f, sd.tensor("logit_scale").toFloats()[0]);
      assertEquals(Float.NEGATIVE_INFINITY, sd.tensor("transformer.resblocks.0.attn_mask").toFloats()[1]);
      // constants.pkl holds code constants, never weights
      assertTrue(keys.stream().noneMatch(k -> k.startsWith("__constants__")));
      assertTrue(keys.stream().noneMatch(k -> k.endsWith("training") || k.endsWith("vocab_size")));
    }
  }
}
