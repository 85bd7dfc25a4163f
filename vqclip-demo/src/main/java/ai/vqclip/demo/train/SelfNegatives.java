package ai.vqclip.demo.train;

import ai.vqclip.core.Tensor;
import ai.vqclip.demo.data.ShapesDataset;
import java.awt.image.BufferedImage;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Negatives that the CLIP in training makes for itself: a persistent buffer of pictures, each moved
 * a little further up the training loss (towards what the CLIP takes for some caption of the batch)
 * every time it is shown, the way generation moves its picture, and shown as a negative that no
 * caption describes. Whatever the CLIP's own gradient can grow without drawing a shape (strokes for
 * rings, spiky blots for stars) is shown to it as a negative while it trains, so its gradient has
 * to point at shapes: persistent contrastive-divergence negatives (Tieleman 2008), as in
 * energy-based training of classifiers (Grathwohl et al. 2020), whose input gradients draw
 * recognisable pictures.
 *
 * <p>Each picture starts as a blob or near-miss of a random scene ({@link TrainingViews}) and is
 * started afresh with a small probability per update, so that the buffer keeps a mix of young and
 * old negatives. Everything is drawn from the given seed: a run stays reproducible.
 */
final class SelfNegatives {
  private final float[][] pictures;
  private final int size;
  private final double stepL2;
  private final double restart;
  private final SplittableRandom rnd;
  private final ShapesDataset scenes;
  private int next;
  private int[] shown = new int[0];

  /**
   * A buffer of {@code count} pictures of side {@code size}.
   *
   * @param count pictures in the buffer, at least 1
   * @param size picture side in pixels
   * @param stepL2 L2 length of one move up the loss ([0, 1] pixel units)
   * @param restart probability per update that a picture starts afresh
   * @param seed seed of the starts, the noise and the restarts
   */
  SelfNegatives(int count, int size, double stepL2, double restart, long seed) {
    if (count < 1) {
      throw new IllegalArgumentException("count must be >= 1, got " + count);
    }
    this.pictures = new float[count][];
    this.size = size;
    this.stepL2 = stepL2;
    this.restart = restart;
    this.rnd = new SplittableRandom(seed);
    this.scenes = new ShapesDataset(size, seed ^ 0x5DEECE66DL);
    for (int i = 0; i < count; i++) {
      pictures[i] = fresh();
    }
  }

  private float[] fresh() {
    BufferedImage b = rnd.nextBoolean() ? TrainingViews.blob(scenes.sample(rnd.nextInt(1 << 20)).scene(), size, rnd)
        : TrainingViews.nearMiss(scenes.sample(rnd.nextInt(1 << 20)).scene(), size, rnd);
    return ShapesDataset.toTensor(List.of(b), false).toFloats();
  }

  /**
   * The batch's pictures with the last {@code k} replaced by the next {@code k} pictures of the
   * buffer (round robin); {@link #update} then moves those.
   *
   * @param images the batch's pictures [m, 3, size, size]
   * @param k buffer pictures to show, at most m and the buffer's size
   * @return the pictures with the buffer's in the last k rows
   */
  Tensor show(Tensor images, int k) {
    float[] x = images.toFloats();
    int d = 3 * size * size;
    int m = x.length / d;
    shown = new int[k];
    for (int i = 0; i < k; i++) {
      shown[i] = next;
      next = (next + 1) % pictures.length;
      System.arraycopy(pictures[shown[i]], 0, x, (m - k + i) * d, d);
    }
    return Tensor.ofFloats(images.shape(), x);
  }

  /**
   * Moves the pictures last shown one normalised step up the loss (its gradient with respect to the
   * batch's pictures), clamped to [0, 1]; each starts afresh with the restart probability.
   *
   * @param gradient the loss's gradient with respect to the pictures [m, 3, size, size]
   */
  void update(Tensor gradient) {
    float[] g = gradient.toFloats();
    int d = 3 * size * size;
    int m = g.length / d;
    int k = shown.length;
    for (int i = 0; i < k; i++) {
      float[] p = pictures[shown[i]];
      if (rnd.nextDouble() < restart) {
        pictures[shown[i]] = fresh();
        continue;
      }
      int o = (m - k + i) * d;
      double sq = 0;
      for (int j = 0; j < d; j++) {
        sq += (double) g[o + j] * g[o + j];
      }
      float s = (float) (stepL2 / Math.sqrt(sq + 1e-30));
      for (int j = 0; j < d; j++) {
        p[j] = Math.max(0f, Math.min(1f, p[j] + s * g[o + j]));
      }
    }
  }
}
