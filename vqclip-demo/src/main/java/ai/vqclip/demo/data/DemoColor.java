package ai.vqclip.demo.data;

import java.util.Locale;

/**
 * The colours of the demo world, with the word captions use and the RGB they are drawn in. The
 * RGB values are far apart (pairwise distance over 100 on 0..255), so a pixel classifier can tell
 * them apart after a lossy autoencoder.
 */
public enum DemoColor {
  RED(215, 30, 30),
  ORANGE(245, 135, 20),
  YELLOW(240, 225, 35),
  GREEN(35, 165, 50),
  CYAN(40, 205, 215),
  BLUE(35, 60, 215),
  PURPLE(135, 40, 175),
  PINK(245, 120, 190),
  WHITE(245, 245, 245),
  BLACK(20, 20, 20);

  private final int r;
  private final int g;
  private final int b;

  DemoColor(int r, int g, int b) {
    this.r = r;
    this.g = g;
    this.b = b;
  }

  /** The caption word, e.g. {@code "red"}. */
  public String word() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Packed 0xRRGGBB. */
  public int rgb() {
    return (r << 16) | (g << 8) | b;
  }

  /** Red, green, blue in 0..255. */
  public int[] components() {
    return new int[] {r, g, b};
  }

  /** The colour nearest (Euclidean RGB) to a pixel given in 0..1 per channel. */
  public static DemoColor nearest(double red, double green, double blue) {
    DemoColor best = null;
    double bestD = Double.MAX_VALUE;
    for (DemoColor c : values()) {
      double dr = red * 255 - c.r;
      double dg = green * 255 - c.g;
      double db = blue * 255 - c.b;
      double d = dr * dr + dg * dg + db * db;
      if (d < bestD) {
        bestD = d;
        best = c;
      }
    }
    return best;
  }

  /** The colour of a caption word, or null. */
  public static DemoColor ofWord(String word) {
    for (DemoColor c : values()) {
      if (c.word().equals(word)) {
        return c;
      }
    }
    return null;
  }
}
