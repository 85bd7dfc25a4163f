package ai.vqclip.demo.data;

import ai.vqclip.core.Tensor;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The demo world: seeded procedural pictures of one or two coloured shapes on a plain or two-tone
 * background, each with a caption from a small grammar, e.g. "a red circle on a blue background",
 * "a small yellow star", "a green square and a purple circle".
 *
 * <p>Sample {@code i} depends only on (seed, i), so index ranges serve as train and held-out splits
 * and any sample can be redrawn alone. Drawing is Java2D with antialiasing.
 */
public final class ShapesDataset {
  /** A picture with its caption and the scene it was drawn from. */
  public record Sample(BufferedImage image, String caption, Scene scene) {}

  private final int size;
  private final long seed;

  /**
   * A dataset of {@code size}x{@code size} pictures.
   *
   * @throws IllegalArgumentException unless 16 &lt;= size &lt;= 1024
   */
  public ShapesDataset(int size, long seed) {
    if (size < 16 || size > 1024) {
      throw new IllegalArgumentException("picture size must be in [16, 1024], got " + size);
    }
    this.size = size;
    this.seed = seed;
  }

  /** Picture side in pixels. */
  public int size() {
    return size;
  }

  /** The seed. */
  public long seed() {
    return seed;
  }

  /** Sample {@code index}: a random scene, drawn, with a random caption for it. */
  public Sample sample(long index) {
    SplittableRandom rnd = random(index);
    Scene scene = randomScene(rnd);
    return new Sample(render(scene, size), Captions.random(scene, rnd), scene);
  }

  private SplittableRandom random(long index) {
    // Mixing (seed, index) into one seed keeps samples independent of the order they are drawn in.
    return new SplittableRandom(mix(seed * 0x9E3779B97F4A7C15L + index));
  }

  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** A random scene: background plain (70%) or two-tone, one object (70%) or two. */
  public static Scene randomScene(SplittableRandom rnd) {
    DemoColor[] colors = DemoColor.values();
    ShapeKind[] shapes = ShapeKind.values();
    DemoColor bg = colors[rnd.nextInt(colors.length)];
    DemoColor bg2 = null;
    if (rnd.nextDouble() < 0.3) {
      do {
        bg2 = colors[rnd.nextInt(colors.length)];
      } while (bg2 == bg);
    }
    int count = rnd.nextDouble() < 0.7 ? 1 : 2;
    List<Scene.Item> items = new ArrayList<>();
    for (int k = 0; k < count; k++) {
      DemoColor c;
      ShapeKind s;
      do {
        c = colors[rnd.nextInt(colors.length)];
        s = shapes[rnd.nextInt(shapes.length)];
      } while (c == bg || c == bg2 || (k == 1 && c == items.get(0).color()));
      Scene.Size sz;
      double radius;
      if (count == 1) {
        sz = Scene.Size.values()[rnd.nextInt(3)];
        radius = switch (sz) {
          case SMALL -> 0.13 + 0.04 * rnd.nextDouble();
          case MEDIUM -> 0.22 + 0.05 * rnd.nextDouble();
          case BIG -> 0.33 + 0.06 * rnd.nextDouble();
        };
        double cx = radius + 0.02 + (1 - 2 * radius - 0.04) * rnd.nextDouble();
        double cy = radius + 0.02 + (1 - 2 * radius - 0.04) * rnd.nextDouble();
        items.add(new Scene.Item(s, c, sz, cx, cy, radius));
      } else {
        // Two objects: one per half (left/right), so they never overlap.
        sz = Scene.Size.MEDIUM;
        radius = 0.17 + 0.05 * rnd.nextDouble();
        double half = 0.5;
        double cx = k * half + radius + 0.01 + Math.max(0, half - 2 * radius - 0.02) * rnd.nextDouble();
        double cy = radius + 0.02 + (1 - 2 * radius - 0.04) * rnd.nextDouble();
        items.add(new Scene.Item(s, c, sz, cx, cy, radius));
      }
    }
    return new Scene(bg, bg2, items);
  }

  /** Draws a scene at {@code size}x{@code size} (antialiased). */
  public static BufferedImage render(Scene scene, int size) {
    BufferedImage img = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
      paintBackground(g, scene, size);
      for (Scene.Item it : scene.objects()) {
        g.setColor(new Color(it.color().rgb()));
        g.fill(it.shape().outline(it.cx() * size, it.cy() * size, it.radius() * size));
      }
    } finally {
      g.dispose();
    }
    return img;
  }

  /**
   * Paints a scene's background (plain, or two-tone split at the middle column) over a {@code
   * size}x{@code size} picture.
   *
   * @param g where to paint
   * @param scene the scene whose background colours are used
   * @param size picture side in pixels
   */
  public static void paintBackground(Graphics2D g, Scene scene, int size) {
    g.setColor(new Color(scene.background().rgb()));
    g.fillRect(0, 0, size, size);
    if (scene.twoTone()) {
      g.setColor(new Color(scene.background2().rgb()));
      g.fillRect(size / 2, 0, size - size / 2, size);
    }
  }

  /**
   * Pictures as one float32 tensor [n, 3, H, W], values in [0, 1] (or [-1, 1] with {@code
   * signed}).
   */
  public static Tensor toTensor(List<BufferedImage> images, boolean signed) {
    int n = images.size();
    int h = images.get(0).getHeight();
    int w = images.get(0).getWidth();
    float[] out = new float[n * 3 * h * w];
    for (int i = 0; i < n; i++) {
      BufferedImage im = images.get(i);
      if (im.getWidth() != w || im.getHeight() != h) {
        throw new IllegalArgumentException("image " + i + " is " + im.getWidth() + "x" + im.getHeight() + ", expected " + w + "x" + h);
      }
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          int rgb = im.getRGB(x, y);
          for (int c = 0; c < 3; c++) {
            float v = ((rgb >> (16 - 8 * c)) & 0xFF) / 255f;
            out[((i * 3 + c) * h + y) * w + x] = signed ? 2 * v - 1 : v;
          }
        }
      }
    }
    return Tensor.ofFloats(new long[] {n, 3, h, w}, out);
  }
}
