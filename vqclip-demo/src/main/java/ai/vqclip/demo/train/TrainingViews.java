package ai.vqclip.demo.train;

import ai.vqclip.augment.AugmentCodes;
import ai.vqclip.augment.Homography;
import ai.vqclip.core.GeometricAugmentation;
import ai.vqclip.demo.data.Scene;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.util.List;
import java.util.SplittableRandom;

/**
 * What the demo CLIP sees in training besides clean pictures, so that it judges the pictures
 * generation shows it the way a person would:
 *
 * <ul>
 *   <li>{@link #augment}: the picture warped by the same geometric augmentations generation applies
 *       to its cutouts (the {@code Af Pe} objects of {@link AugmentCodes}, with border padding), so
 *       a shape seen through a perspective warp is still that shape;
 *   <li>{@link #blob}: the scene with every object replaced by an irregular blob (or broken into
 *       pieces) of the same colour, place and size. No caption describes it: it is a negative for
 *       every caption, so "a red star" scores a red star above a red blob. Generation otherwise
 *       finds such blobs, which a CLIP trained on clean shapes scores nearly as high as the shape.
 * </ul>
 *
 * <p>Everything is drawn from the given generator, so a training run stays reproducible.
 */
final class TrainingViews {
  private TrainingViews() {}

  /**
   * The picture through the geometric augmentations of {@code codes} (each applied with its own
   * probability, composed as generation composes them), resampled bilinearly with the edge pixels
   * repeated outside the picture (generation's {@code Border} padding).
   */
  static BufferedImage augment(BufferedImage img, String codes, SplittableRandom rnd) {
    int s = img.getWidth();
    double[] total = Homography.identity();
    List<GeometricAugmentation> geo = AugmentCodes.parse(codes).geometric();
    for (GeometricAugmentation g : geo) {
      total = Homography.multiply(total, g.sample(rnd, 1, s)[0]);
    }
    return warp(img, total);
  }

  /** Output pixel centre (x + 0.5, y + 0.5) samples the source at {@code m} (x + 0.5, y + 0.5). */
  static BufferedImage warp(BufferedImage img, double[] m) {
    int w = img.getWidth();
    int h = img.getHeight();
    int[] src = img.getRGB(0, 0, w, h, null, 0, w);
    BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    int[] dst = new int[w * h];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        double[] p = Homography.apply(m, x + 0.5, y + 0.5);
        double u = Math.max(0, Math.min(w - 1, p[0] - 0.5));
        double v = Math.max(0, Math.min(h - 1, p[1] - 0.5));
        int x0 = (int) Math.floor(u);
        int y0 = (int) Math.floor(v);
        int x1 = Math.min(w - 1, x0 + 1);
        int y1 = Math.min(h - 1, y0 + 1);
        double fx = u - x0;
        double fy = v - y0;
        int rgb = 0;
        for (int c = 0; c < 3; c++) {
          int sh = 16 - 8 * c;
          double a = ((src[y0 * w + x0] >> sh) & 0xFF) * (1 - fx) + ((src[y0 * w + x1] >> sh) & 0xFF) * fx;
          double b = ((src[y1 * w + x0] >> sh) & 0xFF) * (1 - fx) + ((src[y1 * w + x1] >> sh) & 0xFF) * fx;
          rgb |= ((int) Math.round(a * (1 - fy) + b * fy)) << sh;
        }
        dst[y * w + x] = rgb;
      }
    }
    out.setRGB(0, 0, w, h, dst, 0, w);
    return out;
  }

  /**
   * The scene with each object drawn as a shapeless blob of its colour at its place: an outline
   * with strong low harmonics (elongated, lopsided, dented) or, one time in three, the object's
   * area broken into two to four separate spots.
   */
  static BufferedImage blob(Scene scene, int size, SplittableRandom rnd) {
    return drawn(scene, size, (g, it) -> {
      double cx = it.cx() * size;
      double cy = it.cy() * size;
      double r = it.radius() * size;
      if (rnd.nextInt(3) == 0) {
        int pieces = 2 + rnd.nextInt(3);
        for (int k = 0; k < pieces; k++) {
          double a = rnd.nextDouble() * 2 * Math.PI;
          double d = r * (0.4 + 0.6 * rnd.nextDouble());
          g.fill(wobbly(cx + d * Math.cos(a), cy + d * Math.sin(a), r * (0.25 + 0.2 * rnd.nextDouble()), rnd));
        }
      } else {
        g.fill(wobbly(cx, cy, r * (0.75 + 0.25 * rnd.nextDouble()), rnd));
      }
    });
  }

  /**
   * The scene with its objects drawn too big for the picture: each object's own shape, with a
   * circumradius of 0.5 to 0.8 picture widths (drawn objects: at most 0.39), its centre moved at random
   * by up to a quarter of the picture, so that most run off an edge. No caption describes such a
   * picture (every object of this world is smaller and lies wholly inside it): generation grows the
   * object past the edges unless the CLIP scores that lower than the object inside.
   */
  static BufferedImage oversized(Scene scene, int size, SplittableRandom rnd) {
    return drawn(scene, size, (g, it) -> {
      double cx = (it.cx() + 0.5 * (rnd.nextDouble() - 0.5)) * size;
      double cy = (it.cy() + 0.5 * (rnd.nextDouble() - 0.5)) * size;
      g.fill(it.shape().outline(cx, cy, (0.5 + 0.3 * rnd.nextDouble()) * size));
    });
  }

  /**
   * The scene's background (antialiased drawing), then {@code object} called for each object in order
   * with the object's colour set.
   */
  private static BufferedImage drawn(Scene scene, int size, java.util.function.BiConsumer<Graphics2D, Scene.Item> object) {
    BufferedImage img = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      ai.vqclip.demo.data.ShapesDataset.paintBackground(g, scene, size);
      for (Scene.Item it : scene.objects()) {
        g.setColor(new Color(it.color().rgb()));
        object.accept(g, it);
      }
    } finally {
      g.dispose();
    }
    return img;
  }

  /** A closed outline r(t) = r (1 + sum of harmonics 1, 2 and 3 with random phases), the first or second strong. */
  private static Path2D wobbly(double cx, double cy, double r, SplittableRandom rnd) {
    double[] amp = new double[4];
    double[] phase = new double[4];
    for (int k = 1; k <= 3; k++) {
      amp[k] = (k == 3 ? 0.08 : 0.25) * rnd.nextDouble();
      phase[k] = rnd.nextDouble() * 2 * Math.PI;
    }
    // Strong first or second harmonic (lopsided or elongated); a strong third would be a triangle.
    amp[1 + rnd.nextInt(2)] = 0.3 + 0.15 * rnd.nextDouble();
    Path2D.Double p = new Path2D.Double();
    int n = 72;
    for (int i = 0; i < n; i++) {
      double t = 2 * Math.PI * i / n;
      double rr = 1;
      for (int k = 1; k <= 3; k++) {
        rr += amp[k] * Math.cos(k * t + phase[k]);
      }
      double x = cx + r * Math.max(0.2, rr) * Math.cos(t);
      double y = cy + r * Math.max(0.2, rr) * Math.sin(t);
      if (i == 0) {
        p.moveTo(x, y);
      } else {
        p.lineTo(x, y);
      }
    }
    p.closePath();
    return p;
  }
}
