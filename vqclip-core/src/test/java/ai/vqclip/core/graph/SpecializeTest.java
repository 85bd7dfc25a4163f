package ai.vqclip.core.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.Tensor;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class SpecializeTest {
  /** Builds a graph with one float input x [batch, 6] and the output {@code f(b, x)}. */
  private static Graph dyn(java.util.function.BiFunction<GraphBuilder, Value, Value> f) {
    GraphBuilder b = new GraphBuilder("g");
    Value x = b.input("x", DType.FLOAT, Shape.parse("batch", 6));
    b.output("y", f.apply(b, x));
    return b.build();
  }

  /** Specializes a graph whose output is computed from constants only and returns the folded output. */
  private static Tensor folded(Function<GraphBuilder, Value> f) {
    GraphBuilder b = new GraphBuilder("c");
    b.input("unused", DType.FLOAT, Shape.of(1));
    b.output("y", f.apply(b));
    Graph g = Specialize.apply(b.build(), Map.of());
    assertTrue(g.nodes().stream().allMatch(n -> n.opType().equals("Identity")), "not folded: " + g.opTypes());
    Node id = g.nodes().get(0);
    return g.initializers().get(id.input(0));
  }

  @Test
  void exporterShapeArithmeticFoldsAway() {
    Graph g = dyn((b, x) -> {
      Value n = b.op("Gather").in(b.shapeOf(x), b.constant(Tensor.ofLongs(new long[0], 0))).attr("axis", 0L).out();
      Value target = b.op("Concat").in(b.unsqueeze(n, 0), b.ints(2, 3)).attr("axis", 0L).out();
      return b.op("Identity").in(b.reshape(x, target)).out();
    });
    assertFalse(g.output("y").shape().isStatic());
    Graph s = Specialize.apply(g, Map.of("batch", 5L));
    assertEquals(List.of("Reshape", "Identity"), s.nodes().stream().map(Node::opType).toList());
    assertEquals(Shape.of(5, 2, 3), s.output("y").shape());
    assertEquals(Shape.of(5, 6), s.input("x").shape());
    Graph t = Specialize.withInputShapes(g, Map.of("x", new long[] {2, 6}));
    assertEquals(Shape.of(2, 2, 3), t.output("y").shape());
  }

  @Test
  void missingSizeAndNonStaticValuesAreNamed() {
    Graph g = dyn((b, x) -> b.reshape(x, b.ints(-1, 3)));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Specialize.apply(g, Map.of("time", 3L)));
    assertTrue(e.getMessage().contains("'batch'") && e.getMessage().contains("input 'x'"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Specialize.apply(g, Map.of("batch", -1L)));
    assertThrows(IllegalArgumentException.class, () -> Specialize.withInputShapes(g, Map.of("x", new long[] {2, 7})));

    GraphBuilder b = new GraphBuilder("h");
    Value x = b.input("x", DType.FLOAT, Shape.of(2, 6));
    Value shape = b.input("shape", DType.INT64, Shape.of(2));
    b.output("y", b.reshape(x, shape));
    IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class, () -> Specialize.apply(b.build(), Map.of()));
    assertTrue(e2.getMessage().contains("no static shape") && e2.getMessage().contains("Reshape"), e2.getMessage());
  }

  @Test
  void identityAndInferenceDropoutAreRemoved() {
    Graph g = dyn((b, x) -> {
      Value d = b.op("Dropout").in(b.op("Identity").in(x).out()).outs(1).get(0);
      return b.op("Relu").in(d).out();
    });
    Graph s = Specialize.apply(g, Map.of("batch", 1L));
    // The output keeps its name through the Identity that b.output(name, v) wrote.
    assertEquals(List.of("Relu", "Identity"), s.nodes().stream().map(Node::opType).toList());
    assertEquals("x", s.nodes().get(0).input(0));
  }

  @Test
  void hostEvaluation() {
    Tensor m = Tensor.ofLongs(new long[] {2, 3}, 1, 2, 3, 4, 5, 6);
    assertArrayEquals(new long[] {3, 1, 6, 4},
        folded(b -> b.op("Gather").in(b.constant(m), b.ints(-1, 0)).attr("axis", 1L).out()).toLongs());
    // Slice with a negative step and an end past the start.
    assertArrayEquals(new long[] {3, 2, 6, 5},
        folded(b -> b.op("Slice").in(b.constant(m), b.ints(-1), b.ints(0), b.ints(1), b.ints(-1)).out()).toLongs());
    assertArrayEquals(new long[] {1, 2, 3, 9, 4, 5, 6, 9},
        folded(b -> b.op("Concat").in(b.constant(m), b.constant(Tensor.ofLongs(new long[] {2, 1}, 9, 9))).attr("axis", 1L).out()).toLongs());
    assertArrayEquals(new long[] {1, 4, 2, 5, 3, 6}, folded(b -> b.transpose(b.constant(m), 1, 0)).toLongs());
    // ONNX integer Div truncates; Mod (fmod=0) takes the divisor's sign.
    assertArrayEquals(new long[] {-3, 3}, folded(b -> b.div(b.ints(-7, 7), b.ints(2))).toLongs());
    assertArrayEquals(new long[] {1, -1}, folded(b -> b.op("Mod").in(b.ints(-7, 7), b.ints(2, -2)).out()).toLongs());
    assertArrayEquals(new long[] {-1, 2}, folded(b -> b.cast(b.constant(Tensor.ofFloats(new long[] {2}, -1.7f, 2.9f)), DType.INT64)).toLongs());
    assertArrayEquals(new long[] {0, 3, 6}, folded(b -> b.op("Range").in(b.constant(Tensor.ofLongs(new long[0], 0)),
        b.constant(Tensor.ofLongs(new long[0], 7)), b.constant(Tensor.ofLongs(new long[0], 3))).out()).toLongs());
    assertArrayEquals(new long[] {2, 2, 2, 5, 5, 5},
        folded(b -> b.expand(b.constant(Tensor.ofLongs(new long[] {2, 1}, 2, 5)), b.ints(2, 3))).toLongs());
    assertArrayEquals(new long[] {4, 4, 4}, folded(b -> b.op("ConstantOfShape").in(b.ints(3))
        .attr("value", Tensor.ofLongs(new long[] {1}, 4)).out()).toLongs());
    // Where(Equal(a, 2), 10, a); NonZero of [[0, 1], [1, 0]].
    assertArrayEquals(new long[] {1, 10, 3},
        folded(b -> {
          Value a = b.ints(1, 2, 3);
          return b.op("Where").in(b.op("Equal").in(a, b.ints(2)).out(), b.ints(10), a).out();
        }).toLongs());
    assertArrayEquals(new long[] {0, 1, 1, 0},
        folded(b -> b.op("NonZero").in(b.constant(Tensor.ofLongs(new long[] {2, 2}, 0, 1, 1, 0))).out()).toLongs());
    // Float arithmetic rounds to float32 once per op, as computing in float does.
    float third = folded(b -> b.div(b.scalar(1, DType.FLOAT), b.scalar(3, DType.FLOAT))).toFloats()[0];
    assertEquals(1f / 3f, third);
  }

  @Test
  void hugeFoldsStayNodes() {
    // A hostile ConstantOfShape of 10^10 elements is not evaluated on the host: the node stays.
    GraphBuilder b = new GraphBuilder("big");
    Value x = b.input("x", DType.FLOAT, Shape.of(1));
    Value big = b.op("ConstantOfShape").in(b.ints(100000, 100000)).out();
    b.output("y", b.add(b.reduceSum(big, false), x));
    Graph s = Specialize.apply(b.build(), Map.of());
    assertTrue(s.opTypes().contains("ConstantOfShape"), s.opTypes().toString());
  }

  @Test
  void variablesAreNotFolded() {
    GraphBuilder b = new GraphBuilder("v");
    Value x = b.input("x", DType.FLOAT, Shape.of(2));
    Value w = b.initializer("w", Tensor.ofFloats(new long[] {4}, 1, 2, 3, 4));
    b.output("y", b.add(x, b.op("Slice").in(w, b.ints(0), b.ints(2)).out()));
    Graph g = b.build();
    assertFalse(Specialize.apply(g, Map.of()).opTypes().contains("Slice"), "a plain constant slice folds");
    Graph kept = Specialize.apply(g, Map.of(), java.util.Set.of("w"));
    assertTrue(kept.opTypes().contains("Slice") && kept.initializers().containsKey("w"), kept.opTypes().toString());
    assertThrows(IllegalArgumentException.class, () -> Specialize.apply(g, Map.of(), java.util.Set.of("x")));
  }
}
