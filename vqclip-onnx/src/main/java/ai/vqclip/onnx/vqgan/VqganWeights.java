package ai.vqclip.onnx.vqgan;

import ai.vqclip.core.ModelLoadException;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.DType;
import ai.vqclip.onnx.weights.StateDict;
import ai.vqclip.onnx.weights.TensorSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The float32 tensors of a VQGAN, checked against a {@link VqganConfig}: every expected key present
 * with the expected shape, nothing unknown besides the training-loss weights ({@code loss.*}).
 * Keys and shapes follow taming-transformers exactly (MODELS.md §1.6).
 *
 * <p>Tensors are not copied: float32 tensors of the state dict are used as they are (possibly
 * views of a file mapping), so the state dict must stay open while graphs built from these
 * weights are compiled. Immutable.
 */
public final class VqganWeights {
  /** The parts of the model that can be loaded separately. */
  public enum Part {
    /** {@code encoder.*} and {@code quant_conv} (and, for Gumbel models, the logits projection {@code quantize.proj}). */
    ENCODER,
    /** {@code post_quant_conv} and {@code decoder.*}. */
    DECODER,
    /** The codebook. */
    QUANTIZER
  }

  /** Most problems of one kind listed in a validation message. */
  private static final int MAX_LISTED = 40;

  private final VqganConfig config;
  private final Set<Part> parts;
  private final Map<String, Tensor> tensors;

  private VqganWeights(VqganConfig config, Set<Part> parts, Map<String, Tensor> tensors) {
    this.config = config;
    this.parts = Collections.unmodifiableSet(EnumSet.copyOf(parts));
    this.tensors = Collections.unmodifiableMap(tensors);
  }

  /**
   * The architecture.
   *
   * @return the architecture the weights were checked against
   */
  public VqganConfig config() {
    return config;
  }

  /**
   * The loaded parts.
   *
   * @return the parts that were loaded
   */
  public Set<Part> parts() {
    return parts;
  }

  /**
   * Whether a part was loaded.
   *
   * @param p a part of the model
   * @return true when its tensors were loaded
   */
  public boolean has(Part p) {
    return parts.contains(p);
  }

  /**
   * A float32 tensor by state-dict key.
   *
   * @param key a taming state-dict key, e.g. {@code "decoder.conv_in.weight"}
   * @return the tensor, float32; shared, do not modify
   * @throws IllegalArgumentException for a key that was not loaded
   */
  public Tensor get(String key) {
    Tensor t = tensors.get(key);
    if (t == null) {
      throw new IllegalArgumentException("VQGAN weight '" + key + "' was not loaded (parts " + parts + ")");
    }
    return t;
  }

  /**
   * The loaded keys, in model order.
   *
   * @return the keys of every loaded tensor
   */
  public Set<String> keys() {
    return tensors.keySet();
  }

  // ------------------------------------------------------------------ loading

  /**
   * Validates {@code sd} against {@code config} and takes the tensors of {@code parts}. Keys of
   * parts not requested may be present; keys under {@code loss.} are ignored.
   *
   * @param sd the loaded state dict (not null)
   * @param config the architecture the tensors must fit (not null)
   * @param parts the parts to take, at least one
   * @return the checked float32 weights of those parts
   * @throws ModelLoadException listing, together, every missing key, unexpected key, mis-shaped
   *     and non-floating tensor, with the assumed config (and the config the shapes suggest, when
   *     it can be inferred and differs)
   * @throws IllegalArgumentException when {@code parts} is null or empty
   */
  public static VqganWeights load(StateDict sd, VqganConfig config, Set<Part> parts) {
    Objects.requireNonNull(sd, "sd");
    Objects.requireNonNull(config, "config");
    if (parts == null || parts.isEmpty()) {
      throw new IllegalArgumentException("parts must name at least one of " + Arrays.toString(Part.values()));
    }
    Map<String, long[]> wanted = expectedShapes(config, parts);
    Map<String, long[]> known = expectedShapes(config, EnumSet.allOf(Part.class));
    List<String> missing = new ArrayList<>();
    List<String> unexpected = new ArrayList<>();
    List<String> misShaped = new ArrayList<>();
    for (Map.Entry<String, long[]> e : wanted.entrySet()) {
      String k = e.getKey();
      if (!sd.contains(k)) {
        missing.add(k + " " + Arrays.toString(e.getValue()));
        continue;
      }
      TensorSpec s = sd.spec(k);
      if (!s.dtype().isFloating()) {
        misShaped.add(k + ": dtype " + s.dtype() + ", expected a floating type");
      } else if (!Arrays.equals(s.shape(), e.getValue())) {
        misShaped.add(k + ": shape " + Arrays.toString(s.shape()) + ", expected " + Arrays.toString(e.getValue()));
      }
    }
    for (String k : sd.keys()) {
      if (!known.containsKey(k) && !k.startsWith("loss.")) {
        unexpected.add(k);
      }
    }
    if (!missing.isEmpty() || !unexpected.isEmpty() || !misShaped.isEmpty()) {
      StringBuilder m = new StringBuilder("VQGAN weights do not match the config ").append(config).append(" (parts ").append(parts).append("):");
      list(m, "missing", missing);
      list(m, "unexpected", unexpected);
      list(m, "wrong shape or type", misShaped);
      try {
        VqganConfig inferred = VqganConfig.inferFrom(sd, config.numGroups());
        if (!inferred.equals(config)) {
          m.append("\n  the tensor shapes suggest ").append(inferred);
        }
      } catch (RuntimeException ignored) {
        // Inference is only a hint here; the listed problems are the error.
      }
      throw new ModelLoadException(m.toString());
    }
    Map<String, Tensor> t = new LinkedHashMap<>();
    for (Map.Entry<String, long[]> e : wanted.entrySet()) {
      Tensor x = sd.floatTensor(e.getKey());
      if (!Arrays.equals(x.shape(), e.getValue())) {
        // The reader's spec and data disagree: a broken reader or file.
        throw new ModelLoadException("VQGAN weight '" + e.getKey() + "' has shape " + Arrays.toString(x.shape()) + " but its header said "
            + Arrays.toString(e.getValue()));
      }
      // Off the Java heap once, so that every session reads the same bytes in place (OrtExecutable).
      t.put(e.getKey(), x.offHeap());
    }
    return new VqganWeights(config, parts, t);
  }

  /**
   * Loads every part.
   *
   * @param sd the loaded state dict (not null)
   * @param config the architecture the tensors must fit (not null)
   * @return the checked float32 weights of the encoder, decoder and codebook
   * @throws ModelLoadException listing every missing, unexpected, mis-shaped or non-floating tensor
   */
  public static VqganWeights load(StateDict sd, VqganConfig config) {
    return load(sd, config, EnumSet.allOf(Part.class));
  }

  private static void list(StringBuilder m, String what, List<String> items) {
    if (items.isEmpty()) {
      return;
    }
    m.append("\n  ").append(items.size()).append(' ').append(what).append(':');
    for (int i = 0; i < Math.min(items.size(), MAX_LISTED); i++) {
      m.append("\n    ").append(items.get(i));
    }
    if (items.size() > MAX_LISTED) {
      m.append("\n    ... and ").append(items.size() - MAX_LISTED).append(" more");
    }
  }

  // ------------------------------------------------------------------ expected keys

  /**
   * The keys and shapes of {@code parts} of a taming VQGAN with this config, in module order.
   *
   * @param c the architecture
   * @param parts the parts to list
   * @return state-dict key to shape, in module order (a new mutable map)
   */
  public static Map<String, long[]> expectedShapes(VqganConfig c, Set<Part> parts) {
    Map<String, long[]> m = new LinkedHashMap<>();
    int levels = c.numLevels();
    if (parts.contains(Part.ENCODER)) {
      conv(m, "encoder.conv_in", c.ch(), c.inChannels(), 3);
      int curRes = c.resolution();
      long blockIn = c.ch();
      for (int i = 0; i < levels; i++) {
        blockIn = (long) c.ch() * (i == 0 ? 1 : c.chMult().get(i - 1));
        long blockOut = (long) c.ch() * c.chMult().get(i);
        for (int j = 0; j < c.numResBlocks(); j++) {
          resnet(m, "encoder.down." + i + ".block." + j, blockIn, blockOut);
          blockIn = blockOut;
          if (c.attnResolutions().contains(curRes)) {
            attn(m, "encoder.down." + i + ".attn." + j, blockIn);
          }
        }
        if (i != levels - 1) {
          conv(m, "encoder.down." + i + ".downsample.conv", blockIn, blockIn, 3);
          curRes /= 2;
        }
      }
      resnet(m, "encoder.mid.block_1", blockIn, blockIn);
      attn(m, "encoder.mid.attn_1", blockIn);
      resnet(m, "encoder.mid.block_2", blockIn, blockIn);
      norm(m, "encoder.norm_out", blockIn);
      conv(m, "encoder.conv_out", c.zChannels(), blockIn, 3);
      conv(m, "quant_conv", c.embedDim(), c.zChannels(), 1);
      if (c.gumbel()) {
        conv(m, "quantize.proj", c.nEmbed(), c.embedDim(), 1);
      }
    }
    if (parts.contains(Part.QUANTIZER)) {
      m.put(c.codebookKey(), new long[] {c.nEmbed(), c.embedDim()});
    }
    if (parts.contains(Part.DECODER)) {
      conv(m, "post_quant_conv", c.zChannels(), c.embedDim(), 1);
      long blockIn = (long) c.ch() * c.chMult().get(levels - 1);
      conv(m, "decoder.conv_in", blockIn, c.zChannels(), 3);
      resnet(m, "decoder.mid.block_1", blockIn, blockIn);
      attn(m, "decoder.mid.attn_1", blockIn);
      resnet(m, "decoder.mid.block_2", blockIn, blockIn);
      int curRes = c.resolution() / c.factor();
      for (int i = levels - 1; i >= 0; i--) {
        long blockOut = (long) c.ch() * c.chMult().get(i);
        for (int j = 0; j <= c.numResBlocks(); j++) {
          resnet(m, "decoder.up." + i + ".block." + j, blockIn, blockOut);
          blockIn = blockOut;
          if (c.attnResolutions().contains(curRes)) {
            attn(m, "decoder.up." + i + ".attn." + j, blockIn);
          }
        }
        if (i != 0) {
          conv(m, "decoder.up." + i + ".upsample.conv", blockIn, blockIn, 3);
          curRes *= 2;
        }
      }
      norm(m, "decoder.norm_out", blockIn);
      conv(m, "decoder.conv_out", c.outCh(), blockIn, 3);
    }
    return m;
  }

  private static void conv(Map<String, long[]> m, String p, long out, long in, long k) {
    m.put(p + ".weight", new long[] {out, in, k, k});
    m.put(p + ".bias", new long[] {out});
  }

  private static void norm(Map<String, long[]> m, String p, long c) {
    m.put(p + ".weight", new long[] {c});
    m.put(p + ".bias", new long[] {c});
  }

  private static void resnet(Map<String, long[]> m, String p, long in, long out) {
    norm(m, p + ".norm1", in);
    conv(m, p + ".conv1", out, in, 3);
    norm(m, p + ".norm2", out);
    conv(m, p + ".conv2", out, out, 3);
    if (in != out) {
      conv(m, p + ".nin_shortcut", out, in, 1);
    }
  }

  private static void attn(Map<String, long[]> m, String p, long c) {
    norm(m, p + ".norm", c);
    for (String s : List.of("q", "k", "v", "proj_out")) {
      conv(m, p + "." + s, c, c, 1);
    }
  }

  /** A float32 view of {@code t} with another shape of the same size (no copy). */
  static Tensor reshaped(Tensor t, long... shape) {
    if (t.dtype() != DType.FLOAT) {
      throw new IllegalArgumentException("expected a float32 tensor, got " + t);
    }
    return Tensor.wrap(DType.FLOAT, shape, t.data());
  }
}
