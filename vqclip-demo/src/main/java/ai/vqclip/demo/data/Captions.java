package ai.vqclip.demo.data;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The caption grammar of the demo world:
 *
 * <pre>
 * caption    = object [" and " object] [" on a " background " background"]
 * object     = "a " [size " "] colour " " shape        (size only for one object: "small" | "big")
 * background = colour | colour " and " colour          (two-tone: left and right half)
 * </pre>
 *
 * <p>The background is named in 75% of random captions and the size of a small or big object in
 * half, so that short prompts ("a red circle") also match pictures.
 */
public final class Captions {
  private Captions() {}

  /** The full caption: every object, sizes of small/big single objects, and the background. */
  public static String full(Scene s) {
    return build(s, true, true);
  }

  /** A random caption of a scene (which parts are mentioned is random, the words always true). */
  public static String random(Scene s, SplittableRandom rnd) {
    return build(s, rnd.nextDouble() < 0.5, rnd.nextDouble() < 0.75);
  }

  /** Words of the caption parts, assembled. */
  static String build(Scene s, boolean withSize, boolean withBackground) {
    List<String> objs = new ArrayList<>();
    for (Scene.Item it : s.objects()) {
      String size = "";
      if (withSize && s.objects().size() == 1 && it.size() != Scene.Size.MEDIUM) {
        size = it.size() == Scene.Size.SMALL ? "small " : "big ";
      }
      objs.add("a " + size + it.color().word() + " " + it.shape().word());
    }
    String text = String.join(" and ", objs);
    if (withBackground) {
      String bg = s.twoTone() ? s.background().word() + " and " + s.background2().word() : s.background().word();
      text += " on a " + bg + " background";
    }
    return text;
  }

  /** Every word the grammar can produce, for vocabulary learning. */
  public static List<String> vocabulary() {
    List<String> w = new ArrayList<>(List.of("a", "and", "on", "background", "small", "big"));
    for (DemoColor c : DemoColor.values()) {
      w.add(c.word());
    }
    for (ShapeKind k : ShapeKind.values()) {
      w.add(k.word());
    }
    return w;
  }
}
