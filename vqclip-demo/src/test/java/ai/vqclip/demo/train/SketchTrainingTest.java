package ai.vqclip.demo.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.demo.DemoModels;
import ai.vqclip.demo.data.ShapesDataset;
import ai.vqclip.onnx.RandomWeights;
import ai.vqclip.onnx.clip.ClipEncoder;
import ai.vqclip.onnx.testing.GradCheck;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SketchTrainingTest {
  private static DemoModels.Bundle models;
  private static ClipEncoder clip;

  @BeforeAll
  static void open() {
    models = DemoModels.load();
    clip = models.clips().get(0).open(ai.vqclip.core.backend.ExecutionOptions.cpu());
  }

  @AfterAll
  static void close() {
    clip.close();
    models.close();
  }

  /** Random weights with the heads' and FiLM's weights random too (the initial FiLM is zero, which would hide its gradient's errors). */
  private static Map<String, Tensor> randomWeights(int width, int dim, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    Map<String, Tensor> w = new LinkedHashMap<>();
    for (Map.Entry<String, long[]> e : SketchTraining.shapes(width, dim).entrySet()) {
      w.put(e.getKey(), RandomWeights.normal(e.getValue(), rnd, e.getKey().equals(SketchTraining.COND_SCALE) ? 1 : 0, 0.4));
    }
    return w;
  }

  private static Map<String, Tensor> randomBatch(int n, int size, int dim, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    float[] cap = new float[n * dim];
    for (int i = 0; i < cap.length; i++) {
      cap[i] = (float) RandomWeights.gaussian(rnd);
    }
    float[] own = new float[n * 2 * dim];
    for (int i = 0; i < own.length; i++) {
      own[i] = (float) RandomWeights.gaussian(rnd);
    }
    float[] target = new float[n * 3 * size * size];
    for (int i = 0; i < target.length; i++) {
      target[i] = (float) (rnd.nextDouble() * 2 - 1);
    }
    float[] layout = new float[n * 8];
    float[] count = new float[n * 2];
    float[] sz = new float[n * 3];
    for (int i = 0; i < n; i++) {
      boolean two = i % 2 == 1;
      for (int k = 0; k < 2; k++) {
        boolean present = k == 0 || two;
        layout[i * 8 + k * 4] = present ? (float) (0.2 + 0.6 * rnd.nextDouble()) : 0;
        layout[i * 8 + k * 4 + 1] = present ? (float) (0.2 + 0.6 * rnd.nextDouble()) : 0;
        layout[i * 8 + k * 4 + 2] = present ? (float) (0.15 + 0.2 * rnd.nextDouble()) : 1;
        layout[i * 8 + k * 4 + 3] = present ? 1 : 0;
      }
      count[i * 2 + (two ? 1 : 0)] = 1;
      sz[i * 3 + rnd.nextInt(3)] = 1;
    }
    return Map.of(SketchTraining.CAPTION, Tensor.ofFloats(new long[] {n, dim}, cap), SketchTraining.OBJECT_CAPTIONS, Tensor.ofFloats(
        new long[] {n, 2 * dim}, own), SketchTraining.LAYOUT, Tensor.ofFloats(new long[] {n, 8},
        layout), SketchTraining.TARGET, Tensor.ofFloats(new long[] {n, 3, size, size}, target), SketchTraining.COUNT_TARGET, Tensor.ofFloats(
            new long[] {n, 2}, count), SketchTraining.SIZE_TARGET, Tensor.ofFloats(new long[] {n, 3}, sz));
  }

  @Test
  void lossGradientMatchesFiniteDifferences() {
    int dim = 6;
    Map<String, Tensor> w = randomWeights(8, dim, 3);
    Graph g = SketchTraining.trainingGraph(w, 3, 10, dim);
    GraphBuilder b = GraphBuilder.from(g).clearOutputs();
    b.output(b.value(SketchTraining.LOSS));
    Graph loss = b.build().pruned();
    // The object network and its FiLM (shared by both slots), the background, the heads.
    GradCheck.assertGradient(loss, randomBatch(3, 10, dim, 5), List.of("obj0.weight", "obj.out.weight", "film1.weight", "bgfilm0.weight",
        "bg.out.bias", "head.weight", "size.weight"), 1e-3, GradCheck.TOL_F32, 7);
  }

  @Test
  void shortRunLowersTheLossIsBitIdenticalAndLoadsBack(@TempDir Path dir) {
    SketchTraining run = new SketchTraining(8, 16, 8, 90, 5e-3, 11, 30);
    SketchTraining.Result a = run.run(clip, s -> {});
    List<Double> l = a.manifest().losses();
    assertEquals(3, l.size());
    assertTrue(l.get(2) < 0.85 * l.get(0), "loss should fall: " + l);
    SketchTraining.Result b = run.run(clip, s -> {});
    assertEquals(a.weights().keySet(), b.weights().keySet());
    for (String k : a.weights().keySet()) {
      assertArrayEquals(a.weights().get(k).toFloats(), b.weights().get(k).toFloats(), k);
    }
    Path file = dir.resolve("sketch.safetensors");
    TrainDemo.write(file, a.weights(), Map.of());
    try (ai.vqclip.demo.eval.CaptionSketch s = ai.vqclip.demo.eval.CaptionSketch.load(file, ai.vqclip.core.backend.ExecutionOptions.cpu())) {
      ai.vqclip.demo.eval.CaptionSketch.Sketch one = s.draw(clip, "a red circle on a blue background", 4, 24);
      assertArrayEquals(new long[] {1, 3, 24, 24}, one.image().shape());
      assertArrayEquals(one.image().toFloats(), s.draw(clip, "a red circle on a blue background", 4, 24).image().toFloats());
      for (float v : one.image().toFloats()) {
        assertTrue(v >= 0 && v <= 1, "pixels in [0, 1], got " + v);
      }
    }
  }

  @Test
  void batchesCarryTheScenesLayoutsInCaptionOrderAndTheHeadsTargets() {
    ShapesDataset data = new ShapesDataset(16, 9);
    Map<String, Tensor> b = SketchTraining.batch(data, clip, new java.util.HashMap<>(), 100, 24);
    float[] layout = b.get(SketchTraining.LAYOUT).toFloats();
    float[] count = b.get(SketchTraining.COUNT_TARGET).toFloats();
    float[] size = b.get(SketchTraining.SIZE_TARGET).toFloats();
    boolean sawTwo = false;
    for (int i = 0; i < 24; i++) {
      ShapesDataset.Sample s = data.sample(100 + i);
      int objects = s.scene().objects().size();
      sawTwo |= objects == 2;
      assertEquals(objects == 2 ? 1f : 0f, count[i * 2 + 1], "count of sample " + i);
      for (int k = 0; k < 2; k++) {
        assertEquals(k < objects ? 1f : 0f, layout[i * 8 + k * 4 + 3], "presence of slot " + k);
        if (k < objects) {
          // The caption names the objects in the scene's order (the left one first).
          String word = s.scene().objects().get(k).color().word() + " " + s.scene().objects().get(k).shape().word();
          assertTrue(s.caption().contains(word), s.caption());
          assertEquals((float) s.scene().objects().get(k).cx(), layout[i * 8 + k * 4], 1e-6);
          assertEquals((float) s.scene().objects().get(k).radius(), layout[i * 8 + k * 4 + 2], 1e-6);
        }
      }
      int want = objects == 1 ? s.scene().objects().get(0).size().ordinal() : 1;
      assertEquals(1f, size[i * 3 + want], "size class of sample " + i);
    }
    assertTrue(sawTwo, "the batch should hold a two-object scene");
  }

  @Test
  void objectCaptionsSplitTheObjectListAndKeepTheBackground() {
    assertEquals(List.of("a red circle on a green background", "a blue star on a green background"),
        SketchTraining.objectCaptions("a red circle and a blue star on a green background"));
    assertEquals(List.of("a red circle on a green and blue background", "a big star on a green and blue background"),
        SketchTraining.objectCaptions("a red circle and a big star on a green and blue background"));
    assertEquals(List.of("a red circle", "a blue star"), SketchTraining.objectCaptions("a red circle and a blue star"));
    assertEquals(List.of("a small red circle on a green and blue background"),
        SketchTraining.objectCaptions("a small red circle on a green and blue background"));
    assertEquals(List.of("sunset"), SketchTraining.objectCaptions(" sunset "));
    assertEquals(List.of("a on b", "c on b"), SketchTraining.objectCaptions("a and c and d on b"));
  }

  @Test
  void refusesWeightsWithAMissingOrMisshapenKey() {
    Map<String, Tensor> w = randomWeights(8, 6, 1);
    Map<String, Tensor> missing = new LinkedHashMap<>(w);
    missing.remove("film2.weight");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SketchTraining.sketcher(missing, 1, 16));
    assertTrue(e.getMessage().contains("film2.weight"), e.getMessage());
    Map<String, Tensor> wrong = new LinkedHashMap<>(w);
    wrong.put("bg.out.weight", Tensor.filled(DType.FLOAT, new long[] {4, 32, 1, 1}, 0));
    e = assertThrows(IllegalArgumentException.class, () -> SketchTraining.sketcher(wrong, 1, 16));
    assertTrue(e.getMessage().contains("bg.out.weight") && e.getMessage().contains("[4, 32, 1, 1]"), e.getMessage());
    Map<String, Tensor> huge = new LinkedHashMap<>(w);
    huge.put(SketchTraining.COND_MEAN, Tensor.filled(DType.FLOAT, new long[] {100_000}, 0));
    e = assertThrows(IllegalArgumentException.class, () -> SketchTraining.sketcher(huge, 1, 16));
    assertTrue(e.getMessage().contains("100000"), e.getMessage());
  }
}
