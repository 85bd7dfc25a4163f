package ai.vqclip.demo.eval;

import ai.vqclip.demo.data.DemoColor;
import ai.vqclip.demo.data.ShapeKind;
import java.util.ArrayList;
import java.util.List;

/**
 * The prompt sets of the demo's fidelity figures: a <b>tuning</b> set (25 prompts) on which
 * generation settings and models may be chosen, and a <b>test</b> set (50 prompts) on which nothing
 * is tuned and which only reports. Both are built by fixed rules (no randomness) and are disjoint.
 *
 * <ul>
 *   <li>Test, one object (40): colour {@code c} (each of the 10 four times) with shapes {@code c..c+3}
 *       (mod 5; each shape 8 times) on background {@code c+1, c+3, c+5, c+7} (mod 10; each background
 *       4 times, never the object's colour).
 *   <li>Test, two objects (10): colours {@code j, j+4}, shapes {@code j, j+2}, background {@code j+7}.
 *   <li>Tuning, one object (20): colour {@code c} with shapes {@code c+4} and {@code c} on
 *       backgrounds {@code c+2} and {@code c+6} (even offsets: never a test prompt).
 *   <li>Tuning, two objects (5): colours {@code 2j+1, 2j+6}, shapes {@code j+1, j+3}, background {@code 2j+4}.
 * </ul>
 */
public final class DemoPrompts {
  private DemoPrompts() {}

  /** The test set: 40 one-object and 10 two-object captions with a plain background. */
  public static List<String> test() {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      int c = i % 10;
      int k = i / 10;
      out.add(one(c, c + k, c + 1 + 2 * k));
    }
    for (int j = 0; j < 10; j++) {
      out.add(two(j, j, j + 4, j + 2, j + 7));
    }
    return List.copyOf(out);
  }

  /** The tuning set: 20 one-object and 5 two-object captions, none of them in {@link #test()}. */
  public static List<String> tuning() {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      int c = i % 10;
      int k = i / 10;
      out.add(one(c, c + 4 * (1 - k), c + 2 + 4 * k));
    }
    for (int j = 0; j < 5; j++) {
      out.add(two(2 * j + 1, j + 1, 2 * j + 6, j + 3, 2 * j + 4));
    }
    return List.copyOf(out);
  }

  /** A set by name: {@code test} or {@code tuning}. */
  public static List<String> named(String name) {
    return switch (name) {
      case "test" -> test();
      case "tuning" -> tuning();
      default -> throw new IllegalArgumentException("prompt set must be test or tuning, got '" + name + "'");
    };
  }

  private static String one(int color, int shape, int background) {
    return "a " + col(color) + " " + shp(shape) + " on a " + col(background) + " background";
  }

  private static String two(int c1, int s1, int c2, int s2, int background) {
    return "a " + col(c1) + " " + shp(s1) + " and a " + col(c2) + " " + shp(s2) + " on a " + col(background) + " background";
  }

  private static String col(int i) {
    return DemoColor.values()[Math.floorMod(i, DemoColor.values().length)].word();
  }

  private static String shp(int i) {
    return ShapeKind.values()[Math.floorMod(i, ShapeKind.values().length)].word();
  }
}
