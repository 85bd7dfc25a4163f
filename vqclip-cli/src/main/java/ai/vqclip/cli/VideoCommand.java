package ai.vqclip.cli;

import ai.vqclip.cli.models.ModelSelection;
import ai.vqclip.cli.models.ModelSource;
import ai.vqclip.cli.models.Models;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.image.GifSequence;
import ai.vqclip.core.image.Images;
import ai.vqclip.core.pipeline.GenerationRequest;
import ai.vqclip.core.pipeline.Init;
import ai.vqclip.core.pipeline.Pipeline;
import ai.vqclip.core.pipeline.RunResult;
import ai.vqclip.core.StepEvent;
import ai.vqclip.core.StepListener;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code vqclip video PROMPTS}: the run as an animation. Plain mode keeps a frame every N
 * iterations of one run. Zoom mode (nerdyrodent's zoom video) runs {@code --zoom-every} steps per
 * frame; after each frame the image is magnified about its centre, shifted, re-encoded, and the
 * next frame starts from it with a fresh optimizer.
 */
@Command(
    name = "video",
    mixinStandardHelpOptions = true,
    abbreviateSynopsis = true,
    description = {"Make an animation: numbered PNG frames and an animated GIF.",
        "No ffmpeg is needed.",
        "Plain: a frame every --frame-every iterations. Zoom: --zoom-every N steps per frame, each frame zoomed by --zoom-scale and "
            + "shifted by --zoom-shift-x/-y pixels before the next."},
    footerHeading = "%nExamples:%n",
    footer = {
        "  vqclip video \"a city at night\" -i 200 --frame-every 5 -o city.png          (city-frames/00000.png..., city.gif)",
        "  vqclip video \"an endless library\" -i 600 --zoom-every 10 --zoom-scale 1.03 --zoom-shift-y 2 --fps 15",
        "Ctrl-C stops after the current step; the frames so far and the GIF are written."})
final class VideoCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(arity = "1..*", paramLabel = "PROMPTS", description = "The prompts ('text:weight:stop|...', '^' between story sets).")
  List<String> prompts;

  @Option(names = {"-vf", "--frame-every"}, defaultValue = "1", paramLabel = "N", description = "Plain mode: a frame every N iterations "
      + "(default: ${DEFAULT-VALUE}).")
  int frameEvery;

  @Option(names = {"-zse", "--zoom-every"}, defaultValue = "0", paramLabel = "N", description = "Zoom mode: optimizer steps per frame "
      + "(default: ${DEFAULT-VALUE}, plain mode).")
  int zoomEvery;

  @Option(names = {"-zsc", "--zoom-scale"}, defaultValue = "1.02", paramLabel = "X", description = "Zoom mode: magnification per frame, "
      + "> 1 zooms in (default: ${DEFAULT-VALUE}).")
  double zoomScale;

  @Option(names = {"-zsx", "--zoom-shift-x"}, defaultValue = "0", paramLabel = "N", description = "Zoom mode: pixels to shift right per "
      + "frame, wrapping (default: ${DEFAULT-VALUE}).")
  int shiftX;

  @Option(names = {"-zsy", "--zoom-shift-y"}, defaultValue = "0", paramLabel = "N", description = "Zoom mode: pixels to shift down per "
      + "frame, wrapping (default: ${DEFAULT-VALUE}).")
  int shiftY;

  @Option(names = "--frames-dir", paramLabel = "DIR", description = "Where the numbered frames go (default: NAME-frames beside the output).")
  Path framesDir;

  @Option(names = "--gif", paramLabel = "FILE", description = "The animated GIF (default: NAME.gif beside the output).")
  Path gif;

  @Option(names = "--fps", defaultValue = "10", paramLabel = "N", description = "GIF frames per second, 1 to 100 (default: ${DEFAULT-VALUE}).")
  int fps;

  @Mixin RunOptions run;

  @Mixin ModelOptions models;

  /** Set by the Ctrl-C signal handler; tests request a stop through it directly. */
  final StopSignal stop = new StopSignal();

  /** Listeners run before the command's own (tests). */
  final List<StepListener> listeners = new ArrayList<>();

  @Override
  public Integer call() {
    if (frameEvery < 1) {
      throw new UsageException("--frame-every must be >= 1, got " + frameEvery);
    }
    if (zoomEvery < 0) {
      throw new UsageException("--zoom-every must be >= 0 (0: plain mode), got " + zoomEvery);
    }
    if (!(zoomScale >= 0.5 && zoomScale <= 2)) {
      throw new UsageException("--zoom-scale must be in [0.5, 2], got " + zoomScale);
    }
    if (fps < 1 || fps > 100) {
      throw new UsageException("--fps must be in [1, 100], got " + fps);
    }
    if (run.checkpoint) {
      throw new UsageException("--checkpoint does not apply to video: a video run cannot be resumed");
    }
    if (run.saveEvery > 0) {
      throw new UsageException("--save-every does not apply to video; frames are written every --frame-every iterations");
    }
    ModelSelection selection = models.selection();
    ModelSource builtIn = ModelSource.of(selection);
    RunSettings settings = run.settings("video", String.join(" ", prompts), null, null, null, selection, builtIn.defaults());
    InputFiles.requireWritable(Path.of(settings.output()), "--output");
    InputFiles.requireWritable(RunSettings.path(settings.manifest()), "--manifest");
    InputFiles.requireWritable(gif, "--gif");
    ExecutionOptions options = Runner.options(settings);
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    try (Models m = Models.open(settings.models().selection(), builtIn, options)) {
      RunSettings s = RequestFactory.resolveSize(settings, m, RunOptions.defaults(selection, builtIn.defaults()).size());
      GenerationRequest base = RequestFactory.build(s, m, true);
      if (zoomEvery > 0 && m.cannotEncode() != null) {
        throw new UsageException("zoom video re-encodes every frame: " + m.cannotEncode());
      }
      Path output = Path.of(s.output());
      Path dir = framesDir != null ? ModelOptions.abs(framesDir) : OutputNames.sibling(output, "-frames");
      Path gifPath = gif != null ? ModelOptions.abs(gif) : OutputNames.sibling(output, ".gif");
      Pipeline pipeline = Runner.pipeline(m, s, builtIn, options);
      Frames frames = new Frames(dir, gifPath, fps);
      RunResult last;
      try (StopSignal.Handlers handlers = stop.install(err); frames) {
        ProgressListener bar = run.quiet ? null : new ProgressListener(err, "video", 0, s.iterations());
        try {
          last = zoomEvery > 0 ? zoom(pipeline, base, frames, bar) : plain(pipeline, base, frames, bar);
        } finally {
          if (bar != null) {
            bar.close();
          }
        }
        last = Runner.withProvenance(last, m);
        Runner.writePng(last.image(), output, Runner.text(s, last.manifest()));
        if (s.manifest() != null) {
          Runner.writeText(Path.of(s.manifest()), Runner.asciiJson(last.manifest().toJson()));
        }
        frames.close();
        if (stop.requested()) {
          err.printf(Locale.ROOT, "vqclip video: stopped; wrote %d frames to %s, %s and %s%n", frames.count(), dir, gifPath, output);
          err.flush();
          return Runner.EXIT_INTERRUPTED;
        }
      }
      if (!run.quiet) {
        out.printf(Locale.ROOT, "wrote %d frames to %s, %s and %s%n", frames.count(), dir, gifPath, output);
        out.flush();
      }
      return 0;
    }
  }

  /** One run; the frames are the images its events carry every {@code frameEvery} iterations, then the final image. */
  private RunResult plain(Pipeline pipeline, GenerationRequest base, Frames frames, ProgressListener bar) {
    GenerationRequest r = base.toBuilder().saveEvery(frameEvery).build();
    List<StepListener> ls = new ArrayList<>(listeners);
    ls.add(e -> {
      if (bar != null) {
        bar.onStep(e);
      }
      if (e.image() != null) {
        frames.add(e.image());
      }
      return !stop.requested();
    });
    RunResult res = pipeline.run(r, null, Pipeline.CheckpointSettings.none(), ls);
    frames.add(res.image());
    return res;
  }

  /** A run of {@code zoomEvery} steps per frame, each starting from the zoomed previous frame. */
  private RunResult zoom(Pipeline pipeline, GenerationRequest base, Frames frames, ProgressListener bar) {
    int total = base.iterations();
    Init init = base.init();
    RunResult res = null;
    for (int f = 0, done = 0; done < total && (res == null || !stop.requested()); f++) {
      int steps = Math.min(zoomEvery, total - done);
      // A new seed per frame draws new cutouts; the optimizer starts afresh, as in generate.py.
      GenerationRequest r = base.toBuilder().iterations(steps).seed(base.seed() + f).init(init).saveEvery(0).build();
      int offset = done;
      List<StepListener> ls = new ArrayList<>(listeners);
      ls.add(e -> {
        if (bar != null) {
          bar.onStep(new StepEvent(offset + e.iteration(), total, e.loss(), e.terms(), e.elapsed(), null));
        }
        return !stop.requested();
      });
      res = pipeline.run(r, null, Pipeline.CheckpointSettings.none(), ls);
      frames.add(res.image());
      init = new Init.FromImage(Zoom.apply(res.image(), zoomScale, shiftX, shiftY));
      done += steps;
    }
    return res;
  }

  /** Numbered PNG frames and the GIF, written as they come. */
  private static final class Frames implements AutoCloseable {
    private final Path dir;
    private final GifSequence gif;
    private int count;
    private boolean closed;

    Frames(Path dir, Path gifPath, int fps) {
      this.dir = dir;
      this.gif = new GifSequence(gifPath, fps);
    }

    void add(Tensor image) {
      Runner.writePng(image, dir.resolve(String.format(Locale.ROOT, "%05d.png", count)), Map.of());
      gif.add(Images.toImage(image));
      count++;
    }

    int count() {
      return count;
    }

    @Override
    public void close() {
      if (!closed) {
        closed = true;
        gif.close();
      }
    }
  }
}
