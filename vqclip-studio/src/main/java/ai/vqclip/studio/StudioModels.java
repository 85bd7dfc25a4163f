package ai.vqclip.studio;

import ai.vqclip.augment.StandardCutouts;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.pipeline.Pipeline;
import ai.vqclip.demo.DemoModels;
import ai.vqclip.demo.eval.DemoGeneration;
import ai.vqclip.onnx.clip.ClipEncoder;
import ai.vqclip.onnx.vqgan.VqganGenerator;
import java.util.ArrayList;
import java.util.List;

/**
 * Loaded models for the studio with the resources behind them: {@link #close()} releases them.
 * Close it after the {@link Studio} that uses them.
 */
public final class StudioModels implements AutoCloseable {
  /** The name of the bundled demo models on the page. */
  public static final String DEMO = "demo";

  /** The largest side offered for the demo models (they were trained at 32x32). */
  public static final int DEMO_MAX_SIZE = 128;

  private final List<StudioModel> models;
  private final List<AutoCloseable> resources;
  private boolean closed;

  /**
   * Wraps models and the resources to close with them (closed in reverse order).
   *
   * @param models the model choices, first one the page's default
   * @param resources closed by {@link #close()}, last first
   * @throws IllegalArgumentException when there is no model or two share a name
   */
  public StudioModels(List<StudioModel> models, List<? extends AutoCloseable> resources) {
    this.models = List.copyOf(models);
    this.resources = new ArrayList<>(resources);
    if (this.models.isEmpty()) {
      throw new IllegalArgumentException("the studio needs at least one model");
    }
    if (this.models.stream().map(StudioModel::name).distinct().count() != this.models.size()) {
      throw new IllegalArgumentException("model names must differ, got " + this.models.stream().map(StudioModel::name).toList());
    }
  }

  /**
   * Loads the bundled demo models (a 32x32 VQGAN, a tiny CLIP and the caption sketcher, trained on
   * coloured shapes) with the demo settings of {@link DemoGeneration}: a text run starts from the
   * sketch of its caption and the CLIP guides it; each run is one run (not the best of {@link
   * DemoGeneration#CANDIDATES}: the page shows the picture forming).
   *
   * @param options where and with how many threads the models run
   * @return the models, one choice named {@value #DEMO}
   * @throws ai.vqclip.core.ModelLoadException when the demo models are not bundled or are damaged
   */
  public static StudioModels demo(ExecutionOptions options) {
    DemoModels.Bundle bundle = DemoModels.load();
    List<AutoCloseable> res = new ArrayList<>(List.of(bundle));
    try {
      VqganGenerator generator = VqganGenerator.load(bundle.vqgan(), bundle.vqganConfig(), options);
      res.add(generator);
      Pipeline.Builder b = Pipeline.builder(generator, new StandardCutouts()).options(options);
      // The demo's guidance, as DemoGeneration and the CLI use it: every bundled CLIP (an ensemble) and, where the bundle has
      // it, the caption prior (every studio run has a text prompt for it to read). One run a picture: the page shows it forming.
      ClipEncoder firstEncoder = null;
      for (DemoModels.Clip c : bundle.clips()) {
        ClipEncoder encoder = c.open(options);
        res.add(encoder);
        b.encoder(encoder);
        firstEncoder = firstEncoder == null ? encoder : firstEncoder;
      }
      ai.vqclip.demo.eval.CaptionPriorLoss.Settings prior = DemoGeneration.defaultPrior(bundle);
      if (prior != null) {
        b.loss(prior.loss());
      }
      Pipeline pipeline = b.build();
      DemoGeneration.Settings d = DemoGeneration.defaults();
      // The demo's start, as the CLI's: the caption sketch of the first text prompt, on square pictures.
      ai.vqclip.demo.eval.CaptionSketch sketch = bundle.sketch() == null ? null : ai.vqclip.demo.eval.CaptionSketch.load(bundle.sketch(), options);
      if (sketch != null) {
        res.add(sketch);
      }
      ai.vqclip.core.Encoder first = firstEncoder;
      StudioModel demo = new StudioModel(DEMO, "bundled demo models: coloured shapes, trained at 32x32", pipeline, generator,
          DemoModels.IMAGE_SIZE, 2, DEMO_MAX_SIZE, (prompts, w, h, iterations, seed) -> {
            ai.vqclip.core.pipeline.GenerationRequest.Builder r = DemoGeneration.request(prompts, seed, d.with(iterations, w)).size(w, h);
            String text = ai.vqclip.core.pipeline.Reranking.scoringText(ai.vqclip.core.prompt.PromptSchedule.parse(prompts, iterations));
            return sketch == null || text == null || w != h ? r
                : DemoGeneration.startFrom(r, sketch.draw(first, text, seed, w).image(), DemoGeneration.SKETCH_WEIGHT);
          });
      return new StudioModels(List.of(demo), res);
    } catch (RuntimeException e) {
      closeQuietly(res, e);
      throw e;
    }
  }

  /** @return the model choices, the page's default first */
  public List<StudioModel> models() {
    return models;
  }

  /** Closes the resources, last first. Idempotent; never throws (a failure is logged to stderr). */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    closeQuietly(resources, null);
  }

  private static void closeQuietly(List<AutoCloseable> res, RuntimeException primary) {
    for (int i = res.size() - 1; i >= 0; i--) {
      try {
        res.get(i).close();
      } catch (Exception e) {
        if (primary != null) {
          primary.addSuppressed(e);
        } else {
          System.err.println("vqclip studio: closing " + res.get(i) + " failed: " + e);
        }
      }
    }
  }
}
