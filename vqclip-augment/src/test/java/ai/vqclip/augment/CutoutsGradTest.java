package ai.vqclip.augment;

import static ai.vqclip.onnx.testing.GradCheck.TOL_F32;
import static ai.vqclip.onnx.testing.GradCheck.assertGradient;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.vqclip.core.Augmentation;
import ai.vqclip.core.GeometricAugmentation;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.autodiff.Autodiff;
import ai.vqclip.core.autodiff.GradientRequest;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.onnx.CudaCoverage;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Finite-difference gradient checks of the cutout fragment with respect to the image, the sampled
 * parameters fed as fixed inputs (float32: GridSample and Conv run in float only on ORT's CPU
 * provider; eps 1e-2, {@code TOL_F32}). Every stage is linear in the image except pooled max (its
 * test image has distinct values 0.25 apart, so eps cannot change an argmax) and the clamp (its
 * test image lies in [0.3, 0.7] and the augmentations keep values inside (0, 1)).
 */
class CutoutsGradTest {
  private static final long SEED = 9;
  private static final int H = 12;
  private static final int W = 10;
  private static final int S = 8;
  private static final int N = 3;

  private static void check(Cutouts.Config cfg, Tensor image, String what) {
    Cutouts c = Cutouts.create(cfg, H, W);
    Graph g = c.fragment();
    Map<String, Tensor> feed = new HashMap<>(c.sample(new SplittableRandom(SEED)));
    feed.put(Cutouts.IMAGE, image);
    System.out.println("stage " + what);
    assertGradient(g, feed, List.of(Cutouts.IMAGE), 1e-2, TOL_F32, SEED);
  }

  private static Cutouts.Config crops() {
    return Cutouts.Config.original(N, S, 1.0).withClamp(false);
  }

  @Test
  void cropAndResample() {
    check(crops(), Ref.image(H, W, SEED, 0, 1), "crops antialias");
    check(crops().withAntialias(false), Ref.image(H, W, SEED, 0, 1), "crops bicubic");
  }

  @Test
  void pooled() {
    List<Double> vals = new ArrayList<>();
    for (int i = 0; i < 3 * H * W; i++) {
      vals.add(0.25 * i);
    }
    Collections.shuffle(vals, new java.util.Random(SEED));
    double[] d = vals.stream().mapToDouble(Double::doubleValue).toArray();
    check(crops().withPooled(true), Tensor.fromDoubles(DType.FLOAT, new long[] {1, 3, H, W}, d), "pooled");
  }

  static Stream<Arguments> augmentations() {
    return Stream.of(
        Arguments.of("Hf", List.of(new HorizontalFlip(0.5)), List.of()),
        Arguments.of("Af", List.of(new Affine(30, 0.1, 0.8, 1.2, 10, 1)), List.of()),
        Arguments.of("Ro", List.of(Affine.rotation(15, 1)), List.of()),
        Arguments.of("Pe", List.of(new Perspective(0.7, 1)), List.of()),
        Arguments.of("Re", List.of(new ResizedCrop(0.1, 1, 0.75, 1.333, 1)), List.of()),
        Arguments.of("Ji", List.of(), List.of(new ColorJitter(0.3, 0.3, 0.3, 0.1, 1))),
        Arguments.of("Gn", List.of(), List.of(GaussianNoise.fixed(1, 0.5))),
        Arguments.of("noise step", List.of(), List.of(GaussianNoise.uniform(0.1))),
        Arguments.of("Er", List.of(), List.of(new RandomErasing(0.1, 0.4, 0.3, 1 / 0.3, false, 1))),
        Arguments.of("Sh", List.of(), List.of(new Sharpness(0.9, 1))));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("augmentations")
  void eachAugmentation(String name, List<GeometricAugmentation> geo, List<Augmentation> pix) {
    Cutouts.Config cfg = crops().withAugmentations(geo, pix);
    check(cfg, Ref.image(H, W, SEED, 0, 1), name);
    if (!geo.isEmpty()) {
      check(cfg.withPadding(Cutouts.Padding.BORDER), Ref.image(H, W, SEED, 0, 1), name + " border");
    }
  }

  /**
   * Everything together, with the final clamp-with-gradient. Clamp-with-gradient deliberately
   * differs from the true derivative outside [0, 1] (B.4), so the check needs every value inside:
   * border padding (zeros padding would let sharpening and contrast push pixels next to the
   * padding below 0), mild factors, an image in [0.3, 0.7], and erasing last (exact zeros).
   */
  static Cutouts.Config full() {
    return Cutouts.Config.original(N, S, 1.0).withAugmentations(
        List.of(new HorizontalFlip(0.5), new Affine(15, 0.1, 1, 1, 5, 1), new Perspective(0.5, 1), new ResizedCrop(0.5, 1, 0.75, 1.333, 0.5)),
        List.of(new ColorJitter(0.1, 0.1, 0.1, 0.1, 1), new Sharpness(0.3, 1), new RandomErasing(0.1, 0.4, 0.3, 1 / 0.3, true, 1)))
        .withPadding(Cutouts.Padding.BORDER);
  }

  @Test
  void fullPipelineWithClamp() {
    check(full(), Ref.image(H, W, SEED, 0.3, 0.7), "full pipeline with clamp");
  }

  @Test
  void differentiatedCutoutGraphsRunOnCudaWithoutFallback() {
    for (Cutouts.Config cfg : List.of(full().withNoiseFac(0.1), full().withPooled(true), Cutouts.Config.original(N, S, 1.0))) {
      Graph g = Cutouts.create(cfg, H, W).fragment();
      Graph grad = Autodiff.differentiate(g, GradientRequest.ofSeeds(List.of(Cutouts.CUTOUTS), List.of(Cutouts.IMAGE)));
      assertEquals(List.of(), CudaCoverage.check(grad), "pooled=" + cfg.pooled());
    }
  }
}
