package ai.vqclip.core.pipeline;

import ai.vqclip.core.Encoder;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.DType;
import java.util.SplittableRandom;

/**
 * CLIP self-masking (METHOD.md §3, step 1): the region of an image that an encoder associates with
 * a text, estimated by Monte-Carlo crops. Each square crop is resized to the encoder's input and
 * scored {@code exp(scale * (cos(crop, text) - max))} (the max subtracted for range: it cancels in
 * the normalisation); every pixel averages the scores of the crops covering it (sums and counts
 * start at one), and the map is normalised to {@code ((M - min) / max)^2}.
 */
public final class SelfMask {
  /** CLIP's logit scale (exp of its learned temperature, about 100). */
  public static final double LOGIT_SCALE = 100;

  private static final int BATCH = 32;

  private SelfMask() {}

  /**
   * The saliency map [H * W] (row-major) of {@code text} in {@code image} [1, 3, H, W].
   *
   * @param encoder scores the crops
   * @param image the image [1, 3, H, W] in [0, 1]
   * @param text what to look for
   * @param samples number of crops
   * @param seed crop positions and sizes
   * @return the saliency, one value per pixel
   */
  public static float[] compute(Encoder encoder, Tensor image, String text, int samples, long seed) {
    long[] s = image.shape();
    int h = (int) s[2];
    int w = (int) s[3];
    int size = encoder.inputResolution();
    float[] px = image.toFloats();
    float[] target = normalize(encoder.embedText(text).toFloats());
    double[] sum = new double[h * w];
    double[] count = new double[h * w];
    java.util.Arrays.fill(sum, 1);
    java.util.Arrays.fill(count, 1);
    SplittableRandom rng = new SplittableRandom(seed);
    int batches = (samples + BATCH - 1) / BATCH;
    int side = Math.min(w, h);
    for (int bi = 0; bi < batches; bi++) {
      int n = Math.min(BATCH, samples - bi * BATCH);
      // The crop scale decays linearly from 0.4 to 0.1 of the image over the batches.
      double c = 0.4 - 0.3 * bi / Math.max(1, batches - 1);
      int maxSide = Math.max(2, (int) Math.floor(side * c));
      int[][] boxes = new int[n][];
      float[] crops = new float[n * 3 * size * size];
      for (int k = 0; k < n; k++) {
        int cs = rng.nextInt(Math.max(1, maxSide / 2), maxSide + 1);
        int x0 = rng.nextInt(0, w - cs + 1);
        int y0 = rng.nextInt(0, h - cs + 1);
        boxes[k] = new int[] {x0, y0, cs};
        resizeCrop(px, h, w, x0, y0, cs, size, crops, k * 3 * size * size);
      }
      float[] emb = encoder.embedImages(Tensor.ofFloats(new long[] {n, 3, size, size}, crops)).toFloats();
      int d = target.length;
      double[] cos = new double[n];
      double max = Double.NEGATIVE_INFINITY;
      for (int k = 0; k < n; k++) {
        float[] e = normalize(java.util.Arrays.copyOfRange(emb, k * d, (k + 1) * d));
        for (int j = 0; j < d; j++) {
          cos[k] += e[j] * target[j];
        }
        max = Math.max(max, cos[k]);
      }
      for (int k = 0; k < n; k++) {
        double score = Math.exp(LOGIT_SCALE * (cos[k] - max));
        int[] bx = boxes[k];
        for (int y = bx[1]; y < bx[1] + bx[2]; y++) {
          for (int x = bx[0]; x < bx[0] + bx[2]; x++) {
            sum[y * w + x] += score;
            count[y * w + x] += 1;
          }
        }
      }
    }
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    double[] m = new double[h * w];
    for (int i = 0; i < m.length; i++) {
      m[i] = sum[i] / count[i];
      min = Math.min(min, m[i]);
      max = Math.max(max, m[i]);
    }
    float[] out = new float[m.length];
    for (int i = 0; i < m.length; i++) {
      double v = (m[i] - min) / max;
      out[i] = (float) (v * v);
    }
    return out;
  }

  /**
   * The binary edit region from a saliency map: pixels at or above the mean of the non-zero values
   * (METHOD.md §3 step 2, with the default inversion: the region CLIP ties to the text is editable),
   * as a [1, 1, H, W] mask.
   *
   * @param saliency the map [H * W] from {@link #compute}
   * @param width W
   * @param height H
   * @return the region, 1 where the image may change
   */
  public static Tensor editRegion(float[] saliency, int width, int height) {
    double total = 0;
    int nonZero = 0;
    for (float v : saliency) {
      if (v > 0) {
        total += v;
        nonZero++;
      }
    }
    double mu = nonZero == 0 ? 0 : total / nonZero;
    float[] m = new float[saliency.length];
    for (int i = 0; i < m.length; i++) {
      m[i] = saliency[i] >= mu && saliency[i] > 0 ? 1f : 0f;
    }
    return Tensor.ofFloats(new long[] {1, 1, height, width}, m);
  }

  private static float[] normalize(float[] v) {
    double n = 0;
    for (float x : v) {
      n += x * x;
    }
    float inv = (float) (1 / Math.sqrt(n));
    float[] o = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      o[i] = v[i] * inv;
    }
    return o;
  }

  /** Bilinear resize of a square crop to size x size (centre-aligned sampling), into {@code out}. */
  private static void resizeCrop(float[] px, int h, int w, int x0, int y0, int cs, int size, float[] out, int offset) {
    double scale = (double) cs / size;
    for (int c = 0; c < 3; c++) {
      for (int y = 0; y < size; y++) {
        double sy = Math.min(cs - 1, Math.max(0, (y + 0.5) * scale - 0.5)) + y0;
        int ya = (int) Math.floor(sy);
        int yb = Math.min(h - 1, ya + 1);
        double fy = sy - ya;
        for (int x = 0; x < size; x++) {
          double sx = Math.min(cs - 1, Math.max(0, (x + 0.5) * scale - 0.5)) + x0;
          int xa = (int) Math.floor(sx);
          int xb = Math.min(w - 1, xa + 1);
          double fx = sx - xa;
          int base = c * h * w;
          double v = (1 - fy) * ((1 - fx) * px[base + ya * w + xa] + fx * px[base + ya * w + xb])
              + fy * ((1 - fx) * px[base + yb * w + xa] + fx * px[base + yb * w + xb]);
          out[offset + (c * size + y) * size + x] = (float) v;
        }
      }
    }
  }

  /** A [1, 3, H, W] image replicating a one-channel map (to pass a mask through the cutout stage). */
  static Tensor asRgb(float[] map, int width, int height) {
    float[] v = new float[3 * map.length];
    for (int c = 0; c < 3; c++) {
      System.arraycopy(map, 0, v, c * map.length, map.length);
    }
    return Tensor.fromDoubles(DType.FLOAT, new long[] {1, 3, height, width}, toDoubles(v));
  }

  private static double[] toDoubles(float[] v) {
    double[] d = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      d[i] = v[i];
    }
    return d;
  }
}
