package ai.vqclip.cli;

import ai.vqclip.cli.models.ModelSelection;
import ai.vqclip.cli.models.ModelSource;
import ai.vqclip.cli.models.Models;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.optim.OptimizerConfig;
import ai.vqclip.core.pipeline.GenerationRequest;
import ai.vqclip.core.pipeline.Pipeline;
import ai.vqclip.study.OptimizerStudy;
import ai.vqclip.study.StudyPlots;
import ai.vqclip.study.StudyResult;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code vqclip study PROMPTS}: optimizer variants compared on the same models, seeds and cutouts. */
@Command(
    name = "study",
    mixinStandardHelpOptions = true,
    abbreviateSynopsis = true,
    description = {"Compare optimizer variants: every optimizer x learning rate runs every prompt with every seed, with the same "
        + "initial latent, cutouts and augmentations, so only the optimizer differs.",
        "Writes study.csv (loss and wall time per iteration, setup time, final CLIP similarity), loss-vs-iteration.png, "
            + "loss-vs-time.png and report.md (the variants ranked by final loss) into the output folder.",
        "The other options set the base run (size, iterations, cutouts, augmentations, models); --optimizer and --lr are "
            + "aliases of --optimizers and --lrs (give one form of each, not both)."},
    footerHeading = "%nExamples:%n",
    footer = {
        "  vqclip study \"a red circle on a blue background\" --optimizers adam,adamw,rmsprop,sgd --seeds 0-1 -i 60 -o study/",
        "  vqclip study -p \"a cat\" -p \"a dog\" --optimizers adam,sgd --lrs 0.05,0.1,0.2 --images-at 0,30,59"})
final class StudyCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(arity = "0..*", paramLabel = "PROMPTS", description = "A prompt (several words are joined with spaces).")
  List<String> prompts = new ArrayList<>();

  @Option(names = {"-p", "--prompt"}, paramLabel = "PROMPTS", description = "One more prompt (repeatable).")
  List<String> morePrompts = new ArrayList<>();

  @Option(names = "--optimizers", defaultValue = "adam,adamw,rmsprop,sgd", paramLabel = "LIST", description = "Optimizers, "
      + "comma-separated (default: ${DEFAULT-VALUE}).")
  String optimizers;

  @Option(names = "--lrs", paramLabel = "LIST", description = "Learning rates, comma-separated: every optimizer at each (default: "
      + "each optimizer at its own default rate).")
  String rates;

  @Option(names = "--seeds", defaultValue = "0-1", paramLabel = "LIST", description = "Seeds: numbers and ranges (default: "
      + "${DEFAULT-VALUE}).")
  String seeds;

  @Option(names = "--images-at", paramLabel = "LIST", description = "Write each run's image at these iterations (comma-separated) "
      + "into OUT/images.")
  String imagesAt;

  @Mixin RunOptions run;

  @Mixin ModelOptions models;

  /**
   * The study's list for a grid option given in its plural form or its singular alias (the run
   * option {@code --optimizer}/{@code --lr}, which a study would otherwise ignore), or null when
   * neither was given.
   *
   * @throws UsageException when both forms were given
   */
  private String pluralOrAlias(String plural, String singular, Object aliasValue) {
    picocli.CommandLine.ParseResult pr = spec.commandLine().getParseResult();
    boolean hasPlural = pr.hasMatchedOption(plural);
    boolean hasAlias = pr.hasMatchedOption(singular);
    if (hasPlural && hasAlias) {
      throw new UsageException("give either " + plural + " or its alias " + singular + " to a study, not both");
    }
    if (hasAlias) {
      return String.valueOf(aliasValue);
    }
    return null;
  }

  @Override
  public Integer call() {
    List<String> all = BatchPlan.prompts(prompts, morePrompts, null);
    List<Long> seedList = BatchPlan.seeds(seeds);
    String optimizerOption = "--optimizers";
    String optimizerAlias = pluralOrAlias(optimizerOption, "--optimizer", run.optimizer);
    if (optimizerAlias != null) {
      optimizers = optimizerAlias;
      optimizerOption = "--optimizer";
    }
    String rateOption = "--lrs";
    String rateAlias = pluralOrAlias(rateOption, "--lr", run.lr);
    if (rateAlias != null) {
      rates = rateAlias;
      rateOption = "--lr";
    }
    List<OptimizerConfig> opts = new ArrayList<>();
    for (String o : optimizers.split(",")) {
      try {
        opts.add(OptimizerConfig.of(OptimizerConfig.Kind.parse(o)));
      } catch (IllegalArgumentException e) {
        throw new UsageException(optimizerOption + ": " + e.getMessage(), e);
      }
    }
    List<Double> lrs = new ArrayList<>();
    if (rates != null) {
      for (String r : rates.split(",")) {
        double v;
        try {
          v = Double.parseDouble(r.strip());
        } catch (NumberFormatException e) {
          throw new UsageException(rateOption + " must be numbers separated by commas, got '" + r + "'", e);
        }
        if (!(v > 0) || !Double.isFinite(v)) {
          throw new UsageException(rateOption + ": a learning rate must be a finite number > 0, got " + v);
        }
        lrs.add(v);
      }
    }
    List<Integer> at = new ArrayList<>();
    if (imagesAt != null) {
      for (String s : imagesAt.split(",")) {
        try {
          at.add(Integer.parseInt(s.strip()));
        } catch (NumberFormatException e) {
          throw new UsageException("--images-at must be iterations separated by commas, got '" + s + "'", e);
        }
      }
    }
    Path out = run.output != null ? run.output : Path.of("study");
    ModelSelection selection = models.selection();
    ModelSource builtIn = ModelSource.of(selection);
    RunSettings s0 = run.settings("generate", all.get(0), null, null, null, selection, builtIn.defaults());
    ExecutionOptions options = Runner.options(s0);
    try (Models m = Models.open(selection, builtIn, options)) {
      RunSettings s = RequestFactory.resolveSize(s0, m, RunOptions.defaults(selection, builtIn.defaults()).size());
      GenerationRequest base = RequestFactory.build(s, m, true);
      Pipeline pipeline = Runner.pipeline(m, s, builtIn, options);
      OptimizerStudy study;
      try {
        study = OptimizerStudy.builder(pipeline, m.clips().get(0).encoder(), base).variants(OptimizerStudy.grid(opts, lrs))
            .seeds(seedList).prompts(all).imagesAt(at, out.resolve("images")).build();
      } catch (IllegalArgumentException e) {
        throw new UsageException(e.getMessage(), e);
      }
      StudyResult result = study.run(r -> {
        if (!run.quiet) {
          double[] l = r.loss();
          spec.commandLine().getOut().printf(Locale.ROOT, "%-16s seed %-4d %-30s loss %.4f -> %.4f, similarity %.4f, %.1f ms/step, setup %.0f ms%n",
              r.variant(), r.seed(), r.prompt(), l[0], l[l.length - 1], r.similarity(),
              java.util.Arrays.stream(r.stepMillis()).average().orElse(0), r.setupMillis());
          spec.commandLine().getOut().flush();
        }
      });
      result.writeCsv(out.resolve("study.csv"));
      List<String> plots = StudyPlots.write(result, out, "optimizer study");
      result.writeReport(out.resolve("report.md"), "Optimizer study", plots);
      if (!run.quiet) {
        spec.commandLine().getOut().printf(Locale.ROOT, "wrote %s (study.csv, %s, report.md); best: %s%n", out, String.join(", ", plots),
            result.ranking().get(0).label());
      }
      return 0;
    }
  }
}
