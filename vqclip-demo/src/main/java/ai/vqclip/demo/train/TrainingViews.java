package ai.vqclip.demo.train;

import ai.vqclip.augment.AugmentCodes;
import ai.vqclip.augment.Homography;
import ai.vqclip.core.GeometricAugmentation;
import ai.vqclip.demo.data.Scene;
import ai.vqclip.demo.data.ShapeKind;
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
   * The scene with each object drawn as a near miss of a shape: the outlines generation drew when it
   * was asked for one and did not draw it (docs/demo-models.md, the contact sheet), each of the
   * object's colour, at its place and size:
   *
   * <ul>
   *   <li>a thick open arc or bent stroke (what "ring" became);
   *   <li>a spiky outline with 4, 6 or 7 uneven points (what "star" became);
   *   <li>a pentagon, hexagon or trapezoid (not for small objects), or a rectangle or ellipse longer than wide (the shields,
   *       trapezoids and octagons drawn for "square" and "circle");
   *   <li>the object's own shape two or three times, smaller (the pairs of discs drawn for one circle);
   *   <li>the hollow outline of a square or triangle (a ring of the wrong shape).
   * </ul>
   *
   * <p>None of these is a picture of this world, so it is a negative for every caption: "a red star"
   * must score a drawn red star above a red blot with six points.
   */
  static BufferedImage nearMiss(Scene scene, int size, SplittableRandom rnd) {
    return drawn(scene, size, (g, it) -> {
      double cx = it.cx() * size;
      double cy = it.cy() * size;
      double r = it.radius() * size;
      double turn = rnd.nextDouble() * 2 * Math.PI;
      switch (rnd.nextInt(5)) {
        case 0 -> {
          float width = (float) (r * (0.3 + 0.15 * rnd.nextDouble()));
          double rr = r * (0.65 + 0.2 * rnd.nextDouble());
          java.awt.Shape line = rnd.nextBoolean()
              ? new java.awt.geom.Arc2D.Double(cx - rr, cy - rr, 2 * rr, 2 * rr, Math.toDegrees(turn), 100 + 180 * rnd.nextDouble(),
                  java.awt.geom.Arc2D.OPEN)
              : new java.awt.geom.CubicCurve2D.Double(cx - rr, cy + rr * (rnd.nextDouble() - 0.5), cx - rr / 3, cy - rr, cx + rr / 3,
                  cy + rr, cx + rr, cy + rr * (rnd.nextDouble() - 0.5));
          g.fill(rotated(new java.awt.BasicStroke(width, java.awt.BasicStroke.CAP_ROUND, java.awt.BasicStroke.JOIN_ROUND)
              .createStrokedShape(line), turn, cx, cy));
        }
        case 1 -> {
          // No 3 or 4 points at a mild depth: those are a turned triangle or square.
          int[] counts = {4, 6, 7};
          int points = counts[rnd.nextInt(counts.length)];
          double inner = 0.25 + 0.2 * rnd.nextDouble();
          Path2D.Double p = new Path2D.Double();
          for (int i = 0; i < 2 * points; i++) {
            double rad = i % 2 == 1 ? r * inner : r * (0.6 + 0.4 * rnd.nextDouble());
            double a = turn + Math.PI * i / points;
            lineOrMove(p, i, cx + rad * Math.cos(a), cy + rad * Math.sin(a));
          }
          p.closePath();
          g.fill(p);
        }
        case 2 -> {
          // A small hexagon or pentagon is a circle at this resolution: only long shapes then.
          int kind = it.size() == Scene.Size.SMALL ? 2 + rnd.nextInt(2) : rnd.nextInt(4);
          if (kind == 0) {
            int sides = 5 + rnd.nextInt(2);
            Path2D.Double p = new Path2D.Double();
            for (int i = 0; i < sides; i++) {
              double a = turn + 2 * Math.PI * i / sides;
              lineOrMove(p, i, cx + r * 0.9 * Math.cos(a), cy + r * 0.9 * Math.sin(a));
            }
            p.closePath();
            g.fill(p);
          } else if (kind == 1) {
            double top = 0.35 + 0.3 * rnd.nextDouble();
            Path2D.Double p = new Path2D.Double();
            p.moveTo(cx - r * 0.9, cy + r * 0.7);
            p.lineTo(cx + r * 0.9, cy + r * 0.7);
            p.lineTo(cx + r * 0.9 * top, cy - r * 0.7);
            p.lineTo(cx - r * 0.9 * top, cy - r * 0.7);
            p.closePath();
            g.fill(rotated(p, turn, cx, cy));
          } else {
            double aspect = 1.6 + 0.9 * rnd.nextDouble();
            double w = r * 1.6 / Math.sqrt(aspect);
            double h = w * aspect;
            java.awt.Shape s = kind == 2 ? new java.awt.geom.Rectangle2D.Double(cx - w / 2, cy - h / 2, w, h)
                : new java.awt.geom.Ellipse2D.Double(cx - w / 2, cy - h / 2, w, h);
            g.fill(rotated(s, turn, cx, cy));
          }
        }
        case 3 -> {
          int copies = 2 + rnd.nextInt(2);
          double small = r * (0.45 + 0.2 * rnd.nextDouble());
          for (int k = 0; k < copies; k++) {
            double a = turn + 2 * Math.PI * k / copies;
            double x = Math.max(small, Math.min(size - small, cx + r * Math.cos(a)));
            double y = Math.max(small, Math.min(size - small, cy + r * Math.sin(a)));
            g.fill(it.shape().outline(x, y, small));
          }
        }
        default -> {
          // Not a star: its thick outline leaves only a sliver of hole, a star with a scratch.
          ShapeKind[] hollow = {ShapeKind.SQUARE, ShapeKind.TRIANGLE};
          java.awt.Shape outline = hollow[rnd.nextInt(hollow.length)].outline(cx, cy, r);
          g.fill(new java.awt.BasicStroke((float) (r * (0.25 + 0.1 * rnd.nextDouble())), java.awt.BasicStroke.CAP_BUTT,
              java.awt.BasicStroke.JOIN_MITER).createStrokedShape(outline));
        }
      }
    });
  }

  private static java.awt.Shape rotated(java.awt.Shape s, double angle, double cx, double cy) {
    return java.awt.geom.AffineTransform.getRotateInstance(angle, cx, cy).createTransformedShape(s);
  }

  private static void lineOrMove(Path2D p, int i, double x, double y) {
    if (i == 0) {
      p.moveTo(x, y);
    } else {
      p.lineTo(x, y);
    }
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
      lineOrMove(p, i, x, y);
    }
    p.closePath();
    return p;
  }
}
