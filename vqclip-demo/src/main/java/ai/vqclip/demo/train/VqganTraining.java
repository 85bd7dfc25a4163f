package ai.vqclip.demo.train;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.backend.Backend;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.optim.OptimizerConfig;
import ai.vqclip.demo.data.ShapesDataset;
import ai.vqclip.onnx.RandomWeights;
import ai.vqclip.onnx.vqgan.VqganConfig;
import ai.vqclip.onnx.vqgan.VqganWeights;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Trains the demo VQGAN on the shapes dataset: random initial weights from the seed, batches drawn
 * in index order from the seeded dataset, Adam with a cosine learning-rate decay, the codebook
 * initialised from the first batch's encodings and unused codes re-seeded from encodings
 * periodically (so the small codebook is fully used).
 *
 * @param model the architecture
 * @param size picture side
 * @param batch pictures per step
 * @param steps optimizer steps
 * @param learningRate peak learning rate
 * @param beta commitment weight
 * @param reseedEvery steps between dead-code re-seeding (0: never); stops after 3/4 of the run
 * @param seed seed of the weights, the dataset and the re-seeding
 * @param logEvery steps per logged loss
 */
public record VqganTraining(
    VqganConfig model, int size, int batch, int steps, double learningRate, double beta, int reseedEvery, long seed, int logEvery) {

  public VqganTraining {
    Objects.requireNonNull(model, "model");
    if (batch < 1 || steps < 1 || logEvery < 1 || reseedEvery < 0) {
      throw new IllegalArgumentException("batch, steps, logEvery must be >= 1 and reseedEvery >= 0, got " + batch + ", " + steps + ", "
          + logEvery + ", " + reseedEvery);
    }
  }

  /** The demo VQGAN: 32x32 pictures, f=4 (8x8 latents), 128 codes of width 8. */
  public static VqganConfig demoModel() {
    return new VqganConfig(32, List.of(1, 2), 1, List.of(), 32, 8, 256, 32, 3, 3, false, false, 8);
  }

  /** The committed run's settings. */
  public static VqganTraining demo() {
    return new VqganTraining(demoModel(), 32, 16, 1000, 2e-3, 0.25, 100, 20240607L, 25);
  }

  /** The trained weights (state-dict keys and shapes) and the run's manifest. */
  public record Result(Map<String, Tensor> weights, TrainingManifest manifest) {}

  /** Runs the training; {@code progress} gets one line per logging interval. */
  public Result run(Consumer<String> progress) {
    ShapesDataset data = new ShapesDataset(size, seed);
    Map<String, Tensor> init = RandomWeights.vqgan(model, seed);
    VqTrainingGraph tg = VqTrainingGraph.build(model, init, batch, size, beta);
    List<String> params = new ArrayList<>(tg.stateKeys().keySet());
    ExecutionOptions opts = ExecutionOptions.cpu();
    SplittableRandom rnd = new SplittableRandom(seed ^ 0x5DEECE66DL);
    String cb = model.codebookKey();
    int k = model.nEmbed();
    int c = model.embedDim();
    List<Double> losses = new ArrayList<>();
    long t0 = System.nanoTime();
    double meanLoss = 0;
    double meanRecon = 0;
    int[] usage = new int[k];
    try (Trainer t = new Trainer(tg.graph(), VqTrainingGraph.LOSS, params,
        List.of(VqTrainingGraph.RECON, VqTrainingGraph.INDICES, VqTrainingGraph.Z_ROWS, VqTrainingGraph.X_REC), OptimizerConfig.adam(learningRate), opts)) {
      for (int s = 0; s < steps; s++) {
        Map<String, Tensor> in = Map.of(VqTrainingGraph.X, batch(data, (long) s * batch, batch));
        if (s == 0) {
          // Codebook from encodings: random codes far from every encoding would never be chosen.
          float[] z = t.evaluate(in).get(VqTrainingGraph.Z_ROWS).toFloats();
          t.set(cb, reseed(new float[k * c], z, c, allDead(k), rnd));
        }
        t.setLearningRate(cosine(s));
        Trainer.Step st = t.step(in);
        meanLoss += st.loss();
        meanRecon += st.outputs().get(VqTrainingGraph.RECON).toDoubles()[0];
        for (long i : st.outputs().get(VqTrainingGraph.INDICES).toLongs()) {
          usage[(int) i]++;
        }
        if (reseedEvery > 0 && (s + 1) % reseedEvery == 0 && s < steps * 3 / 4) {
          boolean[] dead = new boolean[k];
          int n = 0;
          for (int j = 0; j < k; j++) {
            dead[j] = usage[j] == 0;
            n += dead[j] ? 1 : 0;
          }
          if (n > 0) {
            float[] z = st.outputs().get(VqTrainingGraph.Z_ROWS).toFloats();
            t.set(cb, reseed(t.get(cb), z, c, dead, rnd));
          }
          progress.accept(String.format("vqgan step %d: %d of %d codes unused in the last %d steps%s", s + 1, n, k, reseedEvery,
              n > 0 ? ", re-seeded from encodings" : ""));
          java.util.Arrays.fill(usage, 0);
        }
        if ((s + 1) % logEvery == 0) {
          losses.add(meanLoss / logEvery);
          progress.accept(String.format("vqgan step %d/%d  loss %.4f  recon %.4f  lr %.2e  %.1fs", s + 1, steps, meanLoss / logEvery,
              meanRecon / logEvery, cosine(s), (System.nanoTime() - t0) / 1e9));
          meanLoss = 0;
          meanRecon = 0;
        }
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      Map<String, Tensor> trained = reshapeToState(model, toStateDict(t.parameters(), tg.stateKeys()));
      Map<String, Object> metrics = new LinkedHashMap<>(evaluate(t, data));
      Map<String, Object> settings = new LinkedHashMap<>();
      settings.put("config", model.toString());
      settings.put("size", size);
      settings.put("beta", beta);
      settings.put("reseedEvery", reseedEvery);
      settings.put("schedule", "cosine to 0.1x");
      settings.put("optimizer", "adam");
      TrainingManifest m = new TrainingManifest("vqgan", seed, steps, batch, learningRate, logEvery, losses, seconds, t.parameterCount(),
          settings, metrics, runtime(opts));
      return new Result(trained, m);
    }
  }

  /** Cosine decay from the peak to 10% over the run. */
  double cosine(int s) {
    double p = (double) s / Math.max(1, steps - 1);
    return learningRate * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * p)));
  }

  private static boolean[] allDead(int k) {
    boolean[] d = new boolean[k];
    java.util.Arrays.fill(d, true);
    return d;
  }

  /** Dead codes become random encodings of the batch plus a little noise (so duplicates split). */
  private static float[] reseed(float[] codebook, float[] z, int c, boolean[] dead, SplittableRandom rnd) {
    int rows = z.length / c;
    for (int j = 0; j < dead.length; j++) {
      if (dead[j]) {
        int r = rnd.nextInt(rows);
        for (int i = 0; i < c; i++) {
          codebook[j * c + i] = z[r * c + i] + (float) (0.01 * RandomWeights.gaussian(rnd));
        }
      }
    }
    return codebook;
  }

  /** Held-out reconstruction error (mean absolute, [0, 1] scale) and codebook usage. */
  private Map<String, Object> evaluate(Trainer t, ShapesDataset data) {
    int batches = 8;
    double abs = 0;
    long count = 0;
    java.util.Set<Long> used = new java.util.HashSet<>();
    for (int i = 0; i < batches; i++) {
      Tensor x = batch(data, HELD_OUT + (long) i * batch, batch);
      Map<String, Tensor> out = t.evaluate(Map.of(VqTrainingGraph.X, x));
      float[] a = x.toFloats();
      float[] r = out.get(VqTrainingGraph.X_REC).toFloats();
      for (int j = 0; j < a.length; j++) {
        abs += Math.abs(Math.max(-1, Math.min(1, r[j])) - a[j]) / 2;
      }
      count += a.length;
      for (long v : out.get(VqTrainingGraph.INDICES).toLongs()) {
        used.add(v);
      }
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("heldOutMeanAbsError", abs / count);
    m.put("heldOutPictures", batches * batch);
    m.put("codesUsedHeldOut", used.size());
    return m;
  }

  /** Index of the first held-out sample (training draws from 0 upwards). */
  public static final long HELD_OUT = 1L << 40;

  static Tensor batch(ShapesDataset data, long first, int n) {
    List<BufferedImage> imgs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      imgs.add(data.sample(first + i).image());
    }
    return ShapesDataset.toTensor(imgs, true);
  }

  static Map<String, Tensor> toStateDict(Map<String, Tensor> params, Map<String, String> keys) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (Map.Entry<String, Tensor> e : params.entrySet()) {
      out.put(keys.get(e.getKey()), e.getValue());
    }
    return out;
  }

  /** The trained weights with their state-dict shapes (GroupNorm vectors back to [C]). */
  static Map<String, Tensor> reshapeToState(VqganConfig cfg, Map<String, Tensor> w) {
    Map<String, long[]> shapes = VqganWeights.expectedShapes(cfg, EnumSet.allOf(VqganWeights.Part.class));
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (Map.Entry<String, long[]> e : shapes.entrySet()) {
      Tensor t = w.get(e.getKey());
      if (t == null) {
        throw new IllegalStateException("training produced no tensor for '" + e.getKey() + "'");
      }
      out.put(e.getKey(), Tensor.ofFloats(e.getValue(), t.toFloats()));
    }
    return out;
  }

  static Map<String, String> runtime(ExecutionOptions opts) {
    Backend be = Backend.load();
    Map<String, String> m = new LinkedHashMap<>();
    m.put("backend", be.name() + " " + be.runtimeVersion());
    m.put("java", System.getProperty("java.version"));
    m.put("cpus", Integer.toString(Runtime.getRuntime().availableProcessors()));
    m.put("intraOpThreads", Integer.toString(opts.intraOpThreads()));
    return m;
  }
}
