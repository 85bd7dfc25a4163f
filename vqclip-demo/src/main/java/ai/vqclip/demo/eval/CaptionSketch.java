package ai.vqclip.demo.eval;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.backend.Backend;
import ai.vqclip.core.backend.Executable;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.pipeline.Reranking;
import ai.vqclip.demo.train.SketchTraining;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Draws a caption as a starting picture for generation with the demo's caption sketcher ({@link
 * SketchTraining}): the caption's CLIP text embedding says what to draw, the seed where and how big.
 * The sketcher's heads read from the caption how many objects it names and whether it says "small"
 * or "big"; the layout is then drawn from the seed as the demo world places objects (one object
 * anywhere inside the picture, two side by side), and the sketcher draws the caption at it.
 *
 * <p>Thread-safe: calls are serialised on the compiled graphs (one per picture size), which a sketch
 * runs in a millisecond. Close it when done.
 */
public final class CaptionSketch implements AutoCloseable {
  /**
   * Circumradius range (picture widths) of a lone object whose caption names no size. The demo world
   * draws such an object at any of its three sizes; the range is its medium and big classes' middle,
   * since the demo VQGAN keeps the outline of big and medium shapes and loses small ones.
   */
  public static final double[] UNSIZED = {0.26, 0.34};

  /**
   * Circumradius range of each of two objects. The demo world draws them at 0.17-0.22; the top of that
   * range and a little more (0.24 still fits a half with its margins), since the demo VQGAN loses the
   * outline of small shapes.
   */
  public static final double[] PAIR = {0.20, 0.24};

  /** A layout with both slots absent, for the heads' run (which does not read it). */
  private static final float[] NO_LAYOUT = {0, 0, 1, 0, 0, 0, 1, 0};
  /** The heads' outputs. */
  private static final java.util.Set<String> HEADS = java.util.Set.of(SketchTraining.COUNT, SketchTraining.SIZE);

  private final Map<String, Tensor> weights;
  private final ExecutionOptions options;
  private final Map<Integer, Executable> graphs = new HashMap<>();
  private boolean closed;

  private CaptionSketch(Map<String, Tensor> weights, ExecutionOptions options) {
    this.weights = weights;
    this.options = options;
  }

  /**
   * A sketcher from a weight file ({@code TrainDemo sketch} writes one).
   *
   * @param file the weights
   * @param options how to run it
   * @return the sketcher
   * @throws IllegalArgumentException when a weight is missing or misshapen
   * @throws ai.vqclip.core.ModelLoadException when the file cannot be read
   */
  public static CaptionSketch load(java.nio.file.Path file, ExecutionOptions options) {
    return new CaptionSketch(SketchTraining.read(file), options);
  }

  /** A drawn starting picture and the layout it was drawn at. */
  public record Sketch(Tensor image, float[] layout) {}

  /**
   * The caption drawn at a layout chosen by {@code seed}.
   *
   * @param clip the CLIP the sketcher was trained with (the demo bundle's first)
   * @param caption the text
   * @param seed chooses the layout
   * @param size picture side in pixels, in [8, 1024]
   * @return the picture [1, 3, size, size] in [0, 1] and its layout
   * @throws IllegalArgumentException for a size out of range
   */
  public Sketch draw(ai.vqclip.core.Encoder clip, String caption, long seed, int size) {
    if (size < 8 || size > 1024) {
      throw new IllegalArgumentException("sketch size must be in [8, 1024], got " + size);
    }
    float[] e = Reranking.unit(clip.embedText(caption).toFloats());
    int dim = e.length;
    List<String> parts = SketchTraining.objectCaptions(caption);
    float[] own = new float[SketchTraining.SLOTS * dim];
    for (int k = 0; k < SketchTraining.SLOTS; k++) {
      String part = parts.get(Math.min(k, parts.size() - 1));
      System.arraycopy(part.equals(caption) ? e : Reranking.unit(clip.embedText(part).toFloats()), 0, own, k * dim, dim);
    }
    Tensor cap = Tensor.ofFloats(new long[] {1, dim}, e);
    Tensor objects = Tensor.ofFloats(new long[] {1, own.length}, own);
    float[] layout;
    float[] px;
    synchronized (this) {
      Executable ex = graph(size);
      // The heads read the caption only: the layout input does not change them, and only they are computed.
      Map<String, Tensor> heads = ex.run(Map.of(SketchTraining.CAPTION, cap, SketchTraining.OBJECT_CAPTIONS, objects, SketchTraining.LAYOUT,
          Tensor.ofFloats(new long[] {1, SketchTraining.SLOTS * SketchTraining.SLOT_VALUES}, NO_LAYOUT)), HEADS);
      layout = layout(heads.get(SketchTraining.COUNT).toFloats(), heads.get(SketchTraining.SIZE).toFloats(), seed);
      px = ex.run(Map.of(SketchTraining.CAPTION, cap, SketchTraining.OBJECT_CAPTIONS, objects, SketchTraining.LAYOUT, Tensor.ofFloats(
          new long[] {1, layout.length}, layout))).get(SketchTraining.SKETCH).toFloats();
    }
    for (int i = 0; i < px.length; i++) {
      px[i] = Math.max(0, Math.min(1, (px[i] + 1) / 2));
    }
    return new Sketch(Tensor.ofFloats(new long[] {1, 3, size, size}, px), layout);
  }

  /**
   * A layout for a caption from its head outputs and a seed: two objects side by side (one per half,
   * circumradius {@link #PAIR}) where the count head says two, else one object of the size class the size
   * head is sure of (probability above 0.6: small 0.13-0.17, big 0.33-0.39; otherwise {@link #UNSIZED}) anywhere inside the
   * picture with a margin of 0.02.
   *
   * @param count the count logits [2]
   * @param size the size-class logits [3]
   * @param seed the seed
   * @return the layout ({@link SketchTraining#LAYOUT}'s values for one picture)
   */
  public static float[] layout(float[] count, float[] size, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed ^ 0x51E7C4L);
    float[] l = new float[SketchTraining.SLOTS * SketchTraining.SLOT_VALUES];
    int v = SketchTraining.SLOT_VALUES;
    if (count[1] > count[0]) {
      for (int k = 0; k < 2; k++) {
        double r = PAIR[0] + (PAIR[1] - PAIR[0]) * rnd.nextDouble();
        l[k * v] = (float) (k * 0.5 + r + 0.01 + Math.max(0, 0.5 - 2 * r - 0.02) * rnd.nextDouble());
        l[k * v + 1] = (float) (r + 0.02 + (1 - 2 * r - 0.04) * rnd.nextDouble());
        l[k * v + 2] = (float) r;
        l[k * v + 3] = 1;
      }
      return l;
    }
    // A caption without a size word is small, medium or big by the world's odds (0.25, 0.5, 0.25): a
    // size class is chosen only where the head is sure of it (the caption says "small" or "big").
    double[] p = softmax(size);
    int cls = p[0] > SURE ? 0 : p[2] > SURE ? 2 : 1;
    double r = switch (cls) {
      case 0 -> 0.13 + 0.04 * rnd.nextDouble();
      case 2 -> 0.33 + 0.06 * rnd.nextDouble();
      default -> UNSIZED[0] + (UNSIZED[1] - UNSIZED[0]) * rnd.nextDouble();
    };
    l[0] = (float) (r + 0.02 + (1 - 2 * r - 0.04) * rnd.nextDouble());
    l[1] = (float) (r + 0.02 + (1 - 2 * r - 0.04) * rnd.nextDouble());
    l[2] = (float) r;
    l[3] = 1;
    l[v + 2] = 1; // the absent second slot, as training saw it
    return l;
  }

  /** Probability above which the size head's class is taken. */
  static final double SURE = 0.6;

  private static double[] softmax(float[] z) {
    double max = Double.NEGATIVE_INFINITY;
    for (float v : z) {
      max = Math.max(max, v);
    }
    double[] p = new double[z.length];
    double sum = 0;
    for (int i = 0; i < z.length; i++) {
      p[i] = Math.exp(z[i] - max);
      sum += p[i];
    }
    for (int i = 0; i < p.length; i++) {
      p[i] /= sum;
    }
    return p;
  }

  private synchronized Executable graph(int size) {
    if (closed) {
      throw new IllegalStateException("caption sketch is closed");
    }
    return graphs.computeIfAbsent(size, s -> Backend.load().compile(SketchTraining.sketcher(weights, 1, s), options));
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    graphs.values().forEach(e -> {
      try {
        e.close();
      } catch (RuntimeException ignored) {
        // closing is best effort; the native memory goes with the process at worst
      }
    });
    graphs.clear();
  }
}
