package ai.vqclip.demo.train;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.autodiff.GradientOverrides;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import ai.vqclip.onnx.vqgan.VqganConfig;
import ai.vqclip.onnx.vqgan.VqganGraphs;
import ai.vqclip.onnx.vqgan.VqganWeights;
import ai.vqclip.onnx.weights.StateDict;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The VQ-autoencoder training graph (van den Oord et al. 2017; Esser et al. 2021 without the
 * perceptual and adversarial terms), built from the same {@link VqganGraphs} encoder and decoder
 * the generator uses:
 *
 * <pre>
 * z = quant_conv(encoder(x));  e_k = nearest code of each z cell (argmin ||z - e||^2)
 * loss = |x - decoder(z + sg(e_k - z))|_1 + ||x - ...||^2     reconstruction (straight-through)
 *      + ||sg(z) - e_k||^2                                     codebook (moves codes to encodings)
 *      + beta ||z - sg(e_k)||^2                                commitment
 * </pre>
 *
 * The codebook lookup is a Gather from the codebook initializer, so the autodiff gives the
 * codebook its gradient; unlike the inference quantizer, the code norms are computed in the graph
 * because the codebook changes every step.
 */
public final class VqTrainingGraph {
  /** Input: images [n, 3, H, W] in [-1, 1]. */
  public static final String X = "x";
  /** Output: the scalar training loss. */
  public static final String LOSS = "loss";
  /** Output: the reconstruction part of the loss. */
  public static final String RECON = "recon";
  /** Output: chosen code per latent cell [n*h*w] int64. */
  public static final String INDICES = "indices";
  /** Output: encodings before quantization, one row per latent cell [n*h*w, embedDim]. */
  public static final String Z_ROWS = "z_rows";
  /** Output: the reconstruction [n, 3, H, W]. */
  public static final String X_REC = "x_rec";

  private final Graph graph;
  private final Map<String, String> stateKeys;

  private VqTrainingGraph(Graph graph, Map<String, String> stateKeys) {
    this.graph = graph;
    this.stateKeys = stateKeys;
  }

  /**
   * Builds the graph for a batch of {@code n} pictures of side {@code size} with initial weights.
   *
   * @param weights every VQGAN key of {@code cfg} (e.g. {@link ai.vqclip.onnx.RandomWeights#vqgan})
   * @param beta commitment weight (0.25 in VQ-VAE and taming)
   */
  public static VqTrainingGraph build(VqganConfig cfg, Map<String, Tensor> weights, int n, int size, double beta) {
    return build(cfg, weights, n, size, beta, 1);
  }

  /**
   * As {@link #build(VqganConfig, Map, int, int, double)} with the reconstruction term weighted by
   * {@code reconWeight} (0 leaves the codebook and commitment terms, whose gradients are true
   * derivatives and can be checked by finite differences).
   */
  public static VqTrainingGraph build(VqganConfig cfg, Map<String, Tensor> weights, int n, int size, double beta, double reconWeight) {
    if (cfg.gumbel()) {
      throw new IllegalArgumentException("only nearest-code VQGANs are trained here, got a GumbelVQ config");
    }
    VqganWeights w = VqganWeights.load(StateDict.of(weights), cfg, EnumSet.allOf(VqganWeights.Part.class));
    int f = cfg.factor();
    if (size % f != 0) {
      throw new IllegalArgumentException("picture size " + size + " must be a multiple of the downsampling factor " + f);
    }
    int h = size / f;
    int c = cfg.embedDim();
    GraphBuilder b = new GraphBuilder("vqgan_train");
    Value x = b.input(X, DType.FLOAT, Shape.of(n, cfg.inChannels(), size, size));
    Value z = b.include(VqganGraphs.encoder(w, n, size, size), "enc", Map.of(VqganGraphs.X, x)).get(VqganGraphs.Z);
    Value e = b.initializer(cfg.codebookKey(), weights.get(cfg.codebookKey()));
    Value rows = b.reshape(b.transpose(z, 0, 2, 3, 1), -1, c); // [M, C], (n, y, x) order
    Value zz = b.op("ReduceSumSquare").in(rows, b.ints(1)).attr("keepdims", 1L).out(); // [M, 1]
    Value ee = b.op("ReduceSumSquare").in(e, b.ints(1)).attr("keepdims", 0L).out(); // [K]
    Value ze = b.op("Gemm").in(rows, e).attr("transB", 1L).attr("alpha", -2f).out(); // [M, K]
    Value idx = b.op("ArgMin").in(b.add(b.add(zz, ee), ze)).attr("axis", 1L).attr("keepdims", 0L).out();
    Value q = b.op("Gather").in(e, idx).attr("axis", 0L).out(); // [M, C], gradient to the codebook
    long m = (long) n * h * h;
    Value codebook = mse(b, q, stopGradient(b, rows, m, c));
    Value commit = mse(b, rows, stopGradient(b, q, m, c));
    Value st = GradientOverrides.straightThrough(b, q, rows);
    Value zq = b.transpose(b.reshape(st, n, h, h, c), 0, 3, 1, 2);
    Value xr = b.include(VqganGraphs.decoder(w, n, h, h), "dec", Map.of(VqganGraphs.Z, zq)).get(VqganGraphs.X);
    Value recon = reconstruction(b, xr, x);
    Value loss = b.add(b.add(b.mul(recon, b.scalar(reconWeight, DType.FLOAT)), codebook), b.mul(commit, b.scalar(beta, DType.FLOAT)));
    b.output(LOSS, loss);
    b.output(RECON, recon);
    b.output(INDICES, idx);
    b.output(Z_ROWS, b.op("Identity").in(rows).out());
    b.output(X_REC, xr);
    Graph g = b.build();
    return new VqTrainingGraph(g, stateKeys(g, weights));
  }

  /**
   * The initializers of a graph that includes the encoder under {@code enc/} and the decoder under
   * {@code dec/}, mapped to their state-dict keys (those of {@code weights}).
   */
  static Map<String, String> stateKeys(Graph g, Map<String, Tensor> weights) {
    Map<String, String> keys = new LinkedHashMap<>();
    for (String name : g.initializers().keySet()) {
      String key = name.startsWith("enc/") || name.startsWith("dec/") ? name.substring(4) : name;
      if (weights.containsKey(key)) {
        keys.put(name, key);
      }
    }
    return keys;
  }

  /** The reconstruction loss of the demo's autoencoders: mean absolute plus mean squared error. */
  static Value reconstruction(GraphBuilder b, Value output, Value target) {
    Value diff = b.sub(output, target);
    return b.add(b.reduceMean(b.op("Abs").in(diff).out(), false), b.reduceMean(b.mul(diff, diff), false));
  }

  /** sg(v): forward value v, no gradient (the gradient goes to a constant). */
  static Value stopGradient(GraphBuilder b, Value v, long rows, long cols) {
    return GradientOverrides.straightThrough(b, v, b.constant(Tensor.filled(DType.FLOAT, new long[] {rows, cols}, 0)));
  }

  private static Value mse(GraphBuilder b, Value a, Value c) {
    Value d = b.sub(a, c);
    return b.reduceMean(b.mul(d, d), false);
  }

  /** The forward graph (weights as initializers). */
  public Graph graph() {
    return graph;
  }

  /** Trainable initializer names of the graph to their state-dict keys. */
  public Map<String, String> stateKeys() {
    return stateKeys;
  }
}
