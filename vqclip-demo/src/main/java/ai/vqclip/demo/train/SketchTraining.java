package ai.vqclip.demo.train;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import ai.vqclip.core.optim.OptimizerConfig;
import ai.vqclip.demo.data.Scene;
import ai.vqclip.demo.data.ShapesDataset;
import ai.vqclip.onnx.RandomWeights;
import ai.vqclip.onnx.clip.ClipEncoder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Trains the demo's <b>caption sketcher</b>: a coordinate network that draws a caption at a given
 * layout. The picture is a background, a function of the place in the picture and the caption's
 * CLIP text embedding, with one object composited over it per slot of the layout. An object is
 * drawn by one small per-pixel network shared by the slots: it reads the pixel's place relative to
 * the slot (offsets scaled by the slot's radius, the distance, and the first five angular harmonics,
 * which tell a star from a triangle or a square), and every hidden layer is scaled and shifted by the
 * slot's own caption (FiLM, Perez et al. 2018): the caption of that object alone on the background
 * (composable prompting, Liu et al. 2022; {@link #objectCaptions}), since a pooled CLIP embedding of
 * "a red circle and a blue star" does not say which object is which. Two small heads read from the
 * caption alone how many objects it names (1 or 2) and their size class (small, medium, big), so that
 * generation can choose a layout without parsing the caption.
 *
 * <p>Why: eleven rounds of issue 15 showed that CLIP guidance from random codes pulls every seed of a
 * prompt to the same layout and draws colours but rarely the shape (38% of the test pictures all
 * right). A start that already shows the caption's shapes at a random layout lets generation refine
 * instead of invent (VQGAN-CLIP's init image, drawn by a learned model from the text). The layout
 * is the sketch's randomness: the caption fixes what is drawn, the seed where and how big.
 *
 * <p>The network sees no pixels, only coordinates and captions, so the one thing it can learn is
 * how the captions' words look; it draws at any picture size, since coordinates are in picture
 * widths.
 *
 * @param width hidden width of the object network
 * @param size picture side of the training pictures
 * @param batch pictures per step
 * @param steps optimizer steps
 * @param learningRate peak learning rate (cosine to 0.1x)
 * @param seed seed of the weights and the pictures
 * @param logEvery steps per logged loss
 */
public record SketchTraining(int width, int size, int batch, int steps, double learningRate, long seed, int logEvery) {

  /** Input: the caption embeddings [n, D], L2-normalised (the background and the heads read them). */
  public static final String CAPTION = "caption";
  /**
   * Input: each slot's own caption embedding [n, SLOTS * D], L2-normalised: the caption of that object
   * alone on the caption's background ({@link #objectCaptions}); for a one-object caption the caption
   * itself in every slot.
   */
  public static final String OBJECT_CAPTIONS = "object_captions";
  /** Input: the layout [n, 8]: per slot centre x, centre y, circumradius (picture widths) and presence (0 or 1). */
  public static final String LAYOUT = "layout";
  /** Output: the sketches [n, 3, S, S] in [-1, 1] (roughly; clamp them). */
  public static final String SKETCH = "sketch";
  /** Output: the object-count logits [n, 2] (one object, two). */
  public static final String COUNT = "count";
  /** Output: the size-class logits [n, 3] (small, medium, big). */
  public static final String SIZE = "size";
  /** Object slots of a layout. */
  public static final int SLOTS = 2;
  /** Values per slot in {@link #LAYOUT}. */
  public static final int SLOT_VALUES = 4;
  /** Angular harmonics per slot. */
  static final int HARMONICS = 5;
  /** Hidden layers of the object network. */
  static final int LAYERS = 3;
  /** Per-pixel features of an object slot: u, v, rho, and cos/sin of each harmonic. */
  static final int OBJECT_FEATURES = 3 + 2 * HARMONICS;
  /** Hidden layers of the background network. */
  static final int BACKGROUND_LAYERS = 2;
  /** Hidden width of the background network. */
  static final int BACKGROUND_WIDTH = 32;
  /** Hidden width of the count and size heads. */
  static final int HEAD_WIDTH = 64;
  /** Key of the caption embeddings' mean [D] (not trained). */
  public static final String COND_MEAN = "cond.mean";
  /** Key of the inverse standard deviation per component [D] (not trained). */
  public static final String COND_SCALE = "cond.scale";

  static final String LOSS = "loss";
  static final String TARGET = "target";
  static final String COUNT_TARGET = "count_target";
  static final String SIZE_TARGET = "size_target";

  /** Checks the sizes. */
  public SketchTraining {
    if (width < 1 || size < 8 || batch < 1 || steps < 1 || logEvery < 1) {
      throw new IllegalArgumentException("width, batch, steps, logEvery must be >= 1 and size >= 8, got " + width + ", " + batch + ", "
          + steps + ", " + logEvery + ", " + size);
    }
  }

  /** The demo sketcher's settings. */
  public static SketchTraining demo() {
    return new SketchTraining(64, 32, 32, 3000, 2e-3, 20241201L, 25);
  }

  /** The weights' expected shapes for a hidden width {@code width} and a caption width {@code dim}. */
  public static Map<String, long[]> shapes(int width, int dim) {
    Map<String, long[]> s = new LinkedHashMap<>();
    int in = OBJECT_FEATURES;
    for (int l = 0; l < LAYERS; l++) {
      s.put("obj" + l + ".weight", new long[] {width, in, 1, 1});
      s.put("obj" + l + ".bias", new long[] {width});
      s.put("film" + l + ".weight", new long[] {2L * width, dim, 1, 1});
      s.put("film" + l + ".bias", new long[] {2L * width});
      in = width;
    }
    s.put("obj.out.weight", new long[] {4, width, 1, 1});
    s.put("obj.out.bias", new long[] {4});
    in = 2;
    for (int l = 0; l < BACKGROUND_LAYERS; l++) {
      s.put("bg" + l + ".weight", new long[] {BACKGROUND_WIDTH, in, 1, 1});
      s.put("bg" + l + ".bias", new long[] {BACKGROUND_WIDTH});
      s.put("bgfilm" + l + ".weight", new long[] {2L * BACKGROUND_WIDTH, dim, 1, 1});
      s.put("bgfilm" + l + ".bias", new long[] {2L * BACKGROUND_WIDTH});
      in = BACKGROUND_WIDTH;
    }
    s.put("bg.out.weight", new long[] {3, BACKGROUND_WIDTH, 1, 1});
    s.put("bg.out.bias", new long[] {3});
    s.put("head.weight", new long[] {HEAD_WIDTH, dim, 1, 1});
    s.put("head.bias", new long[] {HEAD_WIDTH});
    s.put("count.weight", new long[] {2, HEAD_WIDTH, 1, 1});
    s.put("count.bias", new long[] {2});
    s.put("size.weight", new long[] {3, HEAD_WIDTH, 1, 1});
    s.put("size.bias", new long[] {3});
    s.put(COND_MEAN, new long[] {dim});
    s.put(COND_SCALE, new long[] {dim});
    return s;
  }

  /**
   * The sketcher's forward graph: inputs {@link #CAPTION} [n, D], {@link #OBJECT_CAPTIONS} [n, SLOTS *
   * D] and {@link #LAYOUT} [n, 8], outputs {@link #SKETCH}, {@link #COUNT} and {@link #SIZE}.
   *
   * @param weights the weights ({@link #shapes} for their keys)
   * @param n pictures
   * @param size picture side
   * @return the graph
   * @throws IllegalArgumentException when a weight is missing or misshapen
   */
  public static Graph sketcher(Map<String, Tensor> weights, int n, int size) {
    GraphBuilder b = new GraphBuilder("caption_sketch");
    Outputs o = body(b, weights, n, size, checkedDim(weights));
    b.output(SKETCH, o.sketch);
    b.output(COUNT, o.count);
    b.output(SIZE, o.size);
    return b.build();
  }

  /**
   * A sketcher's weights read from a file (every tensor as float32) and checked against {@link
   * #shapes}.
   *
   * @param file the weights ({@code TrainDemo sketch} writes them)
   * @return the weights
   * @throws IllegalArgumentException when a weight is missing or misshapen
   * @throws ai.vqclip.core.ModelLoadException when the file cannot be read
   */
  public static Map<String, Tensor> read(java.nio.file.Path file) {
    Map<String, Tensor> w = RestorerTraining.readWeights(file);
    checkedDim(w);
    return w;
  }

  /**
   * The caption width of weights, after checking every key and shape against {@link #shapes}.
   *
   * @param weights the weights
   * @return the caption width D
   * @throws IllegalArgumentException when a weight is missing or misshapen, or a width is out of range
   */
  public static int checkedDim(Map<String, Tensor> weights) {
    Tensor mean = weights.get(COND_MEAN);
    Tensor w0 = weights.get("obj0.weight");
    if (mean == null || mean.shape().length != 1 || w0 == null || w0.shape().length != 4) {
      throw new IllegalArgumentException("sketch weights need '" + COND_MEAN + "' [D] and 'obj0.weight' [W, " + OBJECT_FEATURES + ", 1, 1]");
    }
    long dim = mean.shape()[0];
    long width = w0.shape()[0];
    if (dim < 1 || dim > 4096 || width < 1 || width > 4096) {
      throw new IllegalArgumentException("sketch weights: caption width " + dim + " and hidden width " + width + " must be in [1, 4096]");
    }
    for (Map.Entry<String, long[]> e : shapes((int) width, (int) dim).entrySet()) {
      Tensor t = weights.get(e.getKey());
      if (t == null || !java.util.Arrays.equals(t.shape(), e.getValue())) {
        throw new IllegalArgumentException("sketch weights have no '" + e.getKey() + "' of shape " + java.util.Arrays.toString(e.getValue())
            + (t == null ? "" : ", got " + java.util.Arrays.toString(t.shape())));
      }
    }
    return (int) dim;
  }

  private record Outputs(Value sketch, Value count, Value size) {}

  private static Outputs body(GraphBuilder b, Map<String, Tensor> w, int n, int size, int dim) {
    Value caption = b.input(CAPTION, DType.FLOAT, Shape.of(n, dim));
    Value objectCaptions = b.input(OBJECT_CAPTIONS, DType.FLOAT, Shape.of(n, SLOTS * dim));
    Value layout = b.input(LAYOUT, DType.FLOAT, Shape.of(n, SLOTS * SLOT_VALUES));
    Value mean = b.constant(w.get(COND_MEAN));
    Value scale = b.constant(w.get(COND_SCALE));
    Value c4 = standardized(b, mean, scale, caption, n, dim);
    float[] xs = new float[size * size];
    float[] ys = new float[size * size];
    for (int y = 0; y < size; y++) {
      for (int x = 0; x < size; x++) {
        xs[y * size + x] = (x + 0.5f) / size;
        ys[y * size + x] = (y + 0.5f) / size;
      }
    }
    long[] grid = {1, 1, size, size};
    Value gx = b.constant(Tensor.ofFloats(grid, xs));
    Value gy = b.constant(Tensor.ofFloats(grid, ys));
    Value full = b.ints(n, 1, size, size);
    // The background: a function of the place in the picture (a two-tone background splits at x = 1/2).
    Value h = b.op("Concat").in(b.expand(gx, full), b.expand(gy, full)).attr("axis", 1L).out();
    for (int l = 0; l < BACKGROUND_LAYERS; l++) {
      h = filmLayer(b, h, c4, w, "bg" + l, "bgfilm" + l, BACKGROUND_WIDTH);
    }
    Value background = conv(b, h, w, "bg.out");
    // Each object: one network shared by the slots, conditioned on the slot's own caption,
    // composited over what is below it.
    Value uncovered = null;
    Value objects = null;
    int width = Math.toIntExact(w.get("obj0.weight").shape()[0]);
    for (int k = 0; k < SLOTS; k++) {
      Value cx = slot(b, layout, n, k, 0);
      Value cy = slot(b, layout, n, k, 1);
      Value r = slot(b, layout, n, k, 2);
      Value present = slot(b, layout, n, k, 3);
      Value own = b.op("Slice").in(objectCaptions, b.ints((long) k * dim), b.ints((long) (k + 1) * dim), b.ints(1)).out();
      Value own4 = standardized(b, mean, scale, own, n, dim);
      Value u = b.div(b.sub(gx, cx), r); // [n, 1, S, S]
      Value v = b.div(b.sub(gy, cy), r);
      Value rho = b.op("Sqrt").in(b.add(b.add(b.mul(u, u), b.mul(v, v)), b.scalar(1e-4, DType.FLOAT))).out();
      Value c1 = b.div(u, rho);
      Value s1 = b.div(v, rho);
      List<Value> feats = new ArrayList<>(List.of(u, v, rho));
      Value ck = c1;
      Value sk = s1;
      for (int hm = 1; hm <= HARMONICS; hm++) {
        feats.add(ck);
        feats.add(sk);
        Value nc = b.sub(b.mul(ck, c1), b.mul(sk, s1)); // cos((h+1)t), sin((h+1)t) by the angle-sum rule
        Value ns = b.add(b.mul(sk, c1), b.mul(ck, s1));
        ck = nc;
        sk = ns;
      }
      Value o = b.op("Concat").in(feats.toArray(Value[]::new)).attr("axis", 1L).out();
      for (int l = 0; l < LAYERS; l++) {
        o = filmLayer(b, o, own4, w, "obj" + l, "film" + l, width);
      }
      o = conv(b, o, w, "obj.out"); // [n, 4, S, S]: coverage logit, colour
      Value m = b.mul(b.op("Sigmoid").in(b.op("Slice").in(o, b.ints(0), b.ints(1), b.ints(1)).out()).out(), present);
      Value rgb = b.op("Slice").in(o, b.ints(1), b.ints(4), b.ints(1)).out();
      Value mine = b.mul(m, rgb);
      Value rest = b.sub(b.scalar(1, DType.FLOAT), m);
      objects = objects == null ? mine : b.add(objects, b.mul(uncovered, mine));
      uncovered = uncovered == null ? rest : b.mul(uncovered, rest);
    }
    Value sketch = b.add(b.mul(background, uncovered), objects);
    Value hidden = b.op("Relu").in(conv(b, c4, w, "head")).out();
    Value count = b.reshape(conv(b, hidden, w, "count"), n, 2);
    Value sz = b.reshape(conv(b, hidden, w, "size"), n, 3);
    return new Outputs(sketch, count, sz);
  }

  /**
   * Caption embeddings standardised per component over the training captions, as [n, D, 1, 1]: they
   * differ by little between captions (a shape word moves a unit vector a few degrees).
   */
  private static Value standardized(GraphBuilder b, Value mean, Value scale, Value c, int n, int dim) {
    return b.reshape(b.mul(b.sub(c, mean), scale), n, dim, 1, 1);
  }

  /** relu(conv(x) * (1 + gamma) + beta), with gamma and beta a 1x1 projection of the caption. */
  private static Value filmLayer(GraphBuilder b, Value x, Value c4, Map<String, Tensor> w, String name, String film, int width) {
    Value lin = conv(b, x, w, name);
    Value f = conv(b, c4, w, film); // [n, 2W, 1, 1]
    Value gamma = b.op("Slice").in(f, b.ints(0), b.ints(width), b.ints(1)).out();
    Value beta = b.op("Slice").in(f, b.ints(width), b.ints(2L * width), b.ints(1)).out();
    return b.op("Relu").in(b.add(b.mul(lin, b.add(gamma, b.scalar(1, DType.FLOAT))), beta)).out();
  }

  /** Layout value {@code j} of slot {@code k} as [n, 1, 1, 1]. */
  private static Value slot(GraphBuilder b, Value layout, int n, int k, int j) {
    int at = k * SLOT_VALUES + j;
    return b.reshape(b.op("Slice").in(layout, b.ints(at), b.ints(at + 1), b.ints(1)).out(), n, 1, 1, 1);
  }

  private static Value conv(GraphBuilder b, Value x, Map<String, Tensor> w, String name) {
    return b.op("Conv").in(x, param(b, w, name + ".weight"), param(b, w, name + ".bias")).out();
  }

  /** The weight's initializer, made at its first use (the object network's are shared by the slots). */
  private static Value param(GraphBuilder b, Map<String, Tensor> w, String key) {
    return b.hasValue(key) ? b.value(key) : b.initializer(key, w.get(key));
  }

  /** Random initial weights (He-scaled convolutions, zero FiLM so that training starts unconditioned) with the caption statistics. */
  static Map<String, Tensor> initial(int width, int dim, long seed, Tensor mean, Tensor scale) {
    SplittableRandom rnd = new SplittableRandom(seed ^ 0x5DEECE66DL);
    Map<String, Tensor> w = new LinkedHashMap<>();
    for (Map.Entry<String, long[]> e : shapes(width, dim).entrySet()) {
      long[] s = e.getValue();
      String k = e.getKey();
      if (k.equals(COND_MEAN)) {
        w.put(k, mean);
      } else if (k.equals(COND_SCALE)) {
        w.put(k, scale);
      } else if (k.endsWith(".bias") || k.contains("film")) {
        w.put(k, Tensor.filled(DType.FLOAT, s, 0));
      } else {
        w.put(k, RandomWeights.normal(s, rnd, 0, Math.sqrt(2.0 / s[1])));
      }
    }
    return w;
  }

  /** The trained weights and the run's manifest. */
  public record Result(Map<String, Tensor> weights, TrainingManifest manifest) {}

  /**
   * Runs the training.
   *
   * @param clip the CLIP whose text embeddings the sketcher reads (generation must use the same)
   * @param progress gets one line per logging interval
   * @return the weights and the manifest
   */
  public Result run(ClipEncoder clip, Consumer<String> progress) {
    int dim = clip.embeddingDim();
    ShapesDataset data = new ShapesDataset(size, seed);
    Map<String, float[]> embeddings = new HashMap<>();
    Tensor[] stats = CaptionPriorTraining.captionStats(data, clip, embeddings, (int) Math.min(2000, (long) steps * batch));
    Map<String, Tensor> init = initial(width, dim, seed, stats[0], stats[1]);
    Graph g = trainingGraph(init, batch, size, dim);
    List<String> params = new ArrayList<>();
    for (String k : init.keySet()) {
      if (!k.equals(COND_MEAN) && !k.equals(COND_SCALE)) {
        params.add(k);
      }
    }
    ExecutionOptions opts = ExecutionOptions.cpu();
    long t0 = System.nanoTime();
    try (Trainer t = new Trainer(g, LOSS, params, List.of(SKETCH), OptimizerConfig.adam(learningRate), opts)) {
      List<Double> losses = RestorerTraining.loop(t, "sketch", steps, logEvery, s -> batch(data, clip, embeddings, (long) s * batch, batch),
          s -> RestorerTraining.cosine(learningRate, steps, s), progress);
      double seconds = (System.nanoTime() - t0) / 1e9;
      Map<String, Tensor> trained = new LinkedHashMap<>(init);
      Map<String, Tensor> p = t.parameters();
      for (String k : params) {
        trained.put(k, Tensor.ofFloats(init.get(k).shape(), p.get(k).toFloats()));
      }
      Map<String, Object> metrics = new LinkedHashMap<>();
      double err = 0;
      long count = 0;
      for (int i = 0; i < 8; i++) {
        Map<String, Tensor> in = batch(data, clip, embeddings, VqganTraining.HELD_OUT + (long) i * batch, batch);
        float[] want = in.get(TARGET).toFloats();
        float[] got = t.evaluate(in).get(SKETCH).toFloats();
        for (int j = 0; j < want.length; j++) {
          err += Math.abs(Math.max(-1, Math.min(1, got[j])) - want[j]) / 2;
        }
        count += want.length;
      }
      metrics.put("heldOutMeanAbsError", err / count);
      Map<String, Object> settings = new LinkedHashMap<>();
      settings.put("width", width);
      settings.put("layers", LAYERS);
      settings.put("harmonics", HARMONICS);
      settings.put("size", size);
      settings.put("architecture", "background net (x, y; FiLM by the caption) + one object net for every slot (FiLM by the slot's object "
          + "caption), composited; MLP count and size heads");
      settings.put("schedule", "cosine to 0.1x");
      settings.put("optimizer", "adam");
      settings.put("loss", "L1 + L2 on pixels + 0.1 (count and size cross-entropy)");
      TrainingManifest m = new TrainingManifest("caption-sketch", seed, steps, batch, learningRate, logEvery, losses, seconds, t.parameterCount(),
          settings, metrics, VqganTraining.runtime(opts));
      return new Result(trained, m);
    }
  }

  /**
   * The training graph: inputs {@link #CAPTION}, {@link #OBJECT_CAPTIONS}, {@link #LAYOUT}, the
   * pictures {@code target} [n, 3, S, S] in [-1, 1] and the heads' one-hot targets; outputs the loss
   * (L1 + L2 on pixels, plus a tenth of the heads' cross-entropies) and {@link #SKETCH}.
   */
  static Graph trainingGraph(Map<String, Tensor> init, int n, int size, int dim) {
    GraphBuilder b = new GraphBuilder("caption_sketch_train");
    Outputs o = body(b, init, n, size, dim);
    Value target = b.input(TARGET, DType.FLOAT, Shape.of(n, 3, size, size));
    Value countT = b.input(COUNT_TARGET, DType.FLOAT, Shape.of(n, 2));
    Value sizeT = b.input(SIZE_TARGET, DType.FLOAT, Shape.of(n, 3));
    Value pixels = VqTrainingGraph.reconstruction(b, o.sketch, target);
    Value ceCount = crossEntropy(b, o.count, countT);
    Value ceSize = crossEntropy(b, o.size, sizeT);
    b.output(LOSS, b.add(pixels, b.mul(b.add(ceCount, ceSize), b.scalar(0.1, DType.FLOAT))));
    b.output(SKETCH, b.op("Identity").in(o.sketch).out());
    return b.build();
  }

  /** Mean over rows of -sum(target * log softmax(logits)). */
  private static Value crossEntropy(GraphBuilder b, Value logits, Value target) {
    Value ls = b.op("LogSoftmax").in(logits).attr("axis", 1L).out();
    return b.neg(b.reduceMean(b.reduceSum(b.mul(ls, target), false, 1), false));
  }

  /**
   * The captions of each object of a caption alone on its background: for "a red circle and a blue
   * star on a green background", "a red circle on a green background" and "a blue star on a green
   * background". The object list is what precedes the last " on "; its objects are split at " and ".
   * A caption with one object (or none to split) gives itself; more than {@link #SLOTS} objects give
   * the first ones.
   *
   * @param caption a caption
   * @return one to {@link #SLOTS} captions
   */
  public static List<String> objectCaptions(String caption) {
    String text = caption.strip();
    int on = text.lastIndexOf(" on ");
    String objects = on < 0 ? text : text.substring(0, on);
    String rest = on < 0 ? "" : text.substring(on);
    String[] parts = objects.split(" and ");
    List<String> out = new ArrayList<>();
    for (String p : parts) {
      if (!p.isBlank() && out.size() < SLOTS) {
        out.add(p.strip() + rest);
      }
    }
    return out.size() <= 1 ? List.of(text) : out;
  }

  /** Pictures {@code first..first+n-1} with their captions, the slots' captions, layouts and head targets. */
  static Map<String, Tensor> batch(ShapesDataset data, ClipEncoder clip, Map<String, float[]> cache, long first, int n) {
    int s = data.size();
    int plane = 3 * s * s;
    int dim = clip.embeddingDim();
    float[] px = new float[n * plane];
    float[] captions = new float[n * dim];
    float[] own = new float[n * SLOTS * dim];
    float[] layouts = new float[n * SLOTS * SLOT_VALUES];
    float[] counts = new float[n * 2];
    float[] sizes = new float[n * 3];
    for (int i = 0; i < n; i++) {
      ShapesDataset.Sample sample = data.sample(first + i);
      float[] img = ShapesDataset.toTensor(List.of(sample.image()), true).toFloats();
      System.arraycopy(img, 0, px, i * plane, plane);
      System.arraycopy(CaptionPriorTraining.embedding(clip, cache, sample.caption()), 0, captions, i * dim, dim);
      List<String> parts = objectCaptions(sample.caption());
      for (int k = 0; k < SLOTS; k++) {
        String part = parts.get(Math.min(k, parts.size() - 1));
        System.arraycopy(CaptionPriorTraining.embedding(clip, cache, part), 0, own, (i * SLOTS + k) * dim, dim);
      }
      float[] lay = layoutOf(sample.scene());
      System.arraycopy(lay, 0, layouts, i * lay.length, lay.length);
      List<Scene.Item> objs = sample.scene().objects();
      counts[i * 2 + objs.size() - 1] = 1;
      sizes[i * 3 + (objs.size() == 1 ? objs.get(0).size().ordinal() : Scene.Size.MEDIUM.ordinal())] = 1;
    }
    Map<String, Tensor> out = new HashMap<>();
    out.put(TARGET, Tensor.ofFloats(new long[] {n, 3, s, s}, px));
    out.put(CAPTION, Tensor.ofFloats(new long[] {n, dim}, captions));
    out.put(OBJECT_CAPTIONS, Tensor.ofFloats(new long[] {n, SLOTS * dim}, own));
    out.put(LAYOUT, Tensor.ofFloats(new long[] {n, SLOTS * SLOT_VALUES}, layouts));
    out.put(COUNT_TARGET, Tensor.ofFloats(new long[] {n, 2}, counts));
    out.put(SIZE_TARGET, Tensor.ofFloats(new long[] {n, 3}, sizes));
    return out;
  }

  /** A scene's layout: its objects in caption order, an absent second slot as zeros with radius 1. */
  public static float[] layoutOf(Scene scene) {
    float[] l = new float[SLOTS * SLOT_VALUES];
    for (int k = 0; k < SLOTS; k++) {
      if (k < scene.objects().size()) {
        Scene.Item it = scene.objects().get(k);
        l[k * SLOT_VALUES] = (float) it.cx();
        l[k * SLOT_VALUES + 1] = (float) it.cy();
        l[k * SLOT_VALUES + 2] = (float) it.radius();
        l[k * SLOT_VALUES + 3] = 1;
      } else {
        l[k * SLOT_VALUES + 2] = 1;
      }
    }
    return l;
  }
}
