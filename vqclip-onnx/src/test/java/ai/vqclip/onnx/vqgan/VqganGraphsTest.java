package ai.vqclip.onnx.vqgan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.Generator;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.autodiff.Autodiff;
import ai.vqclip.core.autodiff.GradientOverrides;
import ai.vqclip.core.autodiff.GradientRequest;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import ai.vqclip.onnx.CudaCoverage;
import ai.vqclip.onnx.OrtExecutable;
import ai.vqclip.onnx.testing.GradCheck;
import ai.vqclip.onnx.weights.StateDict;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The VQGAN fragments of a tiny seeded model against the plain-Java reference forward, and their
 * gradients (finite differences, straight-through, CUDA coverage).
 */
class VqganGraphsTest {
  private static final long SEED = 11;
  private static final double TOL = 1e-4;
  private static final ExecutionOptions CPU = ExecutionOptions.cpu().withThreads(1);

  private static final VqganConfig CFG = TinyVqgan.config();
  private static final Map<String, Tensor> SD = TinyVqgan.weights(CFG, SEED);
  private static final VqganWeights W = VqganWeights.load(StateDict.of(SD), CFG);
  private static final VqganReference REF = TinyVqgan.reference(CFG, SD);

  // A non-square latent 3x5 (image 6x10): sizes need not match the nominal resolution 16.
  private static final int H = 3;
  private static final int WD = 5;

  static Map<String, Tensor> run(Graph g, Map<String, Tensor> in) {
    try (OrtExecutable ex = OrtExecutable.create(g, CPU)) {
      return ex.run(in);
    }
  }

  static double assertClose(double[] expected, double[] actual, double tol) {
    assertEquals(expected.length, actual.length, "length");
    double scale = 1;
    for (double e : expected) {
      scale = Math.max(scale, Math.abs(e));
    }
    double max = 0;
    for (int i = 0; i < expected.length; i++) {
      max = Math.max(max, Math.abs(expected[i] - actual[i]));
    }
    assertTrue(max <= tol * scale, "max abs error " + max + " exceeds " + tol * scale);
    return max;
  }

  private static Tensor randomLatent(long seed) {
    return GradCheck.random(DType.FLOAT, new long[] {1, CFG.embedDim(), H, WD}, new SplittableRandom(seed), 1.0);
  }

  @Test
  void decoderMatchesReference() {
    Graph g = VqganGraphs.decoder(W, 1, H, WD);
    Tensor z = randomLatent(SEED);
    Tensor x = run(g, Map.of(VqganGraphs.Z, z)).get(VqganGraphs.X);
    assertArrayEquals(new long[] {1, 3, 2 * H, 2 * WD}, x.shape());
    VqganReference.F ref = REF.decode(VqganReference.F.of(z));
    double err = assertClose(ref.d(), x.toDoubles(), TOL);
    System.out.println("vqgan tiny decoder max abs error vs reference: " + err);
  }

  @Test
  void encoderMatchesReference() {
    Graph g = VqganGraphs.encoder(W, 1, 2 * H, 2 * WD);
    Tensor img = GradCheck.random(DType.FLOAT, new long[] {1, 3, 2 * H, 2 * WD}, new SplittableRandom(SEED + 1), 0.5);
    Tensor z = run(g, Map.of(VqganGraphs.X, img)).get(VqganGraphs.Z);
    assertArrayEquals(new long[] {1, CFG.embedDim(), H, WD}, z.shape());
    double err = assertClose(REF.encode(VqganReference.F.of(img)).d(), z.toDoubles(), TOL);
    System.out.println("vqgan tiny encoder max abs error vs reference: " + err);
  }

  @Test
  void encoderHandlesOddLatentSizes() {
    // 2x2 latent from a 4x4 image: the stride-2 conv with bottom/right padding sees every border.
    Graph g = VqganGraphs.encoder(W, 1, 4, 4);
    Tensor img = GradCheck.random(DType.FLOAT, new long[] {1, 3, 4, 4}, new SplittableRandom(SEED + 2), 0.5);
    Tensor z = run(g, Map.of(VqganGraphs.X, img)).get(VqganGraphs.Z);
    assertClose(REF.encode(VqganReference.F.of(img)).d(), z.toDoubles(), TOL);
  }

  @Test
  void quantizerMatchesReference() {
    Graph g = VqganGraphs.quantizer(W, 1, H, WD);
    Tensor z = randomLatent(SEED + 3);
    Map<String, Tensor> out = run(g, Map.of(VqganGraphs.Z, z));
    int[] expected = REF.nearest(VqganReference.F.of(z));
    long[] idx = out.get(VqganGraphs.INDICES).toLongs();
    assertEquals(expected.length, idx.length);
    for (int i = 0; i < idx.length; i++) {
      assertEquals(expected[i], idx[i], "code of cell " + i);
    }
    assertClose(REF.codes(expected, H, WD).d(), out.get(VqganGraphs.Z_Q).toDoubles(), 1e-7);
  }

  @Test
  void synthesisMatchesReference() {
    Graph g = VqganGraphs.synthesis(W, H, WD);
    Tensor z = randomLatent(SEED + 4);
    Tensor img = run(g, Map.of(Generator.LATENT, z)).get(Generator.IMAGE);
    double[] d = img.toDoubles();
    assertClose(REF.synthesize(VqganReference.F.of(z)).d(), d, TOL);
    for (double v : d) {
      assertTrue(v >= 0 && v <= 1, "image value " + v + " outside [0, 1]");
    }
  }

  @Test
  void decoderGradientMatchesFiniteDifferences() {
    // The decoder path (post_quant_conv + decoder) w.r.t. z_q; the quantizer's argmin is piecewise
    // constant and is checked separately (straight-through below).
    Graph g = VqganGraphs.decoder(W, 1, H, WD);
    Map<String, Tensor> in = GradCheck.randomInputs(g, Map.of(), SEED);
    GradCheck.assertGradient(g, in, List.of(VqganGraphs.Z), 1e-2, GradCheck.TOL_F32, SEED);
  }

  @Test
  void quantizerGradientIsStraightThrough() {
    Graph g = VqganGraphs.quantizer(W, 1, H, WD);
    Graph grad = Autodiff.differentiate(g, GradientRequest.ofSeeds(List.of(VqganGraphs.Z_Q), List.of(VqganGraphs.Z)));
    Tensor z = randomLatent(SEED + 5);
    Tensor seed = GradCheck.random(DType.FLOAT, z.shape(), new SplittableRandom(SEED + 6), 1.0);
    Map<String, Tensor> out = run(grad, Map.of(VqganGraphs.Z, z, GradientRequest.seedName(VqganGraphs.Z_Q), seed));
    assertArrayEquals(seed.toFloats(), out.get(GradientRequest.gradName(VqganGraphs.Z)).toFloats(), 0f);
  }

  @Test
  void synthesisGradientWithRespectToZEqualsDecoderGradientAtZq() {
    Tensor z = randomLatent(SEED + 7);
    Tensor seed = GradCheck.random(DType.FLOAT, new long[] {1, 3, 2 * H, 2 * WD}, new SplittableRandom(SEED + 8), 1.0);
    String seedName = GradientRequest.seedName(Generator.IMAGE);

    Graph synth = VqganGraphs.synthesis(W, H, WD);
    Graph gs = Autodiff.differentiate(synth, GradientRequest.ofSeeds(List.of(Generator.IMAGE), List.of(Generator.LATENT)));
    Tensor gradZ = run(gs, Map.of(Generator.LATENT, z, seedName, seed)).get(GradientRequest.gradName(Generator.LATENT));

    // The same synthesis without the quantizer, fed z_q directly.
    Tensor zq = run(VqganGraphs.quantizer(W, 1, H, WD), Map.of(VqganGraphs.Z, z)).get(VqganGraphs.Z_Q);
    GraphBuilder b = new GraphBuilder("decode_only");
    Value in = b.input("zq", DType.FLOAT, Shape.of(1, CFG.embedDim(), H, WD));
    Value x = b.include(VqganGraphs.decoder(W, 1, H, WD), "dec", Map.of(VqganGraphs.Z, in)).get(VqganGraphs.X);
    Value img = b.mul(b.add(x, b.scalar(1, DType.FLOAT)), b.scalar(0.5, DType.FLOAT));
    b.output(Generator.IMAGE, GradientOverrides.clampWithGrad(b, img, 0, 1));
    Graph gd = Autodiff.differentiate(b.build(), GradientRequest.ofSeeds(List.of(Generator.IMAGE), List.of("zq")));
    Tensor gradZq = run(gd, Map.of("zq", zq, seedName, seed)).get(GradientRequest.gradName("zq"));

    double norm = 0;
    for (double v : gradZq.toDoubles()) {
      norm += v * v;
    }
    assertTrue(norm > 0, "gradient w.r.t. z_q is zero");
    double err = assertClose(gradZq.toDoubles(), gradZ.toDoubles(), 1e-6);
    System.out.println("vqgan straight-through: |grad z - grad z_q| max " + err);
  }

  @Test
  void recomputingTheFineDecoderLevelsGivesBitIdenticalGradients() {
    Tensor z = randomLatent(SEED + 9);
    Tensor seed = GradCheck.random(DType.FLOAT, new long[] {1, 3, 2 * H, 2 * WD}, new SplittableRandom(SEED + 10), 1.0);
    Graph synth = VqganGraphs.synthesis(W, H, WD);
    GradientRequest req = GradientRequest.ofSeeds(List.of(Generator.IMAGE), List.of(Generator.LATENT));
    Graph kept = Autodiff.differentiate(synth, req);
    Graph recomputed = Autodiff.differentiate(synth, req.withRecompute(VqganGraphs.recomputeScopes(CFG)));
    assertTrue(recomputed.nodes().stream().filter(n -> n.opType().equals("Conv")).count()
        > kept.nodes().stream().filter(n -> n.opType().equals("Conv")).count(), "recomputation adds convolutions");
    Map<String, Tensor> in = Map.of(Generator.LATENT, z, GradientRequest.seedName(Generator.IMAGE), seed);
    String g = GradientRequest.gradName(Generator.LATENT);
    Tensor reference = run(kept, in).get(g);
    assertEquals(reference, run(recomputed, in).get(g), "gradient differs with recomputation");
    // The allocation settings (issue 18's memory options) change where tensors live, not their values.
    assertEquals(reference, withProperty(OrtExecutable.ARENA_PROPERTY, "off", () -> run(recomputed, in).get(g)),
        "gradient differs with the arena off");
    assertEquals(reference, withProperty(OrtExecutable.INITIALIZERS_IN_ARENA_PROPERTY, "true", () -> run(recomputed, in).get(g)),
        "gradient differs with the weights in the arena");
    assertEquals(reference, withProperty(OrtExecutable.ARENA_PROPERTY, "off", () -> run(kept, in).get(g)),
        "gradient differs without recomputation and with the arena off");
  }

  private static <T> T withProperty(String key, String value, java.util.function.Supplier<T> f) {
    String before = System.getProperty(key);
    System.setProperty(key, value);
    try {
      return f.get();
    } finally {
      if (before == null) {
        System.clearProperty(key);
      } else {
        System.setProperty(key, before);
      }
    }
  }

  @Test
  void badArenaSettingIsRejectedWithItsName() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> withProperty(OrtExecutable.ARENA_PROPERTY, "maybe",
        () -> run(VqganGraphs.synthesis(W, H, WD), Map.of(Generator.LATENT, randomLatent(SEED)))));
    assertTrue(e.getMessage().contains(OrtExecutable.ARENA_PROPERTY) && e.getMessage().contains("'maybe'"), e.getMessage());
  }

  @Test
  void differentiatedSynthesisRunsOnCuda() {
    Graph synth = VqganGraphs.synthesis(W, H, WD);
    Graph grad = Autodiff.differentiate(synth, GradientRequest.ofSeeds(List.of(Generator.IMAGE), List.of(Generator.LATENT)));
    assertEquals(List.of(), CudaCoverage.check(grad));
    // The encode graph (forward only) too.
    assertEquals(List.of(), CudaCoverage.check(VqganGraphs.encodeImage(W, 2 * H, 2 * WD)));
  }

  @Test
  void batchedDecoderDecodesEachItem() {
    Graph g = VqganGraphs.decoder(W, 2, H, WD);
    Tensor z0 = randomLatent(SEED + 9);
    Tensor z1 = randomLatent(SEED + 10);
    float[] both = new float[2 * (int) z0.elementCount()];
    System.arraycopy(z0.toFloats(), 0, both, 0, (int) z0.elementCount());
    System.arraycopy(z1.toFloats(), 0, both, (int) z0.elementCount(), (int) z1.elementCount());
    double[] x = run(g, Map.of(VqganGraphs.Z, Tensor.ofFloats(new long[] {2, CFG.embedDim(), H, WD}, both))).get(VqganGraphs.X).toDoubles();
    double[] r0 = REF.decode(VqganReference.F.of(z0)).d();
    double[] r1 = REF.decode(VqganReference.F.of(z1)).d();
    double[] ref = new double[r0.length + r1.length];
    System.arraycopy(r0, 0, ref, 0, r0.length);
    System.arraycopy(r1, 0, ref, r0.length, r1.length);
    assertClose(ref, x, TOL);
  }

  @Test
  void gumbelEncodeTakesTheArgmaxOfTheLogitsProjection() {
    VqganConfig cfg = TinyVqgan.config(true);
    Map<String, Tensor> sd = TinyVqgan.weights(cfg, SEED + 12);
    VqganWeights w = VqganWeights.load(StateDict.of(sd), cfg);
    VqganReference ref = TinyVqgan.reference(cfg, sd);
    Tensor img = GradCheck.random(DType.FLOAT, new long[] {1, 3, 2 * H, 2 * WD}, new SplittableRandom(SEED + 13), 0.3);
    Tensor zq = run(VqganGraphs.encodeImage(w, 2 * H, 2 * WD), Map.of(VqganGraphs.IMAGE, img)).get(VqganGraphs.Z_Q);
    // Reference: logits = proj(encoder(x*2-1)), code = argmax over channels.
    double[] d = img.toDoubles();
    for (int i = 0; i < d.length; i++) {
      d[i] = d[i] * 2 - 1;
    }
    VqganReference.F h = ref.encode(new VqganReference.F(3, 2 * H, 2 * WD, d));
    VqganReference.F logits = ref.conv(h, "quantize.proj", 0);
    int[] idx = new int[H * WD];
    for (int cell = 0; cell < H * WD; cell++) {
      double best = Double.NEGATIVE_INFINITY;
      for (int k = 0; k < logits.c(); k++) {
        double v = logits.d()[k * H * WD + cell];
        if (v > best) {
          best = v;
          idx[cell] = k;
        }
      }
    }
    assertClose(ref.codes(idx, H, WD).d(), zq.toDoubles(), 1e-7);
  }
}
