package ai.vqclip.onnx.clip;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.vqclip.core.Encoder;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.autodiff.Autodiff;
import ai.vqclip.core.autodiff.GradientRequest;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import ai.vqclip.onnx.CudaCoverage;
import ai.vqclip.onnx.testing.GradCheck;
import ai.vqclip.onnx.weights.StateDict;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Gradients through the tiny CLIP image fragment, and CUDA kernel coverage of the emitted graphs. */
class ClipGradTest {
  private static final ClipConfig CFG = ClipTestModels.TINY;

  private static ClipGraphs graphs() {
    return new ClipGraphs(CFG, ClipWeights.of(StateDict.of(ClipTestModels.openAiWeights(CFG, 23))));
  }

  /** The prompt loss of METHOD.md B.6 on top of the fragment: d = 2 asin(|a^ - t^| / 2)^2. */
  private static Graph sphericalLoss(Graph fragment, double[] target) {
    GraphBuilder b = new GraphBuilder("clip_spherical_distance");
    int s = CFG.imageResolution();
    Value img = b.input(Encoder.IMAGES, DType.FLOAT, Shape.of(1, 3, s, s));
    Value e = b.include(fragment, "clip", Map.of(Encoder.IMAGES, img)).get(Encoder.EMBEDDINGS); // [1, D]
    Value norm = b.op("Sqrt").in(b.reduceSum(b.mul(e, e), true, -1)).out();
    Value a = b.div(e, norm);
    double len = 0;
    for (double v : target) {
      len += v * v;
    }
    double[] t = target.clone();
    for (int i = 0; i < t.length; i++) {
      t[i] /= Math.sqrt(len);
    }
    Value diff = b.sub(a, b.constant(Tensor.fromDoubles(DType.FLOAT, new long[] {1, t.length}, t)));
    Value dist = b.op("Sqrt").in(b.reduceSum(b.mul(diff, diff), false, -1)).out(); // [1]
    Value half = b.op("Asin").in(b.mul(dist, b.scalar(0.5, DType.FLOAT))).out();
    Value d = b.mul(b.mul(half, half), b.scalar(2, DType.FLOAT));
    b.output("loss", d);
    return b.build();
  }

  @Test
  void sphericalDistanceGradientWithRespectToTheImage() {
    SplittableRandom rnd = new SplittableRandom(31);
    double[] target = new double[CFG.embedDim()];
    for (int i = 0; i < target.length; i++) {
      target[i] = GradCheck.gaussian(rnd);
    }
    Graph loss = sphericalLoss(graphs().image(1), target);
    int s = CFG.imageResolution();
    double[] px = new double[3 * s * s];
    for (int i = 0; i < px.length; i++) {
      px[i] = rnd.nextDouble();
    }
    Map<String, Tensor> in = Map.of(Encoder.IMAGES, Tensor.fromDoubles(DType.FLOAT, new long[] {1, 3, s, s}, px));
    GradCheck.assertGradient(loss, in, List.of(Encoder.IMAGES), 1e-2, GradCheck.TOL_F32, 31);
  }

  @Test
  void differentiatedImageFragmentRunsOnCudaWithoutFallback() {
    Graph g = graphs().image(2);
    Graph grad = Autodiff.differentiate(g, GradientRequest.ofSeeds(List.of(Encoder.EMBEDDINGS), List.of(Encoder.IMAGES)));
    assertEquals(List.of(), CudaCoverage.check(grad));
  }

  @Test
  void textGraphRunsOnCudaWithoutFallback() {
    assertEquals(List.of(), CudaCoverage.check(graphs().text(2)));
  }
}
