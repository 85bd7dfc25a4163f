package ai.vqclip.cli;

import ai.vqclip.cli.models.ModelSelection;
import ai.vqclip.cli.models.ModelSource;
import ai.vqclip.core.pipeline.StepListener;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code vqclip generate PROMPTS}: an image from text (and image and noise) prompts. */
@Command(
    name = "generate",
    mixinStandardHelpOptions = true,
    abbreviateSynopsis = true,
    description = {"Generate an image from prompts.",
        "PROMPTS: 'text:weight:stop' entries separated by '|'; story mode: sets separated by '^' with --change-prompts-every."},
    footerHeading = "%nExamples:%n",
    footer = {
        "  vqclip generate \"a red circle on a blue background\" -o circle.png",
        "  vqclip generate \"a cat:1|blurry:-0.5\" -s 256 256 -i 300 --seed 7 --manifest cat.json",
        "  vqclip generate \"a forest^a city\" --change-prompts-every 100 -i 300 --save-every 50",
        "  vqclip generate \"an oil painting\" --init-image photo.jpg --init-weight 0.5 --init-target init",
        "  vqclip generate \"a lighthouse\" --vqgan vqgan_imagenet_f16_16384.ckpt --vqgan-config model.yaml \\",
        "      --clip ViT-B-32.pt --vocab bpe_simple_vocab_16e6.txt.gz",
        "Ctrl-C stops after the current step and writes the image and a checkpoint (resume with 'vqclip resume')."})
final class GenerateCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(arity = "1..*", paramLabel = "PROMPTS", description = "The prompts (several words are joined with spaces).")
  List<String> prompts;

  @Mixin RunOptions run;

  @Mixin ModelOptions models;

  /** Set by the Ctrl-C signal handler; tests request a stop through it directly. */
  final StopSignal stop = new StopSignal();

  /** Listeners run before the command's own (tests). */
  final List<StepListener> listeners = new ArrayList<>();

  @Override
  public Integer call() {
    ModelSelection selection = models.selection();
    ModelSource builtIn = ModelSource.of(selection);
    RunSettings s = run.settings("generate", String.join(" ", prompts), null, null, null, selection, builtIn.defaults());
    return Runner.run(s, null, null, new Runner.Context(spec.commandLine().getOut(), spec.commandLine().getErr(), run.quiet, stop, listeners,
        builtIn));
  }
}
