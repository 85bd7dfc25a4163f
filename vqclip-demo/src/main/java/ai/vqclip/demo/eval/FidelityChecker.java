package ai.vqclip.demo.eval;

import ai.vqclip.demo.data.CaptionParser;
import ai.vqclip.demo.data.DemoColor;
import java.util.EnumMap;
import java.util.Map;

/**
 * An independent check that a picture shows what a one-object demo prompt says, from pixel
 * statistics alone (no neural network): every pixel is assigned its nearest palette colour; the
 * background is the most common colour of the border ring (the outer eighth), and the object is the
 * most common other colour inside the central region, provided it covers enough of it.
 *
 * <p>It judges colours (object and background); shapes are not judged, because at 32x32 pixels a
 * pixel-statistics shape classifier would be its own research project and less reliable than what
 * it checks.
 */
public final class FidelityChecker {
  private FidelityChecker() {}

  /** Smallest share of the central region the object colour must cover to count as present. */
  public static final double MIN_OBJECT_SHARE = 0.04;

  /**
   * What the pixels show.
   *
   * @param background the border's dominant colour
   * @param object the centre's dominant non-background colour, or null when none covers {@link #MIN_OBJECT_SHARE}
   * @param objectShare the share of the central region the object colour covers
   */
  public record Reading(DemoColor background, DemoColor object, double objectShare) {}

  /** The verdict for a prompt. */
  public record Verdict(boolean agrees, Reading reading, String reason) {}

  /** Reads a picture given as [3, H, W] floats in [0, 1] (channel-major). */
  public static Reading read(float[] chw, int height, int width) {
    if (chw.length != 3 * height * width) {
      throw new IllegalArgumentException("expected 3*" + height + "*" + width + " values, got " + chw.length);
    }
    int plane = height * width;
    Map<DemoColor, Integer> border = new EnumMap<>(DemoColor.class);
    Map<DemoColor, Integer> centre = new EnumMap<>(DemoColor.class);
    DemoColor[] label = new DemoColor[plane];
    int ring = Math.max(1, Math.min(height, width) / 8);
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        int i = y * width + x;
        label[i] = DemoColor.nearest(chw[i], chw[plane + i], chw[2 * plane + i]);
        boolean edge = y < ring || x < ring || y >= height - ring || x >= width - ring;
        (edge ? border : centre).merge(label[i], 1, Integer::sum);
      }
    }
    DemoColor bg = argmax(border, null);
    DemoColor obj = argmax(centre, bg);
    int total = centre.values().stream().mapToInt(Integer::intValue).sum();
    double share = obj == null ? 0 : centre.get(obj) / (double) total;
    return new Reading(bg, share >= MIN_OBJECT_SHARE ? obj : null, share);
  }

  private static DemoColor argmax(Map<DemoColor, Integer> counts, DemoColor exclude) {
    DemoColor best = null;
    int n = 0;
    for (Map.Entry<DemoColor, Integer> e : counts.entrySet()) {
      if (e.getKey() != exclude && e.getValue() > n) {
        best = e.getKey();
        n = e.getValue();
      }
    }
    return best;
  }

  /**
   * Whether the picture agrees with a one-object prompt: the object colour is the prompt's and,
   * when the prompt names a plain background, the background colour is the prompt's.
   *
   * @throws IllegalArgumentException for a prompt outside the demo grammar or with two objects
   */
  public static Verdict check(String prompt, float[] chw, int height, int width) {
    CaptionParser.Claims c = CaptionParser.parse(prompt);
    if (c.objects().size() != 1 || c.background2() != null) {
      throw new IllegalArgumentException("the checker judges one-object prompts with a plain or no background, got '" + prompt + "'");
    }
    Reading r = read(chw, height, width);
    DemoColor want = c.objects().get(0).color();
    if (c.background() != null && r.background() != c.background()) {
      return new Verdict(false, r, "background reads " + r.background() + ", prompt says " + c.background());
    }
    if (r.object() != want) {
      return new Verdict(false, r, "object reads " + r.object() + " (" + String.format("%.0f%%", 100 * r.objectShare()) + "), prompt says " + want);
    }
    return new Verdict(true, r, "agrees");
  }
}
