package ai.vqclip.bench;

import ai.vqclip.core.graph.FlopCounter;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import org.junit.jupiter.api.Test;

class FlopCounterTest {
  private static Tensor zeros(long... shape) {
    return Tensor.filled(DType.FLOAT, shape, 0);
  }

  @Test
  void countsConvWithGroupsStridesAndPads() {
    GraphBuilder b = new GraphBuilder("conv");
    Value x = b.input("x", DType.FLOAT, Shape.of(2, 8, 10, 12));
    // 8 -> 6 channels in 2 groups, 3x5 kernel, stride 2, pads 1,2: out 5 x 6.
    Value w = b.initializer("w", zeros(6, 4, 3, 5));
    Value y = b.op("Conv").in(x, w).attr("group", 2L).ints("strides", 2, 2).ints("pads", 1, 2, 1, 2).out();
    b.output(y);
    Graph g = b.build();
    assertEquals(Shape.of(2, 6, 5, 6), g.value(y.name()).shape());
    assertEquals(2L * 2 * 6 * 5 * 6 * (8 / 2) * 3 * 5, FlopCounter.count(g));
  }

  @Test
  void countsConvTransposeByItsInput() {
    GraphBuilder b = new GraphBuilder("convT");
    Value x = b.input("x", DType.FLOAT, Shape.of(1, 4, 5, 5));
    Value w = b.initializer("w", zeros(4, 3, 4, 4));
    b.output(b.op("ConvTranspose").in(x, w).ints("strides", 2, 2).ints("pads", 1, 1, 1, 1).out());
    assertEquals(2L * 1 * 4 * 5 * 5 * 3 * 4 * 4, FlopCounter.count(b.build()));
  }

  @Test
  void countsBatchedMatMulAndGemmAndIgnoresElementwise() {
    GraphBuilder b = new GraphBuilder("mm");
    Value a = b.input("a", DType.FLOAT, Shape.of(3, 4, 5));
    Value m = b.initializer("m", zeros(5, 7));
    Value p = b.matmul(a, m); // [3, 4, 7], K = 5
    Value s = b.op("Sigmoid").in(p).out();
    Value flat = b.input("f", DType.FLOAT, Shape.of(6, 9));
    Value g = b.op("Gemm").in(flat, b.initializer("gw", zeros(2, 9))).attr("transB", 1L).out(); // [6, 2], K = 9
    b.output(s);
    b.output(g);
    assertEquals(2L * 3 * 4 * 7 * 5 + 2L * 6 * 2 * 9, FlopCounter.count(b.build()));
  }

  @Test
  void convNetForwardCountMatchesTheFormula() {
    int layers = 2;
    int c = 64;
    int size = 8;
    Graph g = BenchGraphs.convNet(layers, c, 32, size, 1);
    assertEquals((long) layers * 2 * c * size * size * c * 9, FlopCounter.count(g));
    assertEquals(2L * 64 * 64 * 64, FlopCounter.count(BenchGraphs.sgemm(64, 1)));
    assertEquals(2.0 * 2048 * 2048 * 2048, SgemmPeak.flops(2048));
  }

  @Test
  void symbolicShapesAreAnError() {
    GraphBuilder b = new GraphBuilder("sym");
    Value a = b.input("a", DType.FLOAT, Shape.parse("n", 5));
    b.output(b.matmul(a, b.initializer("m", zeros(5, 2))));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FlopCounter.count(b.build()));
    assertTrue(e.getMessage().contains("MatMul"), e.getMessage());
  }
}
