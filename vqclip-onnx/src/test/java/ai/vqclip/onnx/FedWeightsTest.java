package ai.vqclip.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import ai.vqclip.onnx.testing.GradCheck;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Weights read only by matrix products become inputs fed from vqclip's buffers; others stay initializers. */
class FedWeightsTest {
  /**
   * y = Gemm(x, g)^T-free product, a Conv over x reshaped with c, and a weight s read by a Gemm and
   * an Add: only g qualifies.
   */
  private static Graph mixed() {
    SplittableRandom r = new SplittableRandom(3);
    GraphBuilder b = new GraphBuilder("mixed");
    Value x = b.input("x", DType.FLOAT, Shape.of(4, 256));
    Value g = b.initializer("g", GradCheck.random(DType.FLOAT, new long[] {128, 256}, r, 0.1).offHeap());
    Value s = b.initializer("s", GradCheck.random(DType.FLOAT, new long[] {256, 128}, r, 0.1).offHeap());
    Value c = b.initializer("c", GradCheck.random(DType.FLOAT, new long[] {128, 16, 3, 3}, r, 0.1).offHeap());
    Value y = b.op("Gemm").in(x, g).attr("transB", 1L).out(); // [4,128]
    Value t = b.op("Gemm").in(x, s).out(); // [4,128]
    Value sum = b.add(y, b.add(t, b.op("ReduceSum").in(s).attr("keepdims", 0L).out()));
    Value img = b.reshape(x, 1, 16, 8, 8);
    b.output("y", sum);
    b.output("conv", b.op("Conv").in(img, c).ints("pads", 1, 1, 1, 1).out());
    return b.build();
  }

  @Test
  void onlyWeightsThatOnlyProductsReadAreFed() throws Exception {
    OnnxModel m = OnnxExport.export(mixed(), 0);
    assertEquals(Set.of("g", "s", "c"), m.externalInitializers().keySet());
    FedWeights.Split split = FedWeights.split(m);
    assertEquals(Set.of("g"), split.fed().keySet());
    assertEquals(Set.of("s", "c"), split.model().externalInitializers().keySet());
    OnnxMl.GraphProto gp = OnnxMl.ModelProto.parseFrom(split.model().bytes()).getGraph();
    assertTrue(gp.getInputList().stream().anyMatch(v -> v.getName().equals("g")), "g is a graph input");
    assertTrue(gp.getInitializerList().stream().noneMatch(t -> t.getName().equals("g")), "g is no initializer");
    OnnxModel none = OnnxExport.export(mixed(), Long.MAX_VALUE);
    assertEquals(Map.of(), FedWeights.split(none).fed(), "nothing external, nothing fed");
  }

  @Test
  void fedSessionsComputeWhatInitializerSessionsDoAlsoFromSeveralThreads() throws Exception {
    Graph g = mixed();
    Map<String, Tensor> in = Map.of("x", GradCheck.random(DType.FLOAT, new long[] {4, 256}, new SplittableRandom(9), 1));
    ExecutionOptions opts = ExecutionOptions.cpu().withThreads(1);
    Map<String, Tensor> reference;
    String before = System.getProperty(OrtExecutable.FED_WEIGHTS_PROPERTY);
    System.setProperty(OrtExecutable.FED_WEIGHTS_PROPERTY, "off");
    try (OrtExecutable e = OrtExecutable.create(g, opts)) {
      reference = e.run(in);
    } finally {
      if (before == null) {
        System.clearProperty(OrtExecutable.FED_WEIGHTS_PROPERTY);
      } else {
        System.setProperty(OrtExecutable.FED_WEIGHTS_PROPERTY, before);
      }
    }
    try (OrtExecutable e = OrtExecutable.create(g, opts)) {
      Map<String, Tensor> first = e.run(in);
      float[] want = reference.get("y").toFloats();
      float[] got = first.get("y").toFloats();
      for (int i = 0; i < want.length; i++) {
        assertEquals(want[i], got[i], 1e-5 * (1 + Math.abs(want[i])), "y[" + i + "]");
      }
      assertEquals(reference.get("conv"), first.get("conv"), "the Conv's weight stays an initializer: same arithmetic");
      ExecutorService pool = Executors.newFixedThreadPool(4);
      try {
        List<Future<Map<String, Tensor>>> runs = new ArrayList<>();
        for (int k = 0; k < 8; k++) {
          runs.add(pool.submit(() -> e.run(in)));
        }
        for (Future<Map<String, Tensor>> f : runs) {
          assertEquals(first, f.get(), "a fed weight is read, never consumed: every run gives the first run's bits");
        }
      } finally {
        pool.shutdown();
      }
    }
  }
}
