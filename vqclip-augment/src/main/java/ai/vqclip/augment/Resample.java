package ai.vqclip.augment;

/**
 * One-dimensional resampling operators as dense matrices: the B.5 {@code resample} (Lanczos-2
 * prefilter with reflect padding when downscaling, then bicubic interpolation with A = -0.75 and
 * align_corners = true) and adaptive average pooling. A 2-D square resample is separable, so a
 * crop resampled to S x S is {@code A_y X A_x^T} with one such matrix per axis; the graph applies
 * it as two MatMuls, which makes the prefilter exact (no approximation of the per-cutout ratio)
 * and keeps the backward pass a pair of GEMMs.
 */
final class Resample {
  private Resample() {}

  /** sinc(x) = sin(pi x) / (pi x), sinc(0) = 1. */
  static double sinc(double x) {
    if (x == 0) {
      return 1;
    }
    double p = Math.PI * x;
    return Math.sin(p) / p;
  }

  /** Lanczos-2: sinc(x) sinc(x/2) for |x| < 2, else 0. */
  static double lanczos2(double x) {
    return Math.abs(x) < 2 ? sinc(x) * sinc(x / 2) : 0;
  }

  /**
   * The normalised Lanczos-2 prefilter for downscaling {@code src} samples to {@code dst}: taps at
   * k * ratio for k = -(n-2) .. n-2 with ratio = dst/src and n = ceil(2/ratio + 1) (METHOD.md B.5).
   */
  static double[] lanczosKernel(int src, int dst) {
    double ratio = (double) dst / src;
    int n = (int) Math.ceil(2 / ratio + 1);
    int half = n - 2;
    double[] k = new double[2 * half + 1];
    double sum = 0;
    for (int i = -half; i <= half; i++) {
      double w = lanczos2(i * ratio);
      k[i + half] = w;
      sum += w;
    }
    for (int i = 0; i < k.length; i++) {
      k[i] /= sum;
    }
    return k;
  }

  /** Index {@code i} reflected into [0, len) without repeating the edge sample (PyTorch 'reflect'). */
  static int reflect(int i, int len) {
    if (len == 1) {
      return 0;
    }
    int period = 2 * (len - 1);
    int m = Math.floorMod(i, period);
    return m < len ? m : period - m;
  }

  /** PyTorch's cubic convolution kernel with A = -0.75. */
  static double cubic(double d) {
    double a = -0.75;
    double x = Math.abs(d);
    if (x <= 1) {
      return ((a + 2) * x - (a + 3)) * x * x + 1;
    }
    if (x < 2) {
      return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
    }
    return 0;
  }

  /** The [dst, src] bicubic interpolation matrix with align_corners = true and clamped taps. */
  static double[][] bicubic(int src, int dst) {
    double[][] m = new double[dst][src];
    double scale = dst > 1 ? (double) (src - 1) / (dst - 1) : 0;
    for (int o = 0; o < dst; o++) {
      double p = o * scale;
      int x0 = (int) Math.floor(p);
      double t = p - x0;
      for (int k = -1; k <= 2; k++) {
        int idx = Math.max(0, Math.min(src - 1, x0 + k));
        m[o][idx] += cubic(k - t);
      }
    }
    return m;
  }

  /**
   * The [dst, src] matrix of B.5's resample along one axis: when {@code antialias} and dst < src,
   * the reflect-padded Lanczos-2 prefilter, then bicubic interpolation to {@code dst}.
   */
  static double[][] resample(int src, int dst, boolean antialias) {
    double[][] cub = bicubic(src, dst);
    if (!antialias || dst >= src) {
      return cub;
    }
    double[] k = lanczosKernel(src, dst);
    int half = (k.length - 1) / 2;
    // prefilter: pre[i] = sum_t k[t] in[reflect(i + t - half)]; each bicubic row has at most 4
    // non-zero taps, so the product is built tap by tap in O(dst * 4 * kernel) without the
    // [src, src] prefilter matrix
    double[][] m = new double[dst][src];
    for (int o = 0; o < dst; o++) {
      for (int i = 0; i < src; i++) {
        double c = cub[o][i];
        if (c != 0) {
          for (int t = 0; t < k.length; t++) {
            m[o][reflect(i + t - half, src)] += c * k[t];
          }
        }
      }
    }
    return m;
  }

  /** First input index of adaptive-pooling window {@code o} (PyTorch: floor(o * in / out)). */
  static int poolStart(int o, int src, int dst) {
    return (int) Math.floorDiv((long) o * src, dst);
  }

  /** End (exclusive) of adaptive-pooling window {@code o} (PyTorch: ceil((o + 1) * in / out)). */
  static int poolEnd(int o, int src, int dst) {
    return (int) -Math.floorDiv(-(long) (o + 1) * src, dst);
  }

  /** The [dst, src] adaptive average pooling matrix. */
  static double[][] adaptiveAverage(int src, int dst) {
    double[][] m = new double[dst][src];
    for (int o = 0; o < dst; o++) {
      int s = poolStart(o, src, dst);
      int e = poolEnd(o, src, dst);
      for (int i = s; i < e; i++) {
        m[o][i] = 1.0 / (e - s);
      }
    }
    return m;
  }

  /**
   * Adaptive max pooling windows as an index table [dst, kmax] (row-major): window {@code o}'s
   * indices, padded by repeating its last index (a repeated element changes neither the max nor,
   * after the gather's scatter-add, its gradient).
   */
  static long[] adaptiveMaxIndices(int src, int dst, int[] kmaxOut) {
    int kmax = 0;
    for (int o = 0; o < dst; o++) {
      kmax = Math.max(kmax, poolEnd(o, src, dst) - poolStart(o, src, dst));
    }
    long[] idx = new long[dst * kmax];
    for (int o = 0; o < dst; o++) {
      int s = poolStart(o, src, dst);
      int e = poolEnd(o, src, dst);
      for (int k = 0; k < kmax; k++) {
        idx[o * kmax + k] = Math.min(s + k, e - 1);
      }
    }
    kmaxOut[0] = kmax;
    return idx;
  }
}
