package ai.vqclip.augment;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.onnx.OrtExecutable;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Plain-Java references written with direct loops, independent of the matrix and grid
 * construction in main, plus small helpers to run graphs.
 */
final class Ref {
  private Ref() {}

  /** Runs a graph on the CPU and returns its first output as doubles. */
  static double[] run(Graph g, Map<String, Tensor> feed) {
    try (OrtExecutable ex = OrtExecutable.create(g, ExecutionOptions.cpu().withThreads(1))) {
      return ex.run(feed).get(g.outputs().get(0).name()).toDoubles();
    }
  }

  /** A random image [1, 3, h, w] with values in [lo, hi). */
  static Tensor image(int h, int w, long seed, double lo, double hi) {
    SplittableRandom r = new SplittableRandom(seed);
    double[] d = new double[3 * h * w];
    for (int i = 0; i < d.length; i++) {
      d[i] = lo + (hi - lo) * r.nextDouble();
    }
    return Tensor.fromDoubles(ai.vqclip.core.graph.DType.FLOAT, new long[] {1, 3, h, w}, d);
  }

  static double maxAbsDiff(double[] a, double[] b) {
    if (a.length != b.length) {
      throw new AssertionError("lengths differ: " + a.length + " vs " + b.length);
    }
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]));
    }
    return m;
  }

  static double rms(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += (a[i] - b[i]) * (a[i] - b[i]);
    }
    return Math.sqrt(s / a.length);
  }

  // ------------------------------------------------------------ B.5 resample, by the text

  static double sinc(double x) {
    return x == 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
  }

  /** One channel [size][size] cropped at (x, y) from image plane {@code c} of a [1,3,h,w] image. */
  static double[][] crop(double[] img, int h, int w, int c, int x, int y, int size) {
    double[][] o = new double[size][size];
    for (int i = 0; i < size; i++) {
      for (int j = 0; j < size; j++) {
        o[i][j] = img[c * h * w + (y + i) * w + x + j];
      }
    }
    return o;
  }

  /** PyTorch reflect of index i into [0, n) (repeatedly, for pads wider than the input). */
  static int refl(int i, int n) {
    while (i < 0 || i >= n) {
      if (i < 0) {
        i = -i;
      }
      if (i >= n) {
        i = 2 * (n - 1) - i;
      }
      if (n == 1) {
        return 0;
      }
    }
    return i;
  }

  /** B.5 resample of a square plane to s x s: Lanczos prefilter (height then width) and bicubic. */
  static double[][] resample(double[][] in, int s, boolean antialias) {
    int n = in.length;
    double[][] x = in;
    if (antialias && s < n) {
      double ratio = (double) s / n;
      int len = (int) Math.ceil(2 / ratio + 1);
      // ramp: 0, r, 2r, ... (len values), mirrored, first and last dropped
      double[] full = new double[2 * len - 1];
      for (int k = 0; k < 2 * len - 1; k++) {
        full[k] = (k - (len - 1)) * ratio;
      }
      double[] kern = new double[2 * len - 3];
      double sum = 0;
      for (int k = 0; k < kern.length; k++) {
        double t = full[k + 1];
        kern[k] = (-2 < t && t < 2) ? sinc(t) * sinc(t / 2) : 0;
        sum += kern[k];
      }
      for (int k = 0; k < kern.length; k++) {
        kern[k] /= sum;
      }
      int pad = (kern.length - 1) / 2;
      double[][] v = new double[n][n];
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
          double a = 0;
          for (int k = 0; k < kern.length; k++) {
            a += kern[k] * x[refl(i + k - pad, n)][j];
          }
          v[i][j] = a;
        }
      }
      double[][] hz = new double[n][n];
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
          double a = 0;
          for (int k = 0; k < kern.length; k++) {
            a += kern[k] * v[i][refl(j + k - pad, n)];
          }
          hz[i][j] = a;
        }
      }
      x = hz;
    }
    double[][] o = new double[s][s];
    double sc = s > 1 ? (n - 1.0) / (s - 1.0) : 0;
    for (int oy = 0; oy < s; oy++) {
      double py = oy * sc;
      int y0 = (int) Math.floor(py);
      for (int ox = 0; ox < s; ox++) {
        double px = ox * sc;
        int x0 = (int) Math.floor(px);
        double a = 0;
        for (int ky = -1; ky <= 2; ky++) {
          double wy = cubicW(py - (y0 + ky));
          for (int kx = -1; kx <= 2; kx++) {
            double wx = cubicW(px - (x0 + kx));
            a += wy * wx * x[clamp(y0 + ky, n)][clamp(x0 + kx, n)];
          }
        }
        o[oy][ox] = a;
      }
    }
    return o;
  }

  static int clamp(int i, int n) {
    return Math.max(0, Math.min(n - 1, i));
  }

  /** Keys' cubic with A = -0.75. */
  static double cubicW(double d) {
    double t = Math.abs(d);
    double a = -0.75;
    if (t <= 1) {
      return (a + 2) * t * t * t - (a + 3) * t * t + 1;
    }
    if (t < 2) {
      return a * t * t * t - 5 * a * t * t + 8 * a * t - 4 * a;
    }
    return 0;
  }

  /** Bilinear sample (align_corners = 0) of plane p [s][s] at continuous coords (u, v). */
  static double bilinear(double[][] p, double u, double v, boolean border) {
    int s = p.length;
    double px = u - 0.5;
    double py = v - 0.5;
    if (border) {
      px = Math.max(0, Math.min(s - 1, px));
      py = Math.max(0, Math.min(s - 1, py));
    }
    int x0 = (int) Math.floor(px);
    int y0 = (int) Math.floor(py);
    double fx = px - x0;
    double fy = py - y0;
    double a = 0;
    for (int dy = 0; dy <= 1; dy++) {
      for (int dx = 0; dx <= 1; dx++) {
        int yy = y0 + dy;
        int xx = x0 + dx;
        double w = (dy == 1 ? fy : 1 - fy) * (dx == 1 ? fx : 1 - fx);
        if (yy >= 0 && yy < s && xx >= 0 && xx < s) {
          a += w * p[yy][xx];
        }
      }
    }
    return a;
  }

  /** Flattens [n][3][s][s] planes. */
  static double[] flatten(double[][][][] x) {
    int n = x.length;
    int s = x[0][0].length;
    double[] d = new double[n * 3 * s * s];
    int k = 0;
    for (double[][][] c : x) {
      for (double[][] p : c) {
        for (double[] row : p) {
          for (double v : row) {
            d[k++] = v;
          }
        }
      }
    }
    return d;
  }

  /** Unflattens [n, 3, s, s]. */
  static double[][][][] unflatten(double[] d, int n, int s) {
    double[][][][] x = new double[n][3][s][s];
    int k = 0;
    for (int i = 0; i < n; i++) {
      for (int c = 0; c < 3; c++) {
        for (int y = 0; y < s; y++) {
          for (int xx = 0; xx < s; xx++) {
            x[i][c][y][xx] = d[k++];
          }
        }
      }
    }
    return x;
  }
}
