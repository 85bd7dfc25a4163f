package ai.vqclip.demo.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.demo.DemoModels;
import ai.vqclip.demo.data.ShapesDataset;
import ai.vqclip.onnx.clip.ClipEncoder;
import ai.vqclip.onnx.vqgan.VqganConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CaptionPriorTrainingTest {
  /** The tiny test architecture with the conditioning channels. */
  static final VqganConfig TINY = new VqganConfig(8, List.of(1, 2), 1, List.of(), 4, 4, 16, 16, 3 + CaptionPriorTraining.COND_CHANNELS, 3,
      false, false, 4);
  private static final RestorerTraining.Damage DAMAGE = new RestorerTraining.Damage(0.3, 1.5, 1.0, 4, 0.25);

  private static DemoModels.Bundle models;
  private static ClipEncoder clip;

  @BeforeAll
  static void open() {
    models = DemoModels.load();
    clip = models.clips().get(0).open(ExecutionOptions.cpu());
  }

  @AfterAll
  static void close() {
    clip.close();
    models.close();
  }

  @Test
  void theArchitectureIsReadBackFromTheWeightsShapes() {
    for (VqganConfig cfg : List.of(CaptionPriorTraining.demoModel(), CaptionPriorTraining.deepModel(),
        new VqganConfig(8, List.of(1, 2, 4), 2, List.of(8), 4, 6, 256, 32, 3 + CaptionPriorTraining.COND_CHANNELS, 3, false, false, 8))) {
      assertEquals(cfg, CaptionPriorTraining.architectureOf(ai.vqclip.onnx.RandomWeights.vqgan(cfg, 3)));
    }
    Map<String, Tensor> w = new HashMap<>(ai.vqclip.onnx.RandomWeights.vqgan(CaptionPriorTraining.deepModel(), 3));
    w.remove("quant_conv.weight");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CaptionPriorTraining.architectureOf(w));
    assertTrue(e.getMessage().contains("quant_conv.weight"), e.getMessage());
    w.put("quant_conv.weight", Tensor.filled(ai.vqclip.core.graph.DType.FLOAT, new long[] {4}, 0));
    e = assertThrows(IllegalArgumentException.class, () -> CaptionPriorTraining.architectureOf(w));
    assertTrue(e.getMessage().contains("rank 4"), e.getMessage());
  }

  /**
   * The probe's bookkeeping on a prior trained here for a few steps (a narrow 32x32 prior; the demo's
   * prior is no longer bundled since round 13 of issue 15). The round 8 prior, bundled until round 12,
   * measured on these 40 pictures: redrawn 6 (circles 3, rings 3), kept 15.
   */
  @Test
  void theProbeCountsEveryPictureOnce() {
    VqganConfig narrow = new VqganConfig(8, List.of(1, 2), 1, List.of(), 4, 4, 16, 32, 3 + CaptionPriorTraining.COND_CHANNELS, 3, false,
        false, 4);
    Map<String, Tensor> w = new CaptionPriorTraining(narrow, 32, 4, 4, 3e-3, DAMAGE, 7, 4, false).run(clip, s -> {}).weights();
    CaptionPriorProbe.Result r = CaptionPriorProbe.probe(w, clip, 40);
    assertEquals(40, CaptionPriorProbe.Result.total(r.named()));
    assertTrue(CaptionPriorProbe.Result.total(r.kept()) + CaptionPriorProbe.Result.total(r.redrawn()) <= 40, r.toString());
    assertThrows(IllegalArgumentException.class, () -> CaptionPriorProbe.probe(w, clip, 0));
  }

  @Test
  void batchesAreSeededRedrawnAndCarryTheirCaptionsEmbeddings() {
    ShapesDataset data = new ShapesDataset(32, 5);
    Map<String, Tensor> a = CaptionPriorTraining.batch(data, clip, new HashMap<>(), 0, 40, DAMAGE, 9);
    Map<String, Tensor> b = CaptionPriorTraining.batch(data, clip, new HashMap<>(), 0, 40, DAMAGE, 9);
    assertArrayEquals(a.get(CaptionPriorTraining.DAMAGED).toFloats(), b.get(CaptionPriorTraining.DAMAGED).toFloats());
    float[] c = a.get(RestorerTraining.CLEAN).toFloats();
    float[] d = a.get(CaptionPriorTraining.DAMAGED).toFloats();
    int plane = 3 * 32 * 32;
    int same = 0;
    for (int i = 0; i < 40; i++) {
      double diff = 0;
      for (int j = i * plane; j < (i + 1) * plane; j++) {
        assertTrue(d[j] >= -1 && d[j] <= 1, "pixel out of [-1, 1]: " + d[j]);
        diff += Math.abs(d[j] - c[j]);
      }
      same += diff == 0 ? 1 : 0;
    }
    // Left as drawn (15%) and then undamaged (30% of those): about 2 of 40; every other picture differs.
    assertTrue(same <= 8, "unchanged pictures: " + same);
    // Row i of the captions is the L2-normalised embedding of sample i's caption.
    float[] e = a.get(CaptionPriorTraining.CAPTION).toFloats();
    int dim = clip.embeddingDim();
    float[] want = clip.embedText(data.sample(3).caption()).toFloats();
    double n = 0;
    for (float v : want) {
      n += v * v;
    }
    for (int k = 0; k < dim; k++) {
      assertEquals(want[k] / Math.sqrt(n), e[3 * dim + k], 1e-6);
    }
  }

  @Test
  void shortRunLowersTheLossIsBitIdenticalAndLoadsBack(@TempDir Path dir) {
    CaptionPriorTraining run = new CaptionPriorTraining(TINY, 16, 8, 240, 3e-3, DAMAGE, 11, 80, false);
    CaptionPriorTraining.Result a = run.run(clip, s -> {});
    List<Double> l = a.manifest().losses();
    assertEquals(3, l.size());
    assertTrue(l.get(2) < 0.85 * l.get(0), "loss should fall: " + l);
    CaptionPriorTraining.Result b = run.run(clip, s -> {});
    assertEquals(a.weights().keySet(), b.weights().keySet());
    for (String k : a.weights().keySet()) {
      assertArrayEquals(a.weights().get(k).toFloats(), b.weights().get(k).toFloats(), k);
    }
    assertTrue(a.weights().containsKey(CaptionPriorTraining.COND_MEAN) && a.weights().containsKey(CaptionPriorTraining.COND_SCALE));
    Path file = dir.resolve("prior.safetensors");
    TrainDemo.write(file, a.weights(), Map.of());
    ai.vqclip.core.graph.Graph g = CaptionPriorTraining.load(file, TINY, 16);
    assertEquals(List.of(1L, 3L, 16L, 16L),
        java.util.Arrays.stream(g.output(CaptionPriorTraining.RESTORED).shape().toArray()).boxed().toList());
  }

  @Test
  void refusesAModelWithoutTheConditioningChannels() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new CaptionPriorTraining(VqganTrainingTest.TINY, 16, 8, 10, 1e-3, DAMAGE, 1, 5, false));
    assertTrue(e.getMessage().contains("inChannels") && e.getMessage().contains("3"), e.getMessage());
  }

  @Test
  void refusesAFileWithoutTheConditioning(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("restorer.safetensors");
    TrainDemo.write(file, ai.vqclip.onnx.RandomWeights.vqgan(TINY, 1), Map.of());
    assertTrue(Files.size(file) > 0);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CaptionPriorTraining.load(file, TINY, 16));
    assertTrue(e.getMessage().contains(CaptionPriorTraining.COND_WEIGHT), e.getMessage());
  }

  /** The prior's restoration of {@code x} for caption {@code c}. */
  private static float[] restore(Map<String, Tensor> weights, float[] x, float[] c) {
    ai.vqclip.core.graph.Graph g = CaptionPriorTraining.prior(TINY, weights, 1, 16, 8, c.length);
    try (ai.vqclip.core.backend.Executable ex = ai.vqclip.core.backend.Backend.load().compile(g, ExecutionOptions.cpu())) {
      return ex.run(Map.of(CaptionPriorTraining.DAMAGED, Tensor.ofFloats(new long[] {1, 3, 16, 8}, x), CaptionPriorTraining.CAPTION,
          Tensor.ofFloats(new long[] {1, c.length}, c))).get(CaptionPriorTraining.RESTORED).toFloats();
    }
  }

  @Test
  void aSecondStageStartsFromTheFirstsFunctionAndTrainsTheLatentConditioning(@TempDir Path dir) {
    CaptionPriorTraining first = new CaptionPriorTraining(TINY, 16, 8, 40, 3e-3, DAMAGE, 11, 20, false);
    Map<String, Tensor> w1 = first.run(clip, s -> {}).weights();
    Map<String, Tensor> from = CaptionPriorTraining.withLatentConditioning(w1, TINY);
    assertEquals(List.of((long) TINY.embedDim(), (long) clip.embeddingDim(), 1L, 1L),
        java.util.Arrays.stream(from.get(CaptionPriorTraining.COND_Z_WEIGHT).shape()).boxed().toList());
    // The added branch starts at zero: the prior computes what the first stage did (non-square too).
    java.util.SplittableRandom rnd = new java.util.SplittableRandom(4);
    float[] x = new float[3 * 16 * 8];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (rnd.nextDouble() * 2 - 1);
    }
    float[] c = clip.embedText("a red circle on a blue background").toFloats();
    assertArrayEquals(restore(w1, x, c), restore(from, x, c), 1e-6f);
    CaptionPriorTraining second = new CaptionPriorTraining(TINY, 16, 8, 40, 1e-3, DAMAGE, 12, 20, false);
    CaptionPriorTraining.Result r = second.run(clip, from, s -> {});
    // The standardisation is the first stage's, unchanged; the latent branch has moved off zero.
    assertArrayEquals(w1.get(CaptionPriorTraining.COND_MEAN).toFloats(), r.weights().get(CaptionPriorTraining.COND_MEAN).toFloats());
    assertArrayEquals(w1.get(CaptionPriorTraining.COND_SCALE).toFloats(), r.weights().get(CaptionPriorTraining.COND_SCALE).toFloats());
    double moved = 0;
    for (float v : r.weights().get(CaptionPriorTraining.COND_Z_WEIGHT).toFloats()) {
      moved += Math.abs(v);
    }
    assertTrue(moved > 0, "the latent conditioning did not train");
    assertEquals(true, r.manifest().settings().get("latentConditioning"));
    Path file = dir.resolve("prior2.safetensors");
    TrainDemo.write(file, r.weights(), Map.of());
    assertEquals(List.of(1L, 3L, 24L, 16L), java.util.Arrays.stream(CaptionPriorTraining.load(file, TINY, 24, 16)
        .output(CaptionPriorTraining.RESTORED).shape().toArray()).boxed().toList());
    IllegalArgumentException odd = assertThrows(IllegalArgumentException.class, () -> CaptionPriorTraining.load(file, TINY, 15, 16));
    assertTrue(odd.getMessage().contains("multiple of 2") && odd.getMessage().contains("16x15"), odd.getMessage());
    // Half the latent branch is refused by name.
    Map<String, Tensor> half = new java.util.LinkedHashMap<>(r.weights());
    half.remove(CaptionPriorTraining.COND_Z_BIAS);
    Path bad = dir.resolve("half.safetensors");
    TrainDemo.write(bad, half, Map.of());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CaptionPriorTraining.load(bad, TINY, 16));
    assertTrue(e.getMessage().contains(CaptionPriorTraining.COND_Z_BIAS), e.getMessage());
    // Starting weights without the conditioning are refused by name.
    Map<String, Tensor> bare = new java.util.LinkedHashMap<>(w1);
    bare.remove(CaptionPriorTraining.COND_SCALE);
    IllegalArgumentException m = assertThrows(IllegalArgumentException.class, () -> second.run(clip, bare, s -> {}));
    assertTrue(m.getMessage().contains(CaptionPriorTraining.COND_SCALE), m.getMessage());
  }
}
