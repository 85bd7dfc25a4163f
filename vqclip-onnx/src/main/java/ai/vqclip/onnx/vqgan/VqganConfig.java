package ai.vqclip.onnx.vqgan;

import ai.vqclip.core.ModelLoadException;
import ai.vqclip.onnx.weights.StateDict;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * The architecture of a taming-transformers VQGAN ({@code VQModel} or {@code GumbelVQ}): the
 * {@code ddconfig} of its {@code model.yaml} plus the quantizer size (MODELS.md §1.1).
 *
 * <p>{@code numGroups} is not a taming setting: taming always normalizes with 32 groups. It is a
 * field here (default 32) so that tiny test models with few channels can use fewer groups.
 *
 * @param ch base channel count
 * @param chMult channel multiplier per resolution level; the downsampling factor is {@code
 *     2^(chMult.size()-1)}
 * @param numResBlocks ResnetBlocks per encoder level (the decoder has one more per level)
 * @param attnResolutions nominal resolutions (counted from {@code resolution}) whose levels get
 *     attention after every ResnetBlock
 * @param zChannels encoder output / decoder input channels
 * @param embedDim codebook vector width = latent channels
 * @param nEmbed number of codes
 * @param resolution nominal training resolution (used only to place attention)
 * @param inChannels image channels into the encoder
 * @param outCh image channels out of the decoder
 * @param doubleZ taming's KL-autoencoder flag; must be false for vector-quantized models
 * @param gumbel whether this is a {@code GumbelVQ} (codebook {@code quantize.embed.weight}, logits
 *     projection {@code quantize.proj})
 * @param numGroups GroupNorm group count (taming: 32)
 */
public record VqganConfig(
    int ch,
    List<Integer> chMult,
    int numResBlocks,
    List<Integer> attnResolutions,
    int zChannels,
    int embedDim,
    int nEmbed,
    int resolution,
    int inChannels,
    int outCh,
    boolean doubleZ,
    boolean gumbel,
    int numGroups) {
  /**
   * Safetensors metadata key with the GroupNorm group count, for files whose state dict alone
   * cannot say it (taming's files use 32; vqclip's own demo VQGAN uses 8 and writes this key).
   */
  public static final String GROUPS_METADATA_KEY = "vqclip.num_groups";


  /** taming's GroupNorm group count. */
  public static final int DEFAULT_GROUPS = 32;

  /** Largest {@code model.yaml} accepted (real ones are under 2 kB). */
  static final int MAX_YAML_CHARS = 1 << 20;

  /**
   * Validates the architecture (sizes bounded, lists non-null and copied, GroupNorm groups dividing
   * every normalised channel count).
   *
   * @param ch base channel count, in [1, 8192]
   * @param chMult channel multiplier per resolution level, 1 to 8 levels, each at least 1
   * @param numResBlocks ResnetBlocks per encoder level
   * @param attnResolutions nominal resolutions whose levels get attention, each positive
   * @param zChannels encoder output / decoder input channels
   * @param embedDim codebook vector width = latent channels
   * @param nEmbed number of codes
   * @param resolution nominal training resolution, a multiple of the downsampling factor
   * @param inChannels image channels into the encoder
   * @param outCh image channels out of the decoder
   * @param doubleZ taming's KL-autoencoder flag; must be false
   * @param gumbel whether this is a {@code GumbelVQ}
   * @param numGroups GroupNorm group count, dividing every normalised channel count
   * @throws IllegalArgumentException naming the first component that is null, out of range or
   *     inconsistent
   */
  public VqganConfig {
    chMult = List.copyOf(require(chMult, "chMult"));
    attnResolutions = List.copyOf(require(attnResolutions, "attnResolutions"));
    range("ch", ch, 1, 8192);
    if (chMult.isEmpty() || chMult.size() > 8) {
      throw new IllegalArgumentException("chMult must have 1 to 8 levels, got " + chMult);
    }
    for (int m : chMult) {
      if (m < 1 || (long) m * ch > 65536) {
        throw new IllegalArgumentException("chMult entries must be >= 1 with ch*mult <= 65536, got " + chMult + " (ch " + ch + ")");
      }
    }
    range("numResBlocks", numResBlocks, 1, 64);
    for (int r : attnResolutions) {
      if (r < 1) {
        throw new IllegalArgumentException("attnResolutions entries must be positive, got " + attnResolutions);
      }
    }
    range("zChannels", zChannels, 1, 65536);
    range("embedDim", embedDim, 1, 65536);
    range("nEmbed", nEmbed, 1, 1 << 24);
    range("resolution", resolution, 1, 1 << 16);
    range("inChannels", inChannels, 1, 64);
    range("outCh", outCh, 1, 64);
    if (doubleZ) {
      throw new IllegalArgumentException(
          "doubleZ must be false: double_z=true is the KL-autoencoder setting; taming's VQModel and GumbelVQ use false");
    }
    range("numGroups", numGroups, 1, 65536);
    int factor = 1 << (chMult.size() - 1);
    if (resolution % factor != 0) {
      throw new IllegalArgumentException("resolution " + resolution + " must be a multiple of the downsampling factor " + factor);
    }
    // Every GroupNorm runs on ch * m channels for some m in {1} + chMult.
    if (ch % numGroups != 0) {
      throw new IllegalArgumentException("numGroups " + numGroups + " must divide every normalized channel count; ch " + ch + " is not a multiple");
    }
    for (int m : chMult) {
      if ((ch * m) % numGroups != 0) {
        throw new IllegalArgumentException(
            "numGroups " + numGroups + " must divide every normalized channel count; ch*" + m + " = " + ch * m + " is not a multiple");
      }
    }
  }

  private static <T> T require(T v, String name) {
    if (v == null) {
      throw new IllegalArgumentException(name + " must not be null");
    }
    return v;
  }

  private static void range(String name, int v, int lo, int hi) {
    if (v < lo || v > hi) {
      throw new IllegalArgumentException(name + " must be in [" + lo + ", " + hi + "], got " + v);
    }
  }

  // ------------------------------------------------------------------ presets

  /**
   * {@code vqgan_imagenet_f16_16384}, VQGAN-CLIP's default model.
   *
   * @return the architecture of {@code vqgan_imagenet_f16_16384} (f = 16, 16384 codes of width 256)
   */
  public static VqganConfig f16_16384() {
    return new VqganConfig(128, List.of(1, 1, 2, 2, 4), 2, List.of(16), 256, 256, 16384, 256, 3, 3, false, false, DEFAULT_GROUPS);
  }

  /**
   * {@code vqgan_imagenet_f16_1024}.
   *
   * @return the architecture of {@code vqgan_imagenet_f16_1024} (f = 16, 1024 codes of width 256)
   */
  public static VqganConfig f16_1024() {
    return new VqganConfig(128, List.of(1, 1, 2, 2, 4), 2, List.of(16), 256, 256, 1024, 256, 3, 3, false, false, DEFAULT_GROUPS);
  }

  /**
   * {@code vqgan_gumbel_f8_8192} (OpenImages GumbelVQ).
   *
   * @return the architecture of {@code vqgan_gumbel_f8_8192} (f = 8, 8192 codes of width 256)
   */
  public static VqganConfig gumbelF8_8192() {
    return new VqganConfig(128, List.of(1, 1, 2, 4), 2, List.of(32), 256, 256, 8192, 256, 3, 3, false, true, DEFAULT_GROUPS);
  }

  // ------------------------------------------------------------------ derived

  /**
   * Number of resolution levels.
   *
   * @return the number of resolution levels, {@code chMult.size()}
   */
  public int numLevels() {
    return chMult.size();
  }

  /**
   * Downsampling factor {@code 2^(levels-1)}: image size / latent size.
   *
   * @return the downsampling factor f
   */
  public int factor() {
    return 1 << (chMult.size() - 1);
  }

  /**
   * The state-dict key of the codebook [nEmbed, embedDim].
   *
   * @return {@code quantize.embed.weight} for a GumbelVQ, else {@code quantize.embedding.weight}
   */
  public String codebookKey() {
    return gumbel ? "quantize.embed.weight" : "quantize.embedding.weight";
  }

  /**
   * A copy with another GroupNorm group count.
   *
   * @param groups GroupNorm group count, dividing every normalised channel count
   * @return a copy with this group count
   * @throws IllegalArgumentException when {@code groups} does not fit the channel counts
   */
  public VqganConfig withNumGroups(int groups) {
    return new VqganConfig(ch, chMult, numResBlocks, attnResolutions, zChannels, embedDim, nEmbed, resolution, inChannels, outCh, doubleZ,
        gumbel, groups);
  }

  @Override
  public String toString() {
    return (gumbel ? "GumbelVQ" : "VQModel") + "{ch=" + ch + ", ch_mult=" + chMult + ", num_res_blocks=" + numResBlocks + ", attn_resolutions="
        + attnResolutions + ", z_channels=" + zChannels + ", embed_dim=" + embedDim + ", n_embed=" + nEmbed + ", resolution=" + resolution
        + ", in_channels=" + inChannels + ", out_ch=" + outCh + ", double_z=" + doubleZ + ", num_groups=" + numGroups + "}";
  }

  // ------------------------------------------------------------------ model.yaml

  /**
   * Reads a taming {@code model.yaml} (file size bounded).
   *
   * @param file path of a taming {@code model.yaml}, at most 1 MiB
   * @return the architecture, with 32 GroupNorm groups
   * @throws ModelLoadException when the file cannot be read or is not a taming VQGAN config
   */
  public static VqganConfig fromYaml(Path file) {
    try {
      long size = Files.size(file);
      if (size > MAX_YAML_CHARS) {
        throw new ModelLoadException("model config " + file + " has " + size + " bytes; a taming model.yaml has a few kB (limit " + MAX_YAML_CHARS + ")");
      }
      return fromYaml(Files.readString(file, StandardCharsets.UTF_8), file.toString());
    } catch (java.nio.charset.CharacterCodingException e) {
      throw new ModelLoadException("model config " + file + " is not UTF-8 text (a taming model.yaml is)", e);
    } catch (IOException e) {
      throw new ModelLoadException("cannot read model config " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * Parses the text of a taming {@code model.yaml}: {@code model.target} must name a {@code VQModel}
   * or {@code GumbelVQ}; the architecture comes from {@code model.params.ddconfig} with {@code
   * embed_dim} and {@code n_embed} from {@code model.params}. Uses 32 GroupNorm groups.
   *
   * @param yaml the file's text, at most 1 Mi characters
   * @return the architecture, with 32 GroupNorm groups
   * @throws ModelLoadException naming the missing or invalid field
   */
  public static VqganConfig fromYaml(String yaml) {
    return fromYaml(yaml, "model.yaml");
  }

  private static VqganConfig fromYaml(String yaml, String source) {
    if (yaml.length() > MAX_YAML_CHARS) {
      throw new ModelLoadException(source + " has " + yaml.length() + " characters; limit " + MAX_YAML_CHARS);
    }
    LoaderOptions lo = new LoaderOptions();
    lo.setAllowDuplicateKeys(false);
    lo.setMaxAliasesForCollections(20);
    lo.setNestingDepthLimit(40);
    lo.setCodePointLimit(MAX_YAML_CHARS);
    Object root;
    try {
      // SafeConstructor: plain maps, lists and scalars only; no class instantiation from tags.
      root = new Yaml(new SafeConstructor(lo)).load(yaml);
    } catch (YAMLException e) {
      throw new ModelLoadException(source + " is not valid YAML: " + e.getMessage(), e);
    }
    String what = source + " is not a taming VQGAN config: ";
    Map<?, ?> model = map(root, "model", what);
    if (model == null) {
      throw new ModelLoadException(what + "it has no 'model' mapping at the top level (expected model.target and model.params.ddconfig)");
    }
    Object targetObj = model.get("target");
    if (!(targetObj instanceof String target)) {
      throw new ModelLoadException(what + "model.target is missing or not a string (expected taming.models.vqgan.VQModel or GumbelVQ)");
    }
    boolean gumbel;
    if (target.equals("taming.models.vqgan.VQModel") || target.endsWith(".VQModel")) {
      gumbel = false;
    } else if (target.endsWith(".GumbelVQ")) {
      gumbel = true;
    } else {
      throw new ModelLoadException(what + "model.target is '" + target + "'; supported: taming.models.vqgan.VQModel, taming.models.vqgan.GumbelVQ");
    }
    Map<?, ?> params = map(model, "params", what + "model.");
    if (params == null) {
      throw new ModelLoadException(what + "model.params is missing");
    }
    Map<?, ?> dd = map(params, "ddconfig", what + "model.params.");
    if (dd == null) {
      throw new ModelLoadException(what + "model.params.ddconfig is missing");
    }
    Object resamp = dd.get("resamp_with_conv");
    if (resamp != null && !Boolean.TRUE.equals(resamp)) {
      throw new ModelLoadException(what + "model.params.ddconfig.resamp_with_conv is " + resamp + "; only true (taming's default) is supported");
    }
    String p = "model.params.ddconfig.";
    try {
      return new VqganConfig(
          intField(dd, "ch", p, what),
          intList(dd, "ch_mult", p, what, false),
          intField(dd, "num_res_blocks", p, what),
          intList(dd, "attn_resolutions", p, what, true),
          intField(dd, "z_channels", p, what),
          intField(params, "embed_dim", "model.params.", what),
          intField(params, "n_embed", "model.params.", what),
          intField(dd, "resolution", p, what),
          intField(dd, "in_channels", p, what),
          intField(dd, "out_ch", p, what),
          boolField(dd, "double_z", p, what),
          gumbel,
          DEFAULT_GROUPS);
    } catch (IllegalArgumentException e) {
      throw new ModelLoadException(source + " describes an unsupported VQGAN: " + e.getMessage(), e);
    }
  }

  private static Map<?, ?> map(Object parent, String key, String what) {
    if (!(parent instanceof Map<?, ?> m)) {
      throw new ModelLoadException(what + "expected a mapping holding '" + key + "', got " + describe(parent));
    }
    Object v = m.get(key);
    if (v == null) {
      return null;
    }
    if (!(v instanceof Map<?, ?> r)) {
      throw new ModelLoadException(what + key + " must be a mapping, got " + describe(v));
    }
    return r;
  }

  private static int intField(Map<?, ?> m, String key, String prefix, String what) {
    Object v = m.get(key);
    if (v == null) {
      throw new ModelLoadException(what + prefix + key + " is missing");
    }
    if (!(v instanceof Integer i)) {
      throw new ModelLoadException(what + prefix + key + " must be an integer, got " + describe(v));
    }
    return i;
  }

  private static boolean boolField(Map<?, ?> m, String key, String prefix, String what) {
    Object v = m.get(key);
    if (v == null) {
      return false; // taming's Encoder default
    }
    if (!(v instanceof Boolean bv)) {
      throw new ModelLoadException(what + prefix + key + " must be true or false, got " + describe(v));
    }
    return bv;
  }

  private static List<Integer> intList(Map<?, ?> m, String key, String prefix, String what, boolean mayBeEmpty) {
    Object v = m.get(key);
    if (v == null) {
      throw new ModelLoadException(what + prefix + key + " is missing");
    }
    if (!(v instanceof List<?> l) || (!mayBeEmpty && l.isEmpty()) || l.size() > 64) {
      throw new ModelLoadException(what + prefix + key + " must be a " + (mayBeEmpty ? "" : "non-empty ") + "list of integers, got " + describe(v));
    }
    List<Integer> out = new ArrayList<>();
    for (Object o : l) {
      if (!(o instanceof Integer i)) {
        throw new ModelLoadException(what + prefix + key + " must be a list of integers, got " + describe(v));
      }
      out.add(i);
    }
    return out;
  }

  private static String describe(Object v) {
    if (v == null) {
      return "nothing";
    }
    String s = String.valueOf(v);
    if (s.length() > 80) {
      s = s.substring(0, 80) + "...";
    }
    return "'" + s + "' (" + v.getClass().getSimpleName() + ")";
  }

  // ------------------------------------------------------------------ inference from weights

  /**
   * Infers the architecture from the tensor shapes of a state dict (decoder, post_quant_conv and
   * codebook; the encoder too when present). What shapes cannot tell is assumed: {@code resolution}
   * 256 (attention resolutions are derived from it, so the graph is the same whatever the true
   * value), and {@code numGroups} as given.
   *
   * @param sd the loaded state dict (shapes only are read)
   * @param numGroups GroupNorm group count (not visible in the shapes)
   * @return the inferred architecture
   * @throws ModelLoadException naming the key that is missing or has an unexpected shape
   */
  public static VqganConfig inferFrom(StateDict sd, int numGroups) {
    boolean gumbel;
    String cbKey;
    if (sd.contains("quantize.embedding.weight")) {
      gumbel = false;
      cbKey = "quantize.embedding.weight";
    } else if (sd.contains("quantize.embed.weight")) {
      gumbel = true;
      cbKey = "quantize.embed.weight";
    } else {
      throw new ModelLoadException("cannot infer the VQGAN config: no codebook (quantize.embedding.weight or quantize.embed.weight) among "
          + sd.keys().size() + " keys");
    }
    long[] cb = shape(sd, cbKey, 2);
    long[] pq = shape(sd, "post_quant_conv.weight", 4);
    long[] ci = shape(sd, "decoder.conv_in.weight", 4);
    long[] co = shape(sd, "decoder.conv_out.weight", 4);
    TreeSet<Integer> levels = new TreeSet<>();
    TreeSet<Integer> blocks0 = new TreeSet<>();
    TreeSet<Integer> attnLevels = new TreeSet<>();
    for (String k : sd.keys()) {
      String[] parts = k.split("\\.");
      if (parts.length > 3 && parts[0].equals("decoder") && parts[1].equals("up")) {
        int lvl = parseIndex(parts[2], k);
        levels.add(lvl);
        if (parts[3].equals("attn")) {
          attnLevels.add(lvl);
        }
        if (lvl == 0 && parts[3].equals("block") && parts.length > 4) {
          blocks0.add(parseIndex(parts[4], k));
        }
      }
    }
    if (levels.isEmpty() || levels.first() != 0 || levels.last() != levels.size() - 1 || levels.size() > 8) {
      throw new ModelLoadException("cannot infer the VQGAN config: decoder.up.N levels found " + levels + ", expected 0..L-1 with L <= 8");
    }
    if (blocks0.isEmpty()) {
      throw new ModelLoadException("cannot infer the VQGAN config: no decoder.up.0.block.* keys");
    }
    int numResBlocks = blocks0.last(); // the decoder has num_res_blocks + 1 blocks per level
    int nLevels = levels.size();
    long[] outs = new long[nLevels];
    for (int i = 0; i < nLevels; i++) {
      outs[i] = shape(sd, "decoder.up." + i + ".block.0.conv2.weight", 4)[0];
    }
    int ch;
    int inChannels = 3;
    if (sd.contains("encoder.conv_in.weight")) {
      long[] eci = shape(sd, "encoder.conv_in.weight", 4);
      ch = Math.toIntExact(eci[0]);
      inChannels = Math.toIntExact(eci[1]);
    } else {
      ch = Math.toIntExact(outs[0]); // assumes ch_mult[0] == 1, as in every taming config
    }
    List<Integer> mult = new ArrayList<>();
    for (long o : outs) {
      if (o % ch != 0) {
        throw new ModelLoadException("cannot infer the VQGAN config: decoder level width " + o + " is not a multiple of ch " + ch);
      }
      mult.add(Math.toIntExact(o / ch));
    }
    int resolution = 256;
    List<Integer> attn = new ArrayList<>();
    int factor = 1 << (nLevels - 1);
    if (resolution % factor != 0) {
      resolution = factor * 16;
    }
    for (int lvl : attnLevels) {
      attn.add(resolution >> lvl);
    }
    try {
      return new VqganConfig(ch, mult, numResBlocks, attn, Math.toIntExact(ci[1]), Math.toIntExact(pq[1]), Math.toIntExact(cb[0]), resolution,
          inChannels, Math.toIntExact(co[0]), false, gumbel, numGroups);
    } catch (IllegalArgumentException e) {
      throw new ModelLoadException("cannot infer the VQGAN config: " + e.getMessage(), e);
    }
  }

  /**
   * {@link #inferFrom(StateDict, int)} with taming's 32 groups.
   *
   * @param sd the loaded state dict (shapes only are read)
   * @return the inferred architecture, with 32 GroupNorm groups
   * @throws ModelLoadException naming the key that is missing or has an unexpected shape
   */
  public static VqganConfig inferFrom(StateDict sd) {
    return inferFrom(sd, DEFAULT_GROUPS);
  }

  private static int parseIndex(String s, String key) {
    try {
      int i = Integer.parseInt(s);
      if (i < 0 || i > 1024) {
        throw new NumberFormatException();
      }
      return i;
    } catch (NumberFormatException e) {
      throw new ModelLoadException("cannot infer the VQGAN config: key '" + key + "' has index '" + s + "' where a small integer belongs");
    }
  }

  private static long[] shape(StateDict sd, String key, int rank) {
    if (!sd.contains(key)) {
      throw new ModelLoadException("cannot infer the VQGAN config: key '" + key + "' is missing");
    }
    long[] s = sd.spec(key).shape();
    if (s.length != rank) {
      throw new ModelLoadException("cannot infer the VQGAN config: '" + key + "' has shape " + java.util.Arrays.toString(s) + ", expected rank " + rank);
    }
    return s;
  }
}
