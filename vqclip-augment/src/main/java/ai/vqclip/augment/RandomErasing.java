package ai.vqclip.augment;

import ai.vqclip.core.Augmentation;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * Random erasing (code {@code Er}), after kornia's RandomErasing with value 0: a rectangle of area
 * U(scaleMin, scaleMax) x S^2 and log-uniform aspect ratio (height / width) in [ratioMin,
 * ratioMax] (sides rounded, at most S) at a uniform integer position is set to 0. Applied as a
 * multiplication by a host-drawn 0/1 mask (input {@code mask} [cutn, 1, S, S]), so the erased
 * pixels get no gradient. With {@code sameOnBatch} (NR's setting) one draw serves all cutouts.
 *
 * <p>Draws per rectangle: coin, area, log-ratio, x, y (all always); one rectangle in total when
 * {@code sameOnBatch}, else one per cutout.
 *
 * @param scaleMin smallest area fraction, in [0, scaleMax]
 * @param scaleMax largest area fraction, at most 1
 * @param ratioMin smallest aspect ratio, in (0, ratioMax]
 * @param ratioMax largest aspect ratio, at most 100
 * @param sameOnBatch one rectangle (and one coin) for every cutout
 * @param p probability of erasing, in [0, 1]
 */
public record RandomErasing(double scaleMin, double scaleMax, double ratioMin, double ratioMax, boolean sameOnBatch, double p)
    implements Augmentation {
  /**
   * Validates the parameters.
   *
   * @param scaleMin smallest area fraction, in [0, scaleMax]
   * @param scaleMax largest area fraction, at most 1
   * @param ratioMin smallest aspect ratio, at least 0.01 and at most {@code ratioMax}
   * @param ratioMax largest aspect ratio, at most 100
   * @param sameOnBatch one rectangle (and one coin) for every cutout
   * @param p probability of erasing, in [0, 1]
   * @throws IllegalArgumentException if a parameter is outside its range
   */
  public RandomErasing {
    Checks.interval("RandomErasing scale", scaleMin, scaleMax, 0, 1);
    Checks.interval("RandomErasing ratio", ratioMin, ratioMax, 1e-2, 100);
    Checks.probability("RandomErasing p", p);
  }

  /** An erased rectangle: columns [x0, x0 + w), rows [y0, y0 + h). */
  record Rect(int x0, int y0, int w, int h) {}

  /** The rectangles (null where nothing is erased), consuming the generator as {@link #sample} does. */
  Rect[] draw(RandomGenerator rng, int cutn, int size) {
    Rect[] r = new Rect[cutn];
    if (sameOnBatch) {
      Arrays.fill(r, drawOne(rng, size));
    } else {
      for (int i = 0; i < cutn; i++) {
        r[i] = drawOne(rng, size);
      }
    }
    return r;
  }

  private Rect drawOne(RandomGenerator rng, int size) {
    boolean on = rng.nextDouble() < p;
    double area = Checks.uniform(rng, scaleMin, scaleMax) * size * size;
    double ratio = Math.exp(Checks.uniform(rng, Math.log(ratioMin), Math.log(ratioMax)));
    int h = (int) Math.min(size, Math.round(Math.sqrt(area * ratio)));
    int w = (int) Math.min(size, Math.round(Math.sqrt(area / ratio)));
    int x0 = rng.nextInt(size - w + 1);
    int y0 = rng.nextInt(size - h + 1);
    return on && w > 0 && h > 0 ? new Rect(x0, y0, w, h) : null;
  }

  @Override
  public Map<String, Tensor> sample(RandomGenerator rng, int cutn, int size) {
    Rect[] rects = draw(rng, cutn, size);
    int plane = size * size;
    float[] mask = new float[cutn * plane];
    Arrays.fill(mask, 1f);
    for (int i = 0; i < cutn; i++) {
      Rect q = rects[i];
      if (q != null) {
        for (int y = q.y0(); y < q.y0() + q.h(); y++) {
          Arrays.fill(mask, i * plane + y * size + q.x0(), i * plane + y * size + q.x0() + q.w(), 0f);
        }
      }
    }
    Map<String, Tensor> out = new LinkedHashMap<>();
    out.put("mask", Tensor.ofFloats(new long[] {cutn, 1, size, size}, mask));
    return out;
  }

  @Override
  public Value apply(GraphBuilder b, Value cutouts, String inputPrefix) {
    int[] ns = Shapes.cutouts("RandomErasing", cutouts);
    Value mask = b.input(inputPrefix + "mask", DType.FLOAT, Shape.of(ns[0], 1, ns[1], ns[1]));
    return b.mul(cutouts, mask);
  }
}
