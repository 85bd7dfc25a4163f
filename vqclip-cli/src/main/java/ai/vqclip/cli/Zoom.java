package ai.vqclip.cli;

import ai.vqclip.core.Tensor;

/**
 * The zoom-video frame transform of nerdyrodent's generate.py: magnify about the centre (bilinear,
 * edges repeated when zooming out), then shift by whole pixels with wrap-around.
 */
final class Zoom {
  private Zoom() {}

  /**
   * @param image [1, 3, H, W]
   * @param scale magnification (> 1 zooms in)
   * @param shiftX pixels to the right (wraps)
   * @param shiftY pixels down (wraps)
   */
  static Tensor apply(Tensor image, double scale, int shiftX, int shiftY) {
    long[] s = image.shape();
    int h = (int) s[2];
    int w = (int) s[3];
    float[] src = image.toFloats();
    float[] out = new float[src.length];
    double cx = (w - 1) / 2.0;
    double cy = (h - 1) / 2.0;
    for (int c = 0; c < 3; c++) {
      int base = c * h * w;
      for (int y = 0; y < h; y++) {
        double sy = clamp(cy + (y - cy) / scale, h - 1);
        int y0 = (int) Math.floor(sy);
        int y1 = Math.min(y0 + 1, h - 1);
        double fy = sy - y0;
        for (int x = 0; x < w; x++) {
          double sx = clamp(cx + (x - cx) / scale, w - 1);
          int x0 = (int) Math.floor(sx);
          int x1 = Math.min(x0 + 1, w - 1);
          double fx = sx - x0;
          double top = src[base + y0 * w + x0] * (1 - fx) + src[base + y0 * w + x1] * fx;
          double bottom = src[base + y1 * w + x0] * (1 - fx) + src[base + y1 * w + x1] * fx;
          int ty = Math.floorMod(y + shiftY, h);
          int tx = Math.floorMod(x + shiftX, w);
          out[base + ty * w + tx] = (float) Math.min(1, Math.max(0, top * (1 - fy) + bottom * fy));
        }
      }
    }
    return Tensor.ofFloats(s, out);
  }

  private static double clamp(double v, int max) {
    return Math.min(max, Math.max(0, v));
  }
}
