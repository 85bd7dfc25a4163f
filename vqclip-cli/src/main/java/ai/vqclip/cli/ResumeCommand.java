package ai.vqclip.cli;

import ai.vqclip.cli.models.ModelSelection;
import ai.vqclip.cli.models.ModelSource;
import ai.vqclip.core.pipeline.Checkpoint;
import ai.vqclip.core.StepListener;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code vqclip resume CHECKPOINT}: continue a stopped (or finished) run, optionally from an edited image. */
@Command(
    name = "resume",
    mixinStandardHelpOptions = true,
    abbreviateSynopsis = true,
    description = {"Continue a stopped or finished run from its checkpoint.",
        "The checkpoint NAME.ckpt and the settings NAME.run.json beside it are written by generate and edit with --save-every N or "
            + "--checkpoint, and when Ctrl-C stops a run.",
        "The result is the same as a run that was never stopped."},
    footerHeading = "%nExamples:%n",
    footer = {
        "  vqclip resume sunset.ckpt",
        "  vqclip resume sunset.ckpt --iterations 800 -o sunset-800.png",
        "  vqclip resume sunset.ckpt --image sunset-touched-up.png --iterations 600"})
final class ResumeCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "CHECKPOINT", description = "The checkpoint file (NAME.ckpt).")
  Path checkpoint;

  @Option(names = "--image", paramLabel = "FILE", description = "Continue from this (edited) image: it is encoded and replaces the "
      + "checkpoint's latent; the optimizer state is kept.")
  Path image;

  @Option(names = {"-i", "--iterations"}, paramLabel = "N", description = "Total iterations of the run (default: the original run's).")
  Integer iterations;

  @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Output PNG (default: the original run's).")
  Path output;

  @Option(names = "--manifest", paramLabel = "FILE", description = "Also write the run manifest as JSON (default: the original run's).")
  Path manifest;

  @Option(names = "--settings", paramLabel = "FILE", description = "The run settings (default: NAME.run.json beside the checkpoint).")
  Path settings;

  @Option(names = {"-q", "--quiet"}, description = "No progress bar and no summary line.")
  boolean quiet;

  @Option(names = {"-cd", "--device"}, paramLabel = "DEVICE", description = "cpu, cuda or cuda:N (default: the original run's).")
  String device;

  @Option(names = "--threads", paramLabel = "N", description = "ONNX Runtime threads (default: the original run's).")
  Integer threads;

  /** Set by the Ctrl-C signal handler; tests request a stop through it directly. */
  final StopSignal stop = new StopSignal();

  /** Listeners run before the command's own (tests). */
  final List<StepListener> listeners = new ArrayList<>();

  @Override
  public Integer call() {
    InputFiles.requireReadable(checkpoint, "CHECKPOINT");
    Path sp = settings != null ? settings : OutputNames.settingsOfCheckpoint(checkpoint);
    if (settings == null && !java.nio.file.Files.exists(sp)) {
      throw new UsageException("no run settings for " + checkpoint + ": expected " + sp + " beside it (generate and edit write it); "
          + "give --settings FILE");
    }
    RunSettings s = RunSettings.load(sp);
    if (iterations != null && (iterations < 1 || iterations > 1_000_000)) {
      throw new UsageException("--iterations must be in [1, 1000000], got " + iterations);
    }
    if (threads != null && (threads < 0 || threads > 1024)) {
      throw new UsageException("--threads must be in [0, 1024] (0 = runtime default), got " + threads);
    }
    String dev = device == null ? s.device() : RunOptions.checkDevice(device);
    ModelSelection models = s.models().selection();
    // The recorded folder may have changed since the run: report that as plainly as on the first run.
    InputFiles.requireDemoModels(models.demoModels(), "--demo-models (recorded in " + sp + ")");
    Checkpoint c = Checkpoint.load(checkpoint);
    RunSettings r = s.withRun(iterations != null ? iterations : s.iterations(),
        output != null ? ModelOptions.abs(output).toString() : s.output(),
        manifest != null ? ModelOptions.abs(manifest).toString() : s.manifest(), dev, threads != null ? threads : s.threads());
    return Runner.run(r, c, image == null ? null : ModelOptions.abs(image),
        new Runner.Context(spec.commandLine().getOut(), spec.commandLine().getErr(), quiet, stop, listeners, ModelSource.of(models)));
  }
}
