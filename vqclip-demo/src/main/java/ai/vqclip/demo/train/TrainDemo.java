package ai.vqclip.demo.train;

import ai.vqclip.core.Tensor;
import ai.vqclip.demo.DemoModels;
import ai.vqclip.demo.text.BpeLearner;
import ai.vqclip.onnx.clip.ClipConfig;
import ai.vqclip.onnx.vqgan.VqganConfig;
import ai.vqclip.onnx.weights.SafetensorsWriter;
import ai.vqclip.onnx.weights.StateDict;
import ai.vqclip.onnx.weights.WeightFiles;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Trains the bundled demo models from their committed seeds and writes them where {@link
 * ai.vqclip.demo.DemoModels} reads them: {@code vqclip-demo/src/main/resources/ai/vqclip/demo/models}
 * by default. Usage: {@code TrainDemo [vqgan|clip|clip1|...|clipN|clipb|all|configs|metadata] [output-dir]}:
 * {@code clip} runs the CLIP's five bundled stages and the second CLIP ({@code clipb}), {@code clipN} stage N alone (from the files of stage N-1
 * in the folder). The CLI's {@code train-demo} command calls {@link #train}.
 */
public final class TrainDemo {
  private TrainDemo() {}

  /** Steps of the deep caption prior ({@code -Dvqclip.demo.priorSteps=N} changes them for experiments). */
  static final int DEEP_PRIOR_STEPS = 4000;

  /** Default output folder, relative to the repository root. */
  public static final Path DEFAULT_DIR = Path.of("vqclip-demo/src/main/resources/ai/vqclip/demo/models");

  /** Trains {@code which} (see {@link #train(String, Path, Consumer)}) into {@code dir}, printing progress. */
  public static void train(String which, Path dir) {
    train(which, dir, System.out::println);
  }

  /**
   * Trains a caption prior stage conditioned on the first CLIP of the demo models in {@code dir}
   * (the bundled ones where {@code dir} lacks a model file) and writes its weights and manifest there.
   */
  private static void captionPrior(Path dir, Consumer<String> progress, CaptionPriorTraining run, java.util.Map<String, ai.vqclip.core.Tensor> from,
      String manifest) {
    CaptionPriorTraining.Result r;
    try (DemoModels.Bundle m = modelsOf(dir); ai.vqclip.onnx.clip.ClipEncoder clip = m.clips().get(0).open(ai.vqclip.core.backend.ExecutionOptions.cpu())) {
      r = run.run(clip, from, progress);
    }
    write(dir.resolve(DemoModels.CAPTION_PRIOR_WEIGHTS), r.weights(), DemoModels.vqganMetadata(run.model()));
    r.manifest().write(dir.resolve(manifest));
    progress.accept("caption prior done: " + r.manifest().metrics() + " in " + Math.round(r.manifest().seconds()) + " s");
  }

  /** The demo models in {@code dir} where it holds all of {@link DemoModels#FILES}, else the bundled ones. */
  private static DemoModels.Bundle modelsOf(Path dir) {
    boolean own = DemoModels.FILES.stream().allMatch(f -> java.nio.file.Files.isRegularFile(dir.resolve(f)));
    return own ? DemoModels.load(dir) : DemoModels.load();
  }

  /** Trains the caption sketcher on the first CLIP of the bundle in {@code dir} (or the bundled one) and writes it beside it. */
  private static void sketch(Path dir, Consumer<String> progress, SketchTraining run) {
    SketchTraining.Result r;
    try (DemoModels.Bundle m = modelsOf(dir); ai.vqclip.onnx.clip.ClipEncoder clip = m.clips().get(0).open(ai.vqclip.core.backend.ExecutionOptions.cpu())) {
      r = run.run(clip, progress);
    }
    write(dir.resolve(DemoModels.SKETCH_WEIGHTS), r.weights(), java.util.Map.of("format", "vqclip-caption-sketch"));
    r.manifest().write(dir.resolve("sketch-training.json"));
    progress.accept("caption sketcher done: " + r.manifest().metrics() + " in " + Math.round(r.manifest().seconds()) + " s");
  }

  /**
   * Trains {@code which} into {@code dir}. The bundled models: "vqgan"; "clip" (the bundled CLIP,
   * {@link #bundledClip}: {@link ClipTraining#demoSecond()} then {@link ClipTraining#demoSecondStage2()},
   * from random weights, generating nothing); "sketch" (the caption sketcher, {@link
   * SketchTraining#demo()}, reading the first CLIP of {@code dir}'s models or the bundled one; {@code
   * -Dvqclip.demo.sketchSteps=N} changes its step count); "all" trains the three in that order (46
   * minutes on 2 cores, measured in round 13 of issue 15). "configs" writes the configs only, "metadata" rewrites the weight files'
   * metadata.
   *
   * <p>Experiments, not bundled (docs/demo-models.md): "clip1" to "clip7" (round 6's staged CLIP, one
   * stage each, from the previous stage's files in {@code dir}; "clip-staged" runs stages 1 to 5, the
   * CLIP bundled until round 12); "clipb" (the same recipe as "clip" written as a second CLIP beside the
   * first, {@link #secondClip}); "margin-rounds" and "self-negatives" (from the sixth stage's files);
   * "restorer" ({@link RestorerTraining#demo()}); "caption-prior", "caption-prior2" and
   * "caption-prior-deep" (conditioned on the first CLIP of the bundled models). {@code progress} gets
   * the progress lines (the CLI passes its own output writer).
   */
  public static void train(String which, Path dir, Consumer<String> progress) {
    List<String> known = new java.util.ArrayList<>(List.of("vqgan", "clip", "sketch", "all", "clip-staged"));
    for (int n = 1; n <= CLIP_STAGES; n++) {
      known.add("clip" + n);
    }
    known.addAll(List.of("clipb", "restorer", "caption-prior", "caption-prior2", "caption-prior-deep", "configs", "metadata", "margin-rounds",
        "self-negatives"));
    if (!known.contains(which)) {
      throw new IllegalArgumentException("model must be one of " + String.join(", ", known) + ", got '" + which + "'");
    }
    if (which.equals("metadata")) {
      // The weight files in dir rewritten with today's metadata, tensors unchanged (files written
      // before the metadata keys existed).
      VqganConfig v = DemoModels.readJson(dir.resolve(DemoModels.VQGAN_CONFIG), VqganConfig.class);
      ClipConfig c = DemoModels.readJson(dir.resolve(DemoModels.CLIP_CONFIG), ClipConfig.class);
      rewrite(dir.resolve(DemoModels.VQGAN_WEIGHTS), DemoModels.vqganMetadata(v));
      rewrite(dir.resolve(DemoModels.CLIP_WEIGHTS), DemoModels.clipMetadata(c));
      if (java.nio.file.Files.isRegularFile(dir.resolve(DemoModels.SECOND_CLIP_WEIGHTS))) {
        ClipConfig b = DemoModels.readJson(dir.resolve(DemoModels.SECOND_CLIP_CONFIG), ClipConfig.class);
        rewrite(dir.resolve(DemoModels.SECOND_CLIP_WEIGHTS), DemoModels.clipMetadata(b));
      }
      return;
    }
    if (which.equals("configs")) {
      // The configs alone (no training): the CLIP's vocabulary size comes from the learned merges.
      DemoModels.writeJson(dir.resolve(DemoModels.VQGAN_CONFIG), VqganTraining.demo().model());
      ClipTraining c = ClipTraining.demoSecond();
      DemoModels.writeJson(dir.resolve(DemoModels.CLIP_CONFIG), c.config(BpeLearner.vocabulary(c.learnMerges()).size()));
      return;
    }
    if (which.equals("vqgan") || which.equals("all")) {
      VqganTraining run = VqganTraining.demo();
      VqganTraining.Result r = run.run(progress);
      write(dir.resolve(DemoModels.VQGAN_WEIGHTS), r.weights(), DemoModels.vqganMetadata(run.model()));
      r.manifest().write(dir.resolve("vqgan-training.json"));
      DemoModels.writeJson(dir.resolve(DemoModels.VQGAN_CONFIG), run.model());
      progress.accept("vqgan done: " + r.manifest().metrics() + " in " + Math.round(r.manifest().seconds()) + " s");
    }
    if (which.equals("clip") || which.equals("all")) {
      bundledClip(dir, progress);
    }
    boolean everyClipStage = which.equals("clip-staged");
    if (everyClipStage || which.equals("clip1")) {
      clipFromScratch(dir, progress, ClipTraining.demo(), "clip");
    }
    if (everyClipStage || which.equals("clip2")) {
      laterStage(dir, progress, 2, ClipTraining.demoStage2());
    }
    if (everyClipStage || which.equals("clip3")) {
      laterStage(dir, progress, 3, ClipTraining.demoStage3());
    }
    if (everyClipStage || which.equals("clip4")) {
      laterStage(dir, progress, 4, ClipTraining.demoStage4(), 0);
    }
    if (everyClipStage || which.equals("clip5")) {
      laterStage(dir, progress, 5, ClipTraining.demoStage5());
    }
    if (which.equals("clipb")) {
      secondClip(dir, progress);
    }
    if (which.equals("restorer")) { // an experiment: not bundled, not part of "all" (docs/demo-models.md, round 7)
      RestorerTraining run = RestorerTraining.demo();
      RestorerTraining.Result r = run.run(progress);
      write(dir.resolve(DemoModels.RESTORER_WEIGHTS), r.weights(), DemoModels.vqganMetadata(run.model()));
      r.manifest().write(dir.resolve("restorer-training.json"));
      progress.accept("restorer done: " + r.manifest().metrics() + " in " + Math.round(r.manifest().seconds()) + " s");
    }
    if (which.equals("caption-prior")) { // conditioned on the first CLIP's text embeddings
      captionPrior(dir, progress, CaptionPriorTraining.demo(), null, "caption-prior-training.json");
    }
    if (which.equals("caption-prior-deep")) { // the deep architecture from random weights (issue 15, round 11)
      captionPrior(dir, progress, CaptionPriorTraining.deep(Integer.getInteger("vqclip.demo.priorSteps", DEEP_PRIOR_STEPS)), null,
          "caption-prior-training.json");
    }
    if (which.equals("sketch") || which.equals("all")) { // reads the first CLIP's text embeddings
      SketchTraining d = SketchTraining.demo();
      sketch(dir, progress, new SketchTraining(d.width(), d.size(), d.batch(), Integer.getInteger("vqclip.demo.sketchSteps", d.steps()),
          d.learningRate(), d.seed(), d.logEvery()));
    }
    if (which.equals("caption-prior2")) { // from the first stage's weights in dir, with the latent conditioning
      java.nio.file.Path first = dir.resolve(DemoModels.CAPTION_PRIOR_WEIGHTS);
      if (!java.nio.file.Files.isRegularFile(first)) {
        throw new IllegalArgumentException("caption-prior2 starts from " + first + ", which does not exist; train caption-prior first");
      }
      CaptionPriorTraining run = CaptionPriorTraining.demoStage2();
      captionPrior(dir, progress, run, CaptionPriorTraining.withLatentConditioning(RestorerTraining.readWeights(first), run.model()),
          "caption-prior-stage2-training.json");
    }
    // Stages 6 and 7 are experiments (not bundled, not part of "clip" or "all"): docs/demo-models.md.
    if (which.equals("clip6")) {
      laterStage(dir, progress, 6, ClipTraining.demoStage6(), 0);
    }
    if (which.equals("clip7")) {
      laterStage(dir, progress, 7, ClipTraining.demoStage7(), 0);
    }
    // Experiments from the sixth stage's files (not bundled, not part of "clip" or "all"; docs/demo-models.md).
    if (which.equals("margin-rounds")) {
      for (int r = 0; r < ClipTraining.MARGIN_ROUNDS; r++) {
        laterStage(dir, progress, 7 + r, ClipTraining.demoMarginRound(r));
      }
    }
    if (which.equals("self-negatives")) {
      laterStage(dir, progress, 7, ClipTraining.demoSelfNegatives(), 0);
    }
  }

  /** Trains {@code run} from random weights and writes the CLIP's weights, config and manifest into {@code dir}. */
  private static void clipFromScratch(Path dir, Consumer<String> progress, ClipTraining run, String what) {
    ClipTraining.Result r = run.run(dir, progress);
    write(dir.resolve(DemoModels.CLIP_WEIGHTS), r.weights(), DemoModels.clipMetadata(r.config()));
    r.manifest().write(dir.resolve("clip-training.json"));
    DemoModels.writeJson(dir.resolve(DemoModels.CLIP_CONFIG), r.config());
    progress.accept(what + " done: " + r.manifest().metrics() + " in " + Math.round(r.manifest().seconds()) + " s");
  }

  /**
   * The bundled CLIP: {@link ClipTraining#demoSecond()} from random weights, then {@link
   * ClipTraining#demoSecondStage2()} from its weights, written into {@code dir} as {@link
   * DemoModels#CLIP_WEIGHTS}, {@link DemoModels#CLIP_CONFIG} and {@link ClipTraining#MERGES_FILE}
   * (manifests {@code clip-stage1-training.json} and {@code clip-training.json}). Neither phase
   * generates, so it needs no VQGAN. Until round 12 this recipe was the second CLIP of a two-CLIP
   * ensemble ({@link #secondClip}); with the caption sketcher deciding the layout, the staged first
   * CLIP added nothing measurable and cost 45 minutes of retraining (docs/demo-models.md, round 13).
   */
  static void bundledClip(Path dir, Consumer<String> progress) {
    clipFromScratch(dir, progress, ClipTraining.demoSecond(), "clip, phase 1");
    laterStage(dir, progress, 2, ClipTraining.demoSecondStage2(), 0);
    try {
      java.nio.file.Files.deleteIfExists(dir.resolve("clip-stage1.safetensors")); // phase 1's weights: its manifest is kept
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot remove phase 1's weights from " + dir, e);
    }
  }

  /**
   * A second CLIP for an ensemble (an experiment since round 13): the bundled CLIP's recipe ({@link
   * #bundledClip}), trained in a working folder inside {@code dir} and written
   * beside the first as {@link DemoModels#SECOND_CLIP_WEIGHTS}, {@link DemoModels#SECOND_CLIP_CONFIG}
   * and {@link DemoModels#SECOND_MERGES_FILE} (manifests {@code clip-b-training.json} and {@code
   * clip-b-stage1-training.json}). It generates nothing, so it needs no VQGAN.
   */
  static void secondClip(Path dir, Consumer<String> progress) {
    Path work = dir.resolve("clip-b-work");
    try {
      java.nio.file.Files.createDirectories(work);
      bundledClip(work, progress); // the same recipe, moved to the second CLIP's names below
      java.nio.file.StandardCopyOption replace = java.nio.file.StandardCopyOption.REPLACE_EXISTING;
      java.nio.file.Files.move(work.resolve(DemoModels.CLIP_WEIGHTS), dir.resolve(DemoModels.SECOND_CLIP_WEIGHTS), replace);
      java.nio.file.Files.move(work.resolve(DemoModels.CLIP_CONFIG), dir.resolve(DemoModels.SECOND_CLIP_CONFIG), replace);
      java.nio.file.Files.move(work.resolve(ClipTraining.MERGES_FILE), dir.resolve(DemoModels.SECOND_MERGES_FILE), replace);
      java.nio.file.Files.move(work.resolve("clip-training.json"), dir.resolve("clip-b-training.json"), replace);
      java.nio.file.Files.move(work.resolve("clip-stage1-training.json"), dir.resolve("clip-b-stage1-training.json"), replace);
      try (java.util.stream.Stream<Path> left = java.nio.file.Files.list(work)) {
        for (Path p : left.toList()) {
          java.nio.file.Files.delete(p);
        }
      }
      java.nio.file.Files.delete(work);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot write the second CLIP into " + dir, e);
    }
  }

  /** The CLIP's stages: {@code clip1} to {@code clip7} ("clip" runs the first five, the bundled ones). */
  public static final int CLIP_STAGES = 7;

  /**
   * A later CLIP stage (2 on): pictures generated with the VQGAN and the previous stage's CLIP in
   * {@code dir} become negatives ({@link GeneratedNegatives}), and training continues from the
   * previous stage's weights with {@code run}'s settings. The previous stage's files are kept beside
   * as {@code clip-stage<N-1>.*}.
   */
  static void laterStage(Path dir, Consumer<String> progress, int stage, ClipTraining run) {
    laterStage(dir, progress, stage, run, ClipTraining.STAGE2_NEGATIVES);
  }

  /**
   * A later CLIP stage with {@code generated} generated negatives (0: none, and nothing is
   * generated: the stage trains on drawn pictures and its own negative views only).
   */
  static void laterStage(Path dir, Consumer<String> progress, int stage, ClipTraining run, int generated) {
    Map<String, Tensor> weights = new java.util.LinkedHashMap<>();
    try (StateDict sd = WeightFiles.open(dir.resolve(DemoModels.CLIP_WEIGHTS))) {
      // Copies on the heap: the file is replaced below while these weights are still in use.
      sd.keys().forEach(k -> {
        Tensor t = sd.tensor(k);
        weights.put(k, Tensor.ofFloats(t.shape(), t.toFloats()));
      });
    }
    String merges;
    try (java.io.InputStream in = new java.util.zip.GZIPInputStream(java.nio.file.Files.newInputStream(dir.resolve(ClipTraining.MERGES_FILE)))) {
      merges = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      java.nio.file.Files.copy(dir.resolve(DemoModels.CLIP_WEIGHTS), dir.resolve("clip-stage" + (stage - 1) + ".safetensors"),
          java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      java.nio.file.Files.copy(dir.resolve("clip-training.json"), dir.resolve("clip-stage" + (stage - 1) + "-training.json"),
          java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot read stage " + (stage - 1) + " in " + dir, e);
    }
    List<java.awt.image.BufferedImage> negatives;
    String cache = System.getProperty(NEGATIVES_CACHE);
    negatives = generated == 0 ? List.of() : cache == null ? null : readNegatives(Path.of(cache), generated);
    if (negatives == null) {
      try (DemoModels.Bundle m = DemoModels.load(withVqgan(dir))) {
        negatives = GeneratedNegatives.generate(m, generated, run.seed(), ClipTraining.STAGE2_GENERATION, progress);
      }
      if (cache != null) {
        writeNegatives(Path.of(cache), negatives);
      }
    } else if (generated > 0) {
      progress.accept("negatives: " + negatives.size() + " read from " + cache);
    }
    ClipTraining.Result r = run.run(dir, progress, new ClipTraining.Start(weights, merges, negatives));
    write(dir.resolve(DemoModels.CLIP_WEIGHTS), r.weights(), DemoModels.clipMetadata(r.config()));
    r.manifest().write(dir.resolve("clip-training.json"));
    progress.accept("clip stage " + stage + " done: " + r.manifest().metrics() + " in " + Math.round(r.manifest().seconds()) + " s");
  }

  /**
   * System property naming a folder where a later stage's generated negatives are saved (8-bit PNGs,
   * as generated) and read back by the next run with the same models: for experiments with a
   * stage's settings, which would otherwise regenerate the same pictures every time.
   */
  public static final String NEGATIVES_CACHE = "vqclip.demo.negatives";

  private static List<java.awt.image.BufferedImage> readNegatives(Path folder, int count) {
    List<java.awt.image.BufferedImage> out = new java.util.ArrayList<>();
    for (int i = 0; i < count; i++) {
      Path f = folder.resolve(String.format("neg-%04d.png", i));
      if (!java.nio.file.Files.isRegularFile(f)) {
        return null;
      }
      try {
        out.add(javax.imageio.ImageIO.read(f.toFile()));
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException("cannot read " + f, e);
      }
    }
    return out;
  }

  private static void writeNegatives(Path folder, List<java.awt.image.BufferedImage> images) {
    try {
      java.nio.file.Files.createDirectories(folder);
      for (int i = 0; i < images.size(); i++) {
        javax.imageio.ImageIO.write(images.get(i), "png", folder.resolve(String.format("neg-%04d.png", i)).toFile());
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot write the negatives to " + folder, e);
    }
  }

  /**
   * {@code dir} itself when it holds a VQGAN; otherwise (training the CLIP alone) a temporary folder
   * with the bundled VQGAN and {@code dir}'s CLIP files, so that the later stages generate with the
   * bundled VQGAN and {@code dir} keeps only what was asked for.
   */
  private static Path withVqgan(Path dir) {
    if (java.nio.file.Files.isRegularFile(dir.resolve(DemoModels.VQGAN_WEIGHTS))
        && java.nio.file.Files.isRegularFile(dir.resolve(DemoModels.VQGAN_CONFIG))) {
      return dir;
    }
    try {
      Path tmp = java.nio.file.Files.createTempDirectory("vqclip-demo-stage");
      for (Path p : DemoModels.copyBundled(tmp)) {
        p.toFile().deleteOnExit();
      }
      tmp.toFile().deleteOnExit();
      for (String f : List.of(DemoModels.CLIP_WEIGHTS, DemoModels.CLIP_CONFIG, ClipTraining.MERGES_FILE)) {
        java.nio.file.Files.copy(dir.resolve(f), tmp.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
      return tmp;
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot assemble the models for generating negatives", e);
    }
  }

  private static void rewrite(Path file, Map<String, String> meta) {
    Map<String, Tensor> tensors = new java.util.LinkedHashMap<>();
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try (StateDict sd = WeightFiles.open(file)) {
      for (String k : sd.keys()) {
        tensors.put(k, sd.tensor(k));
      }
      // The tensors are views of the file's mapping: write a new file beside it while the mapping
      // is open, then put it in place (writing over the mapped file would corrupt what it reads).
      write(tmp, tensors, meta);
    }
    try {
      java.nio.file.Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot replace " + file, e);
    }
  }

  static void write(Path file, Map<String, Tensor> weights, Map<String, String> meta) {
    SafetensorsWriter.write(file, weights, meta);
  }

  /** Entry point: {@code [vqgan|clip|all] [output-dir]}. */
  public static void main(String[] args) throws InterruptedException {
    String which = args.length > 0 ? args[0] : "all";
    Path dir = args.length > 1 ? Path.of(args[1]) : DEFAULT_DIR;
    runWithLargeStack(() -> train(which, dir));
  }

  /**
   * Runs {@code task} on a thread with a 64 MB stack and waits. ONNX Runtime's session creation
   * crashed the JVM (SIGSEGV, no error file) on a default 1 MB Java thread stack on the 2-core
   * build machine, even for a one-node graph; 16 MB was enough.
   */
  public static void runWithLargeStack(Runnable task) throws InterruptedException {
    Throwable[] failure = new Throwable[1];
    Thread t = new Thread(null, () -> {
      try {
        task.run();
      } catch (Throwable e) {
        failure[0] = e;
      }
    }, "vqclip-train", 64L << 20);
    t.start();
    t.join();
    if (failure[0] instanceof RuntimeException r) {
      throw r;
    }
    if (failure[0] instanceof Error e) {
      throw e;
    }
  }
}
