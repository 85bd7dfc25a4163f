package ai.vqclip.cli;

import ai.vqclip.cli.models.ModelSelection;
import ai.vqclip.cli.models.ModelSource;
import ai.vqclip.core.StepListener;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code vqclip edit IMAGE PROMPTS}: change an image toward prompts, optionally only inside a mask. */
@Command(
    name = "edit",
    mixinStandardHelpOptions = true,
    abbreviateSynopsis = true,
    description = {"Edit an image toward prompts, inside a mask or a region CLIP finds.",
        "The image is the init image; with --mask only the white (or, for images with alpha, opaque) region may change.",
        "--from TEXT --to TEXT: a text-directed edit. CLIP scores crops of the image against --from to find the region to change "
            + "(unless --mask gives it), pulls it from --from toward --to, and keeps the rest close to the original.",
        "Without --size the output has the image's aspect ratio and size, scaled down to fit --size's default and rounded down to the VQGAN's factor."},
    footerHeading = "%nExamples:%n",
    footer = {
        "  vqclip edit photo.png \"a snowy landscape\" -i 100 -o snowy.png",
        "  vqclip edit photo.png \"a red hat\" --mask hat-region.png -i 150 --init-weight 0.2 --init-target init",
        "  vqclip edit shapes.png --from \"a red circle\" --to \"a blue star\" -i 100",
        "Ctrl-C stops after the current step and writes the image and a checkpoint (resume with 'vqclip resume')."})
final class EditCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "IMAGE", description = "The image to edit.")
  Path image;

  @Parameters(index = "1..*", arity = "0..*", paramLabel = "PROMPTS", description = "What the image should become ('text:weight:stop|...'); "
      + "with --from/--to they are optional (default: the --to text).")
  List<String> prompts = new ArrayList<>();

  @Option(names = "--mask", paramLabel = "FILE", description = "Editable region: white (or opaque, for images with alpha) may change.")
  Path mask;

  @Option(names = "--from", paramLabel = "TEXT", description = "Text-directed edit: what to change; CLIP finds it unless --mask is given.")
  String from;

  @Option(names = "--to", paramLabel = "TEXT", description = "Text-directed edit: what it should become (with --from).")
  String to;

  @Option(names = "--edit-scale", defaultValue = "1.25", paramLabel = "X", description = "Weight of the from-to direction term "
      + "(default: ${DEFAULT-VALUE}).")
  double editScale;

  @Option(names = "--content-weight", defaultValue = "1.0", paramLabel = "X", description = "Weight of the term keeping the region "
      + "outside the edit like the original; 0 turns it off (default: ${DEFAULT-VALUE}).")
  double contentWeight;

  @Option(names = "--mask-samples", defaultValue = "1024", paramLabel = "N", description = "Crops CLIP scores against --from to find "
      + "the region, 16 to 100000 (default: ${DEFAULT-VALUE}).")
  int maskSamples;

  @Mixin RunOptions run;

  @Mixin ModelOptions models;

  /** Set by the Ctrl-C signal handler; tests request a stop through it directly. */
  final StopSignal stop = new StopSignal();

  /** Listeners run before the command's own (tests). */
  final List<StepListener> listeners = new ArrayList<>();

  @Override
  public Integer call() {
    if ((from == null) != (to == null)) {
      throw new UsageException("--from and --to go together: give both, what to change and what it should become");
    }
    RunSettings.Edit edit = null;
    if (from != null) {
      if (!(editScale > 0) || !Double.isFinite(editScale)) {
        throw new UsageException("--edit-scale must be a finite number > 0, got " + editScale);
      }
      if (!(contentWeight >= 0) || !Double.isFinite(contentWeight)) {
        throw new UsageException("--content-weight must be a finite number >= 0, got " + contentWeight);
      }
      if (maskSamples < 16 || maskSamples > 100_000) {
        throw new UsageException("--mask-samples must be in [16, 100000], got " + maskSamples);
      }
      if (from.isBlank() || to.isBlank()) {
        throw new UsageException("--from and --to must not be blank");
      }
      edit = new RunSettings.Edit(from, to, editScale, contentWeight, maskSamples);
    } else if (prompts.isEmpty()) {
      throw new UsageException("edit needs PROMPTS after IMAGE (what the image should become), or --from TEXT --to TEXT");
    }
    InputFiles.requireReadable(image, "IMAGE");
    InputFiles.requireReadable(mask, "--mask");
    // Without PROMPTS the --to text is also the prompt (the pipeline needs one).
    String p = prompts.isEmpty() ? to.replace("|", " ").replace("^", " ").replace(":", " ") : String.join(" ", prompts);
    ModelSelection selection = models.selection();
    ModelSource builtIn = ModelSource.of(selection);
    RunSettings s = run.settings("edit", p, image, mask, edit, selection, builtIn.defaults());
    return Runner.run(s, null, null, new Runner.Context(spec.commandLine().getOut(), spec.commandLine().getErr(), run.quiet, stop, listeners,
        builtIn));
  }
}
