package ai.vqclip.core.loss;

import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Value;

/**
 * Total variation of an image [N, C, H, W]: {@code weight * mean(dx^2 + dy^2) / 4} with replicate
 * padding (METHOD.md B.11), i.e. the squared differences of horizontal and vertical neighbours
 * summed and divided by the pixel count, the padded border contributing zero differences.
 */
public final class TotalVariation {
  private TotalVariation() {}

  /**
   * The scalar loss; {@code weight} is a scalar value.
   *
   * @param b the builder
   * @param image the image, static shape [N, C, H, W] with H and W at least 2
   * @param weight the weight, a scalar value
   * @return {@code weight * (sum dx^2 + sum dy^2) / (4 N C H W)}, a scalar
   * @throws IllegalArgumentException for an image of another rank or smaller than 2 x 2
   */
  public static Value loss(GraphBuilder b, Value image, Value weight) {
    long[] s = image.shape().toArray();
    if (s.length != 4 || s[2] < 2 || s[3] < 2) {
      throw new IllegalArgumentException("total variation needs an image [N,C,H,W] with H, W >= 2, got " + image);
    }
    Value dx = b.sub(slice(b, image, 3, 1, s[3]), slice(b, image, 3, 0, s[3] - 1));
    Value dy = b.sub(slice(b, image, 2, 1, s[2]), slice(b, image, 2, 0, s[2] - 1));
    Value sum = b.add(b.reduceSum(b.mul(dx, dx), false), b.reduceSum(b.mul(dy, dy), false));
    double pixels = (double) s[0] * s[1] * s[2] * s[3];
    return b.mul(sum, b.mul(weight, b.scalarLike(1 / (4 * pixels), image)));
  }

  private static Value slice(GraphBuilder b, Value x, long axis, long start, long end) {
    return b.op("Slice").in(x, b.ints(start), b.ints(end), b.ints(axis)).out();
  }
}
