package ai.vqclip.demo.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Reads a caption of the demo grammar (see {@link Captions}) back into what it asserts, and
 * decides whether a scene satisfies it. Used for contrastive training targets (a caption is a
 * positive for every picture it describes) and by the prompt-fidelity checker.
 */
public final class CaptionParser {
  private CaptionParser() {}

  /**
   * One mentioned object.
   *
   * @param size the size word's class, or null when no size is said
   */
  public record ObjectClaim(DemoColor color, ShapeKind shape, Scene.Size size) {}

  /**
   * What a caption asserts.
   *
   * @param objects the named objects, in order
   * @param background the (left) background colour, or null when no background is named
   * @param background2 the right half's colour of a named two-tone background, or null
   */
  public record Claims(List<ObjectClaim> objects, DemoColor background, DemoColor background2) {
    /** Whether {@code s} is what this caption says: same objects (in any order), sizes and background where said. */
    public boolean describes(Scene s) {
      if (s.objects().size() != objects.size()) {
        return false;
      }
      if (background != null && (s.background() != background || s.background2() != background2)) {
        return false;
      }
      List<Scene.Item> left = new ArrayList<>(s.objects());
      for (ObjectClaim c : objects) {
        Scene.Item hit = null;
        for (Scene.Item it : left) {
          if (it.color() == c.color() && it.shape() == c.shape() && (c.size() == null || c.size() == it.size())) {
            hit = it;
            break;
          }
        }
        if (hit == null) {
          return false;
        }
        left.remove(hit);
      }
      return true;
    }
  }

  /**
   * Parses a caption ("a [small|big] colour shape [and a colour shape] [on a colour [and colour]
   * background]"), case-insensitively; "an" is accepted for "a".
   *
   * @throws IllegalArgumentException when the text is not in the grammar (naming the word)
   */
  public static Claims parse(String caption) {
    String[] w = caption.trim().toLowerCase(Locale.ROOT).replaceAll("[.,!]", "").split("\\s+");
    int[] pos = {0};
    List<ObjectClaim> objs = new ArrayList<>();
    objs.add(object(w, pos, caption));
    if (pos[0] < w.length && w[pos[0]].equals("and")) {
      pos[0]++;
      objs.add(object(w, pos, caption));
    }
    DemoColor bg = null;
    DemoColor bg2 = null;
    if (pos[0] < w.length) {
      expect(w, pos, "on", caption);
      article(w, pos, caption);
      bg = color(w, pos, caption);
      if (pos[0] < w.length && w[pos[0]].equals("and")) {
        pos[0]++;
        bg2 = color(w, pos, caption);
      }
      expect(w, pos, "background", caption);
    }
    if (pos[0] != w.length) {
      throw new IllegalArgumentException("unexpected '" + w[pos[0]] + "' in caption '" + caption + "'");
    }
    return new Claims(objs, bg, bg2);
  }

  private static ObjectClaim object(String[] w, int[] pos, String caption) {
    article(w, pos, caption);
    Scene.Size size = null;
    if (pos[0] < w.length && (w[pos[0]].equals("small") || w[pos[0]].equals("big"))) {
      size = w[pos[0]].equals("small") ? Scene.Size.SMALL : Scene.Size.BIG;
      pos[0]++;
    }
    DemoColor c = color(w, pos, caption);
    if (pos[0] >= w.length || ShapeKind.ofWord(w[pos[0]]) == null) {
      throw new IllegalArgumentException("expected a shape " + java.util.Arrays.toString(ShapeKind.values()).toLowerCase(Locale.ROOT)
          + " at word " + (pos[0] + 1) + " of '" + caption + "'");
    }
    return new ObjectClaim(c, ShapeKind.ofWord(w[pos[0]++]), size);
  }

  private static void article(String[] w, int[] pos, String caption) {
    if (pos[0] < w.length && (w[pos[0]].equals("a") || w[pos[0]].equals("an"))) {
      pos[0]++;
      return;
    }
    throw new IllegalArgumentException("expected 'a' at word " + (pos[0] + 1) + " of '" + caption + "'");
  }

  private static DemoColor color(String[] w, int[] pos, String caption) {
    DemoColor c = pos[0] < w.length ? DemoColor.ofWord(w[pos[0]]) : null;
    if (c == null) {
      throw new IllegalArgumentException("expected a colour " + java.util.Arrays.toString(DemoColor.values()).toLowerCase(Locale.ROOT)
          + " at word " + (pos[0] + 1) + " of '" + caption + "'");
    }
    pos[0]++;
    return c;
  }

  private static void expect(String[] w, int[] pos, String word, String caption) {
    if (pos[0] >= w.length || !w[pos[0]].equals(word)) {
      throw new IllegalArgumentException("expected '" + word + "' at word " + (pos[0] + 1) + " of '" + caption + "'");
    }
    pos[0]++;
  }
}
