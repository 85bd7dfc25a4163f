package ai.vqclip.onnx.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
import ai.vqclip.core.loss.FrameLoss;
import ai.vqclip.core.loss.LatentRegularization;
import ai.vqclip.core.loss.RestorationPrior;
import ai.vqclip.core.loss.SphericalDistance;
import ai.vqclip.core.loss.TotalVariation;
import ai.vqclip.onnx.CudaCoverage;
import ai.vqclip.onnx.OrtExecutable;
import ai.vqclip.onnx.testing.GradCheck;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LossTest {
  private static final ExecutionOptions OPTS =
      ExecutionOptions.cpu().withThreads(1).withOptimizationLevel(ExecutionOptions.OptimizationLevel.BASIC);

  private static Map<String, Tensor> run(Graph g, Map<String, Tensor> in) {
    try (OrtExecutable e = OrtExecutable.create(g, OPTS)) {
      return e.run(in);
    }
  }

  @Test
  void asinApproximationIsWithinItsBound() {
    GraphBuilder b = new GraphBuilder("asin");
    Value x = b.input("x", DType.DOUBLE, Shape.of(1001));
    b.output("y", SphericalDistance.asinOfNonNegative(b, x));
    double[] xs = new double[1001];
    for (int i = 0; i < xs.length; i++) {
      xs[i] = i / 1000.0;
    }
    double[] y = run(b.build(), Map.of("x", Tensor.ofDoubles(new long[] {1001}, xs))).get("y").toDoubles();
    double worst = 0;
    for (int i = 0; i < xs.length; i++) {
      worst = Math.max(worst, Math.abs(y[i] - Math.asin(xs[i])));
    }
    assertTrue(worst < 3e-8, "max |asin error| = " + worst);
  }

  private static double[][] randomRows(SplittableRandom r, int n, int d) {
    double[][] m = new double[n][d];
    for (double[] row : m) {
      for (int j = 0; j < d; j++) {
        row[j] = GradCheck.gaussian(r);
      }
    }
    return m;
  }

  private static double[] flat(double[][] m) {
    return java.util.Arrays.stream(m).flatMapToDouble(java.util.Arrays::stream).toArray();
  }

  /** theta^2 / 2 from the angle between the vectors, computed independently with acos. */
  private static double reference(double[] a, double[] b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    double theta = Math.acos(Math.max(-1, Math.min(1, dot / Math.sqrt(na * nb))));
    return theta * theta / 2;
  }

  private static Graph promptLoss(DType t, int n, int k, int d) {
    GraphBuilder b = new GraphBuilder("prompt");
    Value u = b.input("u", t, Shape.of(n, d));
    Value v = b.input("v", t, Shape.of(k, d));
    Value w = b.input("w", t, Shape.scalar());
    Value stop = b.input("stop", t, Shape.scalar());
    b.output("d", SphericalDistance.distances(b, u, v));
    b.output("loss", SphericalDistance.loss(b, u, v, w, stop));
    return b.build();
  }

  @Test
  void distancesMatchTheAngleFormula() {
    SplittableRandom r = new SplittableRandom(1);
    double[][] u = randomRows(r, 4, 8);
    double[][] v = randomRows(r, 3, 8);
    Map<String, Tensor> out = run(promptLoss(DType.DOUBLE, 4, 3, 8), Map.of(
        "u", Tensor.ofDoubles(new long[] {4, 8}, flat(u)), "v", Tensor.ofDoubles(new long[] {3, 8}, flat(v)),
        "w", Tensor.scalar(DType.DOUBLE, -0.5), "stop", Tensor.scalar(DType.DOUBLE, Double.NEGATIVE_INFINITY)));
    double[] d = out.get("d").toDoubles();
    double mean = 0;
    for (int i = 0; i < 4; i++) {
      for (int j = 0; j < 3; j++) {
        assertEquals(reference(u[i], v[j]), d[i * 3 + j], 1e-7);
        mean += d[i * 3 + j] / 12;
      }
    }
    // |w| * mean(sign(w) * d) with w = -0.5
    assertEquals(-0.5 * mean, out.get("loss").toDoubles()[0], 1e-12);
  }

  @Test
  void promptLossGradientPassesFiniteDifferences() {
    Graph g = promptLoss(DType.DOUBLE, 5, 2, 6);
    for (double w : new double[] {1.5, -0.7}) {
      Map<String, Tensor> in = GradCheck.randomInputs(g, Map.of(
          "w", Tensor.scalar(DType.DOUBLE, w), "stop", Tensor.scalar(DType.DOUBLE, Double.NEGATIVE_INFINITY)), 3);
      GradCheck.assertGradient(g, in, List.of("u"), 1e-6, GradCheck.TOL_F64, 3);
    }
  }

  @Test
  void stopHaltsThePullOfAPromptBelowIt() {
    // Two image embeddings: one close to the prompt (d < stop), one far (d > stop).
    Graph g = promptLoss(DType.DOUBLE, 2, 1, 3);
    Graph grad = Autodiff.differentiate(g, GradientRequest.ofLoss("loss", "u"));
    Map<String, Tensor> in = Map.of(
        "u", Tensor.ofDoubles(new long[] {2, 3}, 1, 0.05, 0, 0, 1, 0),
        "v", Tensor.ofDoubles(new long[] {1, 3}, 1, 0, 0),
        "w", Tensor.scalar(DType.DOUBLE, 1), "stop", Tensor.scalar(DType.DOUBLE, 0.1));
    Map<String, Tensor> out = run(grad, in);
    double[] d = out.get("d").toDoubles();
    assertTrue(d[0] < 0.1 && d[1] > 0.1, java.util.Arrays.toString(d));
    double[] gu = out.get("grad/u").toDoubles();
    assertArrayEquals(new double[] {0, 0, 0}, java.util.Arrays.copyOfRange(gu, 0, 3), 0);
    assertTrue(Math.abs(gu[3]) + Math.abs(gu[4]) > 1e-3, java.util.Arrays.toString(gu));
    // The value still counts both pairs (the stop acts on the gradient only).
    assertEquals((d[0] + d[1]) / 2, out.get("loss").toDoubles()[0], 1e-12);
  }

  @Test
  void frameTermIsTheBandsColourVarianceWithItsGradient() {
    GraphBuilder b = new GraphBuilder("frame");
    Value img = b.input("img", DType.DOUBLE, Shape.of(2, 3, 7, 9));
    b.output("frame", FrameLoss.loss(b, img, 0.7, 0.2)); // band round(0.2 * 7) = 1 pixel
    Graph g = b.build();
    Map<String, Tensor> in = GradCheck.randomInputs(g, Map.of(), 11);
    double[] v = in.get("img").toDoubles();
    // Reference: per picture and channel, the outermost ring's pixels, their mean and squared spread.
    double ss = 0;
    int n = 0;
    for (int p = 0; p < 2 * 3; p++) {
      java.util.List<Double> ring = new java.util.ArrayList<>();
      for (int y = 0; y < 7; y++) {
        for (int x = 0; x < 9; x++) {
          if (y == 0 || y == 6 || x == 0 || x == 8) {
            ring.add(v[p * 63 + y * 9 + x]);
          }
        }
      }
      double mean = ring.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
      for (double r : ring) {
        ss += (r - mean) * (r - mean);
      }
      n = ring.size();
    }
    assertEquals(28, n);
    assertEquals(0.7 * ss / (2 * 3 * 28), run(g, in).get("frame").toDoubles()[0], 1e-12);
    GradCheck.assertGradient(g, in, List.of("img"), 1e-6, GradCheck.TOL_F64, 5);
    assertThrows(IllegalArgumentException.class, () -> new FrameLoss(0, 0.1));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new FrameLoss(1, 0.5));
    assertTrue(e.getMessage().contains("band") && e.getMessage().contains("0.5"), e.getMessage());
  }

  /** A stand-in restorer, r = tanh(0.8 d + 0.1) in [-1, 1]: nonlinear, so a gradient through it would show. */
  private static Graph tanhRestorer() {
    GraphBuilder r = new GraphBuilder("restorer");
    Value d = r.input("damaged", DType.FLOAT, Shape.of(1, 3, 4, 5));
    r.output("restored", r.op("Tanh").in(r.add(r.mul(d, r.scalarLike(0.8, d)), r.scalarLike(0.1, d))).out());
    return r.build();
  }

  @Test
  void restorationPriorPullsThePictureTowardsItsStoppedRestoration() {
    RestorationPrior prior = new RestorationPrior(tanhRestorer(), "damaged", "restored", 3, 10, 4);
    GraphBuilder b = new GraphBuilder("prior");
    Value img = b.input("img", DType.DOUBLE, Shape.of(1, 3, 4, 5));
    b.output("loss", prior.loss(b, img, "restore"));
    Graph g = b.build();
    Graph grad = Autodiff.differentiate(g, GradientRequest.ofLoss("loss", "img"));
    double[] x = new double[60];
    SplittableRandom rnd = new SplittableRandom(3);
    for (int i = 0; i < x.length; i++) {
      x[i] = rnd.nextDouble() * 1.2 - 0.1; // some pixels outside [0, 1], as an unclamped picture can be
    }
    double w = prior.weightAt(11); // iteration 11: two of the four ramp steps
    assertEquals(1.5, w, 1e-12);
    Map<String, Tensor> in = Map.of("img", Tensor.ofDoubles(new long[] {1, 3, 4, 5}, x), RestorationPrior.WEIGHT_INPUT,
        Tensor.scalar(DType.DOUBLE, w));
    Map<String, Tensor> out = run(grad, in);
    // Reference, written out: the target t = clamp((tanh(0.8 (2x - 1) + 0.1) + 1) / 2, 0, 1) (float32 restorer).
    double loss = 0;
    double[] t = new double[60];
    for (int i = 0; i < 60; i++) {
      t[i] = Math.max(0, Math.min(1, (Math.tanh(0.8 * (2 * x[i] - 1) + 0.1) + 1) / 2));
      loss += (x[i] - t[i]) * (x[i] - t[i]) / 60;
    }
    assertEquals(w * loss, out.get("loss").toDoubles()[0], 1e-6);
    // The gradient is that of the distance to a fixed target: central differences with t held fixed.
    double[] gx = out.get(GradientRequest.gradName("img")).toDoubles();
    double h = 1e-6;
    for (int i = 0; i < 60; i++) {
      double up = (x[i] + h - t[i]) * (x[i] + h - t[i]);
      double down = (x[i] - h - t[i]) * (x[i] - h - t[i]);
      assertEquals(w * (up - down) / (2 * h) / 60, gx[i], 2e-7, "pixel " + i);
    }
    // Before the start the term is off; after the ramp it has its full weight.
    assertEquals(0, prior.weightAt(9));
    assertEquals(3, prior.weightAt(100));
    assertEquals(0f, prior.stepInputs(0).get(RestorationPrior.WEIGHT_INPUT).toFloats()[0]);
  }

  @Test
  void restorationPriorRefusesBadArgumentsByName() {
    Graph r = tanhRestorer();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new RestorationPrior(r, "x", "restored", 1, 0, 0));
    assertTrue(e.getMessage().contains("'x'") && e.getMessage().contains("damaged"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new RestorationPrior(r, "damaged", "y", 1, 0, 0));
    assertTrue(e.getMessage().contains("'y'") && e.getMessage().contains("restored"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new RestorationPrior(r, "damaged", "restored", Double.NaN, 0, 0));
    assertTrue(e.getMessage().contains("weight") && e.getMessage().contains("NaN"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new RestorationPrior(r, "damaged", "restored", 1, -1, 0));
    assertTrue(e.getMessage().contains("start") && e.getMessage().contains("-1"), e.getMessage());
    GraphBuilder b = new GraphBuilder("prior");
    Value img = b.input("img", DType.FLOAT, Shape.of(1, 3, 8, 8));
    RestorationPrior p = new RestorationPrior(r, "damaged", "restored", 1, 0, 0);
    e = assertThrows(IllegalArgumentException.class, () -> p.loss(b, img, "restore"));
    assertTrue(e.getMessage().contains("damaged"), e.getMessage());
  }

  @Test
  void regularizersMatchTheirFormulasAndGradients() {
    GraphBuilder b = new GraphBuilder("reg");
    Value z = b.input("z", DType.DOUBLE, Shape.of(1, 2, 3, 4));
    Value t = b.input("t", DType.DOUBLE, Shape.of(1, 2, 3, 4));
    Value w = b.input("w", DType.DOUBLE, Shape.scalar());
    b.output("reg", LatentRegularization.loss(b, z, t, w));
    b.output("tv", TotalVariation.loss(b, z, w));
    Graph g = b.build();
    Map<String, Tensor> in = GradCheck.randomInputs(g, Map.of("w", Tensor.scalar(DType.DOUBLE, 0.3)), 5);
    Map<String, Tensor> out = run(g, in);
    double[] zv = in.get("z").toDoubles();
    double[] tv = in.get("t").toDoubles();
    double mse = 0;
    for (int i = 0; i < zv.length; i++) {
      mse += (zv[i] - tv[i]) * (zv[i] - tv[i]) / zv.length;
    }
    assertEquals(0.3 * mse / 2, out.get("reg").toDoubles()[0], 1e-12);
    double tvRef = 0;
    for (int c = 0; c < 2; c++) {
      for (int y = 0; y < 3; y++) {
        for (int x = 0; x < 4; x++) {
          double p = zv[(c * 3 + y) * 4 + x];
          double dx = x + 1 < 4 ? zv[(c * 3 + y) * 4 + x + 1] - p : 0;
          double dy = y + 1 < 3 ? zv[(c * 3 + y + 1) * 4 + x] - p : 0;
          tvRef += (dx * dx + dy * dy) / 24;
        }
      }
    }
    assertEquals(0.3 * tvRef / 4, out.get("tv").toDoubles()[0], 1e-12);
    GradCheck.assertGradient(g, in, List.of("z"), 1e-6, GradCheck.TOL_F64, 5);
  }

  @Test
  void decaySchedules() {
    assertEquals(2.0, new LatentRegularization.Decay.Constant().weightAt(2, 100));
    assertEquals(2.0 / 21, new LatentRegularization.Decay.Harmonic().weightAt(2, 10), 1e-15);
    LatentRegularization.Decay lin = LatentRegularization.Decay.parse("linear:50:5");
    assertEquals(1.5, lin.weightAt(1.5, 49), 1e-15);
    assertEquals(1.2, lin.weightAt(1.5, 50), 1e-15);
    assertEquals(0.3, lin.weightAt(1.5, 200), 1e-12);
    assertEquals(0.0, lin.weightAt(1.5, 250));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LatentRegularization.Decay.parse("cubic"));
    assertTrue(e.getMessage().contains("cubic") && e.getMessage().contains("harmonic"), e.getMessage());
  }

  @Test
  void promptLossGraphRunsOnCuda() {
    Graph g = promptLoss(DType.FLOAT, 8, 1, 16);
    Graph grad = Autodiff.differentiate(g, GradientRequest.ofSeeds(List.of("loss"), List.of("u")));
    assertEquals(List.of(), CudaCoverage.check(grad));
  }
}
