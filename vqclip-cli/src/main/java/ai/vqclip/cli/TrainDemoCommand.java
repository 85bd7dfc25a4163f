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
        "The models are a tiny VQGAN, a tiny CLIP and a caption sketcher trained on a world of coloured shapes; the same seeds give the "
            + "same weights, and progress lines (steps, loss) go to stdout.",
        "Writes the weights (vqgan.safetensors, clip.safetensors, caption-sketch.safetensors), the configs, the CLIP vocabulary "
            + "(bpe-demo.txt.gz) and the training manifests (vqgan-training.json, clip-stage1-training.json, clip-training.json, "
            + "sketch-training.json: seed, steps, loss curve, time, metrics) into DIR; a model's files are written when its training ends.",
        "'clip' trains the CLIP in two phases from random weights (contrastive training on drawn pictures, with blob and oversized "
            + "objects as negatives), about 25 minutes on 2 CPU cores. 'sketch' trains the caption sketcher (a network that draws a "
            + "caption at a layout, reading the CLIP's text embedding of it; a default run starts from its drawing), about 10 minutes; "
            + "it reads the CLIP in DIR, or the bundled one where DIR has none.",
        "'all' trains the three in turn: about 50 minutes on 2 CPU cores; each manifest records its run's time."
            + " Other recipes (round 6's staged CLIP, the caption prior) are experiments: ai.vqclip.demo.train.TrainDemo trains them.",
        "Use the result with --demo-models DIR on generate, edit and video. That needs the VQGAN and the CLIP in DIR: train 'all', or "
            + "train one and copy the other's files (from an earlier run) into DIR."},
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
    sketch,
    all
  }

  /** The training step, replaceable by tests (the real one takes minutes). */
  @FunctionalInterface
  interface Training {
    /** Trains {@code model} ("vqgan", "clip", "sketch" or "all") into {@code dir}, reporting progress lines. */
    void train(String model, Path dir, Consumer<String> progress);
  }

  @Spec CommandSpec spec;

  @Parameters(index = "0", arity = "0..1", defaultValue = "all", paramLabel = "MODEL",
      description = "vqgan, clip, sketch or all (default: ${DEFAULT-VALUE}).")
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
    progress.accept("training the demo " + (model == Model.all ? "VQGAN, CLIP and caption sketcher"
        : model == Model.sketch ? "caption sketcher" : model.name().toUpperCase(java.util.Locale.ROOT))
        + " into " + dir);
    // ONNX Runtime's session creation for the training graphs crashes the JVM on a default-size thread stack.
    TrainDemo.runWithLargeStack(() -> training.train(model.name(), dir, progress));
    String missing = DemoModels.FILES.stream().filter(f -> !Files.isRegularFile(dir.resolve(f))).findFirst().orElse(null);
    progress.accept(missing == null ? "done: use it with --demo-models " + dir
        : "done; " + dir + " has no " + missing + " yet: train the other model into it (or copy its files) before using --demo-models");
    return 0;
  }
}
