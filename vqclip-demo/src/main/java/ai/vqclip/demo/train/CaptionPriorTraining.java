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
import ai.vqclip.demo.data.ShapeKind;
import ai.vqclip.demo.data.ShapesDataset;
import ai.vqclip.onnx.RandomWeights;
import ai.vqclip.onnx.clip.ClipEncoder;
import ai.vqclip.onnx.vqgan.VqganConfig;
import ai.vqclip.onnx.vqgan.VqganGraphs;
import ai.vqclip.onnx.vqgan.VqganWeights;
import ai.vqclip.onnx.weights.StateDict;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Trains the demo's <b>caption prior</b>: a restorer conditioned on a caption's CLIP text embedding.
 * It maps a picture whose objects are drawn wrong (as another shape, a shapeless blob or a near miss,
 * then warped, blurred, specked and noised as {@link RestorerTraining}'s damage) back to the picture
 * the caption describes, at the same places, sizes and colours. Unlike the unconditioned restorer it
 * can choose a shape: the input shows where an object of which colour is, the caption says what it
 * is.
 *
 * <p>Architecture: the caption embedding (L2-normalised, D values) goes through a learned 1x1
 * projection to {@link #COND_CHANNELS} channels that are broadcast over the picture and concatenated
 * with it; then the demo VQGAN's encoder (with 3 + {@link #COND_CHANNELS} input channels) and decoder,
 * without the quantizer.
 *
 * @param model the encoder-decoder architecture ({@code inChannels} must be 3 + {@link #COND_CHANNELS})
 * @param size picture side
 * @param batch pictures per step
 * @param steps optimizer steps
 * @param learningRate peak learning rate (cosine to 0.1x)
 * @param damage the damage applied after an object was redrawn
 * @param seed seed of the weights, the pictures and the damage
 * @param logEvery steps per logged loss
 * @param latentConditioning whether a run from random weights also adds the caption at the latent
 *     ({@link #COND_Z_WEIGHT}), so that the decoder, which draws the shape, reads it directly
 */
public record CaptionPriorTraining(VqganConfig model, int size, int batch, int steps, double learningRate, RestorerTraining.Damage damage,
    long seed, int logEvery, boolean latentConditioning) {

  /** Conditioning channels broadcast over the picture. */
  public static final int COND_CHANNELS = 16;
  /** Input: the pictures to restore [n, 3, S, S] in [-1, 1]. */
  public static final String DAMAGED = RestorerTraining.DAMAGED;
  /** Input: the caption embeddings [n, D], L2-normalised. */
  public static final String CAPTION = "caption";
  /** Output: the restorations. */
  public static final String RESTORED = RestorerTraining.RESTORED;
  /** Key of the conditioning projection's weight [COND_CHANNELS, D, 1, 1]. */
  public static final String COND_WEIGHT = "cond.weight";
  /** Key of the conditioning projection's bias [COND_CHANNELS]. */
  public static final String COND_BIAS = "cond.bias";
  /** Key of the caption embeddings' mean over the training captions [D] (not trained). */
  public static final String COND_MEAN = "cond.mean";
  /** Key of the inverse of the caption embeddings' standard deviation per component [D] (not trained). */
  public static final String COND_SCALE = "cond.scale";
  /**
   * Key of the latent conditioning's weight [embedDim, D, 1, 1] (optional): a second projection of the
   * caption added to the encoder's output, so that the decoder, which draws the shape, reads the
   * caption directly and not only through what the encoder kept of the input channels.
   */
  public static final String COND_Z_WEIGHT = "cond.z.weight";
  /** Key of the latent conditioning's bias [embedDim] (optional, with {@link #COND_Z_WEIGHT}). */
  public static final String COND_Z_BIAS = "cond.z.bias";

  /** Checks the sizes. */
  public CaptionPriorTraining {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(damage, "damage");
    if (model.inChannels() != 3 + COND_CHANNELS) {
      throw new IllegalArgumentException("caption prior model needs inChannels 3 + " + COND_CHANNELS + ", got " + model.inChannels());
    }
    if (batch < 1 || steps < 1 || logEvery < 1) {
      throw new IllegalArgumentException("batch, steps and logEvery must be >= 1, got " + batch + ", " + steps + ", " + logEvery);
    }
  }

  /** The round 8 prior's architecture: the demo VQGAN's encoder and decoder sizes with the conditioning channels. */
  public static VqganConfig demoModel() {
    return new VqganConfig(32, List.of(1, 2), 1, List.of(), 32, 8, 256, 32, 3 + COND_CHANNELS, 3, false, false, 8);
  }

  /**
   * The deep prior's architecture (issue 15, round 11): four levels down to a 4x4 latent of 64
   * channels, so that every latent cell sees the whole object. The round 8 prior (two levels, a
   * 16x16 latent) sees a few pixels around each cell: it could clean an outline but not tell where
   * the object's centre and extent are, which redrawing it as another shape needs, and it learned
   * to redraw circles only.
   */
  public static VqganConfig deepModel() {
    return new VqganConfig(32, List.of(1, 2, 2, 4), 1, List.of(), 64, 64, 256, 32, 3 + COND_CHANNELS, 3, false, false, 8);
  }

  /** The round 8 run's settings (the first stage: from random weights, conditioned at the input). */
  public static CaptionPriorTraining demo() {
    return new CaptionPriorTraining(demoModel(), 32, 16, 5000, 2e-3, new RestorerTraining.Damage(0.3, 1.5, 1.0, 4, 0.25), 20240900L, 25,
        false);
  }

  /**
   * The deep prior's settings ({@link #deepModel()}, the caption at the input and at the latent).
   *
   * @param steps optimizer steps
   * @return the settings
   */
  public static CaptionPriorTraining deep(int steps) {
    return new CaptionPriorTraining(deepModel(), 32, 16, steps, 2e-3, new RestorerTraining.Damage(0.3, 1.5, 1.0, 4, 0.25), 20240903L, 25,
        true);
  }

  /**
   * The second stage's settings: from the first stage's weights with the latent conditioning added
   * ({@link #withLatentConditioning}), 5000 more steps at half the peak rate, another seed (other
   * pictures and damage).
   */
  public static CaptionPriorTraining demoStage2() {
    return new CaptionPriorTraining(demoModel(), 32, 16, 5000, 1e-3, new RestorerTraining.Damage(0.3, 1.5, 1.0, 4, 0.25), 20240902L, 25,
        false);
  }

  /**
   * A prior's weights with the latent conditioning ({@link #COND_Z_WEIGHT}, {@link #COND_Z_BIAS}) added
   * as zeros where they have none, so that the prior computes what it did until training moves them
   * (a zero-initialised branch, as in residual and adapter training).
   *
   * @param weights a prior's weights (conditioning keys included)
   * @param cfg its architecture
   * @return a new map
   */
  public static Map<String, Tensor> withLatentConditioning(Map<String, Tensor> weights, VqganConfig cfg) {
    Map<String, Tensor> out = new LinkedHashMap<>(weights);
    if (!out.containsKey(COND_Z_WEIGHT)) {
      long dim = weights.get(COND_WEIGHT).shape()[1];
      out.put(COND_Z_WEIGHT, Tensor.filled(DType.FLOAT, new long[] {cfg.embedDim(), dim, 1, 1}, 0));
      out.put(COND_Z_BIAS, Tensor.filled(DType.FLOAT, new long[] {cfg.embedDim()}, 0));
    }
    return out;
  }

  /**
   * The prior's forward graph for {@code n} pictures: inputs {@link #DAMAGED} and {@link #CAPTION},
   * output {@link #RESTORED}.
   *
   * @param cfg the architecture
   * @param weights encoder, decoder and conditioning weights
   * @param n pictures
   * @param size picture side
   * @param dim caption embedding width
   * @return the graph
   */
  public static Graph prior(VqganConfig cfg, Map<String, Tensor> weights, int n, int size, int dim) {
    return prior(cfg, weights, n, size, size, dim);
  }

  /**
   * As {@link #prior(VqganConfig, Map, int, int, int)} for pictures of {@code height} x {@code width}
   * (each a multiple of the architecture's factor).
   *
   * @param cfg the architecture
   * @param weights encoder, decoder and conditioning weights
   * @param n pictures
   * @param height picture height
   * @param width picture width
   * @param dim caption embedding width
   * @return the graph
   */
  public static Graph prior(VqganConfig cfg, Map<String, Tensor> weights, int n, int height, int width, int dim) {
    VqganWeights w = autoencoder(weights, cfg);
    GraphBuilder b = new GraphBuilder("caption_prior");
    Value x = b.input(DAMAGED, DType.FLOAT, Shape.of(n, 3, height, width));
    Value c = b.input(CAPTION, DType.FLOAT, Shape.of(n, dim));
    Value cw = b.initializer(COND_WEIGHT, weights.get(COND_WEIGHT));
    Value cb = b.initializer(COND_BIAS, weights.get(COND_BIAS));
    Value std = standardized(b, c, weights.get(COND_MEAN), weights.get(COND_SCALE));
    b.output(RESTORED, body(b, w, cfg, x, std, cw, cb, latent(b, weights), n, height, width, dim));
    return b.build();
  }

  /**
   * The caption embeddings standardised per component over the training captions: they differ by
   * little between captions (the shape word moves a unit vector a few degrees), and a projection of
   * raw embeddings learned to read their colours long before their shapes.
   */
  private static Value standardized(GraphBuilder b, Value c, Tensor mean, Tensor scale) {
    return b.mul(b.sub(c, b.constant(mean)), b.constant(scale));
  }

  /** The latent conditioning's weight and bias as initializers, or null where {@code weights} have none. */
  private static Value[] latent(GraphBuilder b, Map<String, Tensor> weights) {
    if (!weights.containsKey(COND_Z_WEIGHT)) {
      return null;
    }
    return new Value[] {b.initializer(COND_Z_WEIGHT, weights.get(COND_Z_WEIGHT)), b.initializer(COND_Z_BIAS, weights.get(COND_Z_BIAS))};
  }

  /** The encoder and decoder weights of a prior's weights (without the conditioning projection). */
  private static VqganWeights autoencoder(Map<String, Tensor> weights, VqganConfig cfg) {
    Map<String, Tensor> ae = new LinkedHashMap<>(weights);
    ae.remove(COND_WEIGHT);
    ae.remove(COND_BIAS);
    ae.remove(COND_MEAN);
    ae.remove(COND_SCALE);
    ae.remove(COND_Z_WEIGHT);
    ae.remove(COND_Z_BIAS);
    return VqganWeights.load(StateDict.of(ae), cfg, EnumSet.of(VqganWeights.Part.ENCODER, VqganWeights.Part.DECODER));
  }

  private static Value body(GraphBuilder b, VqganWeights w, VqganConfig cfg, Value x, Value caption, Value cw, Value cb, Value[] latent,
      int n, int height, int width, int dim) {
    Value c4 = b.reshape(caption, n, dim, 1, 1);
    Value proj = b.op("Conv").in(c4, cw, cb).out(); // [n, K, 1, 1]
    Value map = b.expand(proj, b.ints(n, COND_CHANNELS, height, width));
    Value in = b.op("Concat").in(x, map).attr("axis", 1L).out();
    Value z = b.include(VqganGraphs.encoder(w, n, height, width), "enc", Map.of(VqganGraphs.X, in)).get(VqganGraphs.Z);
    if (latent != null) {
      z = b.add(z, b.op("Conv").in(c4, latent[0], latent[1]).out()); // [n, embedDim, 1, 1] broadcast over the latent
    }
    return b.include(VqganGraphs.decoder(w, n, height / cfg.factor(), width / cfg.factor()), "dec", Map.of(VqganGraphs.Z, z)).get(VqganGraphs.X);
  }

  /**
   * The prior's graph for one picture of side {@code size} from a weight file ({@code TrainDemo
   * caption-prior} writes one); the architecture is read from its weights ({@link #architectureOf}), the caption width from the conditioning weight.
   *
   * @param file the weights
   * @param size picture side
   * @return the graph
   * @throws ai.vqclip.core.ModelLoadException when the file cannot be read
   */
  public static Graph load(java.nio.file.Path file, int size) {
    Map<String, Tensor> w = readPrior(file);
    return prior(architectureOf(w), w, size, size);
  }

  /**
   * As {@link #load(java.nio.file.Path, int)} for another architecture.
   *
   * @param file the weights
   * @param cfg the architecture they were trained with
   * @param size picture side
   * @return the graph
   */
  public static Graph load(java.nio.file.Path file, VqganConfig cfg, int size) {
    return load(file, cfg, size, size);
  }

  /**
   * As {@link #load(java.nio.file.Path, VqganConfig, int)} for pictures of {@code height} x {@code
   * width}.
   *
   * @param file the weights
   * @param cfg the architecture they were trained with
   * @param height picture height, a multiple of the architecture's factor
   * @param width picture width, a multiple of the architecture's factor
   * @return the graph
   * @throws IllegalArgumentException when a side is not a positive multiple of the factor, or the file lacks a conditioning key
   */
  public static Graph load(java.nio.file.Path file, VqganConfig cfg, int height, int width) {
    return prior(cfg, readPrior(file, cfg), height, width);
  }

  /**
   * The architecture a prior's weights were trained with, read from their shapes: the channel width
   * and input channels from the first convolution, the levels, multipliers and residual blocks from
   * the encoder's keys, the latent widths from its last convolutions. (GroupNorm groups are not in
   * the shapes: 8, the demo's.) So a prior file of either demo architecture loads.
   *
   * @param weights a prior's weights
   * @return the architecture
   * @throws IllegalArgumentException when a key the architecture needs is missing or misshapen
   */
  public static VqganConfig architectureOf(Map<String, Tensor> weights) {
    long[] in = shapeOf(weights, "encoder.conv_in.weight", 4);
    int ch = Math.toIntExact(in[0]);
    List<Integer> mult = new ArrayList<>();
    List<Integer> attn = new ArrayList<>();
    int res = 32;
    for (int i = 0; weights.containsKey("encoder.down." + i + ".block.0.conv1.weight"); i++) {
      if (i >= 8) {
        throw new IllegalArgumentException("caption prior weights have more than 8 encoder levels");
      }
      long out = shapeOf(weights, "encoder.down." + i + ".block.0.conv1.weight", 4)[0];
      if (out % ch != 0) {
        throw new IllegalArgumentException("caption prior level " + i + " has " + out + " channels, not a multiple of " + ch);
      }
      mult.add(Math.toIntExact(out / ch));
      if (weights.containsKey("encoder.down." + i + ".attn.0.q.weight")) {
        attn.add(res);
      }
      res /= 2;
    }
    int blocks = 0;
    while (weights.containsKey("encoder.down.0.block." + blocks + ".conv1.weight")) {
      blocks++;
    }
    int z = Math.toIntExact(shapeOf(weights, "encoder.conv_out.weight", 4)[0]);
    int embed = Math.toIntExact(shapeOf(weights, "quant_conv.weight", 4)[0]);
    int out = Math.toIntExact(shapeOf(weights, "decoder.conv_out.weight", 4)[0]);
    return new VqganConfig(ch, mult, blocks, attn, z, embed, 256, 32, Math.toIntExact(in[1]), out, false, false, 8);
  }

  private static long[] shapeOf(Map<String, Tensor> weights, String key, int rank) {
    Tensor t = weights.get(key);
    if (t == null || t.shape().length != rank) {
      throw new IllegalArgumentException("caption prior weights have no '" + key + "' of rank " + rank);
    }
    return t.shape();
  }

  /**
   * A caption prior's weights read from a file and checked: the conditioning keys, and the latent
   * conditioning's where present.
   *
   * @param file the weights
   * @param cfg the architecture they were trained with
   * @return the weights
   * @throws IllegalArgumentException when a conditioning key is missing or misshapen
   * @throws ai.vqclip.core.ModelLoadException when the file cannot be read
   */
  public static Map<String, Tensor> readPrior(java.nio.file.Path file, VqganConfig cfg) {
    return checked(file, RestorerTraining.readWeights(file), cfg);
  }

  /**
   * A caption prior's weights read from a file and checked against the architecture their shapes
   * give ({@link #architectureOf}).
   *
   * @param file the weights
   * @return the weights
   * @throws IllegalArgumentException when a key is missing or misshapen
   * @throws ai.vqclip.core.ModelLoadException when the file cannot be read
   */
  public static Map<String, Tensor> readPrior(java.nio.file.Path file) {
    Map<String, Tensor> w = RestorerTraining.readWeights(file);
    return checked(file, w, architectureOf(w));
  }

  private static Map<String, Tensor> checked(java.nio.file.Path file, Map<String, Tensor> w, VqganConfig cfg) {
    Tensor cw = w.get(COND_WEIGHT);
    if (cw == null || cw.shape().length != 4 || cw.shape()[0] != COND_CHANNELS) {
      throw new IllegalArgumentException("caption prior file " + file + " has no '" + COND_WEIGHT + "' of shape [" + COND_CHANNELS
          + ", D, 1, 1]");
    }
    long dim = cw.shape()[1];
    for (String k : List.of(COND_BIAS, COND_MEAN, COND_SCALE)) {
      Tensor t = w.get(k);
      long want = k.equals(COND_BIAS) ? COND_CHANNELS : dim;
      if (t == null || t.shape().length != 1 || t.shape()[0] != want) {
        throw new IllegalArgumentException("caption prior file " + file + " has no '" + k + "' of shape [" + want + "]");
      }
    }
    Tensor zw = w.get(COND_Z_WEIGHT);
    Tensor zb = w.get(COND_Z_BIAS);
    if ((zw == null) != (zb == null) || zw != null && (!java.util.Arrays.equals(zw.shape(), new long[] {cfg.embedDim(), dim, 1, 1})
        || !java.util.Arrays.equals(zb.shape(), new long[] {cfg.embedDim()}))) {
      throw new IllegalArgumentException("caption prior file " + file + ": '" + COND_Z_WEIGHT + "' and '" + COND_Z_BIAS + "' must both be "
          + "absent or of shapes [" + cfg.embedDim() + ", " + dim + ", 1, 1] and [" + cfg.embedDim() + "]");
    }
    return w;
  }

  /**
   * The prior's graph for one picture of {@code height} x {@code width} from checked weights ({@link
   * #readPrior}); the caption width is the conditioning weight's.
   *
   * @param cfg the architecture
   * @param weights the weights
   * @param height picture height, a multiple of the architecture's factor
   * @param width picture width, a multiple of the architecture's factor
   * @return the graph
   * @throws IllegalArgumentException when a side is not a positive multiple of the factor
   */
  public static Graph prior(VqganConfig cfg, Map<String, Tensor> weights, int height, int width) {
    if (height < 1 || width < 1 || height % cfg.factor() != 0 || width % cfg.factor() != 0) {
      throw new IllegalArgumentException("caption prior picture must be a positive multiple of " + cfg.factor() + " on each side, got " + width
          + "x" + height);
    }
    return prior(cfg, weights, 1, height, width, Math.toIntExact(weights.get(COND_WEIGHT).shape()[1]));
  }

  /** The trained weights and the run's manifest. */
  public record Result(Map<String, Tensor> weights, TrainingManifest manifest) {}

  /**
   * Runs the training.
   *
   * @param clip the CLIP whose text embeddings condition the prior (generation must use the same)
   * @param progress gets one line per logging interval
   * @return the weights and manifest
   */
  public Result run(ClipEncoder clip, Consumer<String> progress) {
    return run(clip, null, progress);
  }

  /**
   * Runs the training from a prior's weights ({@code from}, e.g. a first stage's; null: from random
   * weights). The standardisation statistics stay those of {@code from}, which its weights were
   * trained with; its keys decide whether the latent conditioning is trained (add it with {@link
   * #withLatentConditioning}).
   *
   * @param clip the CLIP whose text embeddings condition the prior (the one {@code from} was trained with)
   * @param from the starting weights, or null
   * @param progress gets one line per logging interval
   * @return the weights and manifest
   * @throws IllegalArgumentException when {@code from} lacks a conditioning key or its width is not the CLIP's
   */
  public Result run(ClipEncoder clip, Map<String, Tensor> from, Consumer<String> progress) {
    int dim = clip.embeddingDim();
    ShapesDataset data = new ShapesDataset(size, seed);
    Map<String, float[]> embeddings = new HashMap<>();
    Map<String, Tensor> init;
    Tensor[] stats;
    if (from == null) {
      init = new LinkedHashMap<>(RandomWeights.vqgan(model, seed));
      SplittableRandom wr = new SplittableRandom(seed ^ 0x5DEECE66DL);
      init.put(COND_WEIGHT, RandomWeights.normal(new long[] {COND_CHANNELS, dim, 1, 1}, wr, 0, 1 / Math.sqrt(dim)));
      init.put(COND_BIAS, Tensor.filled(DType.FLOAT, new long[] {COND_CHANNELS}, 0));
      if (latentConditioning) {
        init = withLatentConditioning(init, model);
      }
      // The standardisation's statistics: the first captions the run will see (2000 of them at most).
      stats = captionStats(data, clip, embeddings, (int) Math.min(2000, (long) steps * batch));
    } else {
      for (String k : List.of(COND_WEIGHT, COND_BIAS, COND_MEAN, COND_SCALE)) {
        if (!from.containsKey(k)) {
          throw new IllegalArgumentException("the starting weights have no '" + k + "'; keys: " + from.keySet());
        }
      }
      if (from.get(COND_WEIGHT).shape()[1] != dim) {
        throw new IllegalArgumentException("the starting weights read " + from.get(COND_WEIGHT).shape()[1] + "-wide captions, the CLIP embeds "
            + dim);
      }
      init = new LinkedHashMap<>(from);
      stats = new Tensor[] {init.remove(COND_MEAN), init.remove(COND_SCALE)};
    }
    VqganWeights w = autoencoder(init, model);
    GraphBuilder b = new GraphBuilder("caption_prior_train");
    Value damaged = b.input(DAMAGED, DType.FLOAT, Shape.of(batch, 3, size, size));
    Value caption = b.input(CAPTION, DType.FLOAT, Shape.of(batch, dim));
    Value clean = b.input(RestorerTraining.CLEAN, DType.FLOAT, Shape.of(batch, 3, size, size));
    Value cw = b.initializer(COND_WEIGHT, init.get(COND_WEIGHT));
    Value cb = b.initializer(COND_BIAS, init.get(COND_BIAS));
    Value y = body(b, w, model, damaged, standardized(b, caption, stats[0], stats[1]), cw, cb, latent(b, init), batch, size, size, dim);
    RestorerTraining.trainingOutputs(b, y, clean);
    Graph g = b.build();
    Map<String, String> keys = VqTrainingGraph.stateKeys(g, init);
    ExecutionOptions opts = ExecutionOptions.cpu();
    List<Double> losses = new ArrayList<>();
    long t0 = System.nanoTime();
    try (Trainer t = new Trainer(g, RestorerTraining.LOSS, new ArrayList<>(keys.keySet()), List.of(RESTORED), OptimizerConfig.adam(learningRate),
        opts)) {
      losses.addAll(RestorerTraining.loop(t, "caption prior", steps, logEvery, s -> batch(data, clip, embeddings, (long) s * batch, batch,
          damage, seed), this::cosine, progress));
      double seconds = (System.nanoTime() - t0) / 1e9;
      Map<String, Tensor> trained = new LinkedHashMap<>();
      Map<String, Tensor> params = t.parameters();
      for (Map.Entry<String, String> e : keys.entrySet()) {
        trained.put(e.getValue(), Tensor.ofFloats(init.get(e.getValue()).shape(), params.get(e.getKey()).toFloats()));
      }
      trained.put(COND_MEAN, stats[0]);
      trained.put(COND_SCALE, stats[1]);
      Map<String, Object> metrics = new LinkedHashMap<>(evaluate(t, clip, embeddings));
      Map<String, Object> settings = new LinkedHashMap<>();
      settings.put("config", model.toString());
      settings.put("size", size);
      settings.put("damage", damage.toString());
      settings.put("redraw", "another shape 0.5, blob 0.2, near miss 0.15, as drawn 0.15");
      settings.put("schedule", "cosine to 0.1x");
      settings.put("start", from == null ? "random weights" : "given weights");
      settings.put("latentConditioning", init.containsKey(COND_Z_WEIGHT));
      settings.put("optimizer", "adam");
      TrainingManifest m = new TrainingManifest("caption-prior", seed, steps, batch, learningRate, logEvery, losses, seconds,
          t.parameterCount(), settings, metrics, VqganTraining.runtime(opts));
      return new Result(trained, m);
    }
  }

  /** Held-out mean absolute error (pixel scale 0..1) before and after, over 8 batches. */
  private Map<String, Object> evaluate(Trainer t, ClipEncoder clip, Map<String, float[]> embeddings) {
    ShapesDataset data = new ShapesDataset(size, seed);
    return RestorerTraining.heldOutError(t, i -> batch(data, clip, embeddings, VqganTraining.HELD_OUT + (long) i * batch, batch, damage, seed + 1));
  }

  /** Mean and inverse standard deviation per component of the first {@code n} samples' caption embeddings. */
  static Tensor[] captionStats(ShapesDataset data, ClipEncoder clip, Map<String, float[]> cache, int n) {
    int dim = clip.embeddingDim();
    double[] sum = new double[dim];
    double[] sq = new double[dim];
    for (int i = 0; i < n; i++) {
      float[] e = embedding(clip, cache, data.sample(i).caption());
      for (int d = 0; d < dim; d++) {
        sum[d] += e[d];
        sq[d] += (double) e[d] * e[d];
      }
    }
    float[] mean = new float[dim];
    float[] inv = new float[dim];
    for (int d = 0; d < dim; d++) {
      double m = sum[d] / n;
      mean[d] = (float) m;
      inv[d] = (float) (1 / Math.sqrt(Math.max(1e-8, sq[d] / n - m * m)));
    }
    return new Tensor[] {Tensor.ofFloats(new long[] {dim}, mean), Tensor.ofFloats(new long[] {dim}, inv)};
  }

  double cosine(int s) {
    return RestorerTraining.cosine(learningRate, steps, s);
  }

  /** The L2-normalised text embedding of a caption, cached. */
  static float[] embedding(ClipEncoder clip, Map<String, float[]> cache, String caption) {
    return cache.computeIfAbsent(caption, k -> {
      float[] e = clip.embedText(k).toFloats();
      double n = 0;
      for (float v : e) {
        n += v * v;
      }
      float inv = (float) (1 / Math.sqrt(n));
      for (int i = 0; i < e.length; i++) {
        e[i] *= inv;
      }
      return e;
    });
  }

  /** Pictures {@code first..first+n-1}: clean, redrawn and damaged, and their captions' embeddings. */
  static Map<String, Tensor> batch(ShapesDataset data, ClipEncoder clip, Map<String, float[]> cache, long first, int n,
      RestorerTraining.Damage damage, long seed) {
    int s = data.size();
    int plane = s * s;
    int dim = clip.embeddingDim();
    float[] clean = new float[n * 3 * plane];
    float[] damaged = new float[n * 3 * plane];
    float[] captions = new float[n * dim];
    for (int i = 0; i < n; i++) {
      ShapesDataset.Sample sample = data.sample(first + i);
      SplittableRandom rnd = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + first + i);
      float[] px = ShapesDataset.toTensor(List.of(sample.image()), false).toFloats();
      float[] redrawn = ShapesDataset.toTensor(List.of(redraw(sample, s, rnd)), false).toFloats();
      float[] d = RestorerTraining.damage(redrawn, s, sample.scene(), damage, rnd);
      for (int j = 0; j < px.length; j++) {
        clean[i * 3 * plane + j] = px[j] * 2 - 1;
        damaged[i * 3 * plane + j] = Math.max(-1, Math.min(1, d[j] * 2 - 1));
      }
      System.arraycopy(embedding(clip, cache, sample.caption()), 0, captions, i * dim, dim);
    }
    long[] shape = {n, 3, s, s};
    return Map.of(RestorerTraining.CLEAN, Tensor.ofFloats(shape, clean), DAMAGED, Tensor.ofFloats(shape, damaged), CAPTION,
        Tensor.ofFloats(new long[] {n, dim}, captions));
  }

  /** The sample's scene with its objects redrawn wrong (another shape, a blob, a near miss), or as drawn. */
  static BufferedImage redraw(ShapesDataset.Sample sample, int size, SplittableRandom rnd) {
    double u = rnd.nextDouble();
    Scene scene = sample.scene();
    if (u < 0.5) {
      List<Scene.Item> items = new ArrayList<>();
      for (Scene.Item it : scene.objects()) {
        ShapeKind[] all = ShapeKind.values();
        ShapeKind k = all[(it.shape().ordinal() + 1 + rnd.nextInt(all.length - 1)) % all.length];
        items.add(new Scene.Item(k, it.color(), it.size(), it.cx(), it.cy(), it.radius()));
      }
      return ShapesDataset.render(new Scene(scene.background(), scene.background2(), items), size);
    }
    if (u < 0.7) {
      return TrainingViews.blob(scene, size, rnd);
    }
    if (u < 0.85) {
      return TrainingViews.nearMiss(scene, size, rnd);
    }
    return sample.image();
  }
}
