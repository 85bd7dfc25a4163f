package ai.vqclip.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.onnx.OrtExecutable;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The benchmark graphs at toy sizes: ONNX Runtime accepts them and computes what they say. */
class BenchGraphsTest {
  @Test
  void sgemmGraphSumsTheProduct() {
    int n = 16;
    Graph g = BenchGraphs.sgemm(n, 1);
    Tensor x = BenchGraphs.randomInput(2, n, n);
    float[] a = x.toFloats();
    float[] w = g.initializers().get("w").toFloats();
    double expected = 0;
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        for (int k = 0; k < n; k++) {
          expected += (double) a[i * n + k] * w[k * n + j];
        }
      }
    }
    try (OrtExecutable exe = OrtExecutable.create(g, ExecutionOptions.cpu().withThreads(1))) {
      double got = exe.run(Map.of(BenchGraphs.INPUT, x)).get(BenchGraphs.LOSS).toDoubles()[0];
      // float32 accumulation over n^3 = 4096 products of unit size
      assertEquals(expected, got, 1e-3 * Math.max(1, Math.abs(expected)));
    }
  }

  @Test
  void convNetForwardRunsInOnnxRuntime() {
    Graph g = BenchGraphs.convNet(2, 64, 32, 8, 1);
    try (OrtExecutable exe = OrtExecutable.create(g, ExecutionOptions.cpu().withThreads(1))) {
      double loss = exe.run(Map.of(BenchGraphs.INPUT, BenchGraphs.randomInput(2, 1, 64, 8, 8))).get(BenchGraphs.LOSS).toDoubles()[0];
      // After GroupNorm and swish each element is O(1): the sum of 4096 squares is positive and finite.
      assertTrue(loss > 1 && loss < 1e6, "loss " + loss);
    }
  }

  @Test
  void rejectsGroupsThatDoNotDivideChannels() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BenchGraphs.convNet(1, 48, 32, 8, 1));
    assertTrue(e.getMessage().contains("48"), e.getMessage());
  }
}
