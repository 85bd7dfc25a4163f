package ai.vqclip.demo.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.Loss;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.backend.Backend;
import ai.vqclip.core.backend.Executable;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import ai.vqclip.demo.train.CaptionPriorTraining;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class CaptionPriorLossTest {
  /** A stand-in prior: r = tanh(0.8 d + 0.5 sum(c)), so both the picture and the caption matter. */
  private static Graph toyPrior() {
    return toyPrior(4, 4);
  }

  private static Graph toyPrior(int h, int w) {
    GraphBuilder r = new GraphBuilder("prior");
    Value d = r.input(CaptionPriorTraining.DAMAGED, DType.FLOAT, Shape.of(1, 3, h, w));
    Value c = r.input(CaptionPriorTraining.CAPTION, DType.FLOAT, Shape.of(1, 4));
    Value s = r.reshape(r.op("ReduceSum").in(c, r.ints(1)).attr("keepdims", 1L).out(), 1, 1, 1, 1);
    r.output(CaptionPriorTraining.RESTORED, r.op("Tanh").in(r.add(r.mul(d, r.scalarLike(0.8, d)), r.mul(s, r.scalarLike(0.5, s)))).out());
    return r.build();
  }

  @Test
  void pullsThePictureTowardsThePriorsRedrawingForTheFirstPrompt() throws Exception {
    CaptionPriorLoss loss = new CaptionPriorLoss(toyPrior(), 4, 10, 4, 0.3, 7);
    GraphBuilder b = new GraphBuilder("step");
    Value target = b.input(CaptionPriorLoss.TARGET, DType.FLOAT, Shape.of(1, 4));
    Value img = b.input("img", DType.FLOAT, Shape.of(1, 3, 4, 4));
    Value z = b.input("z", DType.FLOAT, Shape.of(1, 2, 2, 2));
    Value v = loss.build(new Loss.Context(b, z, img, img, List.of(target)));
    b.output("loss", v);
    b.output("unused", b.op("Identity").in(z).out());
    Graph g = b.build();
    float[] x = new float[48];
    SplittableRandom rnd = new SplittableRandom(3);
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rnd.nextDouble();
    }
    float[] c = {0.3f, -0.2f, 0.9f, 0.1f};
    int it = 11; // two of the four ramp steps: half the weight
    Map<String, Tensor> in = new HashMap<>(loss.stepInputs(it));
    in.put(CaptionPriorLoss.TARGET, Tensor.ofFloats(new long[] {1, 4}, c));
    in.put("img", Tensor.ofFloats(new long[] {1, 3, 4, 4}, x));
    in.put("z", Tensor.ofFloats(new long[] {1, 2, 2, 2}, new float[8]));
    float[] noise = in.get("cprior/noise").toFloats();
    double got;
    try (Executable ex = Backend.load().compile(g, ExecutionOptions.cpu())) {
      got = ex.run(in).get("loss").toFloats()[0];
    }
    // Written out: the caption normalised, the picture to [-1, 1] plus the step's noise, the prior, back to [0, 1] clamped.
    double norm = Math.sqrt(0.09 + 0.04 + 0.81 + 0.01);
    double sum = (0.3 - 0.2 + 0.9 + 0.1) / norm;
    double want = 0;
    for (int i = 0; i < 48; i++) {
      double r = Math.tanh(0.8 * (2 * x[i] - 1 + noise[i]) + 0.5 * sum);
      double t = Math.max(0, Math.min(1, (r + 1) / 2));
      want += (x[i] - t) * (x[i] - t) / 48;
    }
    assertEquals(2 * want, got, 1e-5);
    assertEquals(2, loss.weightAt(it), 1e-12);
    assertEquals(0, loss.weightAt(9));
  }

  @Test
  void noiseIsSeededPerIterationAndBounded() {
    CaptionPriorLoss loss = new CaptionPriorLoss(toyPrior(), 1, 0, 0, 0.2, 5);
    float[] a = loss.stepInputs(3).get("cprior/noise").toFloats();
    assertArrayEquals(a, loss.stepInputs(3).get("cprior/noise").toFloats());
    assertFalse(java.util.Arrays.equals(a, loss.stepInputs(4).get("cprior/noise").toFloats()));
    double ss = 0;
    for (float f : a) {
      ss += f * f;
    }
    assertTrue(Math.sqrt(ss / a.length) < 0.2 * 1.6, "noise sigma above the bound: " + Math.sqrt(ss / a.length));
    float[] none = new CaptionPriorLoss(toyPrior(), 1, 0, 0, 0, 5).stepInputs(3).get("cprior/noise").toFloats();
    for (float f : none) {
      assertEquals(0f, f);
    }
  }

  @Test
  void refusesBadArgumentsAndARunWithoutATextPrompt() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new CaptionPriorLoss(toyPrior(), Double.NaN, 0, 0, 0, 1));
    assertTrue(e.getMessage().contains("weight") && e.getMessage().contains("NaN"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new CaptionPriorLoss(toyPrior(), 1, 0, 0, -0.5, 1));
    assertTrue(e.getMessage().contains("noise") && e.getMessage().contains("-0.5"), e.getMessage());
    GraphBuilder b = new GraphBuilder("step");
    Value img = b.input("img", DType.FLOAT, Shape.of(1, 3, 4, 4));
    CaptionPriorLoss loss = new CaptionPriorLoss(toyPrior(), 1, 0, 0, 0, 1);
    e = assertThrows(IllegalArgumentException.class, () -> loss.build(new Loss.Context(b, img, img, img, List.of())));
    assertTrue(e.getMessage().contains("text prompt"), e.getMessage());
  }

  /** Builds {@code loss} into a step graph with a picture of {@code h} x {@code w} (latent at half the side). */
  private static void buildFor(CaptionPriorLoss loss, int h, int w) {
    GraphBuilder b = new GraphBuilder("step");
    Value target = b.input(CaptionPriorLoss.TARGET, DType.FLOAT, Shape.of(1, 4));
    Value img = b.input("img", DType.FLOAT, Shape.of(1, 3, h, w));
    Value z = b.input("z", DType.FLOAT, Shape.of(1, 2, h / 2, w / 2));
    b.output("loss", loss.build(new Loss.Context(b, z, img, img, List.of(target))));
  }

  @Test
  void oneTermServesEveryPictureSizeWithNoiseOfTheStepsShape() {
    List<String> built = new java.util.ArrayList<>();
    CaptionPriorLoss loss = new CaptionPriorLoss((h, w) -> {
      built.add(w + "x" + h);
      return toyPrior(h, w);
    }, 1, 0, 0, 0.2, 5);
    buildFor(loss, 4, 4);
    // One size so far: the iteration alone says enough.
    assertArrayEquals(new long[] {1, 3, 4, 4}, loss.stepInputs(2).get("cprior/noise").shape());
    buildFor(loss, 8, 4);
    assertEquals(List.of("4x4", "4x8"), built);
    Tensor tall = loss.stepInputs(new Loss.Step(2, new long[] {1, 2, 4, 2}, new float[16], new float[16])).get("cprior/noise");
    Tensor square = loss.stepInputs(new Loss.Step(2, new long[] {1, 2, 2, 2}, new float[8], new float[8])).get("cprior/noise");
    assertArrayEquals(new long[] {1, 3, 8, 4}, tall.shape());
    assertArrayEquals(new long[] {1, 3, 4, 4}, square.shape());
    // The same draw for the same iteration, whatever the size: the square picture's noise starts the tall one's.
    assertArrayEquals(square.toFloats(), java.util.Arrays.copyOf(tall.toFloats(), 48));
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> loss.stepInputs(2));
    assertTrue(e.getMessage().contains("2 picture sizes"), e.getMessage());
    // A term over one graph refuses another size by name.
    CaptionPriorLoss one = new CaptionPriorLoss(toyPrior(), 1, 0, 0, 0, 1);
    IllegalArgumentException wrong = assertThrows(IllegalArgumentException.class, () -> buildFor(one, 8, 4));
    assertTrue(wrong.getMessage().contains("is for 4x4 pictures, not 4x8"), wrong.getMessage());
  }

  @Test
  void aBandLeavesThePicturesBorderOutOfThePull() throws Exception {
    int side = 8; // band 1/8: one pixel
    CaptionPriorLoss loss = new CaptionPriorLoss((h, w) -> toyPrior(h, w), 2, 0, 0, 0.3, 7, 0.125);
    GraphBuilder b = new GraphBuilder("step");
    Value target = b.input(CaptionPriorLoss.TARGET, DType.FLOAT, Shape.of(1, 4));
    Value img = b.input("img", DType.FLOAT, Shape.of(1, 3, side, side));
    Value z = b.input("z", DType.FLOAT, Shape.of(1, 2, side / 2, side / 2));
    b.output("loss", loss.build(new Loss.Context(b, z, img, img, List.of(target))));
    b.output("unused", b.op("Identity").in(z).out());
    Graph g = b.build();
    int n = 3 * side * side;
    float[] x = new float[n];
    SplittableRandom rnd = new SplittableRandom(8);
    for (int i = 0; i < n; i++) {
      x[i] = (float) rnd.nextDouble();
    }
    float[] c = {0.3f, -0.2f, 0.9f, 0.1f};
    Map<String, Tensor> in = new HashMap<>(loss.stepInputs(5));
    in.put(CaptionPriorLoss.TARGET, Tensor.ofFloats(new long[] {1, 4}, c));
    in.put("img", Tensor.ofFloats(new long[] {1, 3, side, side}, x));
    in.put("z", Tensor.ofFloats(new long[] {1, 2, side / 2, side / 2}, new float[2 * 16]));
    float[] noise = in.get("cprior/noise").toFloats();
    double got;
    try (Executable ex = Backend.load().compile(g, ExecutionOptions.cpu())) {
      got = ex.run(in).get("loss").toFloats()[0];
    }
    double sum = (0.3 - 0.2 + 0.9 + 0.1) / Math.sqrt(0.09 + 0.04 + 0.81 + 0.01);
    double want = 0;
    int inside = 0;
    for (int i = 0; i < n; i++) {
      int y = (i / side) % side;
      int xx = i % side;
      if (y == 0 || xx == 0 || y == side - 1 || xx == side - 1) {
        continue; // the band: the target is the picture, no difference
      }
      inside++;
      double r = Math.tanh(0.8 * (2 * x[i] - 1 + noise[i]) + 0.5 * sum);
      double t = Math.max(0, Math.min(1, (r + 1) / 2));
      want += (x[i] - t) * (x[i] - t) / n;
    }
    assertEquals(3 * 36, inside);
    assertEquals(2 * want, got, 1e-5);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new CaptionPriorLoss((h, w) -> toyPrior(h, w), 1, 0, 0, 0,
        1, 0.5));
    assertTrue(e.getMessage().contains("band") && e.getMessage().contains("0.5"), e.getMessage());
  }
}
