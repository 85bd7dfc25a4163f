package ai.vqclip.onnx.autodiff;

import static ai.vqclip.onnx.testing.GradCheck.TOL_F32;
import static ai.vqclip.onnx.testing.GradCheck.assertGradient;
import static ai.vqclip.onnx.testing.GradCheck.randomInputs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Finite-difference checks of the Conv and ConvTranspose VJP rules. ORT's CPU provider implements
 * Conv and ConvTranspose only in float32, so every check runs in FLOAT with eps 1e-2 and {@link
 * TOL_F32}; both ops are linear in each argument, so the central difference is exact up to float
 * rounding.
 */
class ConvGradTest {
  private static final long SEED = 7;
  private static final double EPS = 1e-2;

  /** One convolution configuration: shapes are [N, C, spatial...] and weights [M, C/group, k...]. */
  record Case(String name, long[] x, long m, long[] k, long[] strides, long[] pads, long[] dilations, long group) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<Arguments> convCases() {
    return Stream.of(
        new Case("3x3 s1 p1", new long[] {2, 4, 7, 7}, 6, new long[] {3, 3}, new long[] {1, 1}, new long[] {1, 1, 1, 1}, new long[] {1, 1}, 1),
        new Case("3x3 s2 p1 even", new long[] {2, 3, 8, 8}, 5, new long[] {3, 3}, new long[] {2, 2}, new long[] {1, 1, 1, 1}, new long[] {1, 1}, 1),
        new Case("3x3 s2 asym pads odd", new long[] {2, 4, 7, 9}, 4, new long[] {3, 3}, new long[] {2, 2}, new long[] {0, 2, 1, 0}, new long[] {1, 1}, 1),
        new Case("4x4 s2 p1", new long[] {1, 3, 9, 9}, 4, new long[] {4, 4}, new long[] {2, 2}, new long[] {1, 1, 1, 1}, new long[] {1, 1}, 1),
        new Case("1x1 s2 even-odd", new long[] {2, 4, 8, 7}, 3, new long[] {1, 1}, new long[] {2, 2}, new long[] {0, 0, 0, 0}, new long[] {1, 1}, 1),
        new Case("3x3 dil2 p2", new long[] {2, 4, 9, 7}, 4, new long[] {3, 3}, new long[] {1, 1}, new long[] {2, 2, 2, 2}, new long[] {2, 2}, 1),
        new Case("3x3 dil2 s2 asym", new long[] {1, 2, 11, 10}, 3, new long[] {3, 3}, new long[] {2, 3}, new long[] {3, 0, 1, 2}, new long[] {2, 2}, 1),
        new Case("3x3 group2 s2", new long[] {2, 6, 7, 7}, 4, new long[] {3, 3}, new long[] {2, 2}, new long[] {1, 1, 1, 1}, new long[] {1, 1}, 2),
        new Case("4x4 group2 asym dil2", new long[] {2, 4, 9, 9}, 4, new long[] {4, 4}, new long[] {1, 2}, new long[] {2, 1, 0, 3}, new long[] {2, 1}, 2),
        new Case("3x3 depthwise p1", new long[] {2, 4, 7, 7}, 4, new long[] {3, 3}, new long[] {1, 1}, new long[] {1, 1, 1, 1}, new long[] {1, 1}, 4),
        new Case("3x3 depthwise mult2 s2", new long[] {2, 3, 7, 8}, 6, new long[] {3, 3}, new long[] {2, 2}, new long[] {0, 1, 1, 0}, new long[] {1, 1}, 3),
        new Case("1-D k3 s2 asym", new long[] {2, 4, 11}, 5, new long[] {3}, new long[] {2}, new long[] {2, 0}, new long[] {1}, 1),
        new Case("1-D k4 group2 dil2", new long[] {2, 4, 13}, 4, new long[] {4}, new long[] {1}, new long[] {1, 2}, new long[] {2}, 2))
        .map(Arguments::of);
  }

  private static Graph convGraph(Case c, String op, boolean bias) {
    GraphBuilder b = new GraphBuilder(op + " " + c.name());
    Value x = b.input("x", DType.FLOAT, Shape.of(c.x()));
    long[] ws = new long[c.x().length];
    if (op.equals("Conv")) {
      ws[0] = c.m();
      ws[1] = c.x()[1] / c.group();
    } else {
      ws[0] = c.x()[1];
      ws[1] = c.m() / c.group();
    }
    System.arraycopy(c.k(), 0, ws, 2, c.k().length);
    Value w = b.input("w", DType.FLOAT, Shape.of(ws));
    List<Value> in = new ArrayList<>(List.of(x, w));
    if (bias) {
      in.add(b.input("b", DType.FLOAT, Shape.of(c.m())));
    }
    b.output(b.op(op)
        .in(in.toArray(Value[]::new))
        .ints("strides", c.strides())
        .ints("pads", c.pads())
        .ints("dilations", c.dilations())
        .attr("group", c.group())
        .out());
    return b.build();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("convCases")
  void convGradients(Case c) {
    Graph g = convGraph(c, "Conv", true);
    var inputs = randomInputs(g, Map.of(), SEED);
    for (String wrt : List.of("x", "w", "b")) {
      assertGradient(g, inputs, List.of(wrt), EPS, TOL_F32, SEED);
    }
  }

  static Stream<Arguments> convTransposeCases() {
    // Same fields as Conv; m is ConvTranspose's output channel count and pads may be asymmetric.
    return Stream.of(
        new Case("3x3 s1 p1", new long[] {2, 4, 5, 5}, 6, new long[] {3, 3}, new long[] {1, 1}, new long[] {1, 1, 1, 1}, new long[] {1, 1}, 1),
        new Case("4x4 s2 p1", new long[] {2, 4, 5, 5}, 3, new long[] {4, 4}, new long[] {2, 2}, new long[] {1, 1, 1, 1}, new long[] {1, 1}, 1),
        new Case("3x3 s2 asym pads", new long[] {2, 3, 5, 4}, 4, new long[] {3, 3}, new long[] {2, 2}, new long[] {0, 2, 1, 0}, new long[] {1, 1}, 1),
        new Case("3x3 dil2 s2", new long[] {1, 2, 4, 5}, 3, new long[] {3, 3}, new long[] {2, 1}, new long[] {1, 2, 2, 1}, new long[] {2, 2}, 1),
        new Case("3x3 group2 s2", new long[] {2, 4, 5, 5}, 6, new long[] {3, 3}, new long[] {2, 2}, new long[] {1, 1, 1, 1}, new long[] {1, 1}, 2),
        new Case("4x4 depthwise s2 p1", new long[] {2, 4, 5, 5}, 4, new long[] {4, 4}, new long[] {2, 2}, new long[] {1, 1, 1, 1}, new long[] {1, 1}, 4),
        new Case("1x1 s1", new long[] {2, 4, 5, 6}, 3, new long[] {1, 1}, new long[] {1, 1}, new long[] {0, 0, 0, 0}, new long[] {1, 1}, 1),
        new Case("1-D k4 s2 asym group2", new long[] {2, 4, 7}, 6, new long[] {4}, new long[] {2}, new long[] {2, 1}, new long[] {1}, 2))
        .map(Arguments::of);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("convTransposeCases")
  void convTransposeGradients(Case c) {
    Graph g = convGraph(c, "ConvTranspose", true);
    var inputs = randomInputs(g, Map.of(), SEED);
    for (String wrt : List.of("x", "w", "b")) {
      assertGradient(g, inputs, List.of(wrt), EPS, TOL_F32, SEED);
    }
  }

  @org.junit.jupiter.api.Test
  void convTransposeWithOutputPadding() {
    // output_padding 1 with stride 2 and asymmetric pads; output_padding (1, 2) with strides (2, 3),
    // dilations (1, 3). ORT rejects output_padding >= stride even where ONNX would allow it (< dilation).
    for (long[][] cfg : List.of(
        new long[][] {{2, 2}, {1, 1}, {1, 0, 0, 1}, {1, 1}},
        new long[][] {{2, 3}, {1, 2}, {1, 1, 1, 1}, {1, 3}})) {
      GraphBuilder b = new GraphBuilder("ConvTranspose output_padding " + Arrays.toString(cfg[1]));
      Value x = b.input("x", DType.FLOAT, Shape.of(2, 4, 5, 5));
      Value w = b.input("w", DType.FLOAT, Shape.of(4, 3, 3, 3));
      Value bias = b.input("b", DType.FLOAT, Shape.of(3));
      b.output(b.op("ConvTranspose")
          .in(x, w, bias)
          .ints("strides", cfg[0])
          .ints("output_padding", cfg[1])
          .ints("pads", cfg[2])
          .ints("dilations", cfg[3])
          .out());
      Graph g = b.build();
      var inputs = randomInputs(g, Map.of(), SEED);
      for (String wrt : List.of("x", "w", "b")) {
        assertGradient(g, inputs, List.of(wrt), EPS, TOL_F32, SEED);
      }
    }
  }

  @org.junit.jupiter.api.Test
  void convWithoutBiasAllAtOnce() {
    Case c = new Case("3x3 s2 asym", new long[] {2, 4, 7, 7}, 4, new long[] {3, 3}, new long[] {2, 2}, new long[] {1, 0, 0, 1},
        new long[] {1, 1}, 2);
    Graph g = convGraph(c, "Conv", false);
    assertGradient(g, randomInputs(g, Map.of(), SEED), List.of("x", "w"), EPS, TOL_F32, SEED);
  }

  @org.junit.jupiter.api.Test
  void emittedConvTransposeNodesHaveSymmetricPads() {
    List<Graph> forwards = new ArrayList<>();
    convCases().map(a -> (Case) a.get()[0]).forEach(c -> forwards.add(convGraph(c, "Conv", true)));
    convTransposeCases().map(a -> (Case) a.get()[0]).forEach(c -> forwards.add(convGraph(c, "ConvTranspose", true)));
    GraphBuilder pb = new GraphBuilder("avgpool asym");
    Value px = pb.input("x", DType.FLOAT, Shape.of(1, 2, 7, 8));
    pb.output(pb.op("AveragePool").in(px).ints("kernel_shape", 3, 3).ints("strides", 2, 2).ints("pads", 0, 2, 1, 0).out());
    forwards.add(pb.build());
    int seen = 0;
    for (Graph f : forwards) {
      List<String> wrt = f.inputs().stream().map(Value::name).toList();
      Graph grad = ai.vqclip.core.autodiff.Autodiff.differentiate(
          f, ai.vqclip.core.autodiff.GradientRequest.ofSeeds(List.of(f.outputs().get(0).name()), wrt));
      for (var n : grad.nodes()) {
        if (!n.opType().equals("ConvTranspose") || n.name().equals(f.nodes().get(0).name())) {
          continue;
        }
        seen++;
        long[] pads = n.attrInts("pads", new long[0]);
        int r = pads.length / 2;
        for (int i = 0; i < r; i++) {
          assertEquals(pads[i], pads[i + r], () -> f.name() + ": gradient node " + n.describe() + " has asymmetric pads " + Arrays.toString(pads));
        }
      }
    }
    // Stride-1 Conv input gradients are Convs with a flipped kernel (ConvInputGradFormTest); every
    // strided Conv and the pool still emit a ConvTranspose.
    long strided = convCases().map(a -> (Case) a.get()[0]).filter(c -> Arrays.stream(c.strides()).anyMatch(s -> s != 1)).count();
    assertTrue(seen >= strided + 1, "expected a ConvTranspose in every strided Conv and pool gradient (" + (strided + 1) + "), saw " + seen);
  }
}
