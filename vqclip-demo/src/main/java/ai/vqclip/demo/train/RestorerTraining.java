package ai.vqclip.demo.train;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import ai.vqclip.core.optim.OptimizerConfig;
import ai.vqclip.demo.data.DemoColor;
import ai.vqclip.demo.data.Scene;
import ai.vqclip.demo.data.ShapesDataset;
import ai.vqclip.onnx.RandomWeights;
import ai.vqclip.onnx.vqgan.VqganConfig;
import ai.vqclip.onnx.vqgan.VqganGraphs;
import ai.vqclip.onnx.vqgan.VqganWeights;
import ai.vqclip.onnx.weights.StateDict;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Trains the demo's <b>restorer</b>: a convolutional encoder-decoder (the VQGAN's own encoder and
 * decoder graphs, without the quantizer) that maps a <em>damaged</em> drawn picture back to the clean
 * one. The damage is what generation does to shapes: a smooth random warp of the outline (lumpy
 * circles, bent edges, blunted star points), blur, stray specks of the object's colour in the
 * background, and pixel noise. A picture that is already clean should come back unchanged, so some
 * pictures get no damage at all.
 *
 * <p>Generation uses it as a prior ({@link ai.vqclip.core.loss.RestorationPrior}): each step pulls the
 * generated picture towards its own restoration, which is a drawn shape when the picture is near
 * one, the way regularization by denoising (Romano et al. 2017) uses a denoiser as an image prior.
 *
 * @param model the architecture (encoder and decoder of a VQGAN config; the codebook is unused)
 * @param size picture side
 * @param batch pictures per step
 * @param steps optimizer steps
 * @param learningRate peak learning rate (cosine to 0.1x)
 * @param damage the damage's strengths
 * @param seed seed of the weights, the pictures and the damage
 * @param logEvery steps per logged loss
 */
public record RestorerTraining(VqganConfig model, int size, int batch, int steps, double learningRate, Damage damage, long seed,
    int logEvery) {

  /**
   * How pictures are damaged for training; each strength is drawn uniformly from 0 to the maximum
   * per picture.
   *
   * @param clean fraction of pictures left undamaged
   * @param warp largest displacement of the smooth warp, pixels
   * @param blur largest Gaussian blur sigma, pixels
   * @param specks largest number of stray specks
   * @param noise largest pixel-noise sigma (pixel scale 0..1)
   */
  public record Damage(double clean, double warp, double blur, int specks, double noise) {}

  /** Checks the sizes. */
  public RestorerTraining {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(damage, "damage");
    if (batch < 1 || steps < 1 || logEvery < 1) {
      throw new IllegalArgumentException("batch, steps and logEvery must be >= 1, got " + batch + ", " + steps + ", " + logEvery);
    }
  }

  /** Input: damaged pictures [n, 3, S, S] in [-1, 1]. */
  public static final String DAMAGED = "damaged";
  /** Input: the clean pictures [n, 3, S, S] in [-1, 1]. */
  public static final String CLEAN = "clean";
  /** Output: the training loss. */
  public static final String LOSS = "loss";
  /** Output: the restorations. */
  public static final String RESTORED = "restored";

  /** The demo restorer: the demo VQGAN's encoder and decoder sizes. */
  public static VqganConfig demoModel() {
    return VqganTraining.demoModel();
  }

  /** The committed run's settings. */
  public static RestorerTraining demo() {
    return new RestorerTraining(demoModel(), 32, 16, 800, 2e-3, new Damage(0.15, 1.5, 1.0, 4, 0.25), 20240800L, 25);
  }

  /**
   * The restorer's forward graph for {@code n} pictures: input {@link #DAMAGED} in [-1, 1], output
   * {@link #RESTORED}, weights as initializers under {@code enc/} and {@code dec/}.
   */
  public static Graph restorer(VqganConfig cfg, Map<String, Tensor> weights, int n, int size) {
    VqganWeights w = VqganWeights.load(StateDict.of(weights), cfg, EnumSet.of(VqganWeights.Part.ENCODER, VqganWeights.Part.DECODER));
    GraphBuilder b = new GraphBuilder("restorer");
    Value x = b.input(DAMAGED, DType.FLOAT, Shape.of(n, cfg.inChannels(), size, size));
    b.output(RESTORED, body(b, w, cfg, x, n, size));
    return b.build();
  }

  /**
   * The restoration prior of a restorer weight file (as {@code TrainDemo restorer} writes it) for
   * pictures of side {@code size}, with the demo restorer's architecture.
   *
   * @param file the restorer's weights (encoder and decoder keys)
   * @param size picture side
   * @param weight the prior's full weight
   * @param start the first iteration with the prior
   * @param ramp iterations of its linear rise
   * @return the loss term
   * @throws ai.vqclip.core.ModelLoadException when the file cannot be read
   */
  public static ai.vqclip.core.loss.RestorationPrior prior(java.nio.file.Path file, int size, double weight, int start, int ramp) {
    return new ai.vqclip.core.loss.RestorationPrior(restorer(demoModel(), readWeights(file), 1, size), DAMAGED, RESTORED, weight, start, ramp);
  }

  /**
   * Every tensor of a weight file as float32, copied (the file is closed on return).
   *
   * @throws ai.vqclip.core.ModelLoadException when the file cannot be read
   */
  static Map<String, Tensor> readWeights(java.nio.file.Path file) {
    Map<String, Tensor> w = new LinkedHashMap<>();
    try (StateDict sd = ai.vqclip.onnx.weights.WeightFiles.open(file)) {
      for (String k : sd.keys()) {
        w.put(k, sd.floatTensor(k));
      }
    }
    return w;
  }

  /** The outputs of a restorer's training graph: {@link #LOSS} (the reconstruction loss of {@code y} against {@code clean}) and {@link #RESTORED}. */
  static void trainingOutputs(GraphBuilder b, Value y, Value clean) {
    b.output(LOSS, VqTrainingGraph.reconstruction(b, y, clean));
    b.output(RESTORED, b.op("Identity").in(y).out());
  }

  private static Value body(GraphBuilder b, VqganWeights w, VqganConfig cfg, Value x, int n, int size) {
    int h = size / cfg.factor();
    Value z = b.include(VqganGraphs.encoder(w, n, size, size), "enc", Map.of(VqganGraphs.X, x)).get(VqganGraphs.Z);
    return b.include(VqganGraphs.decoder(w, n, h, h), "dec", Map.of(VqganGraphs.Z, z)).get(VqganGraphs.X);
  }

  /** The trained weights (encoder and decoder keys) and the run's manifest. */
  public record Result(Map<String, Tensor> weights, TrainingManifest manifest) {}

  /** Runs the training; {@code progress} gets one line per logging interval. */
  public Result run(Consumer<String> progress) {
    ShapesDataset data = new ShapesDataset(size, seed);
    Map<String, Tensor> init = RandomWeights.vqgan(model, seed);
    VqganWeights w = VqganWeights.load(StateDict.of(init), model, EnumSet.of(VqganWeights.Part.ENCODER, VqganWeights.Part.DECODER));
    GraphBuilder b = new GraphBuilder("restorer_train");
    Value damaged = b.input(DAMAGED, DType.FLOAT, Shape.of(batch, 3, size, size));
    Value clean = b.input(CLEAN, DType.FLOAT, Shape.of(batch, 3, size, size));
    Value y = body(b, w, model, damaged, batch, size);
    trainingOutputs(b, y, clean);
    Graph g = b.build();
    Map<String, String> keys = VqTrainingGraph.stateKeys(g, init);
    ExecutionOptions opts = ExecutionOptions.cpu();
    List<Double> losses = new ArrayList<>();
    long t0 = System.nanoTime();
    try (Trainer t = new Trainer(g, LOSS, new ArrayList<>(keys.keySet()), List.of(RESTORED), OptimizerConfig.adam(learningRate), opts)) {
      losses.addAll(loop(t, "restorer", steps, logEvery, s -> pair(data, (long) s * batch, batch, damage, seed), this::cosine, progress));
      double seconds = (System.nanoTime() - t0) / 1e9;
      Map<String, Tensor> trained = new LinkedHashMap<>();
      Map<String, long[]> shapes = VqganWeights.expectedShapes(model, EnumSet.of(VqganWeights.Part.ENCODER, VqganWeights.Part.DECODER));
      Map<String, Tensor> params = t.parameters();
      for (Map.Entry<String, String> e : keys.entrySet()) {
        trained.put(e.getValue(), Tensor.ofFloats(shapes.get(e.getValue()), params.get(e.getKey()).toFloats()));
      }
      Map<String, Object> metrics = new LinkedHashMap<>(evaluate(t));
      Map<String, Object> settings = new LinkedHashMap<>();
      settings.put("config", model.toString());
      settings.put("size", size);
      settings.put("damage", damage.toString());
      settings.put("schedule", "cosine to 0.1x");
      settings.put("optimizer", "adam");
      TrainingManifest m = new TrainingManifest("restorer", seed, steps, batch, learningRate, logEvery, losses, seconds, t.parameterCount(),
          settings, metrics, VqganTraining.runtime(opts));
      return new Result(trained, m);
    }
  }

  /**
   * The optimizer steps of a run: batch {@code s} at learning rate {@code rate(s)}, the mean loss of
   * every {@code logEvery} steps logged and returned.
   *
   * @param t the trainer
   * @param label the progress lines' label
   * @param steps the steps
   * @param logEvery steps per logged loss
   * @param batches step to batch
   * @param rate step to learning rate
   * @param progress gets one line per logging interval
   * @return the logged mean losses
   */
  static List<Double> loop(Trainer t, String label, int steps, int logEvery, java.util.function.IntFunction<Map<String, Tensor>> batches,
      java.util.function.IntToDoubleFunction rate, Consumer<String> progress) {
    List<Double> losses = new ArrayList<>();
    long t0 = System.nanoTime();
    double mean = 0;
    for (int s = 0; s < steps; s++) {
      Map<String, Tensor> in = batches.apply(s);
      t.setLearningRate(rate.applyAsDouble(s));
      mean += t.step(in).loss();
      if ((s + 1) % logEvery == 0) {
        losses.add(mean / logEvery);
        progress.accept(String.format("%s step %d/%d  loss %.4f  lr %.2e  %.1fs", label, s + 1, steps, mean / logEvery, rate.applyAsDouble(s),
            (System.nanoTime() - t0) / 1e9));
        mean = 0;
      }
    }
    return losses;
  }

  /** Held-out mean absolute error (pixel scale 0..1) of damaged pictures and of their restorations against the clean ones. */
  private Map<String, Object> evaluate(Trainer t) {
    ShapesDataset data = new ShapesDataset(size, seed);
    return heldOutError(t, i -> pair(data, VqganTraining.HELD_OUT + (long) i * batch, batch, damage, seed + 1));
  }

  /**
   * Mean absolute error (pixel scale 0..1) of the {@link #DAMAGED} inputs and of the trainer's
   * {@link #RESTORED} outputs against the {@link #CLEAN} pictures, over 8 held-out batches.
   *
   * @param t the trainer
   * @param batches held-out batch {@code i} (0..7), with {@link #CLEAN} and {@link #DAMAGED} in [-1, 1]
   * @return the two figures by name
   */
  static Map<String, Object> heldOutError(Trainer t, java.util.function.IntFunction<Map<String, Tensor>> batches) {
    double before = 0;
    double after = 0;
    long count = 0;
    for (int i = 0; i < 8; i++) {
      Map<String, Tensor> in = batches.apply(i);
      float[] c = in.get(CLEAN).toFloats();
      float[] d = in.get(DAMAGED).toFloats();
      float[] r = t.evaluate(in).get(RESTORED).toFloats();
      for (int j = 0; j < c.length; j++) {
        before += Math.abs(d[j] - c[j]) / 2;
        after += Math.abs(Math.max(-1, Math.min(1, r[j])) - c[j]) / 2;
      }
      count += c.length;
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("heldOutDamagedMeanAbsError", before / count);
    m.put("heldOutRestoredMeanAbsError", after / count);
    return m;
  }

  /** Cosine decay from the peak to 10% over the run. */
  double cosine(int s) {
    return cosine(learningRate, steps, s);
  }

  /** Cosine decay from {@code peak} to 10% of it over {@code steps} steps, at step {@code s}. */
  static double cosine(double peak, int steps, int s) {
    double p = (double) s / Math.max(1, steps - 1);
    return peak * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * p)));
  }

  /** Pictures {@code first..first+n-1}, clean and damaged, both in [-1, 1]. */
  static Map<String, Tensor> pair(ShapesDataset data, long first, int n, Damage damage, long seed) {
    int s = data.size();
    int plane = s * s;
    float[] clean = new float[n * 3 * plane];
    float[] damaged = new float[n * 3 * plane];
    for (int i = 0; i < n; i++) {
      ShapesDataset.Sample sample = data.sample(first + i);
      float[] px = ShapesDataset.toTensor(List.of(sample.image()), false).toFloats();
      SplittableRandom rnd = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + first + i);
      float[] d = damage(px, s, sample.scene(), damage, rnd);
      for (int j = 0; j < px.length; j++) {
        clean[i * 3 * plane + j] = px[j] * 2 - 1;
        damaged[i * 3 * plane + j] = Math.max(-1, Math.min(1, d[j] * 2 - 1));
      }
    }
    long[] shape = {n, 3, s, s};
    return Map.of(CLEAN, Tensor.ofFloats(shape, clean), DAMAGED, Tensor.ofFloats(shape, damaged));
  }

  /** A damaged copy of a [3, S, S] picture in [0, 1]. */
  static float[] damage(float[] px, int s, Scene scene, Damage d, SplittableRandom rnd) {
    if (rnd.nextDouble() < d.clean()) {
      return px.clone();
    }
    float[] out = warp(px, s, rnd.nextDouble() * d.warp(), rnd);
    out = blur(out, s, rnd.nextDouble() * d.blur());
    int specks = rnd.nextInt(d.specks() + 1);
    List<Scene.Item> objects = scene.objects();
    for (int k = 0; k < specks; k++) {
      DemoColor c = objects.get(rnd.nextInt(objects.size())).color();
      speck(out, s, c.components(), rnd.nextDouble() * s, rnd.nextDouble() * s, 0.5 + rnd.nextDouble(), rnd);
    }
    double sigma = rnd.nextDouble() * d.noise();
    for (int j = 0; j < out.length; j++) {
      out[j] += (float) (sigma * RandomWeights.gaussian(rnd));
    }
    return out;
  }

  /** A smooth random warp: a displacement field of two random sinusoids per axis, bilinear, edges clamped. */
  private static float[] warp(float[] px, int s, double amp, SplittableRandom rnd) {
    double[][] p = new double[4][4]; // per wave: fx, fy, phase, weight
    for (double[] wave : p) {
      wave[0] = (1 + rnd.nextDouble() * 2) * 2 * Math.PI / s * (rnd.nextBoolean() ? 1 : -1);
      wave[1] = (1 + rnd.nextDouble() * 2) * 2 * Math.PI / s * (rnd.nextBoolean() ? 1 : -1);
      wave[2] = rnd.nextDouble() * 2 * Math.PI;
      wave[3] = amp * (0.5 + 0.5 * rnd.nextDouble());
    }
    float[] out = new float[px.length];
    for (int y = 0; y < s; y++) {
      for (int x = 0; x < s; x++) {
        double dx = p[0][3] * Math.sin(p[0][0] * x + p[0][1] * y + p[0][2]) + p[1][3] * Math.sin(p[1][0] * x + p[1][1] * y + p[1][2]);
        double dy = p[2][3] * Math.sin(p[2][0] * x + p[2][1] * y + p[2][2]) + p[3][3] * Math.sin(p[3][0] * x + p[3][1] * y + p[3][2]);
        double sx = Math.max(0, Math.min(s - 1, x + dx));
        double sy = Math.max(0, Math.min(s - 1, y + dy));
        int x0 = (int) Math.floor(sx);
        int y0 = (int) Math.floor(sy);
        int x1 = Math.min(s - 1, x0 + 1);
        int y1 = Math.min(s - 1, y0 + 1);
        double fx = sx - x0;
        double fy = sy - y0;
        for (int c = 0; c < 3; c++) {
          int o = c * s * s;
          out[o + y * s + x] = (float) ((1 - fy) * ((1 - fx) * px[o + y0 * s + x0] + fx * px[o + y0 * s + x1])
              + fy * ((1 - fx) * px[o + y1 * s + x0] + fx * px[o + y1 * s + x1]));
        }
      }
    }
    return out;
  }

  /** Separable Gaussian blur, edges clamped; sigma below 0.2 pixels leaves the picture as it is. */
  private static float[] blur(float[] px, int s, double sigma) {
    if (sigma < 0.2) {
      return px;
    }
    int r = (int) Math.ceil(3 * sigma);
    double[] k = new double[2 * r + 1];
    double sum = 0;
    for (int i = -r; i <= r; i++) {
      k[i + r] = Math.exp(-i * i / (2 * sigma * sigma));
      sum += k[i + r];
    }
    for (int i = 0; i < k.length; i++) {
      k[i] /= sum;
    }
    float[] tmp = new float[px.length];
    float[] out = new float[px.length];
    for (int c = 0; c < 3; c++) {
      int o = c * s * s;
      for (int y = 0; y < s; y++) {
        for (int x = 0; x < s; x++) {
          double a = 0;
          for (int i = -r; i <= r; i++) {
            a += k[i + r] * px[o + y * s + Math.max(0, Math.min(s - 1, x + i))];
          }
          tmp[o + y * s + x] = (float) a;
        }
      }
      for (int y = 0; y < s; y++) {
        for (int x = 0; x < s; x++) {
          double a = 0;
          for (int i = -r; i <= r; i++) {
            a += k[i + r] * tmp[o + Math.max(0, Math.min(s - 1, y + i)) * s + x];
          }
          out[o + y * s + x] = (float) a;
        }
      }
    }
    return out;
  }

  /** Paints a soft round speck of colour {@code rgb} (0..255) at (cx, cy) with radius r. */
  private static void speck(float[] px, int s, int[] rgb, double cx, double cy, double r, SplittableRandom rnd) {
    for (int y = 0; y < s; y++) {
      for (int x = 0; x < s; x++) {
        double dist = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
        double a = Math.max(0, Math.min(1, r + 0.5 - dist));
        if (a > 0) {
          for (int c = 0; c < 3; c++) {
            int i = c * s * s + y * s + x;
            px[i] = (float) ((1 - a) * px[i] + a * rgb[c] / 255.0);
          }
        }
      }
    }
  }
}
