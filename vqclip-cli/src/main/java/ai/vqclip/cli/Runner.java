package ai.vqclip.cli;

import ai.vqclip.augment.StandardCutouts;
import ai.vqclip.cli.models.ClipModel;
import ai.vqclip.cli.models.ModelSource;
import ai.vqclip.cli.models.Models;
import ai.vqclip.core.backend.Device;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.image.Images;
import ai.vqclip.core.pipeline.Checkpoint;
import ai.vqclip.core.pipeline.GenerationRequest;
import ai.vqclip.core.pipeline.Pipeline;
import ai.vqclip.core.pipeline.Reranking;
import ai.vqclip.core.pipeline.RunManifest;
import ai.vqclip.core.pipeline.RunResult;
import ai.vqclip.core.StepListener;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs generate, edit and resume: opens the models, builds the request, runs the pipeline with a
 * progress bar and the stop signal, and writes the image (manifest and settings in its PNG text
 * chunks), the manifest file and the checkpoint.
 */
final class Runner {
  private static final Logger LOG = LoggerFactory.getLogger(Runner.class);

  /** Exit code of a run stopped by Ctrl-C (128 + SIGINT, as shells report it). */
  static final int EXIT_INTERRUPTED = 130;

  /** PNG text keyword holding the run manifest (JSON). */
  static final String MANIFEST_KEY = "vqclip";

  /** PNG text keyword holding the run settings (JSON). */
  static final String SETTINGS_KEY = "vqclip-settings";

  // PNG tEXt chunks are Latin-1: JSON is written with every non-ASCII character escaped.
  private static final ObjectMapper ASCII_JSON = JsonMapper.builder().enable(JsonWriteFeature.ESCAPE_NON_ASCII).build();

  private Runner() {}

  /** What the command's environment provides: output streams, the stop signal, extra listeners (tests). */
  record Context(PrintWriter out, PrintWriter err, boolean quiet, StopSignal stop, List<StepListener> listeners, ModelSource builtIn) {}

  /** The execution options of settings. */
  static ExecutionOptions options(RunSettings s) {
    ExecutionOptions o = RunOptions.device(s.device()) == Device.CUDA ? ExecutionOptions.cuda().withDeviceId(RunOptions.deviceId(s.device()))
        : ExecutionOptions.cpu();
    return o.withThreads(s.threads());
  }

  /**
   * The pipeline of a run: the models' generator and every CLIP, and the caption prior of {@code
   * builtIn} where the settings ask for it.
   *
   * @throws UsageException when they ask for a caption prior that {@code builtIn} does not have
   */
  static Pipeline pipeline(Models models, RunSettings s, ModelSource builtIn, ExecutionOptions options) {
    Pipeline.Builder pb = Pipeline.builder(models.generator(), new StandardCutouts()).options(options).memorySaving(s.memorySavingMode());
    for (ClipModel c : models.clips()) {
      pb.encoder(c.encoder());
    }
    if (s.captionPriorWeight() > 0) {
      ai.vqclip.core.Loss prior;
      try {
        prior = builtIn.captionPrior(s.captionPriorWeight());
      } catch (IllegalArgumentException e) {
        throw new UsageException("--caption-prior: " + e.getMessage(), e);
      }
      if (prior == null) {
        throw new UsageException("--caption-prior " + s.captionPriorWeight() + ": the " + builtIn.description() + " have no caption prior ("
            + ai.vqclip.demo.DemoModels.CAPTION_PRIOR_WEIGHTS + "); give --caption-prior 0");
      }
      pb.loss(prior);
    }
    return pb.build();
  }

  /**
   * Runs settings from their start ({@code resume == null}) or from a checkpoint.
   *
   * @return the exit code: 0, or {@link #EXIT_INTERRUPTED} when stopped by the signal
   */
  static int run(RunSettings settings, Checkpoint resume, Path editedImage, Context ctx) {
    InputFiles.requireWritable(Path.of(settings.output()), "--output");
    InputFiles.requireWritable(RunSettings.path(settings.manifest()), "--manifest");
    ExecutionOptions options = options(settings);
    try (Models models = Models.open(settings.models().selection(), ctx.builtIn(), options)) {
      RunSettings s = RequestFactory.resolveSize(settings, models, RunOptions.defaults(settings.models().selection(), ctx.builtIn().defaults()).size());
      // A resumed run takes its latent from the checkpoint, but an edit needs its source image.
      boolean readInit = resume == null || s.edit() != null
          || (s.initImage() != null && java.nio.file.Files.isRegularFile(Path.of(s.initImage())));
      GenerationRequest request = RequestFactory.build(s, models, readInit);
      Checkpoint from = resume;
      if (from != null) {
        // A checkpoint at the run's last iteration is resumed too: it is written before the final
        // image, so a crash between the two leaves it with a stale image, and resuming writes that
        // image (the same as the run's) without a step. Only a run past its end is an error.
        if (from.iteration() > s.iterations()) {
          throw new UsageException("the checkpoint is at iteration " + from.iteration() + ", past the end of a " + s.iterations()
              + "-iteration run; give --iterations N with N > " + from.iteration() + " to continue");
        }
        long[] shape = models.generator().latentShape(s.width(), s.height());
        if (!java.util.Arrays.equals(shape, from.latentShape())) {
          throw new UsageException("the checkpoint's latent " + java.util.Arrays.toString(from.latentShape()) + " does not fit the run's "
              + java.util.Arrays.toString(shape) + " (another model or size?)");
        }
        // The checkpoint was validated on its own when loaded; its optimizer state must also fit the run's optimizer.
        long stateSize = request.optimizer().start(from.latent().length).save().length;
        if (from.optimizerState().length != stateSize) {
          throw new UsageException("the checkpoint's optimizer state has " + from.optimizerState().length + " values; the run's "
              + (request.optimizer() instanceof ai.vqclip.core.optim.OptimizerConfig c ? c.kind().toString() : request.optimizer().name())
              + " optimizer for " + from.latent().length + " parameters needs " + stateSize);
        }
        if (editedImage != null) {
          from = EditedImages.continueFrom(from, editedImage, models.generator(), models.cannotEncode(), s.width(), s.height());
        }
      }
      Path output = Path.of(s.output());
      boolean checkpointing = s.saveEvery() > 0 || s.checkpoint();
      if (checkpointing) {
        s.save(OutputNames.settings(output));
      }
      Pipeline pipeline = pipeline(models, s, ctx.builtIn(), options);
      // A resumed run is one run: a checkpoint belongs to one candidate (its settings say which seed).
      int candidates = from == null ? s.candidateCount() : 1;
      Reranking.Scorer scorer = candidates > 1
          ? new Reranking.Scorer(models.clips().stream().map(ClipModel::encoder).toList(), Reranking.scoringText(request.prompts())) : null;
      LOG.info("{} {}x{}, {} iterations, seed {}{}", s.command(), s.width(), s.height(), s.iterations(), s.seed(),
          candidates > 1 ? ", best of " + candidates + " runs" : "");
      double[] lastLoss = {Double.NaN};
      RunResult result = null;
      double bestScore = Double.NEGATIVE_INFINITY;
      int chosen = 0;
      for (int k = 0; k < candidates; k++) {
        RunSettings ks = candidates > 1 ? s.candidate(k) : s;
        GenerationRequest kr = k == 0 ? request : RequestFactory.build(ks, models, true); // candidate 0 is the request itself
        double[] loss = {Double.NaN};
        RunResult r = runOnce(ks, kr, from, pipeline, models, output, checkpointing, loss,
            candidates > 1 ? String.format(Locale.ROOT, "%s %d/%d", s.command(), k + 1, candidates) : null, ctx);
        if (r == null) {
          return EXIT_INTERRUPTED; // this candidate's image and checkpoint are written under its own settings
        }
        double score = scorer == null ? 0 : scorer.score(r.image());
        if (result == null || score > bestScore) {
          result = r;
          bestScore = score;
          chosen = k;
          lastLoss[0] = loss[0];
        }
      }
      try (StopSignal.Handlers handlers = ctx.stop().install(ctx.err())) {
        // The settings written with the picture are the request's (its seed, N candidates): they draw it again.
        writeOutputsOrRescue(s, result, output, checkpointing);
      }
      if (candidates > 1) {
        LOG.info("kept candidate {} of {} (seed {}), CLIP score {}", chosen + 1, candidates, Reranking.candidateSeed(s.seed(), chosen),
            String.format(Locale.ROOT, "%.4f", bestScore));
      }
      if (!ctx.quiet()) {
        RunManifest m = result.manifest();
        String best = candidates > 1 ? String.format(Locale.ROOT, " (best of %d: candidate %d, seed %d)", candidates, chosen + 1, m.seed()) : "";
        ctx.out().printf(Locale.ROOT, "wrote %s: %dx%d, seed %d%s, %d iterations (%s), loss %.4f, %.1f s%n", output, m.width(), m.height(),
            s.seed(), best, m.iterationsRun(), m.stopReason(), lastLoss[0], m.elapsedMillis() / 1000.0);
        ctx.out().flush();
      }
      return 0;
    }
  }

  /**
   * One run of a picture, watched by {@code ctx}'s listeners, a progress bar ({@code label}, or the
   * command's) and the stop signal. On a stop the run's image and checkpoint are written under {@code
   * s} (so {@code resume} continues this run) and null is returned.
   *
   * @param loss receives the last step's loss
   * @return the result, or null when stopped
   */
  private static RunResult runOnce(RunSettings s, GenerationRequest request, Checkpoint from, Pipeline pipeline, Models models, Path output,
      boolean checkpointing, double[] loss, String label, Context ctx) {
    List<StepListener> listeners = new ArrayList<>(ctx.listeners());
    RunSettings fs = s;
    listeners.add(e -> {
      loss[0] = e.loss();
      if (e.image() != null) {
        // nerdyrodent's "checkin": the image so far, written over the output. A failed write
        // must not end the run: the final write, or its rescue, follows.
        try {
          writePng(e.image(), output, text(fs, null));
        } catch (UncheckedIOException x) {
          LOG.warn("cannot write the image so far: {}", x.getMessage());
        }
      }
      return !ctx.stop().requested();
    });
    RunResult result;
    Pipeline.CheckpointSettings ckpt = s.saveEvery() > 0 ? new Pipeline.CheckpointSettings(OutputNames.checkpoint(output), s.saveEvery())
        : Pipeline.CheckpointSettings.none();
    try (StopSignal.Handlers handlers = ctx.stop().install(ctx.err())) {
      ProgressListener bar = ctx.quiet() ? null
          : new ProgressListener(ctx.err(), from != null ? "resume" : label != null ? label : s.command(), from == null ? 0 : from.iteration(),
              s.iterations());
      try {
        if (bar != null) {
          listeners.add(0, bar);
        }
        result = withProvenance(pipeline.run(request, from, ckpt, listeners), models);
      } catch (UncheckedIOException e) {
        // A checkpoint could not be written (the disk filled): the one before it is intact.
        throw new UncheckedIOException(e.getMessage() + resumeHint(output), e.getCause());
      } finally {
        if (bar != null) {
          bar.close();
        }
      }
      if (ctx.stop().requested()) {
        writeOutputsOrRescue(s, result, output, true); // the checkpoint and these settings: resume continues this run
        Path c = OutputNames.checkpoint(output);
        ctx.err().printf(Locale.ROOT, "vqclip %s: stopped after iteration %d; wrote %s and %s; continue with: vqclip resume %s%n", s.command(),
            result.checkpoint().iteration(), output, c, c);
        ctx.err().flush();
        return null;
      }
    }
    return result;
  }

  /** The result with the manifest's model entries extended by where each model came from. */
  static RunResult withProvenance(RunResult r, Models models) {
    RunManifest m = r.manifest();
    Map<String, Map<String, String>> merged = new LinkedHashMap<>();
    m.models().forEach((k, v) -> {
      Map<String, String> e = new LinkedHashMap<>(v);
      e.putAll(models.provenance().getOrDefault(k, Map.of()));
      merged.put(k, e);
    });
    RunManifest n = new RunManifest(m.vqclipVersion(), m.runtime(), m.java(), m.os(), m.arch(), m.seed(), m.width(), m.height(), m.iterationsRun(),
        m.stopReason(), m.prompts(), m.request(), merged, m.elapsedMillis());
    return new RunResult(r.image(), r.latent(), r.checkpoint(), n);
  }

  /**
   * {@link #writeOutputs}; when that fails, the image, checkpoint and settings go to a fallback
   * folder ({@link OutputRescue}) and the error names them, so a finished run is never lost.
   */
  static void writeOutputsOrRescue(RunSettings s, RunResult result, Path output, boolean checkpoint) {
    try {
      writeOutputs(s, result, output, checkpoint);
    } catch (RuntimeException e) {
      Path png;
      try {
        png = OutputRescue.save(s, result, output, e);
      } catch (RuntimeException lost) {
        Throwable[] tried = lost.getSuppressed();
        throw new IllegalStateException("cannot write the outputs (" + message(e) + "), nor a copy in any of " + OutputRescue.fallbackFolders()
            + (tried.length == 0 ? "" : " (" + message(tried[tried.length - 1]) + ")") + resumeHint(output), e);
      }
      throw new IllegalStateException("cannot write the outputs (" + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage())
          + "); the image was saved to " + png + " with its checkpoint " + OutputNames.checkpoint(png) + " (continue with: vqclip resume "
          + OutputNames.checkpoint(png) + ")", e);
    }
  }

  private static String message(Throwable e) {
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }

  /**
   * What a failed write leaves to continue from: {@code "; its last checkpoint, FILE (iteration
   * N), is intact: ..."} when the run's checkpoint file is there and loads, else nothing.
   */
  static String resumeHint(Path output) {
    Path c = OutputNames.checkpoint(output);
    try {
      if (java.nio.file.Files.isRegularFile(c)) {
        return "; the run's last checkpoint, " + c + " (iteration " + Checkpoint.load(c).iteration()
            + "), is intact: once there is room, continue with: vqclip resume " + c;
      }
    } catch (RuntimeException e) {
      LOG.debug("no checkpoint to continue from: {}", e.getMessage());
    }
    return "";
  }

  /** Writes the image, the manifest file and (when asked) the checkpoint with its settings. */
  static void writeOutputs(RunSettings s, RunResult result, Path output, boolean checkpoint) {
    writePng(result.image(), output, text(s, result.manifest()));
    if (s.manifest() != null) {
      writeText(Path.of(s.manifest()), asciiJson(result.manifest().toJson()));
    }
    if (checkpoint) {
      Path c = OutputNames.checkpoint(output);
      result.checkpoint().save(c);
      s.save(OutputNames.settings(output));
    }
  }

  /** Writes a PNG (atomically, with text chunks, readable by everyone). */
  static void writePng(ai.vqclip.core.Tensor image, Path file, Map<String, String> text) {
    Images.writePng(image, file, text);
  }

  /** The PNG text chunks: manifest and settings as ASCII JSON, the prompts as a comment (as generate.py does). */
  static Map<String, String> text(RunSettings s, RunManifest manifest) {
    Map<String, String> t = new LinkedHashMap<>();
    if (manifest != null) {
      t.put(MANIFEST_KEY, asciiJson(manifest.toJson()));
    }
    t.put(SETTINGS_KEY, asciiJson(s.toJson()));
    t.put("comment", latin1(s.prompts()));
    t.put("Software", "vqclip " + Pipeline.VERSION);
    return t;
  }

  /** {@code json} as ASCII, with the user's absolute paths replaced by file names and digests ({@link PublicPaths}). */
  static String asciiJson(String json) {
    try {
      return ASCII_JSON.writerWithDefaultPrettyPrinter().writeValueAsString(PublicPaths.redact(ASCII_JSON.readTree(json)));
    } catch (IOException e) {
      throw new IllegalStateException("not JSON: " + e.getMessage(), e);
    }
  }

  /** Characters outside Latin-1 as {@code \\uXXXX}. */
  static String latin1(String s) {
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 256) {
        b.append(c);
      } else {
        b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
      }
    }
    return b.toString();
  }

  static void writeText(Path file, String text) {
    try {
      Path abs = file.toAbsolutePath();
      java.nio.file.Files.createDirectories(abs.getParent());
      java.nio.file.Files.writeString(abs, text, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }
}
