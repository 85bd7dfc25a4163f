package ai.vqclip.onnx.autodiff;

import static ai.vqclip.onnx.testing.GradCheck.TOL_F32;
import static ai.vqclip.onnx.testing.GradCheck.TOL_F64;
import static ai.vqclip.onnx.testing.GradCheck.assertGradient;
import static ai.vqclip.onnx.testing.GradCheck.randomInputs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.autodiff.Autodiff;
import ai.vqclip.core.autodiff.GradientRequest;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import ai.vqclip.onnx.OrtExecutable;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Gradient checks of Resize and GridSample.
 *
 * <p>Resize runs in FLOAT: ORT's CPU Resize kernel has no double implementation. Resize is linear
 * in X, so central differences have no truncation error and only float rounding limits them
 * (eps 1e-2, {@code TOL_F32}). Because the rule rebuilds ORT's sampling on the host, a second test
 * compares the full interpolation matrix the forward kernel applies (probed with one-hot images)
 * with the one the backward applies (probed with one-hot seeds); they must agree to float rounding.
 *
 * <p>GridSample at opset 18 (GridSample-16) runs in FLOAT: ORT 1.29's CPU provider reports
 * NOT_IMPLEMENTED for double there; eps 1e-3 and {@code TOL_F32}. One extra check builds the graph
 * at opset 20, where ORT has a double kernel, and uses eps 1e-6 and {@code TOL_F64}. Bilinear
 * sampling is only piecewise smooth in the grid, so test grids place every point at least 0.15
 * pixel away from integer pixel coordinates (the kinks; eps moves points by about 0.01 pixel at
 * most), partly outside the image to exercise the padding modes.
 */
class SamplingGradTest {
  private static final long SEED = 5;

  /** A Resize configuration: scales (for H, W) or sizes (for H, W). */
  record ResizeCase(String mode, String ctm, String nearestMode, float[] scales, long[] sizes) {
    @Override
    public String toString() {
      return mode + "/" + ctm + (nearestMode == null ? "" : "/" + nearestMode)
          + (scales != null ? " scales=" + java.util.Arrays.toString(scales) : " sizes=" + java.util.Arrays.toString(sizes));
    }
  }

  private static ResizeCase sc(String mode, String ctm, String nearest, float sh, float sw) {
    return new ResizeCase(mode, ctm, nearest, new float[] {sh, sw}, null);
  }

  private static ResizeCase sz(String mode, String ctm, String nearest, long oh, long ow) {
    return new ResizeCase(mode, ctm, nearest, null, new long[] {oh, ow});
  }

  static Stream<ResizeCase> resizeCases() {
    return Stream.of(
        sc("nearest", "asymmetric", "floor", 2f, 2f),
        sc("nearest", "half_pixel", "round_prefer_floor", 2f, 2f),
        sc("nearest", "half_pixel", "round_prefer_floor", 0.5f, 0.5f),
        sc("nearest", "half_pixel", "round_prefer_ceil", 1.5f, 0.5f),
        sc("nearest", "asymmetric", "ceil", 1.5f, 2f),
        sc("nearest", "pytorch_half_pixel", "floor", 0.5f, 1.5f),
        sz("nearest", "align_corners", "round_prefer_floor", 9, 3),
        sc("nearest", "tf_half_pixel_for_nn", "round_prefer_ceil", 2f, 0.5f),
        sc("linear", "half_pixel", null, 2f, 2f),
        sc("linear", "half_pixel", null, 0.5f, 0.5f),
        sc("linear", "half_pixel", null, 1.5f, 1.5f),
        sc("linear", "align_corners", null, 2f, 1.5f),
        sz("linear", "align_corners", null, 3, 7),
        sc("linear", "asymmetric", null, 1.5f, 0.5f),
        sc("linear", "pytorch_half_pixel", null, 0.5f, 2f),
        sz("linear", "pytorch_half_pixel", null, 1, 5),
        sc("linear", "half_pixel_symmetric", null, 1.5f, 0.5f),
        sc("linear", "half_pixel", null, 1f, 2f));
  }

  private static Graph resizeGraph(String name, long[] xs, ResizeCase rc) {
    GraphBuilder b = new GraphBuilder(name);
    Value x = b.input("x", DType.FLOAT, Shape.of(xs));
    GraphBuilder.OpBuilder o = b.op("Resize").attr("mode", rc.mode()).attr("coordinate_transformation_mode", rc.ctm());
    if (rc.nearestMode() != null) {
      o.attr("nearest_mode", rc.nearestMode());
    }
    if (rc.scales() != null) {
      o.in(x, null, b.constant(Tensor.ofFloats(new long[] {4}, 1f, 1f, rc.scales()[0], rc.scales()[1])));
    } else {
      o.in(x, null, null, b.ints(xs[0], xs[1], rc.sizes()[0], rc.sizes()[1]));
    }
    b.output(o.out());
    return b.build();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("resizeCases")
  void resizeGradient(ResizeCase rc) {
    Graph g = resizeGraph("resize", new long[] {2, 3, 5, 4}, rc);
    assertGradient(g, randomInputs(g, Map.of(), SEED), List.of("x"), 1e-2, TOL_F32, SEED);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("resizeCases")
  void resizeBackwardUsesTheForwardInterpolationMatrix(ResizeCase rc) {
    int h = 5;
    int w = 4;
    // Forward: channel k holds the k-th one-hot image, so output channel k is column k of M.
    Graph f = resizeGraph("resize_fwd", new long[] {1, h * w, h, w}, rc);
    long[] ys = f.outputs().get(0).shape().toArray();
    int ho = (int) ys[2];
    int wo = (int) ys[3];
    double[] basis = new double[h * w * h * w];
    for (int k = 0; k < h * w; k++) {
      basis[k * h * w + k] = 1;
    }
    double[] y;
    try (OrtExecutable ex = OrtExecutable.create(f, ExecutionOptions.cpu())) {
      Map<String, Tensor> out = ex.run(Map.of("x", Tensor.fromDoubles(DType.FLOAT, new long[] {1, h * w, h, w}, basis)));
      Tensor yt = out.get(f.outputs().get(0).name());
      assertEquals(List.of(1L, (long) h * w, (long) ho, (long) wo), java.util.Arrays.stream(yt.shape()).boxed().toList(),
          "ORT's output shape differs from the inferred one");
      y = yt.toDoubles();
    }
    // Backward: seed channel j is the j-th one-hot output, so dX channel j is row j of M.
    Graph fb = resizeGraph("resize_bwd", new long[] {1, ho * wo, h, w}, rc);
    String out = fb.outputs().get(0).name();
    Graph grad = Autodiff.differentiate(fb, GradientRequest.ofSeeds(List.of(out), List.of("x")));
    double[] seed = new double[ho * wo * ho * wo];
    for (int j = 0; j < ho * wo; j++) {
      seed[j * ho * wo + j] = 1;
    }
    Map<String, Tensor> feed = new HashMap<>();
    feed.put("x", Tensor.filled(DType.FLOAT, new long[] {1, ho * wo, h, w}, 0));
    feed.put(GradientRequest.seedName(out), Tensor.fromDoubles(DType.FLOAT, new long[] {1, ho * wo, ho, wo}, seed));
    double[] dx;
    try (OrtExecutable ex = OrtExecutable.create(grad, ExecutionOptions.cpu())) {
      dx = ex.run(feed).get(GradientRequest.gradName("x")).toDoubles();
    }
    for (int o = 0; o < ho * wo; o++) {
      for (int k = 0; k < h * w; k++) {
        double fwd = y[k * ho * wo + o];
        double bwd = dx[o * h * w + k];
        int oo = o;
        int kk = k;
        assertEquals(fwd, bwd, 1e-6, () -> rc + ": M[" + oo + "][" + kk + "] forward " + fwd + " vs backward " + bwd);
      }
    }
  }

  @Test
  void resizeRejectsCubicWithAClearMessage() {
    Graph g = resizeGraph("resize_cubic", new long[] {1, 1, 4, 4}, sc("cubic", "half_pixel", null, 2f, 2f));
    String out = g.outputs().get(0).name();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Autodiff.differentiate(g, GradientRequest.ofSeeds(List.of(out), List.of("x"))));
    assertTrue(e.getMessage().contains("cubic") && e.getMessage().contains("Resize"), e.getMessage());
  }

  // ------------------------------------------------------------------ GridSample

  /**
   * A grid whose points sit at pixel coordinates k + u with u in [0.15, 0.85] (linear) or
   * [-0.35, 0.35] (nearest), k from -2 to L: some points fall outside the image.
   */
  private static Tensor grid(DType t, long n, long ho, long wo, long h, long w, boolean alignCorners, boolean nearest, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    double[] d = new double[(int) (n * ho * wo * 2)];
    for (int i = 0; i < d.length; i++) {
      long len = i % 2 == 0 ? w : h;
      long k = rnd.nextLong(-2, len + 1);
      double u = nearest ? -0.35 + 0.7 * rnd.nextDouble() : 0.15 + 0.7 * rnd.nextDouble();
      double p = k + u;
      // invert p = g * a + (len - 1) / 2
      double a = alignCorners ? (len - 1) / 2.0 : len / 2.0;
      d[i] = (p - (len - 1) / 2.0) / a;
    }
    return Tensor.fromDoubles(t, new long[] {n, ho, wo, 2}, d);
  }

  static Stream<Arguments> gridSampleCases() {
    Stream.Builder<Arguments> s = Stream.builder();
    for (String mode : List.of("bilinear", "nearest")) {
      for (String padding : List.of("zeros", "border")) {
        for (int align = 0; align <= 1; align++) {
          s.add(Arguments.of(mode, padding, align));
        }
      }
    }
    return s.build();
  }

  private static Graph gridSampleGraph(DType t, int opset, String mode, String padding, long align) {
    GraphBuilder b = new GraphBuilder("gs_" + mode + "_" + padding + "_" + align).opset(opset);
    Value x = b.input("x", t, Shape.of(2, 3, 5, 6));
    Value gr = b.input("grid", t, Shape.of(2, 4, 3, 2));
    b.output(b.op("GridSample").in(x, gr).attr("mode", mode).attr("padding_mode", padding).attr("align_corners", align).out());
    return b.build();
  }

  @ParameterizedTest(name = "{0} padding={1} align_corners={2}")
  @MethodSource("gridSampleCases")
  void gridSample(String mode, String padding, int align) {
    Graph g = gridSampleGraph(DType.FLOAT, 18, mode, padding, align);
    boolean nearest = mode.equals("nearest");
    Map<String, Tensor> in = randomInputs(g, Map.of("grid", grid(DType.FLOAT, 2, 4, 3, 5, 6, align != 0, nearest, SEED)), SEED);
    assertGradient(g, in, List.of("x"), 1e-3, TOL_F32, SEED);
    if (!nearest) {
      assertGradient(g, in, List.of("grid"), 1e-3, TOL_F32, SEED);
      assertGradient(g, in, List.of("x", "grid"), 1e-3, TOL_F32, SEED + 1);
    }
  }

  @ParameterizedTest(name = "linear padding={0} align_corners={1}")
  @CsvSource({"zeros,0", "zeros,1", "border,0", "border,1"})
  void gridSampleDoubleAtOpset20(String padding, int align) {
    // GridSample-20 names the mode "linear"
    Graph g = gridSampleGraph(DType.DOUBLE, 20, "linear", padding, align);
    Map<String, Tensor> in = randomInputs(g, Map.of("grid", grid(DType.DOUBLE, 2, 4, 3, 5, 6, align != 0, false, SEED)), SEED);
    assertGradient(g, in, List.of("x"), 1e-6, TOL_F64, SEED);
    assertGradient(g, in, List.of("grid"), 1e-6, TOL_F64, SEED);
  }
}
