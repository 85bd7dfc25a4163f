package ai.vqclip.core.loss;

import ai.vqclip.core.Loss;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Value;

/**
 * A plain frame: the picture's outer band (each side {@code band} of the shorter side, at least
 * one pixel) should be one colour. The term is {@code weight} times the band's colour variance,
 * {@code sum((x - m)^2) / (N C n)} over the band's {@code n} pixels, {@code m} the band's mean per
 * picture and channel (a prior like pixray's edge loss, without naming the colour: whatever the
 * prompt makes the background, objects keep off the edges instead of running along them). Immutable.
 *
 * @param weight the weight (&gt; 0)
 * @param band the band's width as a fraction of the shorter side, in (0, 0.5)
 */
public record FrameLoss(double weight, double band) implements Loss {
  /** The term's name. */
  public static final String NAME = "frame";

  /** The band a request's {@code frameWeight} uses: an eighth of the shorter side (4 pixels of 32). */
  public static final double DEFAULT_BAND = 0.125;

  /**
   * Checks the weight and the band.
   *
   * @param weight the weight, finite and &gt; 0
   * @param band the band's width as a fraction of the shorter side, in (0, 0.5)
   * @throws IllegalArgumentException for a weight that is not finite and positive, or a band outside (0, 0.5)
   */
  public FrameLoss {
    if (!(weight > 0) || !Double.isFinite(weight)) {
      throw new IllegalArgumentException("frame weight must be a finite number > 0, got " + weight);
    }
    if (!(band > 0 && band < 0.5)) {
      throw new IllegalArgumentException("frame band must be in (0, 0.5) of the shorter side, got " + band);
    }
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Value build(Context ctx) {
    return loss(ctx.builder(), ctx.image(), weight, band);
  }

  /**
   * The scalar term for an image of static shape [N, C, H, W].
   *
   * @param b the builder
   * @param image the image
   * @param weight the weight
   * @param band the band's width as a fraction of the shorter side
   * @return the weighted band variance, a scalar
   * @throws IllegalArgumentException for an image of another rank or smaller than 3 x 3
   */
  public static Value loss(GraphBuilder b, Value image, double weight, double band) {
    long[] s = image.shape().toArray();
    if (s.length != 4 || s[2] < 3 || s[3] < 3) {
      throw new IllegalArgumentException("frame term needs an image [N,C,H,W] with H, W >= 3, got " + image);
    }
    int h = (int) s[2];
    int w = (int) s[3];
    int px = bandPixels(h, w, band);
    double[] mask = new double[h * w];
    int n = 0;
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        if (y < px || y >= h - px || x < px || x >= w - px) {
          mask[y * w + x] = 1;
          n++;
        }
      }
    }
    long[] shape = {1, 1, h, w};
    Value m = b.constant(image.dtype() == DType.DOUBLE ? Tensor.ofDoubles(shape, mask) : Tensor.fromDoubles(DType.FLOAT, shape, mask));
    Value mean = b.mul(b.reduceSum(b.mul(image, m), true, 2, 3), b.scalarLike(1.0 / n, image));
    Value dev = b.mul(b.sub(image, mean), m);
    Value sum = b.reduceSum(b.mul(dev, dev), false);
    return b.mul(sum, b.scalarLike(weight / ((double) s[0] * s[1] * n), image));
  }

  /**
   * The band's width in pixels: {@code band} of the shorter side, rounded, at least 1.
   *
   * @param h picture height
   * @param w picture width
   * @param band the band's width as a fraction of the shorter side
   * @return pixels
   */
  public static int bandPixels(int h, int w, double band) {
    return Math.max(1, (int) Math.round(band * Math.min(h, w)));
  }
}
