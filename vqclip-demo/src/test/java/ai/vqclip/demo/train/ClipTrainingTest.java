package ai.vqclip.demo.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.Tensor;
import ai.vqclip.demo.data.ShapesDataset;
import ai.vqclip.onnx.RandomWeights;
import ai.vqclip.onnx.clip.ClipConfig;
import ai.vqclip.onnx.clip.tokenizer.ClipTokenizer;
import ai.vqclip.onnx.testing.GradCheck;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClipTrainingTest {
  /** 16x16 pictures, patch 8, width 16: seconds to train. */
  static ClipConfig tiny(int vocab) {
    return new ClipConfig(8, 16, 16, 1, 2, 8, 20, vocab, 16, 1, 2);
  }

  @Test
  void contrastiveLossGradientMatchesFiniteDifferences() {
    Tiny t = Tiny.make();
    ClipTraining.Built g = t.graph();
    Map<String, Tensor> in = t.batch();
    GradCheck.assertGradient(g.graph(), in, List.of(ClipTraining.LOGIT_SCALE, "img/visual.proj", "txt/text_projection"), 1e-2,
        GradCheck.TOL_F32, 7);
    GradCheck.assertGradient(g.graph(), in, List.of("img/visual.conv1.weight", "txt/token_embedding.weight"), 1e-3, GradCheck.TOL_F32, 8);
  }

  @Test
  void shapeTwinsDifferFromTheirBaseInShapesOnly() {
    ShapesDataset d = new ShapesDataset(16, 4);
    List<ShapesDataset.Sample> b = ClipTraining.batchWithShapeTwins(d, 100, 8);
    for (int i = 0; i < 4; i++) {
      ai.vqclip.demo.data.Scene base = b.get(i).scene();
      ai.vqclip.demo.data.Scene twin = b.get(i + 4).scene();
      assertEquals(base.background(), twin.background());
      for (int k = 0; k < base.objects().size(); k++) {
        assertEquals(base.objects().get(k).color(), twin.objects().get(k).color());
        assertTrue(base.objects().get(k).shape() != twin.objects().get(k).shape());
      }
      assertTrue(ai.vqclip.demo.data.CaptionParser.parse(b.get(i + 4).caption()).describes(twin), b.get(i + 4).caption());
      assertTrue(!ai.vqclip.demo.data.CaptionParser.parse(b.get(i + 4).caption()).describes(base), b.get(i + 4).caption());
    }
  }

  /** Sets of five: one scene with every shape, nothing else changed; sets of three are cut short. */
  @Test
  void shapeSetsShowEachSceneWithEveryShape() {
    ShapesDataset d = new ShapesDataset(16, 4);
    List<ShapesDataset.Sample> b = ClipTraining.batchWithShapeSets(d, 100, 15, 5);
    assertEquals(15, b.size());
    for (int set = 0; set < 3; set++) {
      ai.vqclip.demo.data.Scene base = b.get(set * 5).scene();
      assertEquals(d.sample(100 + set).caption(), b.get(set * 5).caption(), "the first of a set is the sample as drawn");
      java.util.Set<ai.vqclip.demo.data.ShapeKind> shapes = new java.util.HashSet<>();
      for (int v = 0; v < 5; v++) {
        ShapesDataset.Sample x = b.get(set * 5 + v);
        assertEquals(base.background(), x.scene().background());
        assertEquals(base.background2(), x.scene().background2());
        for (int k = 0; k < base.objects().size(); k++) {
          ai.vqclip.demo.data.Scene.Item o = base.objects().get(k);
          ai.vqclip.demo.data.Scene.Item it = x.scene().objects().get(k);
          assertEquals(List.of(o.color(), o.size(), o.cx(), o.cy(), o.radius()), List.of(it.color(), it.size(), it.cx(), it.cy(), it.radius()));
        }
        shapes.add(x.scene().objects().get(0).shape());
        assertTrue(ai.vqclip.demo.data.CaptionParser.parse(x.caption()).describes(x.scene()), x.caption());
        if (v > 0) {
          assertFalse(ai.vqclip.demo.data.CaptionParser.parse(x.caption()).describes(base), x.caption());
        }
      }
      assertEquals(5, shapes.size(), "every shape once in a set");
    }
    List<ShapesDataset.Sample> c = ClipTraining.batchWithShapeSets(d, 100, 8, 3);
    assertEquals(8, c.size());
    assertEquals(d.sample(102).caption(), c.get(6).caption());
    assertEquals(b.stream().map(ShapesDataset.Sample::caption).toList(),
        ClipTraining.batchWithShapeSets(d, 100, 15, 5).stream().map(ShapesDataset.Sample::caption).toList());
    assertThrows(IllegalArgumentException.class, () -> new ClipTraining.Views("", 0, 0, 0, 0, 1, 0));
    assertThrows(IllegalArgumentException.class, () -> new ClipTraining.Views("", 0, 0, 0, 0, 6, 0));
    assertThrows(IllegalArgumentException.class, () -> new ClipTraining.Views("", 0, 0, 0, 0, 5, -1));
  }

  @Test
  void shortRunLowersTheLossIsBitIdenticalAndLoadsAsAClipEncoder() {
    ClipTraining run = new ClipTraining(tiny(1000), 16, 60, 3e-3, 5, 20, 10);
    ClipTraining.Result a = run.run(null, s -> {});
    List<Double> l = a.manifest().losses();
    assertEquals(3, l.size());
    assertTrue(l.get(2) < 0.95 * l.get(0), "loss should fall: " + l);
    assertTrue(a.manifest().metrics().containsKey("zeroShotObjectAccuracy50"), a.manifest().metrics().toString());
    ClipTraining.Result b = run.run(null, s -> {});
    for (String k : a.weights().keySet()) {
      assertArrayEquals(a.weights().get(k).toFloats(), b.weights().get(k).toFloats(), k);
    }
    assertEquals(a.merges(), b.merges());
  }

  @Test
  void trainerReturnsThePicturesGradientAsFiniteDifferencesGiveIt() {
    Tiny tiny = Tiny.make();
    Map<String, Tensor> in = tiny.batch();
    try (Trainer t = tiny.trainer()) {
      float[] grad = t.gradients(in, new float[t.parameterCount()]).get("grad/" + ai.vqclip.core.Encoder.IMAGES).toFloats();
      float[] x = in.get(ai.vqclip.core.Encoder.IMAGES).toFloats();
      double h = 1e-2;
      double worst = 0;
      double scale = 0;
      for (float v : grad) {
        scale = Math.max(scale, Math.abs(v));
      }
      // Central differences of the loss at 12 pixels spread over the batch.
      for (int k = 0; k < 12; k++) {
        int i = (int) ((long) k * 977 % x.length);
        double[] l = new double[2];
        for (int side = 0; side < 2; side++) {
          float[] xs = x.clone();
          xs[i] += (float) (side == 0 ? h : -h);
          Map<String, Tensor> m = new LinkedHashMap<>(in);
          m.put(ai.vqclip.core.Encoder.IMAGES, Tensor.ofFloats(in.get(ai.vqclip.core.Encoder.IMAGES).shape(), xs));
          l[side] = t.evaluate(m).get("loss").toDoubles()[0];
        }
        worst = Math.max(worst, Math.abs((l[0] - l[1]) / (2 * h) - grad[i]));
      }
      assertTrue(scale > 0, "the pictures' gradient is all zero");
      assertTrue(worst <= 2e-2 * scale + 1e-5, "worst error " + worst + " against max |grad| " + scale);
    }
  }

  @Test
  void adversarialViewsStayInTheirBallRaiseTheLossAndAreReproducible() {
    ClipTraining run = new ClipTraining(tiny(1000), 4, 1, 1e-3, 3, 1, 1, new ClipTraining.Views("", 0, 0.05, 0.5, 0));
    ClipTraining noiseOnly = new ClipTraining(tiny(1000), 4, 1, 1e-3, 3, 1, 1, new ClipTraining.Views("", 0, 0.05, 0, 0));
    Tiny tiny = Tiny.make();
    Map<String, Tensor> in = tiny.batch();
    try (Trainer t = tiny.trainer()) {
      Map<String, Tensor> a = run.perturb(t, in, 7);
      Map<String, Tensor> b = run.perturb(t, in, 7);
      Map<String, Tensor> noisy = noiseOnly.perturb(t, in, 7);
      float[] xa = a.get(ai.vqclip.core.Encoder.IMAGES).toFloats();
      assertArrayEquals(xa, b.get(ai.vqclip.core.Encoder.IMAGES).toFloats(), "same seed and step, same views");
      float[] xn = noisy.get(ai.vqclip.core.Encoder.IMAGES).toFloats();
      float[] x = in.get(ai.vqclip.core.Encoder.IMAGES).toFloats();
      int d = x.length / 4;
      for (int i = 0; i < 4; i++) {
        double adv = 0;
        double noise = 0;
        for (int j = i * d; j < (i + 1) * d; j++) {
          adv += (xa[j] - xn[j]) * (double) (xa[j] - xn[j]);
          noise += (xn[j] - x[j]) * (double) (xn[j] - x[j]);
        }
        // The same generator draws the noise first in both runs, so xa - xn is the adversarial part.
        assertTrue(Math.sqrt(adv) <= 0.5 + 1e-4 && Math.sqrt(adv) > 0.25, "picture " + i + ": |delta| " + Math.sqrt(adv));
        assertTrue(Math.sqrt(noise) <= 0.05 * Math.sqrt(d) * 1.5, "picture " + i + ": |noise| " + Math.sqrt(noise));
      }
      double clean = t.evaluate(noisy).get("loss").toDoubles()[0];
      double attacked = t.evaluate(a).get("loss").toDoubles()[0];
      assertTrue(attacked > clean, "the adversarial views should raise the loss: " + attacked + " vs " + clean);
    }
  }

  @Test
  void shapeVariantsAreNegativeCaptionsWithoutColumnTargets() {
    ClipTraining run = new ClipTraining(tiny(1000), 4, 1, 1e-3, 3, 1, 1);
    ClipTokenizer tok = ClipTraining.tokenizer(run.learnMerges(), 20);
    List<ShapesDataset.Sample> s = samples(new ShapesDataset(16, 5), 4);
    List<String> v = ClipTraining.shapeVariants(s, 2);
    assertEquals(8, v.size());
    for (int i = 0; i < 2; i++) {
      for (int k = 0; k < 4; k++) {
        String c = v.get(i * 4 + k);
        assertTrue(!ai.vqclip.demo.data.CaptionParser.parse(c).describes(s.get(i).scene()), c + " should not describe " + s.get(i).caption());
      }
    }
    Map<String, Tensor> in = ClipTraining.inputs(s, s.stream().map(ShapesDataset.Sample::image).toList(), v, tok);
    assertEquals(12, in.get(ai.vqclip.demo.train.ClipTraining.TARGET_ROWS).shape()[1]);
    float[] rows = in.get(ClipTraining.TARGET_ROWS).toFloats();
    float[] cols = in.get(ClipTraining.TARGET_COLS).toFloats();
    for (int i = 0; i < 4; i++) {
      double r = 0;
      for (int j = 0; j < 12; j++) {
        r += rows[i * 12 + j];
      }
      assertEquals(1, r, 1e-6, "row " + i);
    }
    for (int j = 0; j < 12; j++) {
      double c = 0;
      boolean shown = false;
      for (int i = 0; i < 4; i++) {
        c += cols[i * 12 + j];
        shown |= rows[i * 12 + j] > 0;
      }
      assertEquals(shown ? 1 : 0, c, 1e-6, "column " + j);
    }
  }

  @Test
  void aRunWithEveryViewIsBitIdenticalTwice() {
    ClipTraining run = new ClipTraining(tiny(1000), 8, 6, 3e-3, 5, 3, 10, new ClipTraining.Views("Af Pe", 2, 0.1, 0.5, 2));
    ClipTraining.Result a = run.run(null, x -> {});
    ClipTraining.Result b = run.run(null, x -> {});
    assertEquals(a.manifest().losses(), b.manifest().losses());
    for (String k : a.weights().keySet()) {
      assertArrayEquals(a.weights().get(k).toFloats(), b.weights().get(k).toFloats(), k);
    }
    assertEquals(0.5, a.manifest().settings().get("adversarialL2"));
  }

  /**
   * Near misses and self-made negatives (shape sets, oversized objects): two runs give the same
   * bits, and the manifest records the new negatives.
   */
  @Test
  void aRunWithNearMissesAndSelfMadeNegativesIsBitIdenticalTwice() {
    ClipTraining run = new ClipTraining(tiny(1000), 10, 5, 3e-3, 6, 5, 10, new ClipTraining.Views("Af Pe", 2, 0.1, 0, 0, 5, 1, 2, 2));
    ClipTraining.Result a = run.run(null, x -> {});
    ClipTraining.Result b = run.run(null, x -> {});
    assertEquals(a.manifest().losses(), b.manifest().losses());
    for (String k : a.weights().keySet()) {
      assertArrayEquals(a.weights().get(k).toFloats(), b.weights().get(k).toFloats(), k);
    }
    assertEquals(2, a.manifest().settings().get("nearMissNegativesPerBatch"));
    assertEquals(2, a.manifest().settings().get("selfNegativesPerBatch"));
    assertEquals(16, a.manifest().settings().get("selfNegativeBuffer"));
  }

  /**
   * A self-made negative is shown in the batch's last rows, and an update moves it by the step's L2
   * length along the gradient (clamped to [0, 1]); the pictures shown next are the buffer's next ones.
   */
  @Test
  void selfMadeNegativesMoveAlongTheGradientByTheirStep() {
    int size = 16;
    int d = 3 * size * size;
    SelfNegatives buf = new SelfNegatives(3, size, 0.5, 0, 9);
    Tensor batch = Tensor.ofFloats(new long[] {4, 3, size, size}, new float[4 * d]);
    float[] first = buf.show(batch, 2).toFloats();
    float[] g = new float[4 * d];
    java.util.SplittableRandom r = new java.util.SplittableRandom(1);
    for (int j = 0; j < g.length; j++) {
      g[j] = (float) r.nextGaussian();
    }
    buf.update(Tensor.ofFloats(new long[] {4, 3, size, size}, g));
    // The buffer's third picture comes next, then the first, moved.
    float[] next = buf.show(batch, 2).toFloats();
    double moved = 0;
    double gn = 0;
    for (int j = 0; j < d; j++) {
      float before = first[2 * d + j];
      float after = next[3 * d + j];
      assertTrue(after >= 0 && after <= 1);
      if (before > 0.01 && before < 0.99) {
        assertEquals(Math.signum(g[2 * d + j]), Math.signum(after - before), 0, "pixel " + j + " moves along the gradient");
      }
      moved += (after - before) * (after - before);
      gn += g[2 * d + j] * g[2 * d + j];
    }
    assertTrue(Math.sqrt(moved) <= 0.5 + 1e-4 && Math.sqrt(moved) > 0.1, "moved " + Math.sqrt(moved));
    for (int j = 0; j < 2 * d; j++) {
      assertEquals(0f, next[j], "the batch's own rows stay");
    }
    assertThrows(IllegalArgumentException.class, () -> new SelfNegatives(0, size, 0.5, 0, 1));
  }

  /** A tiny CLIP's training graph and a batch of 4 pictures of ShapesDataset(16, 2). */
  private record Tiny(ClipTraining.Built graph, Map<String, Tensor> batch) {
    static Tiny make() {
      ClipTokenizer tok = ClipTraining.tokenizer(new ClipTraining(tiny(1000), 4, 1, 1e-3, 3, 1, 1).learnMerges(), 20);
      ClipConfig cfg = tiny(tok.vocabulary().size());
      Map<String, Tensor> w = new LinkedHashMap<>(RandomWeights.clip(cfg, 4));
      return new Tiny(ClipTraining.build(cfg, w, 4), ClipTraining.inputs(samples(new ShapesDataset(16, 2), 4), tok));
    }

    /** A trainer of every weight that also returns the pictures' gradient. */
    Trainer trainer() {
      return new Trainer(graph.graph(), "loss", new ArrayList<>(graph.keys().keySet()), List.of(), List.of(ai.vqclip.core.Encoder.IMAGES),
          ai.vqclip.core.optim.OptimizerConfig.adam(1e-3), ai.vqclip.core.backend.ExecutionOptions.cpu());
    }
  }

  private static List<ShapesDataset.Sample> samples(ShapesDataset d, int n) {
    List<ShapesDataset.Sample> s = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      s.add(d.sample(i));
    }
    return s;
  }

  /**
   * With a margin, a generated negative is paired with a drawn picture of the caption it was
   * generated for: that picture comes as an extra row after the negatives and its caption as an extra
   * column, the pair's rows and caption point there, and two runs give the same bits.
   */
  @Test
  void generatedNegativesArePairedWithADrawnPictureOfTheirCaption() {
    int size = 16;
    ClipTraining.Views v = new ClipTraining.Views("Af Pe", 4, 0.1, 0, 0, 5, 1, 1, 0, 0.1);
    ClipTraining run = new ClipTraining(tiny(1000), 10, 3, 3e-3, 6, 3, 10, v);
    List<java.awt.image.BufferedImage> generated = new ArrayList<>();
    java.util.SplittableRandom r = new java.util.SplittableRandom(3);
    for (int k = 0; k < 3; k++) {
      java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(size, size, java.awt.image.BufferedImage.TYPE_INT_RGB);
      for (int y = 0; y < size; y++) {
        for (int x = 0; x < size; x++) {
          img.setRGB(x, y, r.nextInt(1 << 24));
        }
      }
      generated.add(img);
    }
    ShapesDataset data = new ShapesDataset(size, 6);
    List<ShapesDataset.Sample> samples = ClipTraining.batchWithShapeSets(data, 0, 10, 5);
    String merges = run.learnMerges();
    ClipTokenizer tok = ClipTraining.tokenizer(merges, 20);
    Map<String, Tensor> in = run.stepInputs(samples, data, 0, generated, tok);
    // 10 pictures, 6 negatives (4 blob slots, 1 oversized, 1 near miss), 2 drawn sources; 10 + 2 captions.
    assertEquals(List.of(18L, 3L, 16L, 16L), java.util.Arrays.stream(in.get(ai.vqclip.core.Encoder.IMAGES).shape()).boxed().toList());
    assertEquals(12, in.get(ai.vqclip.demo.train.ClipTraining.TARGET_ROWS).shape()[1]);
    float[] rows = in.get(ClipTraining.PAIR_ROWS).toFloats();
    float[] caps = in.get(ClipTraining.PAIR_CAPTIONS).toFloats();
    int[] picks = new int[4];
    run.views(samples, size, 0, generated, picks);
    for (int i = 0; i < 4; i++) {
      assertEquals(i % 2 == 1, picks[i] >= 0, "every other blob slot shows a generated picture, slot " + i);
    }
    for (int p = 0; p < 6; p++) {
      boolean gen = p == 1 || p == 3;
      assertEquals(-1f, rows[p * 18 + 10 + p], "the negative's row, pair " + p);
      // Blobs come from every shape set's first picture (stride 5), the oversized and near-miss
      // negatives from pictures 1 and 2; generated ones from the extra rows 16 and 17.
      int positive = gen ? 16 + p / 2 : p < 4 ? p * 5 % 10 : p - 3;
      assertEquals(1f, rows[p * 18 + positive], "the positive's row, pair " + p);
      assertEquals(1f, caps[p * 12 + (gen ? 10 + p / 2 : positive)], "the caption, pair " + p);
    }
    // The extra column is the caption of the sample the negative was generated for.
    long[] ids = in.get(ai.vqclip.onnx.clip.ClipGraphs.TOKENS).toLongs();
    int[] want = tok.tokenize(data.sample(GeneratedNegatives.FIRST + picks[1]).caption());
    for (int q = 0; q < 20; q++) {
      assertEquals(want[q], ids[10 * 20 + q], "token " + q);
    }
    ClipTraining.Result first = new ClipTraining(tiny(1000), 10, 2, 3e-3, 6, 2, 10, new ClipTraining.Views("Af Pe", 2)).run(null, x -> {});
    ClipTraining.Start start = new ClipTraining.Start(first.weights(), first.merges(), generated);
    ClipTraining.Result a = run.run(null, x -> {}, start);
    ClipTraining.Result b = run.run(null, x -> {}, start);
    assertEquals(a.manifest().losses(), b.manifest().losses());
    for (String k : a.weights().keySet()) {
      assertArrayEquals(a.weights().get(k).toFloats(), b.weights().get(k).toFloats(), k);
    }
    assertEquals(true, a.manifest().settings().get("generatedNegativesPaired"));
  }
}
