package ai.vqclip.onnx.clip;

import ai.vqclip.core.ModelLoadException;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.DType;
import ai.vqclip.onnx.weights.StateDict;
import ai.vqclip.onnx.weights.TensorSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * CLIP weights seen under OpenAI's names, whatever names the file uses. OpenAI names ({@code
 * visual.transformer.resblocks.0.attn.in_proj_weight}) are canonical; Hugging Face {@code CLIPModel}
 * names are detected and mapped onto them: q/k/v projections are stacked into {@code in_proj_*},
 * the two projection matrices (Linear layers in HF) are transposed, {@code pre_layrnorm} (sic)
 * becomes {@code ln_pre}, and so on (MODELS.md section 2.6). Tensors are read lazily, converted to
 * float32 and cached; the caller keeps ownership of the state dict.
 */
public final class ClipWeights {
  /** The naming scheme of a weight file. */
  public enum Naming {
    /** OpenAI {@code clip.model.CLIP} state dict (also OpenAI's TorchScript archives, flattened). */
    OPENAI,
    /** Hugging Face transformers {@code CLIPModel}. */
    HUGGING_FACE
  }

  private static final int MAX_LISTED = 20;

  private final StateDict dict;
  private final Naming naming;
  private final Map<String, Tensor> cache = new HashMap<>();

  private final boolean resnet;

  private ClipWeights(StateDict dict, Naming naming, boolean resnet) {
    this.dict = dict;
    this.naming = naming;
    this.resnet = resnet;
  }

  /**
   * Detects the naming scheme of a state dict.
   *
   * @param dict the loaded tensors (not null)
   * @return a view of {@code dict} under canonical (OpenAI) names
   * @throws ModelLoadException for weights in both schemes, or weights that are not CLIP at all
   */
  public static ClipWeights of(StateDict dict) {
    Objects.requireNonNull(dict, "dict");
    boolean openai = false;
    boolean hf = false;
    boolean resnet = false;
    for (String k : dict.keys()) {
      if (k.startsWith("visual.layer1.") || k.startsWith("visual.attnpool.")) {
        resnet = true;
      } else if (k.startsWith("visual.") || k.startsWith("transformer.resblocks.") || k.equals("token_embedding.weight")) {
        openai = true;
      } else if (k.startsWith("vision_model.") || k.startsWith("text_model.") || k.equals("visual_projection.weight")) {
        hf = true;
      }
    }
    if (resnet && hf) {
      throw new ModelLoadException("CLIP weights mix OpenAI ResNet names (visual.layer1.*, visual.attnpool.*) and Hugging Face names "
          + "(vision_model.*, text_model.*); expected one scheme");
    }
    openai |= resnet;
    if (openai && hf) {
      throw new ModelLoadException("CLIP weights mix OpenAI names (visual.*, transformer.resblocks.*) and Hugging Face names "
          + "(vision_model.*, text_model.*); expected one scheme");
    }
    if (!openai && !hf) {
      List<String> first = dict.keys().stream().limit(5).toList();
      throw new ModelLoadException("not CLIP weights: no key starts with visual., transformer.resblocks., vision_model. or "
          + "text_model. (" + dict.keys().size() + " keys, first " + first + ")");
    }
    return new ClipWeights(dict, openai ? Naming.OPENAI : Naming.HUGGING_FACE, resnet);
  }

  /**
   * Whether the image encoder is OpenAI's ModifiedResNet (RN50 family; OpenAI names only).
   *
   * @return true for a ModifiedResNet image encoder, false for a ViT
   */
  public boolean isResNet() {
    return resnet;
  }

  /**
   * The naming scheme found.
   *
   * @return the naming scheme of the file's keys
   */
  public Naming naming() {
    return naming;
  }

  // ---------------------------------------------------------------- mapping

  /** How a canonical tensor is made from the file's tensors. */
  private enum Kind {
    DIRECT,
    TRANSPOSED,
    STACKED
  }

  private record Source(Kind kind, List<String> keys) {
    static Source direct(String k) {
      return new Source(Kind.DIRECT, List.of(k));
    }
  }

  /** The file's tensors behind a canonical (OpenAI) key, or null for a key CLIP does not have. */
  private Source source(String canonical) {
    if (naming == Naming.OPENAI) {
      return Source.direct(canonical);
    }
    String vb = "visual.transformer.resblocks.";
    String tb = "transformer.resblocks.";
    if (canonical.startsWith(vb)) {
      return hfBlock(canonical.substring(vb.length()), "vision_model.encoder.layers.");
    }
    if (canonical.startsWith(tb)) {
      return hfBlock(canonical.substring(tb.length()), "text_model.encoder.layers.");
    }
    return switch (canonical) {
      case "visual.class_embedding" -> Source.direct("vision_model.embeddings.class_embedding");
      case "visual.conv1.weight" -> Source.direct("vision_model.embeddings.patch_embedding.weight");
      case "visual.positional_embedding" -> Source.direct("vision_model.embeddings.position_embedding.weight");
      case "visual.ln_pre.weight" -> Source.direct("vision_model.pre_layrnorm.weight");
      case "visual.ln_pre.bias" -> Source.direct("vision_model.pre_layrnorm.bias");
      case "visual.ln_post.weight" -> Source.direct("vision_model.post_layernorm.weight");
      case "visual.ln_post.bias" -> Source.direct("vision_model.post_layernorm.bias");
      case "visual.proj" -> new Source(Kind.TRANSPOSED, List.of("visual_projection.weight"));
      case "token_embedding.weight" -> Source.direct("text_model.embeddings.token_embedding.weight");
      case "positional_embedding" -> Source.direct("text_model.embeddings.position_embedding.weight");
      case "ln_final.weight" -> Source.direct("text_model.final_layer_norm.weight");
      case "ln_final.bias" -> Source.direct("text_model.final_layer_norm.bias");
      case "text_projection" -> new Source(Kind.TRANSPOSED, List.of("text_projection.weight"));
      case "logit_scale" -> Source.direct("logit_scale");
      default -> null;
    };
  }

  private static Source hfBlock(String rest, String hfPrefix) {
    int dot = rest.indexOf('.');
    if (dot < 0) {
      return null;
    }
    String p = hfPrefix + rest.substring(0, dot + 1);
    String r = rest.substring(dot + 1);
    return switch (r) {
      case "attn.in_proj_weight" -> new Source(Kind.STACKED,
          List.of(p + "self_attn.q_proj.weight", p + "self_attn.k_proj.weight", p + "self_attn.v_proj.weight"));
      case "attn.in_proj_bias" -> new Source(Kind.STACKED,
          List.of(p + "self_attn.q_proj.bias", p + "self_attn.k_proj.bias", p + "self_attn.v_proj.bias"));
      case "attn.out_proj.weight" -> Source.direct(p + "self_attn.out_proj.weight");
      case "attn.out_proj.bias" -> Source.direct(p + "self_attn.out_proj.bias");
      case "ln_1.weight" -> Source.direct(p + "layer_norm1.weight");
      case "ln_1.bias" -> Source.direct(p + "layer_norm1.bias");
      case "ln_2.weight" -> Source.direct(p + "layer_norm2.weight");
      case "ln_2.bias" -> Source.direct(p + "layer_norm2.bias");
      case "mlp.c_fc.weight" -> Source.direct(p + "mlp.fc1.weight");
      case "mlp.c_fc.bias" -> Source.direct(p + "mlp.fc1.bias");
      case "mlp.c_proj.weight" -> Source.direct(p + "mlp.fc2.weight");
      case "mlp.c_proj.bias" -> Source.direct(p + "mlp.fc2.bias");
      default -> null;
    };
  }

  /**
   * Keys that carry no weights a CLIP forward pass uses and are skipped without complaint: the
   * logit scale, OpenAI's JIT-only int scalars and text attention masks (tensor attributes of
   * TorchScript blocks), Hugging Face's {@code position_ids} buffers, and BatchNorm's {@code
   * num_batches_tracked} counters (training bookkeeping; inference uses the running statistics).
   */
  private boolean ignorable(String key) {
    return key.equals("logit_scale") || key.equals("input_resolution") || key.equals("context_length")
        || key.equals("vocab_size") || key.equals("attn_mask") || key.endsWith(".attn_mask")
        || key.endsWith(".position_ids") || (resnet && key.endsWith(".num_batches_tracked"));
  }

  /**
   * The file's name(s) behind a canonical key, for messages.
   *
   * @param canonical an OpenAI-style key, e.g. {@code "visual.proj"}
   * @return the file's key(s) with the canonical key in parentheses, or just the key for OpenAI
   *     names
   */
  public String sourceName(String canonical) {
    Source s = source(canonical);
    if (s == null || naming == Naming.OPENAI) {
      return canonical;
    }
    String names = s.keys().size() == 1 ? s.keys().get(0) : s.keys().toString();
    return names + " (" + canonical + ")";
  }

  /**
   * Whether every file tensor behind a canonical key is present.
   *
   * @param canonical an OpenAI-style key
   * @return true when every file tensor it is made from is present
   */
  public boolean contains(String canonical) {
    Source s = source(canonical);
    if (s == null) {
      return false;
    }
    for (String k : s.keys()) {
      if (!dict.contains(k)) {
        return false;
      }
    }
    return true;
  }

  /**
   * The shape of a canonical tensor, from the file's headers (no data read).
   *
   * @param canonical an OpenAI-style key
   * @return the canonical shape (transposed or stacked as the mapping makes it)
   * @throws ModelLoadException when it is missing, or a mapped tensor has a shape no mapping fits
   */
  public long[] shape(String canonical) {
    Source s = source(canonical);
    if (s == null || !contains(canonical)) {
      throw new ModelLoadException("CLIP weights: missing " + sourceName(canonical));
    }
    long[] first = dict.spec(s.keys().get(0)).shape();
    switch (s.kind()) {
      case DIRECT:
        return first;
      case TRANSPOSED:
        if (first.length != 2) {
          throw new ModelLoadException("CLIP weights: " + s.keys().get(0) + " " + Arrays.toString(first) + " must be a matrix");
        }
        return new long[] {first[1], first[0]};
      default:
        for (String k : s.keys()) {
          long[] sh = dict.spec(k).shape();
          if (!Arrays.equals(sh, first) || sh.length == 0) {
            throw new ModelLoadException("CLIP weights: the q/k/v projections " + s.keys() + " must have one common shape, found "
                + Arrays.toString(first) + " and " + Arrays.toString(sh));
          }
        }
        long[] out = first.clone();
        out[0] = Math.multiplyExact(out[0], 3);
        return out;
    }
  }

  /** The shape of a canonical tensor, which must be present and of rank {@code rank}. */
  long[] requireShape(String canonical, int rank) {
    if (!contains(canonical)) {
      throw new ModelLoadException("CLIP weights: missing " + sourceName(canonical) + ", needed to infer the architecture");
    }
    long[] s = shape(canonical);
    if (s.length != rank) {
      throw new ModelLoadException(
          "CLIP weights: " + sourceName(canonical) + " has shape " + Arrays.toString(s) + ", expected rank " + rank);
    }
    return s;
  }

  /**
   * Residual attention blocks in the file: one more than the largest block index of the image
   * ({@code vision}) or text transformer; a gap shows up as missing keys in {@link #validate}.
   *
   * @param vision true for the image transformer, false for the text transformer
   * @return the number of residual attention blocks, 0 if none
   */
  public int layerCount(boolean vision) {
    String prefix = switch (naming) {
      case OPENAI -> vision ? "visual.transformer.resblocks." : "transformer.resblocks.";
      case HUGGING_FACE -> vision ? "vision_model.encoder.layers." : "text_model.encoder.layers.";
    };
    return blockCount(prefix);
  }

  /**
   * One more than the largest block index {@code <prefix><i>.*} in the file (0 if none), e.g. the
   * blocks of a ResNet stage under {@code visual.layer2.}.
   *
   * @param prefix key prefix of the blocks, ending with a dot
   * @return the block count
   */
  public int blockCount(String prefix) {
    int max = -1;
    for (String k : dict.keys()) {
      if (!k.startsWith(prefix)) {
        continue;
      }
      int dot = k.indexOf('.', prefix.length());
      String idx = dot < 0 ? "" : k.substring(prefix.length(), dot);
      // Bounded: an absurd index is not a block count to trust; the key is then reported as unexpected.
      if (!idx.isEmpty() && idx.length() <= 4 && idx.chars().allMatch(Character::isDigit)) {
        max = Math.max(max, Integer.parseInt(idx));
      }
    }
    return max + 1;
  }

  /**
   * Checks that the weights are exactly what {@code config} needs: no missing tensor, none with the
   * wrong shape or a non-floating type, none unexpected (ignoring {@code logit_scale}, JIT scalars,
   * attention masks and {@code position_ids}). All problems are reported together, by the file's
   * names.
   *
   * @param config the architecture the weights must fit
   * @throws ModelLoadException listing every problem
   */
  public void validate(ClipConfig config) {
    List<String> missing = new ArrayList<>();
    List<String> wrong = new ArrayList<>();
    Set<String> claimed = new HashSet<>();
    for (Map.Entry<String, long[]> e : config.expectedShapes().entrySet()) {
      String c = e.getKey();
      long[] want = e.getValue();
      Source s = source(c);
      for (int i = 0; i < s.keys().size(); i++) {
        String k = s.keys().get(i);
        claimed.add(k);
        if (!dict.contains(k)) {
          missing.add(naming == Naming.OPENAI ? k : k + " (" + c + ")");
          continue;
        }
        long[] part = switch (s.kind()) {
          case DIRECT -> want;
          case TRANSPOSED -> new long[] {want[1], want[0]};
          case STACKED -> {
            long[] p = want.clone();
            p[0] /= 3;
            yield p;
          }
        };
        TensorSpec spec = dict.spec(k);
        if (!Arrays.equals(spec.shape(), part)) {
          wrong.add(k + ": expected " + Arrays.toString(part) + ", found " + Arrays.toString(spec.shape()));
        } else if (!spec.dtype().isFloating()) {
          wrong.add(k + ": expected a floating type, found " + spec.dtype());
        }
      }
    }
    Source ls = source("logit_scale");
    claimed.addAll(ls.keys());
    List<String> unexpected = new ArrayList<>();
    for (String k : dict.keys()) {
      if (!claimed.contains(k) && !ignorable(k)) {
        unexpected.add(k);
      }
    }
    if (missing.isEmpty() && wrong.isEmpty() && unexpected.isEmpty()) {
      return;
    }
    StringBuilder sb = new StringBuilder("CLIP weights (" + naming + " names) do not fit " + config + ":");
    list(sb, "missing", missing);
    list(sb, "wrong shape or type", wrong);
    list(sb, "unexpected", unexpected);
    throw new ModelLoadException(sb.toString());
  }

  private static void list(StringBuilder sb, String what, List<String> items) {
    if (items.isEmpty()) {
      return;
    }
    sb.append("\n  ").append(items.size()).append(' ').append(what).append(": ");
    sb.append(String.join(", ", items.subList(0, Math.min(MAX_LISTED, items.size()))));
    if (items.size() > MAX_LISTED) {
      sb.append(", ... (").append(items.size() - MAX_LISTED).append(" more)");
    }
  }

  // ---------------------------------------------------------------- data

  /**
   * A canonical tensor in float32 (read, converted and mapped on first use, then cached).
   *
   * @param canonical an OpenAI-style key
   * @return the tensor, float32 off-heap; shared, do not modify
   * @throws ModelLoadException when it is missing or cannot be mapped
   */
  public synchronized Tensor tensor(String canonical) { // synchronized: encoders built from it are shared between threads
    Tensor t = cache.get(canonical);
    if (t == null) {
      // Off the Java heap once, so that every session reads the same bytes in place (OrtExecutable).
      t = read(canonical).offHeap();
      cache.put(canonical, t);
    }
    return t;
  }

  private Tensor read(String canonical) {
    long[] shape = shape(canonical);
    Source s = source(canonical);
    try {
      if (s.kind() == Kind.DIRECT) {
        return dict.floatTensor(s.keys().get(0));
      }
      long n = 1;
      for (long d : shape) {
        n = Math.multiplyExact(n, d);
      }
      ByteBuffer bytes = Tensor.allocateDirect(Math.multiplyExact(n, 4L));
      FloatBuffer out = bytes.asFloatBuffer();
      if (s.kind() == Kind.TRANSPOSED) {
        // source [rows, cols] -> canonical [cols, rows]
        FloatBuffer in = floats(dict.floatTensor(s.keys().get(0)));
        int rows = (int) shape[1];
        int cols = (int) shape[0];
        for (int i = 0; i < rows; i++) {
          for (int j = 0; j < cols; j++) {
            out.put(j * rows + i, in.get(i * cols + j));
          }
        }
      } else {
        // q, k, v stacked along the first axis, as nn.MultiheadAttention's in_proj.
        for (String k : s.keys()) {
          out.put(floats(dict.floatTensor(k)));
        }
      }
      return Tensor.wrap(DType.FLOAT, shape, bytes);
    } catch (IllegalArgumentException e) {
      throw new ModelLoadException("CLIP weights: cannot read " + sourceName(canonical) + ": " + e.getMessage(), e);
    }
  }

  private static FloatBuffer floats(Tensor t) {
    return t.data().duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
  }
}
