package ai.vqclip.cli;

import ai.vqclip.augment.StandardCutouts;
import ai.vqclip.cli.models.ClipModel;
import ai.vqclip.cli.models.ModelSelection;
import ai.vqclip.cli.models.ModelSource;
import ai.vqclip.cli.models.Models;
import ai.vqclip.cli.models.RunDefaults;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.pipeline.GenerationRequest;
import ai.vqclip.core.pipeline.Pipeline;
import ai.vqclip.core.prompt.PromptSchedule;
import ai.vqclip.studio.Studio;
import ai.vqclip.studio.StudioConfig;
import ai.vqclip.studio.StudioModel;
import ai.vqclip.studio.StudioModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code vqclip studio}: serves the studio page (module vqclip-studio) until Ctrl-C, with the demo
 * models and, when the model options name any, the configured real models as a second choice.
 */
@Command(
    name = "studio",
    mixinStandardHelpOptions = true,
    description = {"Serve vqclip studio: a local web page to start generations, watch them form, pause, paint on the picture and a mask, "
        + "edit the prompt and resume, edit from/to, and download finished runs. Bound to 127.0.0.1 unless --host says otherwise "
        + "(then every request needs the session token in the printed address). Runs until Ctrl-C."},
    footerHeading = "%nExamples:%n",
    footer = {
        "  vqclip studio                                  # demo models, http://127.0.0.1:7860/",
        "  vqclip studio --vqgan vqgan_imagenet_f16_16384.ckpt --vqgan-config model.yaml \\",
        "      --clip ViT-B-32.pt --vocab bpe_simple_vocab_16e6.txt.gz --port 8080"})
final class StudioCommand implements Callable<Integer> {
  /** The name of the configured real models on the page. */
  static final String CONFIGURED = "configured";

  @Spec CommandSpec spec;

  @Mixin ModelOptions models;

  @Option(names = "--host", defaultValue = StudioConfig.DEFAULT_HOST, paramLabel = "ADDRESS",
      description = "Address to bind (default: ${DEFAULT-VALUE}, this machine only; 0.0.0.0 serves the network and requires the token).")
  String host;

  @Option(names = "--port", defaultValue = "" + StudioConfig.DEFAULT_PORT, paramLabel = "N",
      description = "Port (default: ${DEFAULT-VALUE}; 0: any free port).")
  int port;

  @Option(names = "--data-dir", defaultValue = "studio-runs", paramLabel = "DIR",
      description = "Where runs keep their PNG, checkpoint, animation and manifest (default: ${DEFAULT-VALUE}).")
  Path dataDir;

  @Option(names = "--allow-host", paramLabel = "NAME",
      description = "A further host name the browser may use for this studio (repeatable; 127.0.0.1, localhost and [::1] always work).")
  List<String> allowHosts = new ArrayList<>();

  @Option(names = "--max-upload-bytes", defaultValue = "" + StudioConfig.DEFAULT_MAX_UPLOAD_BYTES, paramLabel = "N",
      description = "Largest request body (painted image and mask) (default: ${DEFAULT-VALUE}).")
  long maxUploadBytes;

  @Option(names = "--max-upload-pixels", defaultValue = "" + StudioConfig.DEFAULT_MAX_UPLOAD_PIXELS, paramLabel = "N",
      description = "Most pixels an uploaded image may declare (default: ${DEFAULT-VALUE}).")
  long maxUploadPixels;

  @Option(names = "--jobs", defaultValue = "1", paramLabel = "N",
      description = "Runs that step at once per model; more wait their turn (default: ${DEFAULT-VALUE}).")
  int jobs;

  @Option(names = "--threads", defaultValue = "0", paramLabel = "N",
      description = "ONNX Runtime intra-op threads per run; 0 lets it choose (default: ${DEFAULT-VALUE}).")
  int threads;

  @Override
  public Integer call() throws Exception {
    StudioConfig config;
    try {
      config = new StudioConfig(host, port, dataDir.toAbsolutePath(), maxUploadBytes, maxUploadPixels, StudioConfig.DEFAULT_MAX_ITERATIONS, jobs,
          16, allowHosts, null);
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage(), e);
    }
    if (threads < 0 || threads > 1024) {
      throw new UsageException("--threads must be in [0, 1024], got " + threads);
    }
    ModelSelection sel = models.selection();
    ExecutionOptions options = ExecutionOptions.cpu().withThreads(threads);
    try (StudioModels demo = StudioModels.demo(options); ModelSource builtIn = ModelSource.of(sel);
        Models real = configured(sel) ? Models.open(sel, builtIn, options) : null) {
      List<StudioModel> choices = new ArrayList<>(demo.models());
      if (real != null) {
        choices.add(0, realModel(real, RunOptions.defaults(sel, builtIn.defaults()), options));
      }
      try (Studio studio = Studio.start(config, choices)) {
        Thread hook = new Thread(studio::close, "vqclip-studio-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        spec.commandLine().getOut().println("vqclip studio: open " + studio.url() + "  (Ctrl-C stops it; runs are kept in " + config.dataDir()
            + ")");
        spec.commandLine().getOut().flush();
        studio.awaitClose();
      }
    }
    return 0;
  }

  /** Whether the options name real models (anything beyond the bundled demo models). */
  private static boolean configured(ModelSelection sel) {
    return sel.vqgan() != null || !sel.clip().isEmpty() || sel.demoModels() != null || (sel.onnx() != null && sel.onnx().any());
  }

  private static StudioModel realModel(Models m, RunDefaults d, ExecutionOptions options) {
    Pipeline.Builder pb = Pipeline.builder(m.generator(), new StandardCutouts()).options(options);
    for (ClipModel c : m.clips()) {
      pb.encoder(c.encoder());
    }
    int step = m.sizeStep();
    int size = Math.max(step, d.size() / step * step);
    int max = Math.max(size, 1024 / step * step);
    return new StudioModel(CONFIGURED, "the models named on the command line", pb.build(), m.generator(), size, step, max,
        (prompts, w, h, iterations, seed) -> GenerationRequest.builder(w, h, PromptSchedule.parse(prompts, iterations)).iterations(iterations)
            .cutouts(d.cutouts()).cutPow(d.cutPow()).augmentations(d.augments()).seed(seed));
  }
}
