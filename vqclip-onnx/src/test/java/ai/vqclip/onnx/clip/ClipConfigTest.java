package ai.vqclip.onnx.clip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.ModelLoadException;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.FlopCounter;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.onnx.weights.StateDict;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Architecture inference, presets, weight validation, and the full-size ViT-B/32 graph's size and cost. */
class ClipConfigTest {
  private static final ClipConfig TINY = ClipTestModels.TINY;

  @Test
  void presetsAreWhatTheirWeightsInfer() {
    for (ClipConfig c : new ClipConfig[] {ClipConfig.VIT_B_32, ClipConfig.VIT_B_16, ClipConfig.VIT_L_14}) {
      // Shapes only: nothing is read.
      assertEquals(c, ClipConfig.infer(ClipTestModels.lazyRandom(c)));
    }
    assertEquals(50, ClipConfig.VIT_B_32.visionTokens());
    assertEquals(197, ClipConfig.VIT_B_16.visionTokens());
    assertEquals(257, ClipConfig.VIT_L_14.visionTokens());
    // ViT-B/32 parameter count (MODELS.md 2.1): vision + text = 151,277,312, plus logit_scale.
    long params = 0;
    for (long[] s : ClipConfig.VIT_B_32.expectedShapes().values()) {
      long n = 1;
      for (long d : s) {
        n *= d;
      }
      params += n;
    }
    assertEquals(151_277_312L, params);
  }

  @Test
  void tinyWeightsInferWithAnExplicitHeadWidthOnly() {
    Map<String, Tensor> w = ClipTestModels.openAiWeights(TINY, 1);
    assertEquals(TINY, ClipConfig.infer(StateDict.of(w), ClipTestModels.TINY_HEAD_DIM));
    assertEquals(TINY, ClipConfig.infer(StateDict.of(ClipTestModels.toHuggingFace(w)), ClipTestModels.TINY_HEAD_DIM));
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> ClipConfig.infer(StateDict.of(w)));
    assertTrue(e.getMessage().contains("width 32") && e.getMessage().contains("64"), e.getMessage());
  }

  @Test
  void invalidConfigsAreRejected() {
    assertThrows(IllegalArgumentException.class, () -> new ClipConfig(16, 32, 30, 2, 4, 8, 77, 100, 32, 2, 4)); // 30 % 4
    assertThrows(IllegalArgumentException.class, () -> new ClipConfig(16, 30, 32, 2, 4, 8, 77, 100, 32, 2, 4)); // 30 % 8
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new ClipConfig(16, 32, 32, 2, 4, 8, 77, 1 << 25, 32, 2, 4));
    assertTrue(e.getMessage().contains("vocabSize"), e.getMessage());
  }

  @Test
  void incompleteResNetWeightsAndNonClipWeights() {
    Map<String, Tensor> rn = new LinkedHashMap<>();
    rn.put("visual.conv1.weight", Tensor.filled(DType.FLOAT, new long[] {32, 3, 3, 3}, 0));
    rn.put("visual.layer1.0.conv1.weight", Tensor.filled(DType.FLOAT, new long[] {64, 64, 1, 1}, 0));
    rn.put("visual.attnpool.positional_embedding", Tensor.filled(DType.FLOAT, new long[] {50, 2048}, 0));
    rn.put("token_embedding.weight", Tensor.filled(DType.FLOAT, new long[] {10, 8}, 0));
    ModelLoadException e = assertThrows(ModelLoadException.class,
        () -> ClipEncoder.load(StateDict.of(rn), null, ExecutionOptions.cpu()));
    // ResNet CLIPs are supported: these partial weights are read as one, and what is missing is named.
    assertTrue(e.getMessage().contains("missing text_projection"), e.getMessage());
    rn.put("vision_model.embeddings.class_embedding", Tensor.filled(DType.FLOAT, new long[] {8}, 0));
    ModelLoadException mixed = assertThrows(ModelLoadException.class, () -> ClipWeights.of(StateDict.of(rn)));
    assertTrue(mixed.getMessage().contains("mix OpenAI ResNet names"), mixed.getMessage());
    ModelLoadException none = assertThrows(ModelLoadException.class,
        () -> ClipConfig.infer(StateDict.of(Map.of("decoder.conv_in.weight", Tensor.filled(DType.FLOAT, new long[] {1}, 0)))));
    assertTrue(none.getMessage().contains("not CLIP weights") && none.getMessage().contains("decoder.conv_in.weight"),
        none.getMessage());
  }

  @Test
  void inconsistentShapesDescribeNoArchitecture() {
    Map<String, Tensor> w = ClipTestModels.openAiWeights(TINY, 2);
    w.put("visual.positional_embedding", Tensor.filled(DType.FLOAT, new long[] {18, 32}, 0)); // 17 is not a square
    ModelLoadException e =
        assertThrows(ModelLoadException.class, () -> ClipConfig.infer(StateDict.of(w), ClipTestModels.TINY_HEAD_DIM));
    assertTrue(e.getMessage().contains("visual.positional_embedding") && e.getMessage().contains("1 + g^2"), e.getMessage());
    Map<String, Tensor> w2 = ClipTestModels.openAiWeights(TINY, 2);
    w2.remove("text_projection");
    ModelLoadException e2 =
        assertThrows(ModelLoadException.class, () -> ClipConfig.infer(StateDict.of(w2), ClipTestModels.TINY_HEAD_DIM));
    assertTrue(e2.getMessage().contains("missing text_projection"), e2.getMessage());
  }

  @Test
  void missingUnexpectedAndMisshapenKeysAreReportedTogether() {
    Map<String, Tensor> w = ClipTestModels.openAiWeights(TINY, 3);
    w.remove("visual.transformer.resblocks.1.mlp.c_fc.bias");
    w.remove("ln_final.bias");
    w.put("visual.bogus", Tensor.filled(DType.FLOAT, new long[] {1}, 0));
    w.put("transformer.resblocks.0.ln_1.weight", Tensor.filled(DType.FLOAT, new long[] {31}, 1));
    w.put("transformer.resblocks.0.attn_mask", Tensor.filled(DType.FLOAT, new long[] {77, 77}, 0)); // ignored
    w.put("input_resolution", Tensor.ofLongs(new long[0], 32)); // ignored
    ModelLoadException e = assertThrows(ModelLoadException.class,
        () -> ClipEncoder.load(StateDict.of(w), TINY, null, ExecutionOptions.cpu()));
    String m = e.getMessage();
    assertTrue(m.contains("2 missing: visual.transformer.resblocks.1.mlp.c_fc.bias, ln_final.bias"), m);
    assertTrue(m.contains("1 unexpected: visual.bogus"), m);
    assertTrue(m.contains("transformer.resblocks.0.ln_1.weight: expected [32], found [31]"), m);

    Map<String, Tensor> hf = ClipTestModels.toHuggingFace(ClipTestModels.openAiWeights(TINY, 3));
    hf.remove("vision_model.encoder.layers.0.self_attn.k_proj.weight");
    hf.put("text_projection.weight", Tensor.filled(DType.FLOAT, new long[] {32, 16}, 0)); // untransposed: wrong
    ModelLoadException h = assertThrows(ModelLoadException.class,
        () -> ClipEncoder.load(StateDict.of(hf), TINY, null, ExecutionOptions.cpu()));
    assertTrue(h.getMessage().contains("HUGGING_FACE"), h.getMessage());
    assertTrue(h.getMessage().contains("vision_model.encoder.layers.0.self_attn.k_proj.weight "
        + "(visual.transformer.resblocks.0.attn.in_proj_weight)"), h.getMessage());
    assertTrue(h.getMessage().contains("text_projection.weight: expected [16, 32], found [32, 16]"), h.getMessage());

    Map<String, Tensor> ints = ClipTestModels.openAiWeights(TINY, 3);
    ints.put("ln_final.bias", Tensor.ofLongs(new long[] {32}, new long[32]));
    ModelLoadException t = assertThrows(ModelLoadException.class,
        () -> ClipEncoder.load(StateDict.of(ints), TINY, null, ExecutionOptions.cpu()));
    assertTrue(t.getMessage().contains("ln_final.bias: expected a floating type, found INT64"), t.getMessage());
  }

  @Test
  void halfPrecisionWeightsAreUpcast() {
    Map<String, Tensor> w = ClipTestModels.openAiWeights(TINY, 4);
    Tensor f = w.get("visual.proj");
    w.put("visual.proj", Tensor.fromDoubles(DType.FLOAT16, f.shape(), f.toDoubles()));
    ClipWeights cw = ClipWeights.of(StateDict.of(w));
    cw.validate(TINY);
    Tensor up = cw.tensor("visual.proj");
    assertEquals(DType.FLOAT, up.dtype());
    double[] a = f.toDoubles();
    double[] b = up.toDoubles();
    for (int i = 0; i < a.length; i++) {
      assertEquals(a[i], b[i], 1e-3 * Math.max(1, Math.abs(a[i])));
    }
  }

  @Test
  void fullSizeVitB32ImageGraphBuildsFastAndCostsWhatItShould() {
    long t0 = System.nanoTime();
    ClipEncoder enc = ClipEncoder.load(ClipTestModels.lazyRandom(ClipConfig.VIT_B_32), null, ExecutionOptions.cpu());
    Graph g = enc.imageFragment(1);
    double seconds = (System.nanoTime() - t0) / 1e9;
    long t1 = System.nanoTime();
    Graph again = enc.imageFragment(1); // weights cached: graph construction alone
    double rebuild = (System.nanoTime() - t1) / 1e9;
    long flops = FlopCounter.count(g);
    enc.close();
    System.out.printf("ViT-B/32 image graph: first build %.2f s (incl. filling 88M random weights), rebuild %.3f s, "
        + "%d nodes, %.4f GFLOP%n", seconds, rebuild, g.nodes().size(), flops / 1e9);
    assertEquals(ClipConfig.VIT_B_32, enc.config());
    assertTrue(seconds < 10, "building took " + seconds + " s");
    assertEquals(g.nodes().size(), again.nodes().size());
    double expected = 2 * 4.41e9; // MODELS.md 5: 4.41 GMAC
    assertEquals(expected, flops, 0.01 * expected, "FLOPs " + flops);
  }
}
