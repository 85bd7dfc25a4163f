package ai.vqclip.augment;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.DType;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Measures aliasing on a zone plate (a chirp whose local frequency rises to the source Nyquist
 * limit at the corners) cut into crops of 16..96 px resampled to 16: the graph's cutouts against
 * the plain-Java B.5 reference (Lanczos-2 prefilter + bicubic), next to the alternatives without a
 * prefilter — bicubic only, one bilinear sample per output pixel (a single GridSample) and
 * bilinear supersampling by k followed by k x k averaging.
 */
class AliasingTest {
  private static final int N = 96;
  private static final int S = 16;
  private static final int CUTN = 16;

  private static double zonePlate(int y, int x) {
    double r2 = (x - N / 2.0) * (x - N / 2.0) + (y - N / 2.0) * (y - N / 2.0);
    // local frequency r / (2 sqrt2 N / 2) cycles per pixel: 0.5 at the corners
    return 0.5 + 0.5 * Math.cos(Math.PI * r2 / (Math.sqrt(2) * N));
  }

  /** Bilinear supersampling of a [size][size] plane at k x k points per output pixel, averaged. */
  private static double[][] supersample(double[][] p, int s, int k) {
    int size = p.length;
    double[][] o = new double[s][s];
    for (int y = 0; y < s; y++) {
      for (int x = 0; x < s; x++) {
        double a = 0;
        for (int j = 0; j < k; j++) {
          for (int i = 0; i < k; i++) {
            double u = (x + (i + 0.5) / k) * size / s;
            double v = (y + (j + 0.5) / k) * size / s;
            a += Ref.bilinear(p, u, v, true);
          }
        }
        o[y][x] = a / (k * k);
      }
    }
    return o;
  }

  @Test
  void graphCutoutsMatchTheLanczosReferenceWhileUnfilteredSamplingAliases() {
    double[] img = new double[3 * N * N];
    for (int c = 0; c < 3; c++) {
      for (int y = 0; y < N; y++) {
        for (int x = 0; x < N; x++) {
          img[c * N * N + y * N + x] = zonePlate(y, x);
        }
      }
    }
    Tensor image = Tensor.fromDoubles(DType.FLOAT, new long[] {1, 3, N, N}, img);
    long seed = 2024;
    double[][] graph = new double[2][];
    for (int aa = 0; aa < 2; aa++) {
      Cutouts c = Cutouts.create(Cutouts.Config.original(CUTN, S, 1.0).withClamp(false).withAntialias(aa == 1), N, N);
      Map<String, Tensor> feed = new HashMap<>(c.sample(new SplittableRandom(seed)));
      feed.put(Cutouts.IMAGE, image);
      graph[aa] = Ref.run(c.fragment(), feed);
    }
    Cutouts.Crop[] crops = Cutouts.create(Cutouts.Config.original(CUTN, S, 1.0), N, N).drawCrops(new SplittableRandom(seed));
    double[][][][] ref = new double[CUTN][3][][];
    double[][][][] bil = new double[CUTN][3][][];
    double[][][][] ss2 = new double[CUTN][3][][];
    double[][][][] ss4 = new double[CUTN][3][][];
    for (int i = 0; i < CUTN; i++) {
      for (int c = 0; c < 3; c++) {
        double[][] crop = Ref.crop(img, N, N, c, crops[i].x(), crops[i].y(), crops[i].size());
        ref[i][c] = Ref.resample(crop, S, true);
        bil[i][c] = supersample(crop, S, 1);
        ss2[i][c] = supersample(crop, S, 2);
        ss4[i][c] = supersample(crop, S, 4);
      }
    }
    double[] r = Ref.flatten(ref);
    double graphAa = Ref.maxAbsDiff(graph[1], r);
    double rmsAa = Ref.rms(graph[1], r);
    double rmsCubic = Ref.rms(graph[0], r);
    double rmsBil = Ref.rms(Ref.flatten(bil), r);
    double rms2 = Ref.rms(Ref.flatten(ss2), r);
    double rms4 = Ref.rms(Ref.flatten(ss4), r);
    System.out.printf("zone plate %dx%d, %d crops of 16..96 px -> %d, error against the B.5 Lanczos reference:%n", N, N, CUTN, S);
    System.out.printf("  graph, antialias (Lanczos matrices): max %.3g, rms %.3g%n", graphAa, rmsAa);
    System.out.printf("  graph, bicubic only:                 rms %.3g%n", rmsCubic);
    System.out.printf("  bilinear, 1 sample per pixel:        rms %.3g%n", rmsBil);
    System.out.printf("  bilinear supersampled 2x2 + average: rms %.3g%n", rms2);
    System.out.printf("  bilinear supersampled 4x4 + average: rms %.3g%n", rms4);
    assertTrue(graphAa < 1e-5, "graph vs reference " + graphAa);
    assertTrue(rmsCubic > 0.05 && rmsBil > 0.05, "without a prefilter the zone plate aliases: " + rmsCubic + ", " + rmsBil);
    assertTrue(rms4 < rmsBil, "supersampling reduces aliasing");
  }
}
