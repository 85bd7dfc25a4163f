package ai.vqclip.cli.models;

import ai.vqclip.core.Generator;
import ai.vqclip.core.ModelLoadException;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.onnx.adapt.OnnxEncoder;
import ai.vqclip.onnx.adapt.OnnxGenerator;
import ai.vqclip.onnx.clip.TextTokenizer;
import ai.vqclip.onnx.clip.tokenizer.ClipTokenizer;
import ai.vqclip.onnx.vqgan.VqganGenerator;
import ai.vqclip.onnx.vqgan.VqganWeights;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The generator and CLIP encoders of one command, with the files they read; {@link #close()}
 * releases them all.
 */
public final class Models implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Models.class);

  /** Largest --text-embeddings file read. */
  public static final long MAX_TEXT_EMBEDDINGS_BYTES = 64L << 20;

  /** CLIP's per-channel pixel mean (--encoder-normalize clip). */
  static final float[] CLIP_MEAN = {0.48145466f, 0.4578275f, 0.40821073f};

  /** CLIP's per-channel pixel deviation. */
  static final float[] CLIP_STD = {0.26862954f, 0.26130258f, 0.27577711f};

  private final Generator generator;
  private final List<ClipModel> clips;
  private final List<AutoCloseable> resources;
  private final Map<String, Map<String, String>> provenance;
  /** Where the parts not named came from (its sketcher reads the first CLIP when that is built in). */
  private final ModelSource builtIn;
  /** Whether the first CLIP is the built-in one. */
  private final boolean builtInClip;

  private Models(Generator generator, List<ClipModel> clips, List<AutoCloseable> resources, Map<String, Map<String, String>> provenance,
      ModelSource builtIn, boolean builtInClip) {
    this.builtIn = builtIn;
    this.builtInClip = builtInClip;
    this.generator = generator;
    this.clips = List.copyOf(clips);
    this.resources = resources;
    this.provenance = provenance;
  }

  /**
   * Opens the selected models, taking the parts not selected from {@code builtIn} (which the
   * result closes).
   *
   * @throws ModelLoadException when a file is unreadable or not a supported model
   */
  public static Models open(ModelSelection sel, ModelSource builtIn, ExecutionOptions options) {
    List<AutoCloseable> res = new ArrayList<>();
    Map<String, Map<String, String>> prov = new LinkedHashMap<>();
    res.add(builtIn); // closed last, after the models it opened
    if (sel.demoModels() != null && sel.vqgan() != null && !sel.clip().isEmpty()) {
      LOG.warn("--demo-models is unused: --vqgan and --clip name every model");
    }
    OnnxModels onnx = sel.onnx();
    try {
      Generator gen;
      if (onnx != null && onnx.generator() != null) {
        OnnxGenerator.Options o = OnnxGenerator.Options.defaults()
            .withOutputRange("signed".equals(onnx.generatorRange()) ? OnnxGenerator.Range.SIGNED : OnnxGenerator.Range.UNIT);
        if (onnx.generatorEncoder() != null) {
          o = o.withEncoder(onnx.generatorEncoder(), OnnxGenerator.Range.UNIT);
        }
        o = o.withInit("uniform".equals(onnx.latentInit()) ? OnnxGenerator.Init.UNIFORM : OnnxGenerator.Init.NORMAL, 0,
            onnx.latentScale() == null ? 1 : onnx.latentScale());
        if (onnx.latentMin() != null) {
          o = o.withBounds(onnx.latentMin(), onnx.latentMax());
        }
        OnnxGenerator g = OnnxGenerator.fromFile(onnx.generator(), o, options);
        res.add(g);
        gen = g;
        LOG.info("ONNX generator {}: {} latent channels, factor {}", onnx.generator(), g.channels(), g.factor());
        prov.put("generator", g.provenance());
      } else if (sel.vqgan() != null) {
        ModelFiles.OpenedGenerator g = ModelFiles.openVqgan(sel.vqgan(), sel.vqganConfig(), sel.vqganGroups(), options);
        res.add(g.weights());
        res.add(g.generator());
        gen = g.generator();
        LOG.info("VQGAN {}: {}", sel.vqgan(), g.generator().config());
        prov.put("generator", Map.of("file", sel.vqgan().toString(), "config", g.generator().config().toString()));
      } else {
        VqganGenerator v = builtIn.openGenerator(options);
        gen = v;
        res.add(v);
        prov.put("generator", Map.of("source", builtIn.description(), "config", v.config().toString()));
      }
      List<ClipModel> clips = new ArrayList<>();
      if (sel.clip().isEmpty() && (onnx == null || onnx.encoder() == null)) {
        if (sel.vocab() != null) {
          LOG.warn("--vocab is used with --clip models only; the built-in CLIP has its own tokenizer");
        }
        for (ClipModel c : builtIn.openClips(options)) {
          res.add(c.encoder());
          prov.put("encoder" + clips.size(), Map.of("source", builtIn.description(), "config", c.description()));
          clips.add(c);
        }
      } else if (!sel.clip().isEmpty()) {
        if (sel.vocab() == null) {
          throw new ModelLoadException("--clip needs --vocab FILE: the CLIP BPE vocabulary (bpe_simple_vocab_16e6.txt.gz, "
              + "or a Hugging Face vocab.json with merges.txt beside it)");
        }
        Map<Path, ClipTokenizer> tokenizers = new java.util.HashMap<>(); // each vocabulary read once
        for (int i = 0; i < sel.clip().size(); i++) {
          Path p = sel.clip().get(i);
          Path vocab = sel.vocabOf(i);
          ClipTokenizer tok = tokenizers.computeIfAbsent(vocab, ModelFiles::tokenizer);
          ModelFiles.OpenedClip c = ModelFiles.openClip(p, tok, sel.clipHeadDim(), options);
          res.add(c.weights());
          res.add(c.clip().encoder());
          prov.put("encoder" + clips.size(), Map.of("file", p.toString(), "config", c.clip().description(), "vocab", vocab.toString()));
          clips.add(c.clip());
          LOG.info("CLIP {}", c.clip().description());
        }
      }
      if (onnx != null && onnx.encoder() != null) {
        ClipModel c = openOnnxEncoder(sel, onnx, options);
        res.add(c.encoder());
        prov.put("encoder" + clips.size(), c.encoder().provenance());
        clips.add(c);
        LOG.info("ONNX encoder {}", c.description());
      }
      return new Models(gen, clips, res, prov, builtIn, sel.clip().isEmpty() && (onnx == null || onnx.encoder() == null));
    } catch (RuntimeException e) {
      closeAll(res, e);
      throw e;
    }
  }

  private static ClipModel openOnnxEncoder(ModelSelection sel, OnnxModels onnx, ExecutionOptions options) {
    OnnxEncoder.Options o = OnnxEncoder.Options.imageOnly();
    TextTokenizer check;
    if (onnx.encoderText() != null) {
      ClipTokenizer tok = ModelFiles.tokenizer(sel.vocab());
      o = o.withText(onnx.encoderText(), tok);
      check = tok;
    } else {
      check = null;
    }
    if (onnx.textEmbeddings() != null) {
      Map<String, float[]> fixed = readTextEmbeddings(onnx.textEmbeddings());
      o = o.withTextEmbeddings(fixed);
      if (check == null) {
        // No text graph: only the file's texts can be embedded; prompts are checked against them.
        Path file = onnx.textEmbeddings();
        check = t -> {
          if (!fixed.containsKey(t)) {
            throw new IllegalArgumentException("no embedding for this text in --text-embeddings " + file + "; it has " + fixed.keySet());
          }
          return new int[0];
        };
      }
    }
    if (onnx.encoderResolution() != null) {
      o = o.withInputResolution(onnx.encoderResolution());
    }
    if ("clip".equals(onnx.encoderNormalization())) {
      o = o.withNormalization(CLIP_MEAN, CLIP_STD);
    }
    OnnxEncoder e;
    try {
      e = OnnxEncoder.fromFile(onnx.encoder(), o, options);
    } catch (IllegalArgumentException x) {
      throw new ModelLoadException("--encoder-onnx " + onnx.encoder() + ": " + x.getMessage(), x);
    }
    return new ClipModel(e, check, onnx.encoder().getFileName() + " (ONNX, " + e.inputResolution() + " px, " + e.embeddingDim() + "-d)");
  }

  /**
   * Reads a JSON object of text embeddings, {@code {"text": [numbers], ...}}.
   *
   * @throws ModelLoadException naming the file for a file too large or not of that form
   */
  static Map<String, float[]> readTextEmbeddings(Path file) {
    try {
      long size = Files.size(file);
      if (size > MAX_TEXT_EMBEDDINGS_BYTES) {
        throw new ModelLoadException("--text-embeddings " + file + " is " + size + " bytes; at most " + MAX_TEXT_EMBEDDINGS_BYTES + " are read");
      }
      Map<String, float[]> m = new ObjectMapper().readValue(file.toFile(), new TypeReference<LinkedHashMap<String, float[]>>() {});
      if (m == null || m.isEmpty()) {
        throw new ModelLoadException("--text-embeddings " + file + " has no embeddings; expected a JSON object {\"text\": [numbers], ...}");
      }
      m.forEach((k, v) -> {
        if (v == null || v.length == 0) {
          throw new ModelLoadException("--text-embeddings " + file + ": the embedding of '" + k + "' is empty");
        }
        for (float f : v) {
          if (!Float.isFinite(f)) {
            throw new ModelLoadException("--text-embeddings " + file + ": the embedding of '" + k + "' has a non-finite value " + f);
          }
        }
      });
      return m;
    } catch (IOException e) {
      throw new ModelLoadException("--text-embeddings " + file + " is not a JSON object {\"text\": [numbers], ...}: " + e.getMessage(), e);
    }
  }

  /** The generator. */
  public Generator generator() {
    return generator;
  }

  /** The step image sizes are rounded to (the VQGAN's or the ONNX decoder's factor; 1 for a fixed-size decoder). */
  public int sizeStep() {
    if (generator instanceof VqganGenerator v) {
      return v.config().factor();
    }
    if (generator instanceof OnnxGenerator o) {
      return Math.max(1, o.factor());
    }
    return 1;
  }

  /**
   * Why the generator cannot encode images (init images, init noise, edits, zoom), or null when it
   * can.
   */
  /**
   * The built-in models' caption sketch of {@code text} ({@link ModelSource#sketch}), or null where
   * they have no sketcher or the first CLIP is not the built-in one (the sketcher reads its text
   * embedding).
   *
   * @param text the text drawn
   * @param seed chooses the layout
   * @param size picture side
   * @return the picture [1, 3, size, size] in [0, 1], or null
   */
  public ai.vqclip.core.Tensor sketch(String text, long seed, int size) {
    return builtInClip ? builtIn.sketch(clips.get(0).encoder(), text, seed, size) : null;
  }

  public String cannotEncode() {
    if (generator instanceof VqganGenerator v && !v.weights().has(VqganWeights.Part.ENCODER)) {
      return "the VQGAN file has no encoder weights (encoder.*)";
    }
    if (generator instanceof OnnxGenerator o && !o.hasEncoder()) {
      return "the --generator-onnx model has no encoder graph (give --generator-encoder-onnx FILE)";
    }
    return null;
  }

  /** The CLIP encoders (several: an ensemble). */
  public List<ClipModel> clips() {
    return clips;
  }

  /**
   * Where each model came from, keyed as the run manifest keys models ({@code generator}, {@code
   * encoder0}, ...): the file (or the built-in source) and the architecture.
   */
  public Map<String, Map<String, String>> provenance() {
    return provenance;
  }

  /** Image side the encoders take (they share it). */
  public int inputResolution() {
    return clips.get(0).encoder().inputResolution();
  }

  @Override
  public void close() {
    closeAll(resources, null);
  }

  private static void closeAll(List<AutoCloseable> res, RuntimeException primary) {
    List<AutoCloseable> rev = new ArrayList<>(res);
    Collections.reverse(rev);
    for (AutoCloseable c : rev) {
      try {
        c.close();
      } catch (Exception e) {
        if (primary != null) {
          primary.addSuppressed(e);
        } else {
          LOG.warn("could not release a model: {}", e.toString());
        }
      }
    }
    res.clear();
  }
}
