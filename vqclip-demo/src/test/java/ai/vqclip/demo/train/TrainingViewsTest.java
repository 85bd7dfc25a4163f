package ai.vqclip.demo.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.augment.Homography;
import ai.vqclip.core.Tensor;
import ai.vqclip.demo.data.ShapesDataset;
import ai.vqclip.demo.eval.ShapeChecker;
import ai.vqclip.onnx.RandomWeights;
import ai.vqclip.onnx.clip.ClipConfig;
import ai.vqclip.onnx.clip.tokenizer.ClipTokenizer;
import ai.vqclip.onnx.testing.GradCheck;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TrainingViewsTest {
  private static int[] pixels(BufferedImage img) {
    return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
  }

  @Test
  void identityWarpKeepsThePictureAndAShiftRepeatsTheEdge() {
    BufferedImage img = new ShapesDataset(32, 3).sample(0).image();
    assertArrayEquals(pixels(img), pixels(TrainingViews.warp(img, Homography.identity())));
    // Sampling 40 px to the right of every pixel: every output pixel is the source's last column (border padding).
    int[] shifted = pixels(TrainingViews.warp(img, Homography.translation(40, 0)));
    int[] src = pixels(img);
    for (int y = 0; y < 32; y++) {
      for (int x = 0; x < 32; x++) {
        assertEquals(src[y * 32 + 31], shifted[y * 32 + x], "pixel " + x + "," + y);
      }
    }
  }

  @Test
  void augmentationsAreReproducibleFromTheSeedAndChangePictures() {
    BufferedImage img = new ShapesDataset(32, 3).sample(1).image();
    int changed = 0;
    for (int i = 0; i < 20; i++) {
      int[] a = pixels(TrainingViews.augment(img, "Af Pe", new SplittableRandom(i)));
      assertArrayEquals(a, pixels(TrainingViews.augment(img, "Af Pe", new SplittableRandom(i))));
      changed += java.util.Arrays.equals(a, pixels(img)) ? 0 : 1;
    }
    // Each of Af and Pe applies with p 0.7: both off for 9% of draws.
    assertTrue(changed >= 12 && changed < 20, "changed " + changed + " of 20");
    assertThrows(IllegalArgumentException.class, () -> new ClipTraining.Views("Zz", 0));
    assertThrows(IllegalArgumentException.class, () -> new ClipTraining.Views("", -1));
  }

  /** The independent shape judge sees no shape in the blob negatives, but the right colours. */
  @Test
  void blobsKeepColoursAndPlaceButHaveNoShape() {
    ShapesDataset d = new ShapesDataset(32, 21);
    SplittableRandom rnd = new SplittableRandom(5);
    int shapeless = 0;
    for (ShapesDataset.Sample s : onePlainObject(d, 60)) {
      BufferedImage b = TrainingViews.blob(s.scene(), 32, rnd);
      float[] chw = ShapesDataset.toTensor(List.of(b), false).toFloats();
      ShapeChecker.Verdict v = ShapeChecker.judge(s.caption(), chw, 32, 32);
      assertTrue(v.background(), s.caption() + ": " + v.reason());
      shapeless += v.shape() ? 0 : 1;
    }
    assertTrue(shapeless >= 54, "blobs judged as the captioned shape: " + (60 - shapeless) + " of 60");
  }

  /**
   * Near misses keep the background and the object's colour, and the independent judge does not
   * read the captioned shape in them (a duplicated shape, an arc or a spiky outline is not one object of
   * that shape); the same generator draws the same picture.
   */
  @Test
  void nearMissesKeepColoursButAreNotTheCaptionedShape() {
    ShapesDataset d = new ShapesDataset(32, 23);
    SplittableRandom rnd = new SplittableRandom(7);
    int notTheShape = 0;
    for (ShapesDataset.Sample s : onePlainObject(d, 80)) {
      BufferedImage b = TrainingViews.nearMiss(s.scene(), 32, rnd);
      ShapeChecker.Verdict v = ShapeChecker.judge(s.caption(), ShapesDataset.toTensor(List.of(b), false).toFloats(), 32, 32);
      assertTrue(v.background(), s.caption() + ": " + v.reason());
      notTheShape += v.all() ? 0 : 1;
    }
    assertTrue(notTheShape >= 68, "near misses judged as the captioned scene: " + (80 - notTheShape) + " of 80");
    assertArrayEquals(pixels(TrainingViews.nearMiss(d.sample(3).scene(), 32, new SplittableRandom(2))),
        pixels(TrainingViews.nearMiss(d.sample(3).scene(), 32, new SplittableRandom(2))));
    assertThrows(IllegalArgumentException.class, () -> new ClipTraining.Views("", 0, 0, 0, 0, 2, 0, -1));
  }

  /**
   * Oversized objects keep their colour and the background but are bigger than any drawn object;
   * most run off the picture, and the independent judge never reads those as the captioned scene.
   */
  @Test
  void oversizedObjectsRunOffThePicture() {
    ShapesDataset d = new ShapesDataset(32, 22);
    SplittableRandom rnd = new SplittableRandom(6);
    int offEdge = 0;
    for (ShapesDataset.Sample s : onePlainObject(d, 40)) {
      BufferedImage b = TrainingViews.oversized(s.scene(), 32, rnd);
      int ink = s.scene().objects().get(0).color().rgb() & 0xFFFFFF;
      int edge = 0;
      for (int k = 0; k < 32; k++) {
        for (int[] p : new int[][] {{k, 0}, {k, 31}, {0, k}, {31, k}}) {
          edge += (b.getRGB(p[0], p[1]) & 0xFFFFFF) == ink ? 1 : 0;
        }
      }
      offEdge += edge >= 4 ? 1 : 0;
      ShapeChecker.Verdict v = ShapeChecker.judge(s.caption(), ShapesDataset.toTensor(List.of(b), false).toFloats(), 32, 32);
      if (edge >= 4) {
        assertFalse(v.all(), s.caption() + " runs off the picture but is judged right: " + v.reason());
      }
    }
    assertTrue(offEdge >= 30, "objects running off the picture: " + offEdge + " of 40");
    assertArrayEquals(pixels(TrainingViews.oversized(d.sample(0).scene(), 32, new SplittableRandom(1))),
        pixels(TrainingViews.oversized(d.sample(0).scene(), 32, new SplittableRandom(1))));
  }

  /** The first {@code n} samples of {@code d} with one object on a plain background. */
  private static List<ShapesDataset.Sample> onePlainObject(ShapesDataset d, int n) {
    List<ShapesDataset.Sample> out = new ArrayList<>();
    for (long i = 0; out.size() < n; i++) {
      ShapesDataset.Sample s = d.sample(i);
      if (!s.scene().twoTone() && s.scene().objects().size() == 1) {
        out.add(s);
      }
    }
    return out;
  }

  @Test
  void negativePicturesCompeteOnlyAsNegativesAndTheGradientMatchesFiniteDifferences() {
    ClipTraining run = new ClipTraining(ClipTrainingTest.tiny(1000), 4, 1, 1e-3, 3, 1, 1, new ClipTraining.Views("Af Pe", 2));
    ClipTokenizer tok = ClipTraining.tokenizer(run.learnMerges(), 20);
    ClipConfig cfg = ClipTrainingTest.tiny(tok.vocabulary().size());
    ShapesDataset d = new ShapesDataset(16, 2);
    List<ShapesDataset.Sample> s = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      s.add(d.sample(i));
    }
    List<BufferedImage> views = run.views(s, 16, 0, List.of());
    assertEquals(6, views.size());
    assertEquals(views.stream().map(TrainingViewsTest::pixels).map(java.util.Arrays::toString).toList(),
        run.views(s, 16, 0, List.of()).stream().map(TrainingViewsTest::pixels).map(java.util.Arrays::toString).toList());
    assertNotEquals(java.util.Arrays.toString(pixels(views.get(4))), java.util.Arrays.toString(pixels(run.views(s, 16, 1, List.of()).get(4))));
    Map<String, Tensor> in = ClipTraining.inputs(s, views, tok);
    float[] rows = in.get(ClipTraining.TARGET_ROWS).toFloats();
    float[] cols = in.get(ClipTraining.TARGET_COLS).toFloats();
    assertArrayEquals(new long[] {6, 4}, in.get(ClipTraining.TARGET_ROWS).shape());
    for (int j = 0; j < 4; j++) {
      assertEquals(0f, rows[4 * 4 + j]);
      assertEquals(0f, cols[5 * 4 + j]);
    }
    for (int i = 0; i < 4; i++) {
      assertFalse(rows[i * 4 + i] == 0f, "a caption describes its own picture");
    }
    Map<String, Tensor> w = new LinkedHashMap<>(RandomWeights.clip(cfg, 4));
    w.put(ClipTraining.LOGIT_SCALE, Tensor.ofFloats(new long[0], (float) Math.log(10)));
    ClipTraining.Built g = ClipTraining.build(cfg, w, 6, 4);
    GradCheck.assertGradient(g.graph(), in, List.of(ClipTraining.LOGIT_SCALE, "img/visual.proj", "txt/text_projection"), 1e-2,
        GradCheck.TOL_F32, 7);
    // The negatives' margin term: negative rows 4 and 5 against pictures 0 and 1 on their captions.
    Map<String, Tensor> pin = new LinkedHashMap<>(in);
    pin.putAll(ClipTraining.pairInputs(new int[] {0, 1}, 4, 6, 4));
    ClipTraining.Built gp = ClipTraining.build(cfg, w, 6, 4, 4, 2, 0.1);
    // A smaller step than the contrastive check's: the term's scale of 50 makes it sharply curved.
    GradCheck.assertGradient(gp.graph(), pin, List.of("img/visual.proj", "txt/text_projection"), 1e-3, GradCheck.TOL_F32, 9);
    GradCheck.assertGradient(gp.graph(), pin, List.of("img/visual.conv1.weight"), 1e-3, GradCheck.TOL_F32, 10);
    float[] pw = pin.get(ClipTraining.PAIR_WEIGHTS).toFloats();
    assertEquals(0.5f, pw[0]);
    assertEquals(0.5f, pw[1]);
    float[] none = ClipTraining.pairInputs(new int[] {-1, 2}, 4, 6, 4).get(ClipTraining.PAIR_WEIGHTS).toFloats();
    assertEquals(0f, none[0], "a negative drawn from no picture has no pair");
    assertEquals(1f, none[1]);
  }
}
