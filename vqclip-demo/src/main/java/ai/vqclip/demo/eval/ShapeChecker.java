package ai.vqclip.demo.eval;

import ai.vqclip.demo.data.CaptionParser;
import ai.vqclip.demo.data.DemoColor;
import ai.vqclip.demo.data.ShapeKind;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * An independent judge of a demo picture against its caption that checks the shape as well as the
 * colours, from pixels alone (no neural network):
 *
 * <ol>
 *   <li>The background is the nearest palette colour ({@link DemoColor#nearest}) most common on the
 *       picture's outer ring.
 *   <li>Every other pixel is unmixed: it is explained as a blend {@code bg + a (c - bg)} of the
 *       background with the palette colour {@code c} whose blend line passes nearest to it, with
 *       {@code a} in [0, 1] its coverage. Pixels with coverage of at least one half are the ink of
 *       {@code c}. (Nearest-palette labels alone would count antialiased edges as a third colour:
 *       red on blue blends to purple.)
 *   <li>The object is the colour with the most ink (for a two-object caption, the two with the most).
 *   <li>Its shape, from its largest 8-connected ink component: a <b>ring</b> when the component
 *       encloses a hole (pixels not reachable from the border) of a tenth of its area or more;
 *       otherwise the outline's radial profile from the centroid (90 rays through the bilinear
 *       coverage, where it drops below one half) names it by its dominant harmonic among 1..6,
 *       relative to the mean radius: 3 <b>triangle</b>, 4 <b>square</b>, 5 <b>star</b> (at least
 *       {@link #SHARP} and {@link #DOMINANCE} times any other), none above {@link #ROUND}
 *       <b>circle</b>; any other dominant harmonic (elongated or lopsided), a shape harmonic that
 *       does not stand out, a component running along the picture's edge (more than
 *       {@link #EDGE_PIXELS} pixels of the outermost rows and columns), or a second component of the
 *       same colour a quarter as large, is irregular: no shape.
 * </ol>
 *
 * <p>Validated in {@code ShapeCheckerTest} on pictures drawn by {@code ShapesDataset} (the truth is
 * the scene they were drawn from). Pictures are [3, H, W] floats in [0, 1], channel-major.
 */
public final class ShapeChecker {
  private ShapeChecker() {}

  /** Coverage at which a pixel counts as ink of its colour. */
  static final double INK = 0.5;

  /** Largest relative harmonic amplitude of an outline still called a circle. */
  public static final double ROUND = 0.06;

  /** Smallest relative amplitude of the 3rd, 4th or 5th harmonic that names a triangle, square or star. */
  public static final double SHARP = 0.06;

  /** How many times stronger than any other of harmonics 1..6 a shape's own harmonic must be. */
  public static final double DOMINANCE = 1.5;

  /** Most pixels of the picture's outermost rows and columns an object may cover (drawn objects keep a margin). */
  public static final int EDGE_PIXELS = 4;

  /** Smallest component (pixels) that counts as an object. */
  public static final int MIN_PIXELS = 6;

  /** Rays of the radial profile. */
  static final int RAYS = 90;

  /**
   * One coloured object as read from the picture.
   *
   * @param color its colour
   * @param ink pixels of that colour's ink in the whole picture
   * @param area pixels of its largest component
   * @param shape the shape read, or null when irregular
   * @param harmonics relative amplitudes of harmonics 1..8 of the radial profile (index k-1); empty for rings
   * @param why a short account of the decision
   */
  public record Blob(DemoColor color, int ink, int area, ShapeKind shape, double[] harmonics, String why) {
    @Override
    public String toString() {
      return color.word() + " " + (shape == null ? "irregular" : shape.word()) + " (" + area + " px, " + why + ")";
    }
  }

  /**
   * What a picture shows.
   *
   * @param background the border's dominant colour
   * @param objects coloured objects, the most ink first (at most three, each with at least {@link #MIN_PIXELS} of ink)
   */
  public record Reading(DemoColor background, List<Blob> objects) {
    /** The blob of a colour, or null. */
    public Blob of(DemoColor c) {
      for (Blob b : objects) {
        if (b.color() == c) {
          return b;
        }
      }
      return null;
    }
  }

  /**
   * The judgement of a caption.
   *
   * @param background the background is the caption's (true when the caption names none)
   * @param color the object colour(s) with the most ink are the caption's
   * @param shape every named object's colour has ink of the named shape (for a one-object caption
   *     whose colour is missing, the most-ink object's shape is judged)
   * @param reading what was read
   * @param reason a short account
   */
  public record Verdict(boolean background, boolean color, boolean shape, Reading reading, String reason) {
    /** Background, colour and shape all right. */
    public boolean all() {
      return background && color && shape;
    }
  }

  /** Reads a picture given as [3, H, W] floats in [0, 1]. */
  public static Reading read(float[] chw, int height, int width) {
    if (height < 8 || width < 8 || chw == null || chw.length != 3 * height * width) {
      throw new IllegalArgumentException("expected a picture of at least 8x8 as 3*" + height + "*" + width + " values, got "
          + (chw == null ? "null" : chw.length));
    }
    int plane = height * width;
    int ring = Math.max(1, Math.min(height, width) / 16);
    int[] border = new int[DemoColor.values().length];
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        if (y < ring || x < ring || y >= height - ring || x >= width - ring) {
          int i = y * width + x;
          border[DemoColor.nearest(chw[i], chw[plane + i], chw[2 * plane + i]).ordinal()]++;
        }
      }
    }
    DemoColor bg = DemoColor.values()[argmax(border)];
    // Unmix every pixel against the background.
    DemoColor[] palette = DemoColor.values();
    double[] b = rgb(bg);
    int[] owner = new int[plane];
    double[] alpha = new double[plane];
    int[] ink = new int[palette.length];
    for (int i = 0; i < plane; i++) {
      double[] p = {chw[i] * 255.0, chw[plane + i] * 255.0, chw[2 * plane + i] * 255.0};
      double bestD = Double.MAX_VALUE;
      for (DemoColor c : palette) {
        if (c == bg) {
          continue;
        }
        double[] d = rgb(c);
        double[] dir = {d[0] - b[0], d[1] - b[1], d[2] - b[2]};
        double len2 = dir[0] * dir[0] + dir[1] * dir[1] + dir[2] * dir[2];
        double a = ((p[0] - b[0]) * dir[0] + (p[1] - b[1]) * dir[1] + (p[2] - b[2]) * dir[2]) / len2;
        a = Math.max(0, Math.min(1, a));
        double e0 = p[0] - b[0] - a * dir[0];
        double e1 = p[1] - b[1] - a * dir[1];
        double e2 = p[2] - b[2] - a * dir[2];
        double dist = e0 * e0 + e1 * e1 + e2 * e2;
        if (dist < bestD) {
          bestD = dist;
          owner[i] = c.ordinal();
          alpha[i] = a;
        }
      }
      if (alpha[i] >= INK) {
        ink[owner[i]]++;
      }
    }
    List<Blob> blobs = new ArrayList<>();
    Integer[] order = new Integer[palette.length];
    for (int k = 0; k < order.length; k++) {
      order[k] = k;
    }
    java.util.Arrays.sort(order, Comparator.comparingInt((Integer k) -> -ink[k]));
    for (int k : order) {
      if (blobs.size() == 3 || ink[k] < MIN_PIXELS || k == bg.ordinal()) {
        continue;
      }
      Blob blob = analyse(palette[k], ink[k], owner, alpha, height, width);
      if (blob != null) {
        blobs.add(blob);
      }
    }
    return new Reading(bg, List.copyOf(blobs));
  }

  private static double[] rgb(DemoColor c) {
    int[] v = c.components();
    return new double[] {v[0], v[1], v[2]};
  }

  private static int argmax(int[] v) {
    int best = 0;
    for (int k = 1; k < v.length; k++) {
      if (v[k] > v[best]) {
        best = k;
      }
    }
    return best;
  }

  /** The shape of colour {@code c}'s largest ink component, or null when it is too small. */
  private static Blob analyse(DemoColor c, int ink, int[] owner, double[] alpha, int h, int w) {
    int plane = h * w;
    boolean[] mask = new boolean[plane];
    for (int i = 0; i < plane; i++) {
      mask[i] = owner[i] == c.ordinal() && alpha[i] >= INK;
    }
    int[] comp = new int[plane];
    java.util.Arrays.fill(comp, -1);
    List<Integer> sizes = new ArrayList<>();
    for (int i = 0; i < plane; i++) {
      if (mask[i] && comp[i] < 0) {
        sizes.add(fill(mask, comp, i, sizes.size(), h, w, true));
      }
    }
    int best = 0;
    for (int k = 1; k < sizes.size(); k++) {
      if (sizes.get(k) > sizes.get(best)) {
        best = k;
      }
    }
    int area = sizes.get(best);
    if (area < MIN_PIXELS) {
      return null;
    }
    boolean[] body = new boolean[plane];
    for (int i = 0; i < plane; i++) {
      body[i] = comp[i] == best;
    }
    int second = 0;
    for (int k = 0; k < sizes.size(); k++) {
      if (k != best) {
        second = Math.max(second, sizes.get(k));
      }
    }
    if (second >= Math.max(MIN_PIXELS, area / 4)) {
      return new Blob(c, ink, area, null, new double[0], "in pieces: second part " + second + " px");
    }
    // An object lies inside the picture; ink running along the picture's edge is a background region.
    int onEdge = 0;
    for (int i = 0; i < plane; i++) {
      if (body[i] && (i < w || i >= plane - w || i % w == 0 || i % w == w - 1)) {
        onEdge++;
      }
    }
    if (onEdge > EDGE_PIXELS) {
      return new Blob(c, ink, area, null, new double[0], "runs along the picture's edge for " + onEdge + " px");
    }
    // Holes: pixels outside the body that a 4-connected walk from the border cannot reach.
    boolean[] outside = new boolean[plane];
    ArrayDeque<Integer> queue = new ArrayDeque<>();
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int i = y * w + x;
        if ((y == 0 || x == 0 || y == h - 1 || x == w - 1) && !body[i] && !outside[i]) {
          outside[i] = true;
          queue.add(i);
        }
      }
    }
    while (!queue.isEmpty()) {
      int i = queue.poll();
      int y = i / w;
      int x = i % w;
      int[][] nb = {{y - 1, x}, {y + 1, x}, {y, x - 1}, {y, x + 1}};
      for (int[] n : nb) {
        if (n[0] >= 0 && n[0] < h && n[1] >= 0 && n[1] < w) {
          int j = n[0] * w + n[1];
          if (!body[j] && !outside[j]) {
            outside[j] = true;
            queue.add(j);
          }
        }
      }
    }
    int hole = 0;
    for (int i = 0; i < plane; i++) {
      if (!body[i] && !outside[i]) {
        hole++;
      }
    }
    if (hole >= 2 && hole * 10 >= area + hole) {
      return new Blob(c, ink, area, ShapeKind.RING, new double[0], "hole of " + hole + " px");
    }
    // Soft coverage of the body and its 1-pixel rim (antialiased edge), for a sub-pixel outline.
    double[] cover = new double[plane];
    double sw = 0;
    double sx = 0;
    double sy = 0;
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int i = y * w + x;
        boolean near = body[i];
        for (int dy = -1; dy <= 1 && !near; dy++) {
          for (int dx = -1; dx <= 1 && !near; dx++) {
            int yy = y + dy;
            int xx = x + dx;
            near = yy >= 0 && yy < h && xx >= 0 && xx < w && body[yy * w + xx];
          }
        }
        if (near && (body[i] || owner[i] == c.ordinal())) {
          cover[i] = body[i] ? Math.max(alpha[i], INK) : alpha[i];
          sw += cover[i];
          sx += cover[i] * x;
          sy += cover[i] * y;
        }
      }
    }
    double cx = sx / sw;
    double cy = sy / sw;
    double[] radius = new double[RAYS];
    // Rays need to run only as far as the farthest covered pixel (plus the bilinear footprint).
    double maxR = 0;
    for (int i = 0; i < plane; i++) {
      if (cover[i] > 0) {
        maxR = Math.max(maxR, Math.hypot(i % w - cx, i / w - cy) + 1.5);
      }
    }
    double mean = 0;
    for (int r = 0; r < RAYS; r++) {
      double t = 2 * Math.PI * r / RAYS;
      double dx = Math.cos(t);
      double dy = Math.sin(t);
      double last = 0;
      for (double s = 0; s < maxR; s += 0.1) {
        double v = bilinear(cover, h, w, cy + s * dy, cx + s * dx);
        if (v >= INK) {
          last = s;
        }
      }
      radius[r] = last;
      mean += last;
    }
    mean /= RAYS;
    double[] harm = new double[8];
    for (int k = 1; k <= 8; k++) {
      double re = 0;
      double im = 0;
      for (int r = 0; r < RAYS; r++) {
        double t = 2 * Math.PI * r / RAYS;
        re += radius[r] * Math.cos(k * t);
        im += radius[r] * Math.sin(k * t);
      }
      harm[k - 1] = mean > 0 ? 2 * Math.hypot(re, im) / RAYS / mean : 0;
    }
    int top = 0;
    for (int k = 1; k < 6; k++) {
      if (harm[k] > harm[top]) {
        top = k;
      }
    }
    String amps = String.format(Locale.ROOT, "a1..a6 %.2f %.2f %.2f %.2f %.2f %.2f", harm[0], harm[1], harm[2], harm[3], harm[4], harm[5]);
    if (harm[top] < ROUND) {
      return new Blob(c, ink, area, ShapeKind.CIRCLE, harm, amps);
    }
    ShapeKind s = switch (top + 1) {
      case 3 -> ShapeKind.TRIANGLE;
      case 4 -> ShapeKind.SQUARE;
      case 5 -> ShapeKind.STAR;
      default -> null;
    };
    double runnerUp = 0;
    for (int k = 0; k < 6; k++) {
      if (k != top) {
        runnerUp = Math.max(runnerUp, harm[k]);
      }
    }
    // A named shape's harmonic must stand out: a blob has several strong ones (drawn shapes: own >= 0.12, others <= 0.10,
    // and at least 2.5 times stronger).
    if (s != null && (harm[top] < SHARP || harm[top] < DOMINANCE * runnerUp)) {
      s = null;
    }
    return new Blob(c, ink, area, s, harm, amps);
  }

  private static double bilinear(double[] v, int h, int w, double y, double x) {
    if (y < 0 || x < 0 || y > h - 1 || x > w - 1) {
      return 0;
    }
    int y0 = (int) Math.floor(y);
    int x0 = (int) Math.floor(x);
    int y1 = Math.min(y0 + 1, h - 1);
    int x1 = Math.min(x0 + 1, w - 1);
    double fy = y - y0;
    double fx = x - x0;
    return (1 - fy) * ((1 - fx) * v[y0 * w + x0] + fx * v[y0 * w + x1]) + fy * ((1 - fx) * v[y1 * w + x0] + fx * v[y1 * w + x1]);
  }

  /** Labels the 8-connected (or 4-connected) component of {@code start} with {@code id}; returns its size. */
  private static int fill(boolean[] mask, int[] comp, int start, int id, int h, int w, boolean eight) {
    ArrayDeque<Integer> q = new ArrayDeque<>();
    q.add(start);
    comp[start] = id;
    int n = 0;
    while (!q.isEmpty()) {
      int i = q.poll();
      n++;
      int y = i / w;
      int x = i % w;
      for (int dy = -1; dy <= 1; dy++) {
        for (int dx = -1; dx <= 1; dx++) {
          if ((dy == 0 && dx == 0) || (!eight && dy != 0 && dx != 0)) {
            continue;
          }
          int yy = y + dy;
          int xx = x + dx;
          if (yy >= 0 && yy < h && xx >= 0 && xx < w) {
            int j = yy * w + xx;
            if (mask[j] && comp[j] < 0) {
              comp[j] = id;
              q.add(j);
            }
          }
        }
      }
    }
    return n;
  }

  /**
   * Judges a picture against a caption of the demo grammar with one or two objects and a plain or no
   * background.
   *
   * @throws IllegalArgumentException for a caption outside the grammar or with a two-tone background
   */
  public static Verdict judge(String caption, float[] chw, int height, int width) {
    CaptionParser.Claims c = CaptionParser.parse(caption);
    if (c.background2() != null) {
      throw new IllegalArgumentException("the shape checker judges plain or unnamed backgrounds, got '" + caption + "'");
    }
    Reading r = read(chw, height, width);
    boolean bgOk = c.background() == null || r.background() == c.background();
    List<DemoColor> top = r.objects().stream().limit(c.objects().size()).map(Blob::color).toList();
    boolean colorOk = top.size() == c.objects().size();
    for (CaptionParser.ObjectClaim o : c.objects()) {
      colorOk &= top.contains(o.color());
    }
    boolean shapeOk = true;
    List<String> why = new ArrayList<>();
    for (CaptionParser.ObjectClaim o : c.objects()) {
      Blob blob = r.of(o.color());
      if (blob == null && c.objects().size() == 1 && !r.objects().isEmpty()) {
        blob = r.objects().get(0);
      }
      boolean ok = blob != null && blob.shape() == o.shape();
      shapeOk &= ok;
      if (!ok) {
        why.add("wants " + o.color().word() + " " + o.shape().word() + ", reads " + (blob == null ? "no such object" : blob.toString()));
      }
    }
    if (!bgOk) {
      why.add(0, "background reads " + r.background().word() + ", caption says " + c.background().word());
    }
    if (!colorOk) {
      why.add("most ink: " + top.stream().map(DemoColor::word).toList());
    }
    return new Verdict(bgOk, colorOk, shapeOk, r, why.isEmpty() ? "agrees" : String.join("; ", why));
  }
}
