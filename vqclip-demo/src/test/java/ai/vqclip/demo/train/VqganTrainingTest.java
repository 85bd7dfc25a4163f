package ai.vqclip.demo.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.Tensor;
import ai.vqclip.demo.data.ShapesDataset;
import ai.vqclip.onnx.RandomWeights;
import ai.vqclip.onnx.testing.GradCheck;
import ai.vqclip.onnx.vqgan.VqganConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class VqganTrainingTest {
  /** 16x16 pictures, f=2, 8 channels: seconds to train. */
  static final VqganConfig TINY = new VqganConfig(8, List.of(1, 2), 1, List.of(), 4, 4, 16, 16, 3, 3, false, false, 4);

  /** The loss graph alone (the other outputs are not functions of the weights to check). */
  private static ai.vqclip.core.graph.Graph lossOnly(VqTrainingGraph tg) {
    ai.vqclip.core.graph.GraphBuilder b = ai.vqclip.core.graph.GraphBuilder.from(tg.graph()).clearOutputs();
    b.output(b.value(VqTrainingGraph.LOSS));
    return b.build().pruned();
  }

  @Test
  void codebookAndDecoderGradientsMatchFiniteDifferences() {
    Map<String, Tensor> w = RandomWeights.vqgan(TINY, 3);
    Tensor x = VqganTraining.batch(new ShapesDataset(16, 1), 0, 2);
    // The straight-through and stop-gradient terms make the VQ gradient differ from the true
    // derivative on purpose, except where they do not act: the decoder's weights (reconstruction
    // only), and the codebook when only the codebook term ||sg(z) - e||^2 is on.
    GradCheck.assertGradient(lossOnly(VqTrainingGraph.build(TINY, w, 2, 16, 0.25)), Map.of(VqTrainingGraph.X, x),
        List.of("dec/decoder.conv_out.weight", "dec/decoder.mid.block_1.conv1.weight"), 1e-3, GradCheck.TOL_F32, 6);
    // eps small enough that no latent cell switches code.
    GradCheck.assertGradient(lossOnly(VqTrainingGraph.build(TINY, w, 2, 16, 0, 0)), Map.of(VqTrainingGraph.X, x),
        List.of(TINY.codebookKey()), 1e-3, GradCheck.TOL_F32, 5);
  }

  @Test
  void shortRunLowersTheLossAndIsBitIdenticalForTheSameSeed() {
    VqganTraining run = new VqganTraining(TINY, 16, 8, 80, 3e-3, 0.25, 20, 11, 20);
    List<String> log = new ArrayList<>();
    VqganTraining.Result a = run.run(log::add);
    List<Double> l = a.manifest().losses();
    assertEquals(4, l.size());
    assertTrue(l.get(3) < 0.8 * l.get(0), "loss should fall: " + l);
    assertTrue(log.stream().anyMatch(s -> s.contains("step 80/80")), log.toString());
    VqganTraining.Result b = run.run(s -> {});
    assertEquals(a.weights().keySet(), b.weights().keySet());
    for (String k : a.weights().keySet()) {
      assertArrayEquals(a.weights().get(k).toFloats(), b.weights().get(k).toFloats(), k);
    }
    assertEquals(l, b.manifest().losses());
  }
}
