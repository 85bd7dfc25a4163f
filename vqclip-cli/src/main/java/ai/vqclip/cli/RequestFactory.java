package ai.vqclip.cli;

import ai.vqclip.augment.StandardCutouts;
import ai.vqclip.cli.models.ClipModel;
import ai.vqclip.cli.models.Models;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.image.Images;
import ai.vqclip.core.loss.LatentRegularization;
import ai.vqclip.core.optim.OptimizerConfig;
import ai.vqclip.core.pipeline.GenerationRequest;
import ai.vqclip.core.pipeline.ImagePrompt;
import ai.vqclip.core.pipeline.Init;
import ai.vqclip.core.pipeline.NoisePrompt;
import ai.vqclip.core.pipeline.Regularization;
import ai.vqclip.core.prompt.Prompt;
import ai.vqclip.core.prompt.PromptSchedule;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Turns run settings into a {@link GenerationRequest} for the opened models, checking everything a
 * user can get wrong first (prompt syntax and length, sizes, files, codes), so that mistakes are
 * usage errors before any work starts.
 */
final class RequestFactory {
  private RequestFactory() {}

  /**
   * The settings with the size resolved and checked against the generator. An edit without --size
   * takes its image's aspect ratio and size, scaled down so that neither side exceeds {@code
   * maxSide} (--size's default) and rounded down to the VQGAN's factor: only the image's header is
   * read, and the run's cost follows the option, never the file (issue 16: an 8192x8192 PNG of
   * 196 kB made an 8192x8192 run).
   */
  static RunSettings resolveSize(RunSettings s, Models models, int maxSide) {
    int f = models.sizeStep();
    int w = s.width();
    int h = s.height();
    if ((w == 0 || h == 0) && s.initImage() != null) {
      int[] wh = imageSize(Path.of(s.initImage()));
      int[] fit = fit(wh[0], wh[1], maxSide, f);
      w = fit[0];
      h = fit[1];
    }
    try {
      models.generator().latentShape(w, h);
    } catch (IllegalArgumentException e) {
      throw new UsageException("--size " + w + " " + h + ": " + e.getMessage(), e);
    }
    return s.withSize(w, h);
  }

  /** {@code w x h} scaled down (aspect kept) to at most {@code maxSide} per side, rounded down to multiples of {@code f} (at least f). */
  static int[] fit(int w, int h, int maxSide, int f) {
    double scale = Math.min(1.0, (double) maxSide / Math.max(w, h));
    int sw = (int) Math.floor(w * scale);
    int sh = (int) Math.floor(h * scale);
    return new int[] {Math.max(f, sw / f * f), Math.max(f, sh / f * f)};
  }

  /** Width and height of an image file, read from its header. */
  static int[] imageSize(Path file) {
    try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
      var readers = in == null ? null : ImageIO.getImageReaders(in);
      if (readers == null || !readers.hasNext()) {
        throw new UsageException(file + " is not an image ImageIO can read (PNG, JPEG, GIF, BMP)");
      }
      ImageReader r = readers.next();
      try {
        r.setInput(in, true, true);
        return new int[] {r.getWidth(0), r.getHeight(0)};
      } finally {
        r.dispose();
      }
    } catch (java.io.IOException e) {
      throw new UsageException("cannot read image " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * The request for resolved settings.
   *
   * @param readInit whether to read the init image (resume takes the latent from its checkpoint instead)
   */
  static GenerationRequest build(RunSettings s, Models models, boolean readInit) {
    int w = s.width();
    int h = s.height();
    PromptSchedule prompts = prompts(s, models);
    GenerationRequest.Builder b = GenerationRequest.builder(w, h, prompts).seed(s.seed()).iterations(s.iterations()).cutouts(s.cutouts())
        .cutPow(s.cutPow()).augmentations(s.augments()).saveEvery(s.saveEvery()).frameWeight(s.frameWeight());
    try {
      b.optimizer(OptimizerConfig.of(OptimizerConfig.Kind.parse(s.optimizer()), s.lr()));
    } catch (IllegalArgumentException e) {
      throw new UsageException("--optimizer: " + e.getMessage(), e);
    }
    try {
      new StandardCutouts().create(s.cutouts(), models.inputResolution(), s.cutPow(), ai.vqclip.core.CutoutAugmentation.codes(s.augments())).fragment(w, h);
    } catch (IllegalArgumentException e) {
      throw new UsageException("--augments/--cutouts: " + e.getMessage(), e);
    }
    b.regularization(regularization(s));
    for (String spec : s.imagePrompts()) {
      ImagePromptSpec p = ImagePromptSpec.parse(spec);
      b.imagePrompt(new ImagePrompt(p.file().getFileName().toString(), Images.read(p.file(), w, h), p.weight(), p.stop()));
    }
    for (String spec : s.noisePrompts()) {
      NoisePromptSpec p = NoisePromptSpec.parse(spec);
      b.noisePrompt(new NoisePrompt(p.seed(), p.weight()));
    }
    boolean encodes = s.initImage() != null || s.initNoise() != null;
    if (encodes && models.cannotEncode() != null) {
      throw new UsageException(models.cannotEncode() + ", which an init image or init noise needs");
    }
    if (s.initImage() != null && readInit) {
      Path p = Path.of(s.initImage());
      InputFiles.requireReadable(p, s.command().equals("generate") ? "--init-image" : "image");
      b.init(new Init.FromImage(Images.read(p, w, h)));
    } else if (s.initNoise() != null) {
      b.init(s.initNoise().equals("pixels") ? new Init.NoisePixels() : new Init.NoiseGradient());
    }
    if (s.sketchWeight() > 0) {
      String text = ai.vqclip.core.pipeline.Reranking.scoringText(prompts);
      if (models.cannotEncode() != null) {
        throw new UsageException(models.cannotEncode() + ", which --sketch needs");
      }
      Tensor sketch;
      try {
        sketch = text == null || w != h ? null : models.sketch(text, s.seed(), w);
      } catch (IllegalArgumentException e) {
        throw new UsageException("--sketch: " + e.getMessage(), e);
      }
      if (sketch == null) {
        throw new UsageException("--sketch " + s.sketchWeight() + ": " + (text == null ? "no text prompt of positive weight to draw"
            : w != h ? "the picture is not square" : "the models have no caption sketch (" + ai.vqclip.demo.DemoModels.SKETCH_WEIGHTS
                + ") or their first CLIP is not the built-in one") + "; give --sketch 0");
      }
      ai.vqclip.demo.eval.DemoGeneration.startFrom(b, sketch, s.sketchWeight());
    }
    if (s.edit() != null) {
      try {
        b.edit(s.edit().direction());
      } catch (IllegalArgumentException e) {
        throw new UsageException("edit --from/--to: " + e.getMessage(), e);
      }
      for (ClipModel c : models.clips()) {
        for (String t : List.of(s.edit().from(), s.edit().to())) {
          try {
            c.tokenizer().tokenize(t);
          } catch (IllegalArgumentException e) {
            throw new UsageException("edit text '" + t + "': " + e.getMessage(), e);
          }
        }
      }
    }
    b.imagePromptsLockstep(s.imagePromptsLockstep());
    if (s.mask() != null) {
      Path p = Path.of(s.mask());
      InputFiles.requireReadable(p, "--mask");
      Tensor m = Images.readMask(p, w, h);
      b.mask(m);
    }
    try {
      return b.build();
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage(), e);
    }
  }

  /** Parses the prompts and checks each fits every encoder's tokenizer. */
  static PromptSchedule prompts(RunSettings s, Models models) {
    PromptSchedule schedule;
    try {
      schedule = PromptSchedule.parse(s.prompts(), Math.max(1, s.changePromptsEvery()));
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage(), e);
    }
    if (schedule.sets().size() > 1 && s.changePromptsEvery() == 0) {
      throw new UsageException("the prompts have " + schedule.sets().size() + " sets separated by '^' (story mode): give "
          + "--change-prompts-every N");
    }
    for (List<Prompt> set : schedule.sets()) {
      for (Prompt p : set) {
        for (ClipModel c : models.clips()) {
          try {
            c.tokenizer().tokenize(p.text());
          } catch (IllegalArgumentException e) {
            throw new UsageException("prompt '" + p.text() + "': " + e.getMessage(), e);
          }
        }
      }
    }
    return schedule;
  }

  static Regularization regularization(RunSettings s) {
    Regularization.Target target;
    try {
      target = Regularization.Target.valueOf(s.initTarget().strip().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new UsageException("--init-target must be zero or init, got '" + s.initTarget() + "'");
    }
    LatentRegularization.Decay decay;
    try {
      decay = LatentRegularization.Decay.parse(s.initDecay());
    } catch (IllegalArgumentException e) {
      throw new UsageException("--init-decay: " + e.getMessage(), e);
    }
    return new Regularization(s.initWeight(), target, decay);
  }
}
