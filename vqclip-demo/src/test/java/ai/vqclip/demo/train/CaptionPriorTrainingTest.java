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
    CaptionPriorTraining run = new CaptionPriorTraining(TINY, 16, 8, 120, 3e-3, DAMAGE, 11, 40);
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
        () -> new CaptionPriorTraining(VqganTrainingTest.TINY, 16, 8, 10, 1e-3, DAMAGE, 1, 5));
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
}
