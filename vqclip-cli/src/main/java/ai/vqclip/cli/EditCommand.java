package ai.vqclip.cli;

import ai.vqclip.cli.models.ModelSource;
import ai.vqclip.core.pipeline.StepListener;
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
    description = {"Edit an image toward prompts, optionally only inside a mask.",
        "The image is the init image; with --mask only the white (or, for images with alpha, opaque) region may change.",
        "The output size is the image's own size rounded down to the VQGAN's factor unless --size is given."},
    footerHeading = "%nExamples:%n",
    footer = {
        "  vqclip edit photo.png \"a snowy landscape\" -i 100 -o snowy.png",
        "  vqclip edit photo.png \"a red hat\" --mask hat-region.png -i 150 --init-weight 0.2 --init-target init",
        "Ctrl-C stops after the current step and writes the image and a checkpoint (resume with 'vqclip resume')."})
final class EditCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "IMAGE", description = "The image to edit.")
  Path image;

  @Parameters(index = "1..*", arity = "0..*", paramLabel = "PROMPTS", description = "What the image should become ('text:weight:stop|...').")
  List<String> prompts = new ArrayList<>();

  @Option(names = "--mask", paramLabel = "FILE", description = "Editable region: white (or opaque, for images with alpha) may change.")
  Path mask;

  @Option(names = "--from", paramLabel = "TEXT", description = "Text-directed edit: what to change (CLIP self-masking; not supported yet).")
  String from;

  @Option(names = "--to", paramLabel = "TEXT", description = "Text-directed edit: what it should become (with --from; not supported yet).")
  String to;

  @Mixin RunOptions run;

  @Mixin ModelOptions models;

  /** Set by the Ctrl-C signal handler; tests request a stop through it directly. */
  final StopSignal stop = new StopSignal();

  /** Listeners run before the command's own (tests). */
  final List<StepListener> listeners = new ArrayList<>();

  @Override
  public Integer call() {
    if (from != null || to != null) {
      // EditDirection exists as a record, but the pipeline has no directional loss or CLIP self-mask yet.
      throw new UsageException("edit --from/--to (a text-directed edit with a CLIP self-mask) is not supported yet; "
          + "give PROMPTS, with --mask FILE to limit the edit to a region");
    }
    if (prompts.isEmpty()) {
      throw new UsageException("edit needs PROMPTS after IMAGE: what the image should become");
    }
    InputFiles.requireReadable(image, "IMAGE");
    InputFiles.requireReadable(mask, "--mask");
    RunSettings s = run.settings("edit", String.join(" ", prompts), image, mask, models);
    return Runner.run(s, null, null, new Runner.Context(spec.commandLine().getOut(), spec.commandLine().getErr(), run.quiet, stop, listeners,
        ModelSource.builtIn()));
  }
}
