package ai.vqclip.core.pipeline;

import ai.vqclip.core.CutoutSource;
import ai.vqclip.core.Encoder;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.backend.Executable;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
/**
 * What a run computes once before its first step: the initial latent (random codes, an encoded
 * init image, noise or a gradient), the latent mask, the image prompts' and noise prompts' target
 * embeddings. Stateless; safe for concurrent runs.
 */
final class LatentInit {
  private final Pipeline pipe;

  LatentInit(Pipeline pipe) {
    this.pipe = pipe;
  }

  /** Image prompts: their own seeded cutouts, embedded once per encoder ([n, D] each). */
  List<List<Tensor>> embedImagePrompts(GenerationRequest r, CutoutSource cuts) {
    List<List<Tensor>> all = new ArrayList<>();
    if (r.imagePromptsLockstep()) {
      return all; // embedded inside the step graph instead
    }
    for (int j = 0; j < r.imagePrompts().size(); j++) {
      Tensor img = r.imagePrompts().get(j).image();
      int ih = (int) img.shape()[2];
      int iw = (int) img.shape()[3];
      Graph cf = cuts.fragment(iw, ih);
      Map<String, Tensor> in = new HashMap<>(cuts.sample(new SplittableRandom(r.seed() ^ (0x5DEECE66DL * (j + 1))), iw, ih));
      in.put(CutoutSource.IMAGE, img);
      Tensor c;
      try (Executable e = pipe.backend.compile(cf, pipe.options)) {
        c = e.run(in, Set.of(CutoutSource.CUTOUTS)).get(CutoutSource.CUTOUTS);
      }
      List<Tensor> perEncoder = new ArrayList<>();
      for (Encoder enc : pipe.encoders) {
        perEncoder.add(enc.embedImages(c));
      }
      all.add(perEncoder);
    }
    return all;
  }

  List<List<Tensor>> noiseTargets(GenerationRequest r) {
    List<List<Tensor>> all = new ArrayList<>();
    for (NoisePrompt p : r.noisePrompts()) {
      SplittableRandom rng = new SplittableRandom(p.seed());
      List<Tensor> perEncoder = new ArrayList<>();
      for (Encoder e : pipe.encoders) {
        double[] v = new double[e.embeddingDim()];
        for (int i = 0; i < v.length; i++) {
          v[i] = gaussian(rng);
        }
        perEncoder.add(Tensor.fromDoubles(DType.FLOAT, new long[] {1, v.length}, v));
      }
      all.add(perEncoder);
    }
    return all;
  }

  private static double gaussian(SplittableRandom rnd) {
    return ai.vqclip.core.Gaussian.next(rnd);
  }

  Tensor initialLatent(GenerationRequest r, long[] zShape) {
    int w = r.width();
    int h = r.height();
    SplittableRandom rng = new SplittableRandom(r.seed() ^ 0x2545F4914F6CDD1DL);
    Init init = r.init();
    if (init instanceof Init.RandomCodes) {
      return pipe.generator.randomLatent(w, h, r.seed());
    }
    if (init instanceof Init.FromImage f) {
      return pipe.generator.encode(f.image());
    }
    double[] px = new double[3 * w * h];
    if (init instanceof Init.NoisePixels) {
      for (int i = 0; i < px.length; i++) {
        px[i] = rng.nextDouble();
      }
    } else {
      // A smooth random gradient: each channel a random linear ramp across the image.
      for (int c = 0; c < 3; c++) {
        double a = rng.nextDouble();
        double bx = rng.nextDouble(-1, 1);
        double by = rng.nextDouble(-1, 1);
        for (int y = 0; y < h; y++) {
          for (int x = 0; x < w; x++) {
            double v = a + bx * x / Math.max(1, w - 1) + by * y / Math.max(1, h - 1);
            px[(c * h + y) * w + x] = Math.min(1, Math.max(0, v));
          }
        }
      }
    }
    return pipe.generator.encode(Tensor.fromDoubles(DType.FLOAT, new long[] {1, 3, h, w}, px));
  }

  /**
   * The latent cells that may change: a cell is editable when the mean of the mask over the pixels
   * it covers is at least 0.5. Null when there is no mask.
   */
  static float[] latentMask(Tensor mask, GenerationRequest r, long[] zShape) {
    if (mask == null) {
      return null;
    }
    int lh = (int) zShape[2];
    int lw = (int) zShape[3];
    int h = r.height();
    int w = r.width();
    double[] m = mask.toDoubles();
    float[] out = new float[lh * lw];
    for (int cy = 0; cy < lh; cy++) {
      for (int cx = 0; cx < lw; cx++) {
        int y0 = cy * h / lh;
        int y1 = (cy + 1) * h / lh;
        int x0 = cx * w / lw;
        int x1 = (cx + 1) * w / lw;
        double sum = 0;
        for (int y = y0; y < y1; y++) {
          for (int x = x0; x < x1; x++) {
            sum += m[y * w + x];
          }
        }
        out[cy * lw + cx] = sum / ((double) (y1 - y0) * (x1 - x0)) >= 0.5 ? 1f : 0f;
      }
    }
    return out;
  }
}
