package ai.vqclip.cli;

import ai.vqclip.cli.models.Models;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.pipeline.GenerationJob;
import ai.vqclip.core.pipeline.GenerationRequest;
import ai.vqclip.core.pipeline.GenerationService;
import ai.vqclip.core.pipeline.Pipeline;
import ai.vqclip.core.pipeline.Reranking;
import ai.vqclip.core.pipeline.RunManifest;
import ai.vqclip.core.pipeline.RunResult;
import ai.vqclip.core.StepListener;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Several generate runs (prompts x seeds) in one process: the models are opened once and every run
 * goes through one {@link GenerationService} ({@code --jobs} at a time, each slot advancing up to {@code --batch} runs
 * together), each writing its own image
 * (and checkpoint when asked). Ctrl-C cancels the runs not yet started and stops the running ones
 * after their current step, writing their images and checkpoints.
 */
final class BatchRunner {
  private static final Logger LOG = LoggerFactory.getLogger(BatchRunner.class);

  private BatchRunner() {}

  /**
   * Runs every settings (all with the same models, device and threads), {@code jobs} at a time,
   * each slot advancing up to {@code batch} runs of the same step-graph shape together ({@link
   * GenerationService.Builder#maxBatch}).
   *
   * @return 0, {@link Runner#EXIT_INTERRUPTED} when stopped by the signal, or 1 when a run failed (the others are written)
   */
  static int run(List<RunSettings> runs, int jobs, int batch, Runner.Context ctx) {
    for (RunSettings s : runs) {
      InputFiles.requireWritable(Path.of(s.output()), "--output");
    }
    RunSettings first = runs.get(0);
    ExecutionOptions options = Runner.options(first);
    try (Models models = Models.open(first.models().selection(), ctx.builtIn(), options)) {
      Pipeline pipeline = Runner.pipeline(models, first, ctx.builtIn(), options);
      List<RunSettings> resolved = new ArrayList<>();
      // Per run, its candidates' jobs (one job where the run has one candidate).
      List<List<GenerationJob>> submitted = new ArrayList<>();
      // Per run, the text its candidates are ranked against (from its request, parsed once).
      List<String> rankedAgainst = new ArrayList<>();
      int failed = 0;
      try (StopSignal.Handlers handlers = ctx.stop().install(ctx.err());
          GenerationService service = GenerationService.builder(pipeline).maxConcurrent(jobs)
              .queueCapacity(runs.stream().mapToInt(RunSettings::candidateCount).sum()).maxBatch(batch)
              // The runs are submitted one after the other: a batch waits a moment for its company.
              .batchWait(batch > 1 ? java.time.Duration.ofMillis(500) : java.time.Duration.ZERO).build()) {
        for (RunSettings raw : runs) {
          RunSettings s = RequestFactory.resolveSize(raw, models, RunOptions.defaults(raw.models().selection(), ctx.builtIn().defaults()).size());
          Path output = Path.of(s.output());
          boolean checkpointing = s.saveEvery() > 0 || s.checkpoint();
          if (checkpointing) {
            s.save(OutputNames.settings(output));
          }
          int n = s.candidateCount();
          List<GenerationJob> jobsOfRun = new ArrayList<>();
          for (int k = 0; k < n; k++) {
            RunSettings ks = n > 1 ? s.candidate(k) : s;
            GenerationRequest request = RequestFactory.build(ks, models, true);
            List<StepListener> listeners = new ArrayList<>(ctx.listeners());
            listeners.add(e -> {
              // The image so far: only a lone run's (candidates would take turns over one file).
              if (e.image() != null && n == 1) {
                Runner.writePng(e.image(), output, Runner.text(s, null));
              }
              return !ctx.stop().requested();
            });
            Pipeline.CheckpointSettings ckpt = s.saveEvery() > 0 ? new Pipeline.CheckpointSettings(OutputNames.checkpoint(output), s.saveEvery())
                : Pipeline.CheckpointSettings.none();
            jobsOfRun.add(service.submit(request, null, ckpt, listeners));
            if (k == 0) {
              rankedAgainst.add(Reranking.scoringText(request.prompts()));
            }
          }
          resolved.add(s);
          submitted.add(jobsOfRun);
        }
        LOG.info("generate: {} runs, {} at a time, batches of up to {}", runs.size(), jobs, batch);
        for (int i = 0; i < submitted.size(); i++) {
          RunSettings s = resolved.get(i);
          Path output = Path.of(s.output());
          List<GenerationJob> jobsOfRun = submitted.get(i);
          List<RunResult> results = new ArrayList<>();
          for (GenerationJob job : jobsOfRun) {
            results.add(await(job, service, ctx));
          }
          boolean interrupted = ctx.stop().requested();
          int chosen = interrupted ? firstPresent(results) : best(results, rankedAgainst.get(i), models);
          if (chosen < 0) {
            if (!interrupted) {
              failed++;
            }
            continue;
          }
          RunResult result = results.get(chosen);
          // A stopped candidate is written under its own settings, so resume continues it; a finished
          // choice under the run's (its seed, N candidates), which draw it again.
          RunSettings written = interrupted && jobsOfRun.size() > 1 ? s.candidate(chosen) : s;
          try {
            Runner.writeOutputsOrRescue(written, Runner.withProvenance(result, models), output, s.saveEvery() > 0 || s.checkpoint() || interrupted);
          } catch (RuntimeException e) {
            ctx.err().printf(Locale.ROOT, "vqclip generate: cannot write %s: %s%n", output, e.getMessage());
            failed++;
            continue;
          }
          if (!ctx.quiet()) {
            RunManifest m = result.manifest();
            int together = jobsOfRun.get(chosen).batchSize();
            String best = jobsOfRun.size() > 1 && !interrupted
                ? String.format(Locale.ROOT, " (best of %d: candidate %d, seed %d)", jobsOfRun.size(), chosen + 1, m.seed()) : "";
            ctx.out().printf(Locale.ROOT, "wrote %s: %dx%d, seed %d%s, %d iterations (%s), %.1f s%s%n", output, m.width(), m.height(), written.seed(),
                best, m.iterationsRun(), m.stopReason(), m.elapsedMillis() / 1000.0, together > 1 ? ", in a batch of " + together : "");
            ctx.out().flush();
          }
        }
      }
      if (ctx.stop().requested()) {
        ctx.err().printf(Locale.ROOT, "vqclip generate: stopped; runs not started were skipped, running ones wrote their image and checkpoint%n");
        ctx.err().flush();
        return Runner.EXIT_INTERRUPTED;
      }
      return failed == 0 ? 0 : 1;
    }
  }

  /** The index of the first result there is, or -1. */
  private static int firstPresent(List<RunResult> results) {
    for (int k = 0; k < results.size(); k++) {
      if (results.get(k) != null) {
        return k;
      }
    }
    return -1;
  }

  /**
   * The index of the candidate the CLIPs rank first against the run's first text prompt ({@link
   * Reranking.Scorer}; the first of equal scores, and of the candidates that did not fail), or -1 when
   * all failed. A lone run is its own choice.
   */
  private static int best(List<RunResult> results, String text, Models models) {
    if (results.size() == 1) {
      return results.get(0) == null ? -1 : 0;
    }
    Reranking.Scorer scorer = new Reranking.Scorer(models.clips().stream().map(ai.vqclip.cli.models.ClipModel::encoder).toList(), text);
    int chosen = -1;
    double top = Double.NEGATIVE_INFINITY;
    for (int k = 0; k < results.size(); k++) {
      if (results.get(k) == null) {
        continue;
      }
      double score = scorer.score(results.get(k).image());
      if (chosen < 0 || score > top) {
        chosen = k;
        top = score;
      }
    }
    return chosen;
  }

  /** The job's result; null when it failed (reported) or was cancelled before it started. Ctrl-C cancels every job. */
  private static RunResult await(GenerationJob job, GenerationService service, Runner.Context ctx) {
    while (true) {
      if (ctx.stop().requested()) {
        service.cancelAll();
      }
      try {
        return job.result().get(200, TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        // poll the stop signal again
      } catch (CancellationException e) {
        return null;
      } catch (ExecutionException e) {
        Throwable c = e.getCause();
        ctx.err().printf(Locale.ROOT, "vqclip generate: run %d (seed %d, prompts '%s') failed: %s%n", job.id(), job.request().seed(),
            job.request().prompts().sets(), c.getMessage() != null ? c.getMessage() : c.toString());
        ctx.err().flush();
        return null;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        ctx.stop().request();
      }
    }
  }
}
