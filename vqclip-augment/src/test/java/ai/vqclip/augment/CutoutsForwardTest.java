package ai.vqclip.augment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.Augmentation;
import ai.vqclip.core.GeometricAugmentation;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
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
 * Every stage's forward pass against a plain-Java reference written with direct loops from the
 * same sampled parameters (same seed), to 1e-5 (the graphs run in float32).
 */
class CutoutsForwardTest {
  private static final double TOL = 1e-5;
  private static final long SEED = 42;

  static Stream<Arguments> cropCases() {
    return Stream.of(
        Arguments.of(12, 10, 8, true), // B.5 brief case: crops of 8..10 px down to 8
        Arguments.of(12, 10, 8, false),
        Arguments.of(40, 36, 8, true), // ratios down to 8/36: long Lanczos kernels, reflect padding
        Arguments.of(40, 36, 8, false),
        Arguments.of(6, 7, 8, true)); // image smaller than S: crops are upscaled, no prefilter
  }

  @ParameterizedTest(name = "[1,3,{0},{1}] -> S={2} antialias={3}")
  @MethodSource("cropCases")
  void cropsMatchTheB5Resample(int h, int w, int s, boolean antialias) {
    int n = 5;
    Cutouts c = Cutouts.create(Cutouts.Config.original(n, s, 1.0).withAntialias(antialias), h, w);
    Tensor img = Ref.image(h, w, SEED, 0, 1);
    Map<String, Tensor> feed = new HashMap<>(c.sample(new SplittableRandom(SEED)));
    feed.put(Cutouts.IMAGE, img);
    double[] got = Ref.run(c.fragment(), feed);
    Cutouts.Crop[] crops = c.drawCrops(new SplittableRandom(SEED));
    double[] im = img.toDoubles();
    double[][][][] ref = new double[n][3][][];
    for (int i = 0; i < n; i++) {
      for (int ch = 0; ch < 3; ch++) {
        double[][] r = Ref.resample(Ref.crop(im, h, w, ch, crops[i].x(), crops[i].y(), crops[i].size()), s, antialias);
        for (double[] row : r) {
          for (int k = 0; k < row.length; k++) {
            row[k] = Math.max(0, Math.min(1, row[k])); // original ends with the clamp
          }
        }
        ref[i][ch] = r;
      }
    }
    double err = Ref.maxAbsDiff(got, Ref.flatten(ref));
    System.out.printf("crops [1,3,%d,%d] -> %d antialias=%b: max |graph - reference| = %.3g%n", h, w, s, antialias, err);
    assertTrue(err < TOL, "max error " + err);
  }

  @Test
  void pooledCutoutsMatchAdaptiveAvgPlusMaxPooling() {
    int h = 12;
    int w = 10;
    int s = 8;
    int n = 3;
    Cutouts c = Cutouts.create(Cutouts.Config.original(n, s, 1.0).withPooled(true).withClamp(false), h, w);
    Tensor img = Ref.image(h, w, SEED, -0.2, 1.2);
    Map<String, Tensor> feed = new HashMap<>(c.sample(new SplittableRandom(SEED)));
    assertTrue(feed.isEmpty(), "pooled cutouts without augmentations have no parameters: " + feed.keySet());
    feed.put(Cutouts.IMAGE, img);
    double[] got = Ref.run(c.fragment(), feed);
    double[] im = img.toDoubles();
    double[][][][] ref = new double[n][3][s][s];
    for (int ch = 0; ch < 3; ch++) {
      for (int oy = 0; oy < s; oy++) {
        int y0 = oy * h / s;
        int y1 = ((oy + 1) * h + s - 1) / s;
        for (int ox = 0; ox < s; ox++) {
          int x0 = ox * w / s;
          int x1 = ((ox + 1) * w + s - 1) / s;
          double sum = 0;
          double max = Double.NEGATIVE_INFINITY;
          for (int y = y0; y < y1; y++) {
            for (int x = x0; x < x1; x++) {
              double v = im[ch * h * w + y * w + x];
              sum += v;
              max = Math.max(max, v);
            }
          }
          for (int i = 0; i < n; i++) {
            ref[i][ch][oy][ox] = (sum / ((y1 - y0) * (x1 - x0)) + max) / 2;
          }
        }
      }
    }
    double err = Ref.maxAbsDiff(got, Ref.flatten(ref));
    System.out.printf("pooled [1,3,%d,%d] -> %d: max error %.3g%n", h, w, s, err);
    assertTrue(err < TOL, "max error " + err);
  }

  static Stream<Arguments> geometricCases() {
    return Stream.of(
        Arguments.of("Hf", List.of(new HorizontalFlip(0.5))),
        Arguments.of("Af", List.of(new Affine(30, 0.1, 0.8, 1.2, 10, 0.9))),
        Arguments.of("Ro", List.of(Affine.rotation(15, 1))),
        Arguments.of("Pe", List.of(new Perspective(0.7, 0.9))),
        Arguments.of("Re", List.of(new ResizedCrop(0.1, 1, 0.75, 1.333, 1))),
        Arguments.of("Hf+Af+Pe+Re", List.of(new HorizontalFlip(0.5), new Affine(15, 0.1, 1, 1, 5, 1), new Perspective(0.5, 1),
            new ResizedCrop(0.3, 1, 0.75, 1.333, 0.5))));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("geometricCases")
  void geometricStageMatchesBilinearSamplingOfTheComposedHomography(String name, List<GeometricAugmentation> geo) {
    int h = 12;
    int w = 10;
    int s = 8;
    int n = 6;
    for (Cutouts.Padding pad : Cutouts.Padding.values()) {
      Cutouts.Config cfg = Cutouts.Config.original(n, s, 1.0).withAugmentations(geo, List.of()).withClamp(false).withPadding(pad);
      Cutouts c = Cutouts.create(cfg, h, w);
      Tensor img = Ref.image(h, w, SEED, 0, 1);
      Map<String, Tensor> feed = new HashMap<>(c.sample(new SplittableRandom(SEED)));
      feed.put(Cutouts.IMAGE, img);
      double[] got = Ref.run(c.fragment(), feed);
      // the reference replays the draws: crops, then each augmentation in order
      SplittableRandom rng = new SplittableRandom(SEED);
      Cutouts.Crop[] crops = c.drawCrops(rng);
      double[][][] hs = new double[geo.size()][][];
      for (int k = 0; k < geo.size(); k++) {
        hs[k] = geo.get(k).sample(rng, n, s);
      }
      double[] im = img.toDoubles();
      double[][][][] ref = new double[n][3][s][s];
      for (int i = 0; i < n; i++) {
        for (int ch = 0; ch < 3; ch++) {
          double[][] cut = Ref.resample(Ref.crop(im, h, w, ch, crops[i].x(), crops[i].y(), crops[i].size()), s, true);
          for (int y = 0; y < s; y++) {
            for (int x = 0; x < s; x++) {
              // the last augmentation's map is applied first: output -> ... -> cutout
              double u = x + 0.5;
              double v = y + 0.5;
              for (int k = geo.size() - 1; k >= 0; k--) {
                double[] m = hs[k][i];
                double d = m[6] * u + m[7] * v + m[8];
                double nu = (m[0] * u + m[1] * v + m[2]) / d;
                double nv = (m[3] * u + m[4] * v + m[5]) / d;
                u = nu;
                v = nv;
              }
              ref[i][ch][y][x] = Ref.bilinear(cut, u, v, pad == Cutouts.Padding.BORDER);
            }
          }
        }
      }
      double err = Ref.maxAbsDiff(got, Ref.flatten(ref));
      System.out.printf("geometric %s padding %s: max error %.3g%n", name, pad, err);
      assertTrue(err < TOL, name + " " + pad + ": max error " + err);
    }
  }

  @Test
  void homographiesMapPointsAsDocumented() {
    int s = 8;
    // flip: output x samples source S - x
    double[] f = new HorizontalFlip(1).sample(new SplittableRandom(1), 1, s)[0];
    assertArrayEquals(new double[] {7.5, 2.5}, Homography.apply(f, 0.5, 2.5), 1e-12);
    // perspective: the moved corners sample the source corners
    Perspective pe = new Perspective(0.6, 1);
    SplittableRandom r = new SplittableRandom(3);
    double[] m = pe.sample(r, 1, s)[0];
    SplittableRandom r2 = new SplittableRandom(3);
    r2.nextDouble();
    double[][] corners = {{0, 0}, {s, 0}, {s, s}, {0, s}};
    double[][] in = {{1, 1}, {-1, 1}, {-1, -1}, {1, -1}};
    for (int k = 0; k < 4; k++) {
      double mx = corners[k][0] + in[k][0] * 0.6 * s / 2 * r2.nextDouble();
      double my = corners[k][1] + in[k][1] * 0.6 * s / 2 * r2.nextDouble();
      assertArrayEquals(corners[k], Homography.apply(m, mx, my), 1e-9);
    }
    // a 90 degree rotation about the centre keeps the centre and maps the corners onto corners
    double[] rot = new Affine(90, 0, 1, 1, 0, 1).sample(new SplittableRandom(5), 1, s)[0];
    assertArrayEquals(new double[] {4, 4}, Homography.apply(rot, 4, 4), 1e-9);
    assertArrayEquals(Homography.identity(), Homography.multiply(rot, Homography.invert(rot)), 1e-12);
  }

  // ---------------------------------------------------------------- pixel augmentations

  /** A graph x [n,3,s,s] -> aug(x) and the result for input x and the sampled parameters. */
  private static double[] runPixel(Augmentation aug, Tensor x, Map<String, Tensor> params) {
    long[] xs = x.shape();
    GraphBuilder b = new GraphBuilder("pixel");
    Value in = b.input("x", DType.FLOAT, Shape.of(xs));
    b.output("y", aug.apply(b, in, "p."));
    Graph g = b.build();
    Map<String, Tensor> feed = new HashMap<>();
    feed.put("x", x);
    params.forEach((k, v) -> feed.put("p." + k, v));
    assertEquals(g.inputs().size(), feed.size(), "every declared input is fed");
    return Ref.run(g, feed);
  }

  private static Tensor batch(int n, int s, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    double[] d = new double[n * 3 * s * s];
    for (int i = 0; i < d.length; i++) {
      d[i] = r.nextDouble();
    }
    return Tensor.fromDoubles(DType.FLOAT, new long[] {n, 3, s, s}, d);
  }

  /** Solves the 3x3 system m v = r by Cramer's rule. */
  private static double[] solve3(double[][] m, double[] r) {
    double det = det3(m);
    double[] v = new double[3];
    for (int k = 0; k < 3; k++) {
      double[][] mk = new double[3][];
      for (int i = 0; i < 3; i++) {
        mk[i] = m[i].clone();
        mk[i][k] = r[i];
      }
      v[k] = det3(mk) / det;
    }
    return v;
  }

  private static double det3(double[][] m) {
    return m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  }

  @Test
  void colorJitterMatchesSequentialFactors() {
    int n = 6;
    int s = 5;
    ColorJitter cj = new ColorJitter(0.3, 0.4, 0.5, 0.2, 0.8);
    Tensor x = batch(n, s, SEED);
    double[] got = runPixel(cj, x, cj.sample(new SplittableRandom(SEED), n, s));
    ColorJitter.Factors[] f = cj.draw(new SplittableRandom(SEED), n);
    double[][][][] xs = Ref.unflatten(x.toDoubles(), n, s);
    double[][] yiq = {{0.299, 0.587, 0.114}, {0.596, -0.274, -0.322}, {0.211, -0.523, 0.312}};
    double[][][][] ref = new double[n][3][s][s];
    for (int i = 0; i < n; i++) {
      // brightness
      double[][][] p = new double[3][s][s];
      for (int c = 0; c < 3; c++) {
        for (int y = 0; y < s; y++) {
          for (int xx = 0; xx < s; xx++) {
            p[c][y][xx] = xs[i][c][y][xx] * f[i].brightness();
          }
        }
      }
      // contrast: blend with the mean grey of the whole cutout
      double mean = 0;
      for (int y = 0; y < s; y++) {
        for (int xx = 0; xx < s; xx++) {
          mean += 0.299 * p[0][y][xx] + 0.587 * p[1][y][xx] + 0.114 * p[2][y][xx];
        }
      }
      mean /= s * s;
      for (int y = 0; y < s; y++) {
        for (int xx = 0; xx < s; xx++) {
          double[] rgb = new double[3];
          for (int c = 0; c < 3; c++) {
            rgb[c] = f[i].contrast() * p[c][y][xx] + (1 - f[i].contrast()) * mean;
          }
          // saturation: blend with the pixel's grey
          double g = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
          for (int c = 0; c < 3; c++) {
            rgb[c] = f[i].saturation() * rgb[c] + (1 - f[i].saturation()) * g;
          }
          // hue: rotate the chroma (I, Q) of YIQ
          double[] q = new double[3];
          for (int r = 0; r < 3; r++) {
            q[r] = yiq[r][0] * rgb[0] + yiq[r][1] * rgb[1] + yiq[r][2] * rgb[2];
          }
          double a = 2 * Math.PI * f[i].hue();
          double ii = Math.cos(a) * q[1] - Math.sin(a) * q[2];
          double qq = Math.sin(a) * q[1] + Math.cos(a) * q[2];
          double[] back = solve3(yiq, new double[] {q[0], ii, qq});
          for (int c = 0; c < 3; c++) {
            ref[i][c][y][xx] = back[c];
          }
        }
      }
    }
    double err = Ref.maxAbsDiff(got, Ref.flatten(ref));
    System.out.printf("ColorJitter: max error %.3g%n", err);
    assertTrue(err < TOL, "max error " + err);
    long changed = Stream.of(f).filter(k -> k.brightness() != 1).count();
    assertTrue(changed > 0 && changed < n, "p = 0.8 should jitter some but (here) not all cutouts: " + changed);
  }

  @Test
  void gaussianNoiseAddsScaledHostNoise() {
    int n = 8;
    int s = 6;
    for (GaussianNoise gn : List.of(GaussianNoise.uniform(0.1), GaussianNoise.fixed(1, 0.5))) {
      Tensor x = batch(n, s, SEED);
      Map<String, Tensor> p = gn.sample(new SplittableRandom(SEED), n, s);
      double[] got = runPixel(gn, x, p);
      double[] sigma = p.get("sigma").toDoubles();
      double[] noise = p.get("noise").toDoubles();
      double[] xd = x.toDoubles();
      double[] ref = new double[xd.length];
      int per = 3 * s * s;
      for (int i = 0; i < n; i++) {
        for (int k = 0; k < per; k++) {
          ref[i * per + k] = xd[i * per + k] + sigma[i] * noise[i * per + k];
        }
        if (gn.uniformSigma()) {
          assertTrue(sigma[i] >= 0 && sigma[i] < 0.1, "sigma " + sigma[i]);
        } else {
          assertTrue(sigma[i] == 0 || sigma[i] == 1, "sigma " + sigma[i]);
        }
      }
      double err = Ref.maxAbsDiff(got, ref);
      System.out.printf("GaussianNoise %s: max error %.3g%n", gn, err);
      assertTrue(err < TOL, "max error " + err);
      // the noise of an active cutout is standard normal
      double sum = 0;
      double sq = 0;
      int cnt = 0;
      for (int i = 0; i < n; i++) {
        if (sigma[i] != 0) {
          for (int k = 0; k < per; k++) {
            sum += noise[i * per + k];
            sq += noise[i * per + k] * noise[i * per + k];
            cnt++;
          }
        }
      }
      assertTrue(cnt > 0);
      assertEquals(0, sum / cnt, 0.15);
      assertEquals(1, sq / cnt, 0.2);
    }
  }

  @Test
  void randomErasingZeroesTheDrawnRectangles() {
    int n = 5;
    int s = 8;
    for (boolean same : new boolean[] {true, false}) {
      RandomErasing er = new RandomErasing(0.1, 0.4, 0.3, 1 / 0.3, same, 0.7);
      Tensor x = batch(n, s, SEED);
      long seed = SEED;
      while (er.draw(new SplittableRandom(seed), n, s)[0] == null) {
        seed++; // the first seed whose first draw erases (deterministic)
      }
      double[] got = runPixel(er, x, er.sample(new SplittableRandom(seed), n, s));
      RandomErasing.Rect[] rects = er.draw(new SplittableRandom(seed), n, s);
      double[][][][] ref = Ref.unflatten(x.toDoubles(), n, s);
      int erased = 0;
      for (int i = 0; i < n; i++) {
        RandomErasing.Rect r = rects[i];
        if (r == null) {
          continue;
        }
        erased++;
        double frac = (double) r.w() * r.h() / (s * s);
        assertTrue(frac > 0.02 && frac <= 0.6, "area fraction " + frac);
        for (int c = 0; c < 3; c++) {
          for (int y = r.y0(); y < r.y0() + r.h(); y++) {
            for (int xx = r.x0(); xx < r.x0() + r.w(); xx++) {
              ref[i][c][y][xx] = 0;
            }
          }
        }
      }
      if (same) {
        for (int i = 1; i < n; i++) {
          assertEquals(rects[0], rects[i], "same_on_batch");
        }
      }
      assertTrue(erased > 0, "nothing erased with seed " + seed);
      double err = Ref.maxAbsDiff(got, Ref.flatten(ref));
      System.out.printf("RandomErasing same=%b: max error %.3g (%d erased)%n", same, err, erased);
      assertTrue(err < TOL, "max error " + err);
    }
  }

  @Test
  void sharpnessBlendsWithTheSmoothedImageInside() {
    int n = 4;
    int s = 7;
    Sharpness sh = new Sharpness(0.9, 0.8);
    Tensor x = batch(n, s, SEED);
    double[] got = runPixel(sh, x, sh.sample(new SplittableRandom(SEED), n, s));
    double[] f = sh.draw(new SplittableRandom(SEED), n);
    double[][][][] xs = Ref.unflatten(x.toDoubles(), n, s);
    double[][][][] ref = new double[n][3][s][s];
    for (int i = 0; i < n; i++) {
      for (int c = 0; c < 3; c++) {
        for (int y = 0; y < s; y++) {
          for (int xx = 0; xx < s; xx++) {
            double v = xs[i][c][y][xx];
            if (y > 0 && y < s - 1 && xx > 0 && xx < s - 1) {
              double blur = 0;
              for (int dy = -1; dy <= 1; dy++) {
                for (int dx = -1; dx <= 1; dx++) {
                  blur += (dy == 0 && dx == 0 ? 5 : 1) * xs[i][c][y + dy][xx + dx];
                }
              }
              blur /= 13;
              v = v + f[i] * (v - blur);
            }
            ref[i][c][y][xx] = v;
          }
        }
      }
    }
    double err = Ref.maxAbsDiff(got, Ref.flatten(ref));
    System.out.printf("Sharpness: max error %.3g%n", err);
    assertTrue(err < TOL, "max error " + err);
  }

  @Test
  void everyNrCodeTogetherRunsAndStaysInRange() {
    int h = 40;
    int w = 36;
    int s = 16;
    for (boolean pooled : new boolean[] {false, true}) {
      Cutouts c = Cutouts.create(Cutouts.Config.withAugments(4, s, 1.0, pooled, "Af Pe Ji Er Sh Gn Hf Re Ro Cr"), h, w);
      Graph g = c.fragment();
      Map<String, Tensor> feed = new HashMap<>(c.sample(new SplittableRandom(SEED)));
      assertEquals(g.inputs().size() - 1, feed.size(), "sample feeds every parameter input");
      feed.put(Cutouts.IMAGE, Ref.image(h, w, SEED, 0, 1));
      double[] y = Ref.run(g, feed);
      assertEquals(4 * 3 * s * s, y.length);
      for (double v : y) {
        assertTrue(v >= 0 && v <= 1, "clamped value " + v);
      }
    }
  }
}
