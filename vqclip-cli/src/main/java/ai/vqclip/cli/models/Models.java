package ai.vqclip.cli.models;

import ai.vqclip.core.ModelLoadException;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.onnx.clip.tokenizer.ClipTokenizer;
import ai.vqclip.onnx.vqgan.VqganGenerator;
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

  private final VqganGenerator generator;
  private final List<ClipModel> clips;
  private final List<AutoCloseable> resources;
  private final Map<String, Map<String, String>> provenance;

  private Models(VqganGenerator generator, List<ClipModel> clips, List<AutoCloseable> resources, Map<String, Map<String, String>> provenance) {
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
    try {
      VqganGenerator gen;
      if (sel.vqgan() != null) {
        ModelFiles.OpenedGenerator g = ModelFiles.openVqgan(sel.vqgan(), sel.vqganConfig(), sel.vqganGroups(), options);
        res.add(g.weights());
        res.add(g.generator());
        gen = g.generator();
        LOG.info("VQGAN {}: {}", sel.vqgan(), gen.config());
        prov.put("generator", Map.of("file", sel.vqgan().toString(), "config", gen.config().toString()));
      } else {
        gen = builtIn.openGenerator(options);
        res.add(gen);
        prov.put("generator", Map.of("source", builtIn.description(), "config", gen.config().toString()));
      }
      List<ClipModel> clips = new ArrayList<>();
      if (sel.clip().isEmpty()) {
        if (sel.vocab() != null) {
          LOG.warn("--vocab is used with --clip models only; the built-in CLIP has its own tokenizer");
        }
        ClipModel c = builtIn.openClip(options);
        res.add(c.encoder());
        clips.add(c);
        prov.put("encoder0", Map.of("source", builtIn.description(), "config", c.description()));
      } else {
        if (sel.vocab() == null) {
          throw new ModelLoadException("--clip needs --vocab FILE: the CLIP BPE vocabulary (bpe_simple_vocab_16e6.txt.gz, "
              + "or a Hugging Face vocab.json with merges.txt beside it)");
        }
        ClipTokenizer tok = ModelFiles.tokenizer(sel.vocab());
        for (Path p : sel.clip()) {
          ModelFiles.OpenedClip c = ModelFiles.openClip(p, tok, sel.clipHeadDim(), options);
          res.add(c.weights());
          res.add(c.clip().encoder());
          prov.put("encoder" + clips.size(), Map.of("file", p.toString(), "config", c.clip().description(), "vocab", sel.vocab().toString()));
          clips.add(c.clip());
          LOG.info("CLIP {}", c.clip().description());
        }
      }
      return new Models(gen, clips, res, prov);
    } catch (RuntimeException e) {
      closeAll(res, e);
      throw e;
    }
  }

  /** The generator. */
  public VqganGenerator generator() {
    return generator;
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
