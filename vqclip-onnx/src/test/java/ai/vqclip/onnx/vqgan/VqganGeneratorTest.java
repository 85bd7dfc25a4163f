package ai.vqclip.onnx.vqgan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.ModelLoadException;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.graph.DType;
import ai.vqclip.onnx.testing.GradCheck;
import ai.vqclip.onnx.weights.StateDict;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The {@link VqganGenerator} contract on the tiny model, and weight validation. */
class VqganGeneratorTest {
  private static final long SEED = 21;
  private static final ExecutionOptions CPU = ExecutionOptions.cpu().withThreads(1);
  private static final VqganConfig CFG = TinyVqgan.config();
  private static final Map<String, Tensor> SD = TinyVqgan.weights(CFG, SEED);
  private static final VqganReference REF = TinyVqgan.reference(CFG, SD);

  @Test
  void latentShapeAcceptsMultiplesOfTheFactorOnly() {
    try (VqganGenerator g = VqganGenerator.load(StateDict.of(SD), CFG, CPU)) {
      assertArrayEquals(new long[] {1, 4, 3, 5}, g.latentShape(10, 6));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> g.latentShape(7, 6));
      assertTrue(e.getMessage().contains("width 7") && e.getMessage().contains("factor 2") && e.getMessage().contains("6 or 8"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> g.latentShape(6, 0));
      assertTrue(e.getMessage().contains("height 0") && e.getMessage().contains("nearest valid height: 2"), e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> g.latentShape(VqganGenerator.MAX_SIDE + 2, 6));
    }
    // The f16 rule from the brief: 400x400 -> 25x25; 401 is refused naming 400 and 416.
    try (VqganGenerator g = VqganGenerator.of(
        VqganWeights.load(VqganFullSizeTest.constantWeights(VqganConfig.f16_16384(), EnumSet.allOf(VqganWeights.Part.class)),
            VqganConfig.f16_16384()), CPU)) {
      assertArrayEquals(new long[] {1, 256, 25, 25}, g.latentShape(400, 400));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> g.latentShape(400, 401));
      assertTrue(e.getMessage().contains("factor 16") && e.getMessage().contains("400 or 416"), e.getMessage());
    }
  }

  @Test
  void randomLatentIsSeededCodebookRows() {
    try (VqganGenerator g = VqganGenerator.load(StateDict.of(SD), CFG, CPU)) {
      Tensor a = g.randomLatent(10, 6, 5);
      assertArrayEquals(new long[] {1, 4, 3, 5}, a.shape());
      assertEquals(a, g.randomLatent(10, 6, 5));
      assertFalse(a.equals(g.randomLatent(10, 6, 6)));
      // Every cell is a codebook row: quantizing it gives it back, and the codes follow the seed.
      VqganReference.F f = VqganReference.F.of(a);
      int[] idx = REF.nearest(f);
      assertArrayEquals(f.d(), REF.codes(idx, 3, 5).d());
      SplittableRandom rnd = new SplittableRandom(5);
      for (int cell = 0; cell < idx.length; cell++) {
        assertEquals(rnd.nextInt(CFG.nEmbed()), idx[cell], "code of cell " + cell);
      }
    }
  }

  @Test
  void decodeAndEncodeMatchTheReference() {
    try (VqganGenerator g = VqganGenerator.load(StateDict.of(SD), CFG, CPU)) {
      Tensor z = GradCheck.random(DType.FLOAT, new long[] {1, 4, 3, 5}, new SplittableRandom(SEED), 1.0);
      Tensor img = g.decode(z);
      assertArrayEquals(new long[] {1, 3, 6, 10}, img.shape());
      VqganGraphsTest.assertClose(REF.synthesize(VqganReference.F.of(z)).d(), img.toDoubles(), 1e-4);

      Tensor zq = g.encode(img);
      assertArrayEquals(new long[] {1, 4, 3, 5}, zq.shape());
      VqganGraphsTest.assertClose(REF.encodeImage(VqganReference.F.of(img)).d(), zq.toDoubles(), 1e-6);
      // Released sessions are rebuilt on demand and give the same results.
      g.releaseCaches();
      assertEquals(img, g.decode(z));
      assertEquals(zq, g.encode(img));

      assertSame(g.synthesisFragment(10, 6), g.synthesisFragment(10, 6));
      // A second size compiles its own session.
      assertArrayEquals(new long[] {1, 3, 4, 4}, g.decode(g.randomLatent(4, 4, 1)).shape());

      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> g.decode(Tensor.filled(DType.FLOAT, new long[] {1, 5, 3, 5}, 0)));
      assertTrue(e.getMessage().contains("[1, 4, h, w]"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> g.encode(Tensor.filled(DType.FLOAT, new long[] {1, 3, 5, 6}, 0)));
      assertTrue(e.getMessage().contains("height 5") && e.getMessage().contains("factor 2"), e.getMessage());
    }
  }

  @Test
  void latentBoundsArePerChannelCodebookExtremes() {
    try (VqganGenerator g = VqganGenerator.load(StateDict.of(SD), CFG, CPU)) {
      Tensor[] b = g.latentBounds();
      assertEquals(2, b.length);
      assertArrayEquals(new long[] {1, 4, 1, 1}, b[0].shape());
      float[] e = SD.get("quantize.embedding.weight").toFloats();
      for (int c = 0; c < 4; c++) {
        float lo = Float.POSITIVE_INFINITY;
        float hi = Float.NEGATIVE_INFINITY;
        for (int k = 0; k < 16; k++) {
          lo = Math.min(lo, e[k * 4 + c]);
          hi = Math.max(hi, e[k * 4 + c]);
        }
        assertEquals(lo, b[0].toFloats()[c]);
        assertEquals(hi, b[1].toFloats()[c]);
      }
    }
  }

  @Test
  void closeIsIdempotentAndFinal() {
    VqganGenerator g = VqganGenerator.load(StateDict.of(SD), CFG, CPU);
    g.decode(g.randomLatent(4, 4, 1));
    g.close();
    g.close();
    assertThrows(IllegalStateException.class, () -> g.decode(Tensor.filled(DType.FLOAT, new long[] {1, 4, 2, 2}, 0)));
    assertThrows(IllegalStateException.class, () -> g.synthesisFragment(4, 4));
  }

  @Test
  void synthesisOnlyGeneratorRefusesToEncode() {
    Map<String, Tensor> decOnly = new LinkedHashMap<>();
    SD.forEach((k, v) -> {
      if (!k.startsWith("encoder.") && !k.startsWith("quant_conv.")) {
        decOnly.put(k, v);
      }
    });
    try (VqganGenerator g = VqganGenerator.loadForSynthesis(StateDict.of(decOnly), CFG, CPU)) {
      assertArrayEquals(new long[] {1, 3, 4, 4}, g.decode(g.randomLatent(4, 4, 2)).shape());
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> g.encode(Tensor.filled(DType.FLOAT, new long[] {1, 3, 4, 4}, 0)));
      assertTrue(e.getMessage().contains("encoder"), e.getMessage());
    }
    // Without the encoder keys, a full load lists them as missing.
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> VqganGenerator.load(StateDict.of(decOnly), CFG, CPU));
    assertTrue(e.getMessage().contains("encoder.conv_in.weight"), e.getMessage());
  }

  @Test
  void badWeightsAreReportedTogether() {
    Map<String, Tensor> bad = new LinkedHashMap<>(SD);
    bad.remove("decoder.mid.attn_1.q.weight");
    bad.remove("quantize.embedding.weight");
    bad.put("decoder.mid.attn_9.q.weight", Tensor.filled(DType.FLOAT, new long[] {16, 16, 1, 1}, 0));
    bad.put("decoder.conv_out.bias", Tensor.filled(DType.FLOAT, new long[] {4}, 0));
    bad.put("post_quant_conv.weight", Tensor.filled(DType.INT64, new long[] {4, 4, 1, 1}, 0));
    bad.put("loss.perceptual_loss.lin0.model.1.weight", Tensor.filled(DType.FLOAT, new long[] {1, 64, 1, 1}, 0));
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> VqganWeights.load(StateDict.of(bad), CFG));
    String m = e.getMessage();
    assertTrue(m.contains("2 missing") && m.contains("decoder.mid.attn_1.q.weight [16, 16, 1, 1]") && m.contains("quantize.embedding.weight [16, 4]"), m);
    assertTrue(m.contains("1 unexpected") && m.contains("decoder.mid.attn_9.q.weight"), m);
    assertTrue(m.contains("2 wrong shape or type") && m.contains("decoder.conv_out.bias: shape [4], expected [3]")
        && m.contains("post_quant_conv.weight: dtype INT64"), m);
    assertFalse(m.contains("loss."), m);
    assertTrue(m.contains(CFG.toString()), m);
  }

  @Test
  void mismatchedConfigSuggestsTheInferredOne() {
    VqganConfig wrong = new VqganConfig(8, java.util.List.of(1, 2), 1, java.util.List.of(8), 4, 4, 32, 16, 3, 3, false, false, 4);
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> VqganWeights.load(StateDict.of(SD), wrong));
    assertTrue(e.getMessage().contains("quantize.embedding.weight: shape [16, 4], expected [32, 4]"), e.getMessage());
    assertTrue(e.getMessage().contains("the tensor shapes suggest") && e.getMessage().contains("n_embed=16"), e.getMessage());
  }
}
