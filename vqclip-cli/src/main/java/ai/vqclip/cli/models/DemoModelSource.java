package ai.vqclip.cli.models;

import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.demo.DemoModels;
import ai.vqclip.demo.eval.CaptionPriorLoss;
import ai.vqclip.demo.eval.DemoGeneration;
import ai.vqclip.onnx.vqgan.VqganGenerator;
import java.nio.file.Path;

/**
 * The demo models: a VQGAN (f=2, 256 codes), a CLIP (32x32 input) and a caption sketcher trained by vqclip on a world
 * of coloured shapes, with their own BPE vocabulary. They draw what their captions describe ("a red
 * circle on a blue background") at 32x32. The bundled ones are unpacked from the class path on
 * first use; a folder written by {@code vqclip train-demo} is read in place.
 */
final class DemoModelSource implements ModelSource {
  private final Path dir;
  private DemoModels.Bundle bundle;
  private ai.vqclip.demo.eval.CaptionSketch sketcher;

  /** The demo models in {@code dir}, or the bundled ones when it is null. */
  DemoModelSource(Path dir) {
    this.dir = dir;
  }

  private DemoModels.Bundle bundle() {
    if (bundle == null) {
      bundle = dir == null ? DemoModels.load() : DemoModels.load(dir);
    }
    return bundle;
  }

  @Override
  public String description() {
    return dir == null ? "bundled demo models (trained by vqclip on coloured shapes)" : "demo models from " + dir;
  }

  @Override
  public VqganGenerator openGenerator(ExecutionOptions options) {
    return VqganGenerator.load(bundle().vqgan(), bundle().vqganConfig(), options);
  }

  @Override
  public ClipModel openClip(ExecutionOptions options) {
    return open(bundle().clips().get(0), "demo CLIP", options);
  }

  private static ClipModel open(DemoModels.Clip c, String name, ExecutionOptions options) {
    return new ClipModel(c.open(options), c.tokenizer(), name + " (" + ModelFiles.describe(c.config()) + ")");
  }

  /** Both demo CLIPs where the folder has the second one (the ensemble the demo settings were chosen with). */
  @Override
  public java.util.List<ClipModel> openClips(ExecutionOptions options) {
    java.util.List<ClipModel> out = new java.util.ArrayList<>();
    try {
      for (DemoModels.Clip c : bundle().clips()) {
        out.add(open(c, out.isEmpty() ? "demo CLIP" : "demo CLIP b", options));
      }
      return out;
    } catch (RuntimeException e) {
      out.forEach(m -> m.encoder().close());
      throw e;
    }
  }

  /**
   * The demo models' own settings ({@link DemoGeneration}): 32x32, 16 cutouts, Af Pe with border
   * padding, cut_pow 0.5, the frame prior; where the models have a caption sketcher, 50 iterations from
   * the caption sketch and the best of {@link DemoGeneration#CANDIDATES} runs per picture; otherwise 150
   * iterations from random codes, and where they have a caption prior, the prior and the best of
   * {@link DemoGeneration#CANDIDATES} runs (without the prior the best of several runs was measured no
   * better than one, docs/demo-models.md).
   */
  @Override
  public RunDefaults defaults() {
    boolean prior = dir == null ? DemoModels.captionPriorAvailable() : java.nio.file.Files.isRegularFile(dir.resolve(DemoModels.CAPTION_PRIOR_WEIGHTS));
    boolean sketch = dir == null ? DemoModels.sketchAvailable() : java.nio.file.Files.isRegularFile(dir.resolve(DemoModels.SKETCH_WEIGHTS));
    if (sketch) { // the start from the caption sketch, refined (DemoGeneration's defaults)
      return new RunDefaults(DemoModels.IMAGE_SIZE, DemoGeneration.ITERATIONS, DemoGeneration.CUTOUTS, DemoGeneration.AUGMENTATIONS,
          DemoGeneration.CUT_POW, DemoGeneration.FRAME_WEIGHT, 0, DemoGeneration.CANDIDATES, DemoGeneration.SKETCH_WEIGHT);
    }
    return new RunDefaults(DemoModels.IMAGE_SIZE, DemoGeneration.ITERATIONS_FROM_CODES, DemoGeneration.CUTOUTS, DemoGeneration.AUGMENTATIONS,
        DemoGeneration.CUT_POW, DemoGeneration.FRAME_WEIGHT, prior ? CaptionPriorLoss.Settings.WEIGHT : 0, prior ? DemoGeneration.CANDIDATES : 1);
  }

  /** The caption sketcher's drawing ({@link ai.vqclip.demo.eval.CaptionSketch}), or null where the models have none. */
  @Override
  public synchronized ai.vqclip.core.Tensor sketch(ai.vqclip.core.Encoder firstClip, String text, long seed, int size) {
    if (sketcher == null) {
      java.nio.file.Path file = bundle().sketch();
      if (file == null) {
        return null;
      }
      sketcher = ai.vqclip.demo.eval.CaptionSketch.load(file, ExecutionOptions.cpu());
    }
    return sketcher.draw(firstClip, text, seed, size).image();
  }

  /** The caption prior at the demo's settings ({@link CaptionPriorLoss.Settings#demo}), or null where the models have none. */
  @Override
  public ai.vqclip.core.Loss captionPrior(double weight) {
    java.nio.file.Path file = bundle().captionPrior();
    return file == null ? null : CaptionPriorLoss.Settings.demo(file, weight).loss();
  }

  @Override
  public synchronized void close() {
    if (sketcher != null) {
      sketcher.close();
      sketcher = null;
    }
    if (bundle != null) {
      bundle.close();
      bundle = null;
    }
  }
}
