package ai.vqclip.onnx.vqgan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.Generator;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.FlopCounter;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.onnx.weights.StateDict;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The full-size presets, built but never run: key enumeration against MODELS.md §1.6, graph build
 * time, and the decoder's FLOPs against MODELS.md §5. Every weight is a view of one shared
 * constant buffer, so the test needs ~17 MB instead of ~300 MB.
 */
class VqganFullSizeTest {
  /** One buffer big enough for the largest tensor (the 16384 x 256 codebook). */
  private static final ByteBuffer SHARED;

  static {
    int floats = 16384 * 256;
    SHARED = ByteBuffer.allocateDirect(floats * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < floats; i++) {
      SHARED.putFloat(i * 4, 0.01f);
    }
  }

  static StateDict constantWeights(VqganConfig cfg, EnumSet<VqganWeights.Part> parts) {
    Map<String, Tensor> m = new LinkedHashMap<>();
    for (Map.Entry<String, long[]> e : VqganWeights.expectedShapes(cfg, parts).entrySet()) {
      long n = 1;
      for (long s : e.getValue()) {
        n *= s;
      }
      m.put(e.getKey(), Tensor.wrap(DType.FLOAT, e.getValue(), SHARED.slice(0, Math.toIntExact(n * 4)).order(ByteOrder.LITTLE_ENDIAN)));
    }
    return StateDict.of(m);
  }

  @Test
  void f16KeysAndParameterCountsMatchTaming() {
    VqganConfig cfg = VqganConfig.f16_16384();
    Map<String, long[]> enc = VqganWeights.expectedShapes(cfg, EnumSet.of(VqganWeights.Part.ENCODER));
    Map<String, long[]> dec = VqganWeights.expectedShapes(cfg, EnumSet.of(VqganWeights.Part.DECODER));
    Map<String, long[]> all = VqganWeights.expectedShapes(cfg, EnumSet.allOf(VqganWeights.Part.class));
    // MODELS.md §1.6: 343 entries = encoder 144 + quant_conv 2 + decoder 194 + post_quant_conv 2 + codebook 1.
    assertEquals(343, all.size());
    assertEquals(146, enc.size());
    assertEquals(196, dec.size());
    assertEquals(76_073_859L, params(all));
    assertEquals(29_298_176L + 65_792L, params(enc));
    assertEquals(42_449_795L + 65_792L, params(dec));
    assertArrayEquals(new long[] {256, 512, 1, 1}, all.get("decoder.up.3.block.0.nin_shortcut.weight"));
    assertArrayEquals(new long[] {128, 128, 3, 3}, all.get("decoder.up.0.block.2.conv2.weight"));
    assertArrayEquals(new long[] {512}, all.get("decoder.up.4.attn.2.proj_out.bias"));
    assertArrayEquals(new long[] {512, 256, 3, 3}, all.get("decoder.conv_in.weight"));
    assertArrayEquals(new long[] {3, 128, 3, 3}, all.get("decoder.conv_out.weight"));
    assertArrayEquals(new long[] {256, 512, 3, 3}, all.get("encoder.conv_out.weight"));
    assertArrayEquals(new long[] {16384, 256}, all.get("quantize.embedding.weight"));
    assertTrue(all.containsKey("encoder.down.4.attn.1.q.weight"));
    assertTrue(all.containsKey("encoder.down.3.downsample.conv.weight"));
    assertTrue(!all.containsKey("encoder.down.4.downsample.conv.weight"));
    assertTrue(!all.containsKey("decoder.up.0.upsample.conv.weight"));
    assertTrue(!all.containsKey("decoder.up.3.attn.0.q.weight"));
  }

  private static long params(Map<String, long[]> m) {
    long total = 0;
    for (long[] s : m.values()) {
      long n = 1;
      for (long d : s) {
        n *= d;
      }
      total += n;
    }
    return total;
  }

  @Test
  void configsAreInferredFromFullSizeShapes() {
    for (VqganConfig cfg : new VqganConfig[] {VqganConfig.f16_16384(), VqganConfig.f16_1024(), VqganConfig.gumbelF8_8192()}) {
      assertEquals(cfg, VqganConfig.inferFrom(constantWeights(cfg, EnumSet.allOf(VqganWeights.Part.class))));
    }
    // Decoder-only files: ch comes from the decoder's full-resolution level.
    VqganConfig cfg = VqganConfig.f16_16384();
    assertEquals(cfg, VqganConfig.inferFrom(constantWeights(cfg, EnumSet.of(VqganWeights.Part.DECODER, VqganWeights.Part.QUANTIZER))));
  }

  @Test
  void f16DecoderBuildsFastAndCountsTamingsFlops() {
    VqganConfig cfg = VqganConfig.f16_16384();
    StateDict sd = constantWeights(cfg, EnumSet.of(VqganWeights.Part.DECODER, VqganWeights.Part.QUANTIZER));
    long t0 = System.nanoTime();
    VqganWeights w = VqganWeights.load(sd, cfg, EnumSet.of(VqganWeights.Part.DECODER, VqganWeights.Part.QUANTIZER));
    Graph dec = VqganGraphs.decoder(w, 1, 16, 16);
    double buildS = (System.nanoTime() - t0) / 1e9;
    assertArrayEquals(new long[] {1, 3, 256, 256}, dec.output(VqganGraphs.X).shape().toArray());
    long flops = FlopCounter.count(dec);
    double expected = 2 * 126.4e9; // MODELS.md §5, 256x256 output
    System.out.printf("vqgan f16 decoder 256^2: built in %.3f s, %d FLOPs (%.4f x MODELS.md)%n", buildS, flops, flops / expected);
    assertEquals(expected, flops, 0.01 * expected);
    // Generous: the machine is shared; a build normally takes well under a second.
    assertTrue(buildS < 10, "decoder graph took " + buildS + " s to build");

    // 400x400 output (25x25 latent): MODELS.md §5 gives 309.5 GMAC.
    long t1 = System.nanoTime();
    Graph synth = VqganGraphs.synthesis(w, 25, 25);
    double synthS = (System.nanoTime() - t1) / 1e9;
    assertArrayEquals(new long[] {1, 3, 400, 400}, synth.output(Generator.IMAGE).shape().toArray());
    long f400 = FlopCounter.count(VqganGraphs.decoder(w, 1, 25, 25));
    System.out.printf("vqgan f16 synthesis 400^2: built in %.3f s; decoder %d FLOPs (%.4f x MODELS.md)%n", synthS, f400, f400 / (2 * 309.5e9));
    assertEquals(2 * 309.5e9, f400, 0.01 * 2 * 309.5e9);
    assertTrue(synthS < 10, "synthesis graph took " + synthS + " s to build");
  }

  @Test
  void encoderBuildsAtFullSize() {
    VqganConfig cfg = VqganConfig.f16_16384();
    StateDict sd = constantWeights(cfg, EnumSet.allOf(VqganWeights.Part.class));
    VqganWeights w = VqganWeights.load(sd, cfg);
    Graph enc = VqganGraphs.encodeImage(w, 400, 400);
    assertArrayEquals(new long[] {1, 256, 25, 25}, enc.output(VqganGraphs.Z_Q).shape().toArray());
    assertTrue(FlopCounter.count(enc) > 0);
  }
}
