package ai.vqclip.cli;

import ai.vqclip.cli.models.ModelSelection;
import ai.vqclip.cli.models.OnnxModels;
import ai.vqclip.core.pipeline.Pipeline;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;

/**
 * Everything a generate, edit or resume run was asked for, with file paths made absolute: written
 * beside the checkpoint as {@code NAME.run.json} so {@code vqclip resume} can rebuild the run, and
 * into the PNG's metadata.
 *
 * @param format the settings format version
 * @param command the subcommand that started the run
 * @param prompts the text prompts ({@code text:weight:stop}, {@code |} between prompts, {@code ^} between sets)
 * @param changePromptsEvery iterations per prompt set (story mode)
 * @param width image width
 * @param height image height
 * @param iterations optimizer steps
 * @param seed the run's seed
 * @param cutouts cutouts per step
 * @param cutPow crop-size exponent
 * @param augments augmentation codes
 * @param optimizer optimizer name
 * @param lr learning rate
 * @param imagePrompts image prompts ({@code path:weight:stop})
 * @param noisePrompts noise prompts ({@code seed:weight})
 * @param initImage the init image, or null
 * @param initNoise {@code pixels}, {@code gradient}, or null
 * @param initWeight latent regularization weight
 * @param initDecay regularization decay ({@code constant}, {@code harmonic}, {@code linear:EVERY:STEPS})
 * @param initTarget regularization target ({@code zero} or {@code init})
 * @param mask the edit mask, or null
 * @param saveEvery write the image and a checkpoint every N iterations (0: at the end only)
 * @param checkpoint write a checkpoint at the end
 * @param output the output PNG
 * @param manifest the manifest JSON file, or null
 * @param models the model files
 * @param device {@code cpu} or {@code cuda}
 * @param threads ONNX Runtime intra-op threads (0: its default)
 * @param edit a text-directed edit ({@code edit --from --to}), or null
 * @param imagePromptsLockstep re-cut image prompts with each step's cutouts
 * @param memorySaving {@code auto}, {@code on} or {@code off}: recompute the decoder's finest
 *     levels in the backward pass ({@link Pipeline.MemorySaving}); null
 *     (settings written before the option existed) means auto
 * @param frame weight of the plain-frame prior ({@code --frame-weight}); null (settings written before the
 *     option existed) means 0
 * @param captionPrior weight of the models' caption prior ({@code --caption-prior}); null (settings
 *     written before the option existed) means 0
 * @param candidates runs per picture, the CLIPs' favourite kept ({@code --candidates}, {@link
 *     ai.vqclip.core.pipeline.Reranking}); null (settings written before the option existed) means 1
 * @param sketch the pull towards the models' caption sketch, which the run starts from ({@code
 *     --sketch}); null (settings written before the option existed) or 0 means no sketch
 */
record RunSettings(
    int format,
    String command,
    String prompts,
    int changePromptsEvery,
    int width,
    int height,
    int iterations,
    long seed,
    int cutouts,
    double cutPow,
    List<String> augments,
    String optimizer,
    double lr,
    List<String> imagePrompts,
    List<String> noisePrompts,
    String initImage,
    String initNoise,
    double initWeight,
    String initDecay,
    String initTarget,
    String mask,
    int saveEvery,
    boolean checkpoint,
    String output,
    String manifest,
    ModelFiles models,
    String device,
    int threads,
    Edit edit,
    boolean imagePromptsLockstep,
    String memorySaving,
    Double frame,
    Double captionPrior,
    Integer candidates,
    Double sketch) {

  /** The current format version. */
  static final int FORMAT = 1;

  /** Largest settings file read. */
  static final long MAX_BYTES = 1 << 20;

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  RunSettings {
    augments = augments == null ? List.of() : List.copyOf(augments);
    imagePrompts = imagePrompts == null ? List.of() : List.copyOf(imagePrompts);
    noisePrompts = noisePrompts == null ? List.of() : List.copyOf(noisePrompts);
  }

  /**
   * A text-directed edit.
   *
   * @param from what to change
   * @param to what it should become
   * @param scale weight of the direction term
   * @param contentWeight weight of the content-preservation term
   * @param maskSamples crops scored for the CLIP self-mask
   */
  record Edit(String from, String to, double scale, double contentWeight, int maskSamples) {
    /** The pipeline's edit (validated there). */
    ai.vqclip.core.pipeline.EditDirection direction() {
      return new ai.vqclip.core.pipeline.EditDirection(from, to, scale, contentWeight, maskSamples);
    }
  }

  /**
   * The model files (absolute paths; null or empty for the built-in models).
   *
   * @param vqgan VQGAN weights
   * @param vqganConfig taming model.yaml
   * @param clip CLIP weights
   * @param vocab CLIP vocabulary
   * @param vqganGroups GroupNorm groups
   * @param clipHeadDim CLIP head width
   * @param demoModels the folder of demo models standing in for the bundled ones ({@code
   *     --demo-models}); absent in settings written before that option
   * @param onnx the ONNX graphs ({@code --generator-onnx}, {@code --encoder-onnx}, ...); absent
   *     (null) when none is used or in settings written before those options
   * @param moreVocabs the vocabularies of the second and later CLIP files when each has its own
   *     ({@code --vocab} repeated); empty (or absent, in settings written before) when one serves all
   */
  record ModelFiles(String vqgan, String vqganConfig, List<String> clip, String vocab, Integer vqganGroups, Integer clipHeadDim,
      String demoModels, OnnxFiles onnx, List<String> moreVocabs) {
    ModelFiles {
      clip = clip == null ? List.of() : List.copyOf(clip);
      moreVocabs = moreVocabs == null ? List.of() : List.copyOf(moreVocabs);
    }

    static ModelFiles of(ModelSelection s) {
      return new ModelFiles(str(s.vqgan()), str(s.vqganConfig()), s.clip().stream().map(Path::toString).toList(), str(s.vocab()),
          s.vqganGroups(), s.clipHeadDim(), str(s.demoModels()), OnnxFiles.of(s.onnx()), s.moreVocabs().stream().map(Path::toString).toList());
    }

    ModelSelection selection() {
      return new ModelSelection(path(vqgan), path(vqganConfig), clip.stream().map(Path::of).toList(), path(vocab), vqganGroups, clipHeadDim,
          path(demoModels), onnx == null ? null : onnx.models(), moreVocabs.stream().map(Path::of).toList());
    }
  }

  /** {@link OnnxModels} as stored (paths as strings). */
  record OnnxFiles(String generator, String generatorEncoder, String generatorRange, String encoder, String encoderText, String textEmbeddings,
      Integer encoderResolution, String encoderNormalization, String latentInit, Double latentScale, Double latentMin, Double latentMax) {
    static OnnxFiles of(OnnxModels m) {
      return m == null ? null : new OnnxFiles(str(m.generator()), str(m.generatorEncoder()), m.generatorRange(), str(m.encoder()),
          str(m.encoderText()), str(m.textEmbeddings()), m.encoderResolution(), m.encoderNormalization(), m.latentInit(), m.latentScale(),
          m.latentMin(), m.latentMax());
    }

    OnnxModels models() {
      return new OnnxModels(path(generator), path(generatorEncoder), generatorRange, path(encoder), path(encoderText), path(textEmbeddings),
          encoderResolution, encoderNormalization, latentInit, latentScale, latentMin, latentMax);
    }
  }

  static String str(Path p) {
    return p == null ? null : p.toString();
  }

  static Path path(String s) {
    return s == null ? null : Path.of(s);
  }

  /** The settings as JSON. */
  String toJson() {
    try {
      return JSON.writeValueAsString(this);
    } catch (IOException e) {
      throw new IllegalStateException("settings cannot be written as JSON", e);
    }
  }

  /** Writes the settings atomically. */
  void save(Path file) {
    Path abs = file.toAbsolutePath();
    try {
      java.nio.file.Files.createDirectories(abs.getParent());
      Path tmp = java.nio.file.Files.createTempFile(abs.getParent(), abs.getFileName().toString(), ".tmp");
      try {
        java.nio.file.Files.writeString(tmp, toJson(), StandardCharsets.UTF_8);
        ai.vqclip.core.FaultPoints.reach("settings.written");
        java.nio.file.Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        ai.vqclip.core.image.Images.makeReadable(abs);
      } finally {
        java.nio.file.Files.deleteIfExists(tmp);
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * Reads settings written by {@link #save}.
   *
   * @throws UsageException when the file is missing, too big or not vqclip run settings
   */
  static RunSettings load(Path file) {
    InputFiles.requireReadable(file, "run settings");
    try {
      long size = java.nio.file.Files.size(file);
      if (size > MAX_BYTES) {
        throw new UsageException(file + " is " + size + " bytes; run settings are a few kB (at most " + MAX_BYTES + " are read)");
      }
      RunSettings s = JSON.readValue(file.toFile(), RunSettings.class);
      if (s == null || s.format() != FORMAT || s.prompts() == null || s.models() == null || s.output() == null) {
        throw new UsageException(file + " is not vqclip run settings (format " + FORMAT + ")");
      }
      return s;
    } catch (IOException e) {
      throw new UsageException("cannot read run settings " + file + ": " + e.getMessage().lines().findFirst().orElse(""), e);
    }
  }

  /** The pipeline's memory mode ({@code auto} when the settings predate the option). */
  Pipeline.MemorySaving memorySavingMode() {
    if (memorySaving == null) {
      return Pipeline.MemorySaving.AUTO;
    }
    try {
      return Pipeline.MemorySaving.valueOf(memorySaving.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new UsageException("run settings: memorySaving must be auto, on, max or off, got '" + memorySaving + "'", e);
    }
  }

  /** A copy with another size. */
  RunSettings withSize(int w, int h) {
    return new RunSettings(format, command, prompts, changePromptsEvery, w, h, iterations, seed, cutouts, cutPow, augments, optimizer, lr,
        imagePrompts, noisePrompts, initImage, initNoise, initWeight, initDecay, initTarget, mask, saveEvery, checkpoint, output, manifest,
        models, device, threads, edit, imagePromptsLockstep, memorySaving, frame, captionPrior, candidates, sketch);
  }

  /** The plain-frame weight (0 for settings written before {@code --frame-weight}). */
  double frameWeight() {
    return frame == null ? 0 : frame;
  }

  /** The caption prior's weight (0 for settings written before {@code --caption-prior}). */
  double captionPriorWeight() {
    return captionPrior == null ? 0 : captionPrior;
  }

  /** The pull towards the caption sketch (0: no sketch start; also for settings written before {@code --sketch}). */
  double sketchWeight() {
    return sketch == null ? 0 : sketch;
  }

  /** Runs per picture (1 for settings written before {@code --candidates}). */
  int candidateCount() {
    return candidates == null ? 1 : candidates;
  }

  /**
   * One candidate of a best-of-several run on its own: its seed, one run. A stopped candidate's
   * checkpoint is saved with these settings, so {@code resume} continues that candidate.
   */
  RunSettings candidate(int k) {
    return new RunSettings(format, command, prompts, changePromptsEvery, width, height, iterations,
        ai.vqclip.core.pipeline.Reranking.candidateSeed(seed, k), cutouts, cutPow, augments, optimizer, lr, imagePrompts, noisePrompts,
        initImage, initNoise, initWeight, initDecay, initTarget, mask, saveEvery, checkpoint, output, manifest, models, device, threads, edit,
        imagePromptsLockstep, memorySaving, frame, captionPrior, 1, sketch);
  }

  /** A copy with another seed and output (one run of a batch). */
  RunSettings withSeedAndOutput(long newSeed, String newOutput) {
    return new RunSettings(format, command, prompts, changePromptsEvery, width, height, iterations, newSeed, cutouts, cutPow, augments,
        optimizer, lr, imagePrompts, noisePrompts, initImage, initNoise, initWeight, initDecay, initTarget, mask, saveEvery, checkpoint,
        newOutput, manifest, models, device, threads, edit, imagePromptsLockstep, memorySaving, frame, captionPrior, candidates, sketch);
  }

  /** A copy with other values for what resume may change. */
  RunSettings withRun(int newIterations, String newOutput, String newManifest, String newDevice, int newThreads) {
    return new RunSettings(format, command, prompts, changePromptsEvery, width, height, newIterations, seed, cutouts, cutPow, augments, optimizer,
        lr, imagePrompts, noisePrompts, initImage, initNoise, initWeight, initDecay, initTarget, mask, saveEvery, checkpoint, newOutput,
        newManifest, models, newDevice, newThreads, edit, imagePromptsLockstep, memorySaving, frame, captionPrior, candidates, sketch);
  }
}
