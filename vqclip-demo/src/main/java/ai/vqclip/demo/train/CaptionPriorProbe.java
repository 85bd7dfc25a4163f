package ai.vqclip.demo.train;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.backend.Backend;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.backend.Executable;
import ai.vqclip.demo.DemoModels;
import ai.vqclip.demo.data.Scene;
import ai.vqclip.demo.data.ShapeKind;
import ai.vqclip.demo.data.ShapesDataset;
import ai.vqclip.demo.eval.ShapeChecker;
import ai.vqclip.onnx.clip.ClipEncoder;
import ai.vqclip.onnx.vqgan.VqganConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Measures what a caption prior has learned of shapes, on held-out pictures it was not trained on
 * ({@code ShapesDataset(32, 77)}, one object on a plain background), judged by {@link ShapeChecker}:
 *
 * <ul>
 *   <li><b>redrawn</b>: the scene drawn with another shape (the next in {@link ShapeKind}'s order)
 *       at the same place, size and colour, conditioned on the true caption; right when the
 *       restoration is all three right for the true caption. This is what generation needs of it:
 *       a picture with the wrong shape pulled towards the caption's.
 *   <li><b>kept</b>: the drawn picture itself, conditioned on its caption.
 * </ul>
 *
 * Usage: {@code CaptionPriorProbe FILE [N]} (N pictures, default 200), conditioned on the bundled
 * first CLIP.
 */
public final class CaptionPriorProbe {
  private CaptionPriorProbe() {}

  /** Held-out data seed (not a training seed of any prior). */
  static final long DATA_SEED = 77;

  /**
   * Counts per shape asked for.
   *
   * @param named pictures per shape
   * @param redrawn restorations of the wrongly drawn picture that are all three right, per shape
   * @param kept restorations of the drawn picture that are all three right, per shape
   */
  public record Result(Map<ShapeKind, Integer> named, Map<ShapeKind, Integer> redrawn, Map<ShapeKind, Integer> kept) {
    /** Sum over shapes. */
    static int total(Map<ShapeKind, Integer> m) {
      return m.values().stream().mapToInt(Integer::intValue).sum();
    }

    @Override
    public String toString() {
      StringBuilder b = new StringBuilder();
      b.append("redrawn ").append(total(redrawn)).append('/').append(total(named)).append(", kept ").append(total(kept)).append('/')
          .append(total(named)).append('\n');
      for (ShapeKind k : ShapeKind.values()) {
        b.append(String.format(java.util.Locale.ROOT, "  %-8s redrawn %d/%d  kept %d/%d%n", k.word(), redrawn.getOrDefault(k, 0),
            named.getOrDefault(k, 0), kept.getOrDefault(k, 0), named.getOrDefault(k, 0)));
      }
      return b.toString();
    }
  }

  /**
   * Probes a prior.
   *
   * @param weights the prior's weights ({@link CaptionPriorTraining#readPrior(Path)})
   * @param clip the CLIP whose text embeddings condition it
   * @param n pictures, 1..1000
   * @return the counts
   */
  public static Result probe(Map<String, Tensor> weights, ClipEncoder clip, int n) {
    if (n < 1 || n > 1000) {
      throw new IllegalArgumentException("n must be in [1, 1000], got " + n);
    }
    ShapesDataset data = new ShapesDataset(32, DATA_SEED);
    List<ShapesDataset.Sample> picked = new ArrayList<>();
    for (long i = 0; picked.size() < n; i++) {
      ShapesDataset.Sample s = data.sample(i);
      if (s.scene().objects().size() == 1 && s.scene().background2() == null) {
        picked.add(s);
      }
    }
    int dim = clip.embeddingDim();
    int plane = 3 * 32 * 32;
    List<java.awt.image.BufferedImage> drawn = new ArrayList<>();
    List<java.awt.image.BufferedImage> wrong = new ArrayList<>();
    float[] captions = new float[n * dim];
    Map<String, float[]> cache = new HashMap<>();
    for (int k = 0; k < n; k++) {
      ShapesDataset.Sample s = picked.get(k);
      Scene.Item it = s.scene().objects().get(0);
      ShapeKind other = ShapeKind.values()[(it.shape().ordinal() + 1) % ShapeKind.values().length];
      drawn.add(s.image());
      wrong.add(ShapesDataset.render(new Scene(s.scene().background(), null,
          List.of(new Scene.Item(other, it.color(), it.size(), it.cx(), it.cy(), it.radius()))), 32));
      System.arraycopy(CaptionPriorTraining.embedding(clip, cache, s.caption()), 0, captions, k * dim, dim);
    }
    VqganConfig cfg = CaptionPriorTraining.architectureOf(weights);
    Map<ShapeKind, Integer> named = new EnumMap<>(ShapeKind.class);
    Map<ShapeKind, Integer> redrawn = new EnumMap<>(ShapeKind.class);
    Map<ShapeKind, Integer> kept = new EnumMap<>(ShapeKind.class);
    Tensor c = Tensor.ofFloats(new long[] {n, dim}, captions);
    try (Executable ex = Backend.load().compile(CaptionPriorTraining.prior(cfg, weights, n, 32, dim), ExecutionOptions.cpu())) {
      float[] fromWrong = ex.run(Map.of(CaptionPriorTraining.DAMAGED, ShapesDataset.toTensor(wrong, true), CaptionPriorTraining.CAPTION, c))
          .get(CaptionPriorTraining.RESTORED).toFloats();
      float[] fromDrawn = ex.run(Map.of(CaptionPriorTraining.DAMAGED, ShapesDataset.toTensor(drawn, true), CaptionPriorTraining.CAPTION, c))
          .get(CaptionPriorTraining.RESTORED).toFloats();
      for (int k = 0; k < n; k++) {
        String caption = picked.get(k).caption();
        ShapeKind asked = picked.get(k).scene().objects().get(0).shape();
        named.merge(asked, 1, Integer::sum);
        if (ShapeChecker.judge(caption, unit(fromWrong, k * plane, plane), 32, 32).all()) {
          redrawn.merge(asked, 1, Integer::sum);
        }
        if (ShapeChecker.judge(caption, unit(fromDrawn, k * plane, plane), 32, 32).all()) {
          kept.merge(asked, 1, Integer::sum);
        }
      }
    }
    return new Result(named, redrawn, kept);
  }

  /** One picture of a [-1, 1] batch as [0, 1] values, clamped. */
  private static float[] unit(float[] signed, int at, int len) {
    float[] out = new float[len];
    for (int j = 0; j < len; j++) {
      out[j] = Math.max(0, Math.min(1, (signed[at + j] + 1) / 2));
    }
    return out;
  }

  /**
   * Prints the probe of a prior file.
   *
   * @param args FILE [N]
   */
  public static void main(String[] args) {
    if (args.length < 1) {
      throw new IllegalArgumentException("usage: CaptionPriorProbe FILE [N]");
    }
    Map<String, Tensor> w = CaptionPriorTraining.readPrior(Path.of(args[0]));
    try (DemoModels.Bundle m = DemoModels.load(); ClipEncoder clip = m.clips().get(0).open(ExecutionOptions.cpu())) {
      System.out.print(probe(w, clip, args.length > 1 ? Integer.parseInt(args[1]) : 200));
    }
  }
}
