package ai.vqclip.demo.data;

import java.awt.Shape;
import java.awt.geom.Area;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.util.Locale;

/** The shapes of the demo world, each drawn inside a circle of a given centre and radius. */
public enum ShapeKind {
  CIRCLE,
  SQUARE,
  TRIANGLE,
  STAR,
  RING;

  /** Inner radius of a ring, as a fraction of the outer radius. */
  public static final double RING_HOLE = 0.55;

  /** The caption word, e.g. {@code "circle"}. */
  public String word() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The shape of a caption word, or null. */
  public static ShapeKind ofWord(String word) {
    for (ShapeKind s : values()) {
      if (s.word().equals(word)) {
        return s;
      }
    }
    return null;
  }

  /**
   * The outline in pixel coordinates, centred at (cx, cy) with circumradius r (a square's side is
   * r*sqrt(2)*0.9 so its area is close to the circle's; triangle and star point up).
   */
  public Shape outline(double cx, double cy, double r) {
    switch (this) {
      case CIRCLE:
        return new Ellipse2D.Double(cx - r, cy - r, 2 * r, 2 * r);
      case SQUARE: {
        double h = r * 0.8;
        return new Rectangle2D.Double(cx - h, cy - h, 2 * h, 2 * h);
      }
      case TRIANGLE:
        return polygon(cx, cy + r * 0.15, r * 1.1, 3, 0);
      case STAR:
        return polygon(cx, cy + r * 0.05, r * 1.1, 5, 0.45);
      case RING: {
        Area a = new Area(new Ellipse2D.Double(cx - r, cy - r, 2 * r, 2 * r));
        double h = r * RING_HOLE;
        a.subtract(new Area(new Ellipse2D.Double(cx - h, cy - h, 2 * h, 2 * h)));
        return a;
      }
      default:
        throw new AssertionError(this);
    }
  }

  /** A regular polygon (inner == 0) or star (inner = inner radius fraction), first vertex up. */
  private static Shape polygon(double cx, double cy, double r, int points, double inner) {
    Path2D.Double p = new Path2D.Double();
    int n = inner > 0 ? 2 * points : points;
    for (int i = 0; i < n; i++) {
      double rad = inner > 0 && i % 2 == 1 ? r * inner : r;
      double a = -Math.PI / 2 + 2 * Math.PI * i / n;
      double x = cx + rad * Math.cos(a);
      double y = cy + rad * Math.sin(a);
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
