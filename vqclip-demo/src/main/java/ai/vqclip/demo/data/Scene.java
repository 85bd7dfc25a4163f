package ai.vqclip.demo.data;

import java.util.List;
import java.util.Objects;

/**
 * What one demo picture shows: a plain or two-tone background and one or two shapes, in unit
 * coordinates (0..1 across the picture) so the same scene draws at any size.
 *
 * @param background the background colour (the left half of a two-tone background)
 * @param background2 the right half's colour of a two-tone background, or null for a plain one
 * @param objects one or two shapes, non-overlapping
 */
public record Scene(DemoColor background, DemoColor background2, List<Item> objects) {
  /** Size classes; captions say "small" or "big" for the extremes and nothing for medium. */
  public enum Size {
    SMALL,
    MEDIUM,
    BIG
  }

  /**
   * One shape.
   *
   * @param shape which shape
   * @param color its colour
   * @param size its size class
   * @param cx centre x in 0..1
   * @param cy centre y in 0..1
   * @param radius circumradius in picture widths
   */
  public record Item(ShapeKind shape, DemoColor color, Size size, double cx, double cy, double radius) {
    public Item {
      Objects.requireNonNull(shape, "shape");
      Objects.requireNonNull(color, "color");
      Objects.requireNonNull(size, "size");
      if (!(radius > 0 && radius < 0.5)) {
        throw new IllegalArgumentException("radius must be in (0, 0.5) picture widths, got " + radius);
      }
    }
  }

  public Scene {
    Objects.requireNonNull(background, "background");
    objects = List.copyOf(objects);
    if (objects.isEmpty() || objects.size() > 2) {
      throw new IllegalArgumentException("a scene has 1 or 2 objects, got " + objects.size());
    }
  }

  /** Whether the background has two colours. */
  public boolean twoTone() {
    return background2 != null;
  }
}
