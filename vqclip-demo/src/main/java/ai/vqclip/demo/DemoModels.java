package ai.vqclip.demo;

import ai.vqclip.core.ModelLoadException;
import ai.vqclip.demo.train.ClipTraining;
import ai.vqclip.onnx.clip.ClipConfig;
import ai.vqclip.onnx.clip.tokenizer.ClipTokenizer;
import ai.vqclip.onnx.vqgan.VqganConfig;
import ai.vqclip.onnx.weights.StateDict;
import ai.vqclip.onnx.weights.WeightFiles;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The bundled demo models: a tiny VQGAN, a tiny CLIP and a caption sketcher trained by vqclip itself
 * on the shapes world ({@link ai.vqclip.demo.data.ShapesDataset}), with the CLIP's BPE vocabulary
 * ({@code TrainDemo all} retrains them in 46 minutes on 2 cores). The VQGAN and CLIP are
 * ordinary models in the real formats (safetensors with taming / OpenAI key names, an OpenAI-style
 * merges file), so they load through the same classes as downloaded ones:
 *
 * <pre>{@code
 * try (DemoModels.Bundle m = DemoModels.load()) {
 *   VqganGenerator gen = VqganGenerator.load(m.vqgan(), m.vqganConfig(), ExecutionOptions.cpu());
 *   ClipEncoder clip = ClipEncoder.load(m.clip(), m.clipConfig(), m.tokenizer(), ExecutionOptions.cpu());
 * }
 * }</pre>
 */
public final class DemoModels {
  private DemoModels() {}

  /** Class-path folder of the bundled files. */
  public static final String RESOURCE_DIR = "/ai/vqclip/demo/models/";

  /** VQGAN weights file name. */
  public static final String VQGAN_WEIGHTS = "vqgan.safetensors";

  /** CLIP weights file name. */
  public static final String CLIP_WEIGHTS = "clip.safetensors";

  /** VQGAN config file name (JSON of {@link VqganConfig}). */
  public static final String VQGAN_CONFIG = "vqgan-config.json";

  /** CLIP config file name (JSON of {@link ClipConfig}). */
  public static final String CLIP_CONFIG = "clip-config.json";

  /**
   * Weights of an optional second CLIP (its own vocabulary, {@link #SECOND_MERGES_FILE}): where a
   * folder has one, generation is guided by both, an ensemble (docs/demo-models.md, round 6). Bundled
   * from round 6 to round 12; since round 13 the bundle holds one CLIP, and {@code TrainDemo clipb}
   * writes a second for experiments.
   */
  public static final String SECOND_CLIP_WEIGHTS = "clip-b.safetensors";

  /**
   * The restorer's weights (encoder and decoder keys of a VQGAN with the VQGAN's config, no codebook):
   * it maps a damaged drawn picture back to the clean one, and generation can use it as a prior
   * ({@link ai.vqclip.demo.train.RestorerTraining}). An experiment of issue 15's round 7: written by
   * {@code TrainDemo restorer}, not bundled and not in {@link #FILES}.
   */
  public static final String RESTORER_WEIGHTS = "restorer.safetensors";

  /**
   * File name of the caption prior's weights: a restorer conditioned on the first CLIP's text
   * embedding of a caption ({@link ai.vqclip.demo.train.CaptionPriorTraining}), written by {@code
   * TrainDemo caption-prior}. Loaded where present ({@link #OPTIONAL_FILES}): generation without a
   * sketcher pulls the picture towards its redrawing ({@link ai.vqclip.demo.eval.DemoGeneration}).
   * Bundled in rounds 8 to 12; not since round 13 (it was off by default with the sketcher, and its
   * 45 minutes of training did not fit the retraining budget).
   */
  public static final String CAPTION_PRIOR_WEIGHTS = "caption-prior.safetensors";

  /**
   * File name of the caption sketcher's weights: a coordinate network that draws a caption (read as
   * the first CLIP's text embedding) at a layout ({@link ai.vqclip.demo.train.SketchTraining}), written
   * by {@code TrainDemo sketch}. Where present, a default demo run starts from its sketch ({@link
   * ai.vqclip.demo.eval.CaptionSketch}).
   */
  public static final String SKETCH_WEIGHTS = "caption-sketch.safetensors";

  /** The second CLIP's config file name. */
  public static final String SECOND_CLIP_CONFIG = "clip-b-config.json";

  /** The second CLIP's merges file name. */
  public static final String SECOND_MERGES_FILE = "bpe-demo-b.txt.gz";

  /** The files every model folder holds (the bundle adds the sketcher and the training manifests). */
  public static final List<String> FILES = List.of(VQGAN_WEIGHTS, VQGAN_CONFIG, CLIP_WEIGHTS, CLIP_CONFIG, ClipTraining.MERGES_FILE);

  /**
   * Files that a model folder may lack: a second CLIP's three files, the caption prior (neither is
   * bundled) and the caption sketcher (bundled; folders written before it existed lack it). {@link
   * #load(Path)} reads them where present.
   */
  public static final List<String> OPTIONAL_FILES = List.of(SECOND_CLIP_WEIGHTS, SECOND_CLIP_CONFIG, SECOND_MERGES_FILE, CAPTION_PRIOR_WEIGHTS,
      SKETCH_WEIGHTS);

  /** Side of the pictures the demo models were trained on (the VQGAN's and CLIP's resolution). */
  public static final int IMAGE_SIZE = 32;

  /**
   * The loaded demo models. Owns the weight files' mappings: close it when the models built from
   * it are closed.
   *
   * @param vqganConfig VQGAN architecture
   * @param vqgan VQGAN weights (taming key names, all parts)
   * @param clipConfig CLIP architecture (context length 20, the learned vocabulary's size)
   * @param clip CLIP weights (OpenAI key names)
   * @param tokenizer the learned BPE vocabulary with context {@code clipConfig.contextLength()}
   * @param second the second CLIP of the guiding ensemble, or null where a folder has none
   * @param captionPrior the caption prior's weight file ({@link #CAPTION_PRIOR_WEIGHTS}, conditioned on
   *     the first CLIP), or null where a folder has none
   * @param sketch the caption sketcher's weight file ({@link #SKETCH_WEIGHTS}, reading the first CLIP),
   *     or null where a folder has none
   */
  public record Bundle(VqganConfig vqganConfig, StateDict vqgan, ClipConfig clipConfig, StateDict clip, ClipTokenizer tokenizer, Clip second,
      Path captionPrior, Path sketch) implements AutoCloseable {
    /** A bundle without a caption sketcher. */
    public Bundle(VqganConfig vqganConfig, StateDict vqgan, ClipConfig clipConfig, StateDict clip, ClipTokenizer tokenizer, Clip second,
        Path captionPrior) {
      this(vqganConfig, vqgan, clipConfig, clip, tokenizer, second, captionPrior, null);
    }

    /** A bundle with one CLIP. */
    public Bundle(VqganConfig vqganConfig, StateDict vqgan, ClipConfig clipConfig, StateDict clip, ClipTokenizer tokenizer) {
      this(vqganConfig, vqgan, clipConfig, clip, tokenizer, null, null);
    }

    /** A bundle without a caption prior. */
    public Bundle(VqganConfig vqganConfig, StateDict vqgan, ClipConfig clipConfig, StateDict clip, ClipTokenizer tokenizer, Clip second) {
      this(vqganConfig, vqgan, clipConfig, clip, tokenizer, second, null);
    }

    /** The bundle's CLIPs: the first, then the second where there is one. */
    public List<Clip> clips() {
      Clip first = new Clip(clipConfig, clip, tokenizer);
      return second == null ? List.of(first) : List.of(first, second);
    }

    @Override
    public void close() {
      vqgan.close();
      clip.close();
      if (second != null) {
        second.weights().close();
      }
    }
  }

  /**
   * One CLIP of a bundle.
   *
   * @param config its architecture
   * @param weights its weights (OpenAI key names)
   * @param tokenizer its BPE vocabulary
   */
  public record Clip(ClipConfig config, StateDict weights, ClipTokenizer tokenizer) {
    /**
     * The encoder over these weights (the bundle must stay open while it is used).
     *
     * @param options where and how it runs
     * @return the encoder; the caller closes it
     */
    public ai.vqclip.onnx.clip.ClipEncoder open(ai.vqclip.core.backend.ExecutionOptions options) {
      return ai.vqclip.onnx.clip.ClipEncoder.load(weights, config, tokenizer, options);
    }
  }

  /**
   * The safetensors metadata of the demo VQGAN's weights: besides a description, {@link
   * VqganConfig#GROUPS_METADATA_KEY}, so that the file read through the generic {@code --vqgan}
   * path (which infers the rest from the tensors) builds this model, not one with taming's 32 groups.
   */
  public static java.util.Map<String, String> vqganMetadata(VqganConfig c) {
    return java.util.Map.of("format", "pt", "model", "vqclip demo vqgan", "config", c.toString(), VqganConfig.GROUPS_METADATA_KEY,
        Integer.toString(c.numGroups()));
  }

  /**
   * The safetensors metadata of the demo CLIP's weights, with {@link
   * ClipConfig#HEAD_DIM_METADATA_KEY} for the generic {@code --clip} path (the head count is not in
   * the tensors' shapes).
   *
   * @throws IllegalArgumentException when the vision and text towers' head widths differ (one key
   *     cannot describe both)
   */
  public static java.util.Map<String, String> clipMetadata(ClipConfig c) {
    int vision = c.visionWidth() / c.visionHeads();
    int text = c.textWidth() / c.textHeads();
    if (vision != text || vision * c.visionHeads() != c.visionWidth() || text * c.textHeads() != c.textWidth()) {
      throw new IllegalArgumentException("demo CLIP head widths differ: vision " + c.visionWidth() + "/" + c.visionHeads() + ", text "
          + c.textWidth() + "/" + c.textHeads());
    }
    return java.util.Map.of("format", "pt", "model", "vqclip demo clip", "config", c.toString(), ClipConfig.HEAD_DIM_METADATA_KEY,
        Integer.toString(vision));
  }

  /** Whether the demo models are on the class path. */
  public static boolean available() {
    return FILES.stream().allMatch(f -> DemoModels.class.getResource(RESOURCE_DIR + f) != null);
  }

  /** Whether the caption prior is on the class path (with the models). */
  public static boolean captionPriorAvailable() {
    return available() && DemoModels.class.getResource(RESOURCE_DIR + CAPTION_PRIOR_WEIGHTS) != null;
  }

  /** Whether the caption sketcher is on the class path (with the models). */
  public static boolean sketchAvailable() {
    return available() && DemoModels.class.getResource(RESOURCE_DIR + SKETCH_WEIGHTS) != null;
  }

  /**
   * Loads the bundled models from the class path (copied once to a temporary folder, since weight
   * files are memory-mapped).
   *
   * @throws ModelLoadException when they are not bundled (train them with {@code
   *     ai.vqclip.demo.train.TrainDemo}) or are damaged
   */
  public static Bundle load() {
    try {
      Path dir = Files.createTempDirectory("vqclip-demo-models");
      dir.toFile().deleteOnExit();
      for (Path p : copyBundled(dir)) {
        p.toFile().deleteOnExit();
      }
      return load(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot unpack the demo models", e);
    }
  }

  /**
   * Copies the bundled {@link #FILES} (and those of {@link #OPTIONAL_FILES} that are bundled) from
   * the class path into {@code dir} (which must exist), so that {@link #load(Path)} can read them
   * from there.
   *
   * @return the files written
   * @throws ModelLoadException when they are not bundled (train them with {@code
   *     ai.vqclip.demo.train.TrainDemo})
   */
  public static List<Path> copyBundled(Path dir) throws IOException {
    List<Path> written = new ArrayList<>();
    List<String> all = new ArrayList<>(FILES);
    OPTIONAL_FILES.stream().filter(f -> DemoModels.class.getResource(RESOURCE_DIR + f) != null).forEach(all::add);
    for (String f : all) {
      try (InputStream in = DemoModels.class.getResourceAsStream(RESOURCE_DIR + f)) {
        if (in == null) {
          throw new ModelLoadException("the demo model file " + f + " is not on the class path (" + RESOURCE_DIR
              + "); train the demo models with ai.vqclip.demo.train.TrainDemo or give a model explicitly");
        }
        Path p = dir.resolve(f);
        Files.copy(in, p, StandardCopyOption.REPLACE_EXISTING);
        written.add(p);
      }
    }
    return written;
  }

  /**
   * Loads the demo models from a folder holding {@link #FILES}, with those of {@link
   * #OPTIONAL_FILES} it has: one CLIP unless it holds a second CLIP's three files (as {@code TrainDemo
   * clipb} writes them, and the bundle of rounds 6 to 12 held them), no caption prior or sketcher
   * where it lacks their files.
   *
   * @throws ModelLoadException when a file is missing or damaged
   */
  public static Bundle load(Path dir) {
    Objects.requireNonNull(dir, "dir");
    VqganConfig vc = readJson(dir.resolve(VQGAN_CONFIG), VqganConfig.class);
    ClipConfig cc = readJson(dir.resolve(CLIP_CONFIG), ClipConfig.class);
    ClipTokenizer tok = tokenizer(dir.resolve(ClipTraining.MERGES_FILE), cc);
    boolean second = Files.exists(dir.resolve(SECOND_CLIP_WEIGHTS)) || Files.exists(dir.resolve(SECOND_CLIP_CONFIG));
    ClipConfig cc2 = second ? readJson(dir.resolve(SECOND_CLIP_CONFIG), ClipConfig.class) : null;
    ClipTokenizer tok2 = second ? tokenizer(dir.resolve(SECOND_MERGES_FILE), cc2) : null;
    List<AutoCloseable> opened = new ArrayList<>();
    try {
      StateDict v = WeightFiles.open(dir.resolve(VQGAN_WEIGHTS));
      opened.add(v);
      StateDict c = WeightFiles.open(dir.resolve(CLIP_WEIGHTS));
      opened.add(c);
      Clip b = null;
      if (second) {
        StateDict c2 = WeightFiles.open(dir.resolve(SECOND_CLIP_WEIGHTS));
        opened.add(c2);
        b = new Clip(cc2, c2, tok2);
      }
      Path prior = dir.resolve(CAPTION_PRIOR_WEIGHTS);
      Path sketch = dir.resolve(SKETCH_WEIGHTS);
      return new Bundle(vc, v, cc, c, tok, b, Files.isRegularFile(prior) ? prior : null, Files.isRegularFile(sketch) ? sketch : null);
    } catch (RuntimeException e) {
      for (AutoCloseable o : opened) {
        try {
          o.close();
        } catch (Exception suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      throw e;
    }
  }

  /** A CLIP's learned vocabulary, checked against its config. */
  private static ClipTokenizer tokenizer(Path merges, ClipConfig cc) {
    ClipTokenizer tok = new ClipTokenizer(ai.vqclip.onnx.clip.tokenizer.BpeVocabulary.readOpenAi(merges),
        new ClipTokenizer.Options(cc.contextLength(), ClipTokenizer.Overflow.TRUNCATE, 1000));
    if (tok.vocabulary().size() != cc.vocabSize()) {
      throw new ModelLoadException("demo vocabulary " + merges.getFileName() + " has " + tok.vocabulary().size() + " tokens but the CLIP config says "
          + cc.vocabSize());
    }
    return tok;
  }

  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(SerializationFeature.INDENT_OUTPUT)
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  /** Writes a config record as JSON (used by the trainer). */
  public static void writeJson(Path file, Object config) {
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      JSON.writeValue(file.toFile(), config);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  /** Reads a JSON config ({@link VqganConfig} or {@link ClipConfig}) written by {@link #writeJson}. */
  public static <T> T readJson(Path file, Class<T> type) {
    try {
      if (Files.size(file) > 1 << 16) {
        throw new ModelLoadException(file + " is over 64 kB; a demo model config is a few hundred bytes");
      }
      return JSON.readValue(file.toFile(), type);
    } catch (IOException e) {
      throw new ModelLoadException("cannot read demo model config " + file + ": " + e.getMessage(), e);
    }
  }
}
