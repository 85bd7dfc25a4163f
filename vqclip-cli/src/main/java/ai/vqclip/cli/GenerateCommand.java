package ai.vqclip.cli;

import ai.vqclip.cli.models.ModelSelection;
import ai.vqclip.cli.models.ModelSource;
import ai.vqclip.core.StepListener;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
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
        "  vqclip generate -p \"a red circle\" -p \"a blue square\" --seeds 0-3 --jobs 2 -o out/",
        "  vqclip generate --prompts-file prompts.txt --seeds 1,5,9-12 -o out/",
        "  vqclip generate -p \"a red circle\" -p \"a blue square\" --seeds 0-1 --batch 4 -o out/",
        "  vqclip generate --prompts-file prompts.txt --seeds 0-2 -o out/ --contact-sheet sheet.png",
        "Ctrl-C stops after the current step and writes the image and a checkpoint (resume with 'vqclip resume').",
        "Several prompts (-P, --prompts-file) or --seeds run in one process with the models loaded once; -o then names a folder",
        "and each image is PROMPT-SEED.png."})
final class GenerateCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(arity = "0..*", paramLabel = "PROMPTS", description = "The prompts (several words are joined with spaces).")
  List<String> prompts = new ArrayList<>();

  @Option(names = {"-p", "--prompt"}, paramLabel = "PROMPTS", description = "One more run's prompts (repeatable; each is a whole "
      + "PROMPTS value, e.g. -p \"a cat|blurry:-1\" -p \"a dog\").")
  List<String> morePrompts = new ArrayList<>();

  @Option(names = "--prompts-file", paramLabel = "FILE", description = "Prompts of one run per line (UTF-8; blank lines and lines "
      + "starting with # are skipped).")
  Path promptsFile;

  @Option(names = "--seeds", paramLabel = "LIST", description = "Run each prompt with every seed of LIST: numbers and ranges, e.g. 0-7 "
      + "or 1,5,9-12.")
  String seeds;

  @Option(names = "--jobs", defaultValue = "1", paramLabel = "N", description = "Runs at once in a batch (default: ${DEFAULT-VALUE}); "
      + "they share the loaded models.")
  int jobs;

  @Option(names = "--batch", defaultValue = "1", paramLabel = "N", description = "Advance up to N runs of the same size together in "
      + "one batched step (default: ${DEFAULT-VALUE}); each gives the image it gives alone. Per --jobs slot.")
  int batch;

  @Option(names = "--contact-sheet", paramLabel = "FILE", description = "Also write a contact sheet PNG: every run's picture in a grid "
      + "(a row per prompt, a column per seed; with one seed, rows of up to 6), enlarged, captioned with prompt and seed.")
  Path contactSheet;

  @Mixin RunOptions run;

  @Mixin ModelOptions models;

  /** Set by the Ctrl-C signal handler; tests request a stop through it directly. */
  final StopSignal stop = new StopSignal();

  /** Listeners run before the command's own (tests). */
  final List<StepListener> listeners = new ArrayList<>();

  @Override
  public Integer call() {
    List<String> all = BatchPlan.prompts(prompts, morePrompts, promptsFile);
    List<Long> seedList = seeds == null ? null : BatchPlan.seeds(seeds);
    ModelSelection selection = models.selection();
    ModelSource builtIn = ModelSource.of(selection);
    Runner.Context ctx = new Runner.Context(spec.commandLine().getOut(), spec.commandLine().getErr(), run.quiet, stop, listeners, builtIn);
    if (all.size() == 1 && seedList == null) {
      if (contactSheet != null) {
        throw new UsageException("--contact-sheet applies to several runs (several prompts or --seeds); got one run");
      }
      if (jobs != 1 || batch != 1) {
        throw new UsageException((jobs != 1 ? "--jobs" : "--batch") + " applies to several runs (several prompts or --seeds); got one run");
      }
      RunSettings s = run.settings("generate", all.get(0), null, null, null, selection, builtIn.defaults());
      return Runner.run(s, null, null, ctx);
    }
    if (jobs < 1 || jobs > 64) {
      throw new UsageException("--jobs must be in [1, 64], got " + jobs);
    }
    if (batch < 1 || batch > 64) {
      throw new UsageException("--batch must be in [1, 64], got " + batch);
    }
    if (seedList != null && run.seed != null) {
      throw new UsageException("give --seed or --seeds, not both");
    }
    if (run.manifest != null) {
      throw new UsageException("--manifest names one file, but this command makes several runs; each PNG carries its manifest "
          + "(vqclip inspect FILE.png shows it)");
    }
    Path dir = BatchPlan.outputFolder(run.output);
    List<RunSettings> bases = new ArrayList<>();
    List<Integer> promptOf = new ArrayList<>();
    List<Long> seedOf = new ArrayList<>();
    for (int i = 0; i < all.size(); i++) {
      RunSettings base = run.settings("generate", all.get(i), null, null, null, selection, builtIn.defaults());
      bases.add(base);
      for (long seed : seedList == null ? List.of(base.seed()) : seedList) {
        promptOf.add(i);
        seedOf.add(seed);
      }
    }
    if (promptOf.size() > BatchPlan.MAX_RUNS) {
      throw new UsageException(all.size() + " prompts x " + (seedList == null ? 1 : seedList.size()) + " seeds make " + promptOf.size()
          + " runs; at most " + BatchPlan.MAX_RUNS + " in one command");
    }
    List<String> names = BatchPlan.names(all, promptOf, seedOf);
    List<RunSettings> runs = new ArrayList<>();
    java.util.Set<Path> taken = new java.util.HashSet<>();
    for (int k = 0; k < names.size(); k++) {
      Path out = dir.resolve(names.get(k)).toAbsolutePath();
      runs.add(bases.get(promptOf.get(k)).withSeedAndOutput(seedOf.get(k), (run.overwrite ? out : OutputNames.free(out, taken)).toString()));
    }
    if (contactSheet != null) {
      InputFiles.requireWritable(contactSheet, "--contact-sheet");
      if (runs.size() > ContactSheet.MAX_CELLS) {
        throw new UsageException("--contact-sheet holds at most " + ContactSheet.MAX_CELLS + " pictures; this command makes " + runs.size() + " runs");
      }
    }
    int rc = BatchRunner.run(runs, jobs, batch, ctx);
    if (contactSheet != null) {
      List<ContactSheet.Cell> cells = new ArrayList<>();
      for (int k = 0; k < runs.size(); k++) {
        cells.add(new ContactSheet.Cell(ContactSheet.readOrNull(Path.of(runs.get(k).output())), all.get(promptOf.get(k)) + " (seed " + seedOf.get(k) + ")"));
      }
      int perPrompt = seedList == null ? 1 : seedList.size();
      int columns = perPrompt > 1 ? perPrompt : Math.min(6, cells.size());
      ContactSheet.write(ContactSheet.compose(cells, Math.min(columns, cells.size())), contactSheet);
      if (!run.quiet) {
        spec.commandLine().getOut().printf("wrote %s: %d pictures%n", contactSheet, cells.size());
        spec.commandLine().getOut().flush();
      }
    }
    return rc;
  }
}
