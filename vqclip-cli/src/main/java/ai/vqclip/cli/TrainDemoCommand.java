package ai.vqclip.cli;

import ai.vqclip.demo.DemoModels;
import ai.vqclip.demo.train.TrainDemo;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code vqclip train-demo [vqgan|clip|all] [-o DIR]}: retrains the bundled demo models with {@link
 * TrainDemo} from their committed seeds, so the result is the bundled models again, and writes
 * weights, configs, vocabulary and training manifests into a folder that {@code --demo-models}
 * reads.
 */
@Command(
    name = "train-demo",
    mixinStandardHelpOptions = true,
    description = {"Retrain the bundled demo models from their committed seeds.",
        "The models are a tiny VQGAN and a tiny CLIP trained on a world of coloured shapes; the same seeds give the same weights, and "
            + "progress lines (steps, loss) go to stdout.",
        "Writes the weights (vqgan.safetensors, clip.safetensors), their configs, the CLIP vocabulary (bpe-demo.txt.gz) and the training "
            + "manifests (vqgan-training.json, clip-training.json: seed, steps, loss curve, time, metrics) into DIR; a model's files are "
            + "written when its training ends.",
        "'clip' runs all five CLIP stages (contrastive training on drawn pictures; twice, pictures generated with the models so far "
            + "as negatives; every scene drawn with all five shapes, with oversized objects as negatives; once more, generated pictures "
            + "as negatives). Takes over an hour on 2 CPU cores (about 20 minutes for the VQGAN and 45 for the CLIP by the per-step "
            + "figures of a quiet machine); each manifest records its run's time.",
        "'all' then trains the caption prior (caption-prior.safetensors: a network that redraws a picture as a caption describes it, "
            + "conditioned on the first CLIP's text embedding; generation uses it by default), about 45 minutes more, and the caption "
            + "sketcher (caption-sketch.safetensors: a network that draws a caption at a layout, reading the same embedding; a default "
            + "run starts from its drawing), about 10 minutes more.",
        "Use the result with --demo-models DIR on generate, edit and video. That needs both models in DIR: train 'all', or train one "
            + "and copy the other's files (from an earlier run) into DIR."},
    footerHeading = "%nExamples:%n",
    footer = {
        "  vqclip train-demo",
        "  vqclip train-demo clip -o my-demo-models",
        "  vqclip generate \"a red circle on a blue background\" --demo-models demo-models"})
final class TrainDemoCommand implements Callable<Integer> {
  /** What can be trained. */
  enum Model {
    vqgan,
    clip,
    all
  }

  /** The training step, replaceable by tests (the real one takes minutes). */
  @FunctionalInterface
  interface Training {
    /** Trains {@code model} ("vqgan", "clip" or "all") into {@code dir}, reporting progress lines. */
    void train(String model, Path dir, Consumer<String> progress);
  }

  @Spec CommandSpec spec;

  @Parameters(index = "0", arity = "0..1", defaultValue = "all", paramLabel = "MODEL",
      description = "vqgan, clip or all (default: ${DEFAULT-VALUE}).")
  Model model;

  @Option(names = {"-o", "--output"}, defaultValue = "demo-models", paramLabel = "DIR",
      description = "Folder to write into, created if needed; files already there are replaced (default: ${DEFAULT-VALUE}).")
  Path output;

  /** The training run; {@link TrainDemo#train(String, Path, Consumer)} unless a test replaces it. */
  Training training = TrainDemo::train;

  @Override
  public Integer call() throws InterruptedException {
    Path dir = ModelOptions.abs(output);
    InputFiles.requireWritableFolder(dir, "--output");
    PrintWriter out = spec.commandLine().getOut();
    Consumer<String> progress = line -> {
      out.println(line);
      out.flush();
    };
    progress.accept("training the demo " + (model == Model.all ? "VQGAN and CLIP" : model.name().toUpperCase(java.util.Locale.ROOT))
        + " into " + dir);
    // ONNX Runtime's session creation for the training graphs crashes the JVM on a default-size thread stack.
    TrainDemo.runWithLargeStack(() -> training.train(model.name(), dir, progress));
    String missing = DemoModels.FILES.stream().filter(f -> !Files.isRegularFile(dir.resolve(f))).findFirst().orElse(null);
    progress.accept(missing == null ? "done: use it with --demo-models " + dir
        : "done; " + dir + " has no " + missing + " yet: train the other model into it (or copy its files) before using --demo-models");
    return 0;
  }
}
