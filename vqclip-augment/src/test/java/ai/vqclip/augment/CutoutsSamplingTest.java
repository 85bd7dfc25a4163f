package ai.vqclip.augment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.Test;

/** Host sampling: determinism, the crop-size distribution, NR codes, and argument validation. */
class CutoutsSamplingTest {
  private static Cutouts all() {
    return Cutouts.create(Cutouts.Config.withAugments(6, 16, 1.0, false, "Af Pe Ji Er Sh Gn Hf Re Ro"), 40, 36);
  }

  private static boolean sameBits(Tensor a, Tensor b) {
    return Arrays.equals(a.shape(), b.shape()) && a.dtype() == b.dtype() && a.data().equals(b.data());
  }

  @Test
  void sameSeedGivesBitIdenticalParametersAndAnotherSeedDiffers() {
    Cutouts c = all();
    Map<String, Tensor> a = c.sample(new SplittableRandom(123));
    Map<String, Tensor> b = c.sample(new SplittableRandom(123));
    Map<String, Tensor> other = c.sample(new SplittableRandom(124));
    assertEquals(a.keySet(), b.keySet());
    assertEquals(a.keySet(), other.keySet());
    for (String k : a.keySet()) {
      assertTrue(sameBits(a.get(k), b.get(k)), k + " differs for the same seed");
    }
    long differing = a.keySet().stream().filter(k -> !sameBits(a.get(k), other.get(k))).count();
    assertTrue(differing >= a.size() - 1, "only " + differing + " of " + a.keySet() + " differ for another seed");
    // consecutive steps from one generator differ too
    SplittableRandom rng = new SplittableRandom(5);
    assertFalse(sameBits(c.sample(rng).get("cut.ax"), c.sample(rng).get("cut.ax")));
  }

  @Test
  void cropSizesFollowCutPowAndStayInRange() {
    int h = 400;
    int w = 450;
    double[] means = new double[2];
    for (int p = 0; p < 2; p++) {
      double cutPow = p + 1;
      Cutouts c = Cutouts.create(Cutouts.Config.original(1024, 224, cutPow), h, w);
      assertEquals(224, c.minCropSize());
      assertEquals(400, c.maxCropSize());
      SplittableRandom rng = new SplittableRandom(77);
      double sum = 0;
      int count = 0;
      for (int rep = 0; rep < 20; rep++) {
        for (Cutouts.Crop crop : c.drawCrops(rng)) {
          assertTrue(crop.size() >= 224 && crop.size() <= 400, "size " + crop.size());
          assertTrue(crop.x() >= 0 && crop.x() + crop.size() <= w && crop.y() >= 0 && crop.y() + crop.size() <= h, crop.toString());
          sum += crop.size();
          count++;
        }
      }
      means[p] = sum / count;
    }
    // E[floor(U^p (max - min) + min)] = min + (max - min) / (p + 1) - 1/2 (approximately)
    System.out.printf("mean crop size: cut_pow 1 -> %.2f (expect 311.5), cut_pow 2 -> %.2f (expect 282.2)%n", means[0], means[1]);
    assertEquals(224 + 176 / 2.0 - 0.5, means[0], 1.5);
    assertEquals(224 + 176 / 3.0 - 0.5, means[1], 1.5);
  }

  @Test
  void nrCodesParseWithMethodDefaults() {
    AugmentCodes.Parsed p = AugmentCodes.parse("Af Pe Ji Er");
    assertEquals(List.of(new Affine(15, 0.1, 1, 1, 5, 0.7), new Perspective(0.7, 0.7)), p.geometric());
    assertEquals(List.of(new ColorJitter(0.1, 0.1, 0.1, 0.1, 0.7), new RandomErasing(0.1, 0.4, 0.3, 1 / 0.3, true, 0.7)), p.pixel());
    AugmentCodes.Parsed u = AugmentCodes.parse("Pe,Af", true);
    assertEquals(List.of(new Perspective(0.5, 0.7), new Affine(30, 0.1, 1, 1, 5, 0.7)), u.geometric());
    AugmentCodes.Parsed rest = AugmentCodes.parse(" Sh Gn Ro Cr Re Hf ");
    assertEquals(3, rest.geometric().size());
    assertEquals(List.of(new Sharpness(0.3, 0.5), GaussianNoise.fixed(1, 0.5)), rest.pixel());
    assertTrue(AugmentCodes.parse("").geometric().isEmpty());
  }

  private static void assertMessage(Executable e, String... parts) {
    IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
    for (String p : parts) {
      assertTrue(ex.getMessage().contains(p), "message '" + ex.getMessage() + "' lacks '" + p + "'");
    }
  }

  @Test
  void badArgumentsAreRejectedWithClearMessages() {
    assertMessage(() -> Cutouts.Config.original(0, 224, 1), "cutn", "[1, 1024]", "got 0");
    assertMessage(() -> Cutouts.Config.original(1025, 224, 1), "cutn", "[1, 1024]", "got 1025");
    assertMessage(() -> Cutouts.Config.original(32, 0, 1), "size", "[1, 1024]", "got 0");
    assertMessage(() -> Cutouts.Config.original(32, -3, 1), "size", "got -3");
    assertMessage(() -> Cutouts.Config.original(32, 224, 0), "cutPow", "positive", "got 0.0");
    assertMessage(() -> Cutouts.Config.original(32, 224, Double.NaN), "cutPow", "got NaN");
    assertMessage(() -> Cutouts.Config.original(32, 224, 1).withNoiseFac(-0.1), "noiseFac", "got -0.1");
    assertMessage(() -> Cutouts.Config.original(1024, 1024, 1), "cutn * 3 * size^2", "cutn 1024");
    assertMessage(() -> AugmentCodes.parse("Af Xx"), "unknown augment code 'Xx'", "position 2", "supported: Ji Sh Gn");
    assertMessage(() -> AugmentCodes.parse("Et"), "'Et'", "not supported", "supported:");
    assertMessage(() -> Cutouts.Config.withAugments(4, 16, 1, false, "ji"), "unknown augment code 'ji'");
    Cutouts.Config ok = Cutouts.Config.original(4, 16, 1);
    assertMessage(() -> Cutouts.create(ok, 1, 64), "image height", "[2, 16384]", "got 1");
    assertMessage(() -> Cutouts.create(ok, 64, 0), "image width", "got 0");
    assertMessage(() -> Cutouts.create(ok, 64, 20000), "image width", "got 20000");
    assertMessage(() -> new Affine(15, 0.1, 1, 1, 5, 1.5), "Affine p", "[0, 1]", "got 1.5");
    assertMessage(() -> new Perspective(-0.1, 0.5), "Perspective distortion", "got -0.1");
    assertMessage(() -> new ColorJitter(0.1, 0.1, 0.1, 0.7, 0.5), "ColorJitter hue", "got 0.7");
    assertMessage(() -> new RandomErasing(0.5, 0.1, 0.3, 3, true, 0.5), "RandomErasing scale", "[0.5, 0.1]");
    // an image of the wrong size wired into the fragment
    Cutouts c = Cutouts.create(ok, 32, 32);
    ai.vqclip.core.graph.GraphBuilder b = new ai.vqclip.core.graph.GraphBuilder("g");
    ai.vqclip.core.graph.Value img = b.input("img", ai.vqclip.core.graph.DType.FLOAT, ai.vqclip.core.graph.Shape.of(1, 3, 16, 32));
    assertMessage(() -> c.apply(b, img), "image must be float32 [1, 3, 32, 32]", "img");
  }
}
