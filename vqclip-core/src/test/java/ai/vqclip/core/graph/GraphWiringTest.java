package ai.vqclip.core.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.Tensor;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Wrong wiring fails at build time, naming the node and both ends; fragment names stay scoped. */
class GraphWiringTest {
  private static void assertRejected(Executable call, String... parts) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
    for (String p : parts) {
      assertTrue(e.getMessage().contains(p), () -> "message '" + e.getMessage() + "' should contain '" + p + "'");
    }
  }

  @Test
  void broadcastingMismatchNamesBothValues() {
    GraphBuilder b = new GraphBuilder("g");
    Value a = b.input("a", DType.FLOAT, Shape.of(2, 3));
    Value c = b.input("c", DType.FLOAT, Shape.of(4));
    assertRejected(() -> b.add(a, c), "Add node 'Add'", "cannot broadcast 'a' [2,3] FLOAT with 'c' [4] FLOAT", "dim -1 is 3 vs 4");
    // Size-1 axes and symbols broadcast.
    Value one = b.input("one", DType.FLOAT, Shape.of(1, 3));
    Value sym = b.input("sym", DType.FLOAT, Shape.parse("n", 1));
    assertEquals(Shape.of(2, 3), b.add(a, one).shape());
    assertEquals(Shape.parse("n", 3), b.mul(sym, one).shape());
    // Different element types are refused too.
    Value d = b.input("d", DType.DOUBLE, Shape.of(2, 3));
    assertRejected(() -> b.sub(a, d), "Sub node", "input types differ", "'a' [2,3] FLOAT", "'d' [2,3] DOUBLE");
  }

  @Test
  void matmulInnerDimensionsMustAgree() {
    GraphBuilder b = new GraphBuilder("g");
    Value a = b.input("a", DType.FLOAT, Shape.of(2, 3));
    Value w = b.input("w", DType.FLOAT, Shape.of(4, 5));
    assertRejected(() -> b.matmul(a, w), "MatMul node", "inner dimensions differ", "'a' [2,3] FLOAT has 3", "'w' [4,5] FLOAT has 4");
    Value batched = b.input("x", DType.FLOAT, Shape.of(7, 2, 4));
    assertEquals(Shape.of(7, 2, 5), b.matmul(batched, w).shape());
    Value badBatch = b.input("y", DType.FLOAT, Shape.of(6, 4, 5));
    assertRejected(() -> b.matmul(batched, badBatch), "cannot broadcast", "7 vs 6");
  }

  @Test
  void convChannelMismatchNamesInputAndWeight() {
    GraphBuilder b = new GraphBuilder("g");
    Value x = b.input("x", DType.FLOAT, Shape.of(1, 3, 8, 8));
    Value w = b.initializer("w", Tensor.filled(DType.FLOAT, new long[] {4, 2, 3, 3}, 0.1));
    assertRejected(() -> b.op("Conv").in(x, w).named("conv1").out(), "Conv node 'conv1'", "input 'x' [1,3,8,8] FLOAT has 3 channels",
        "weight 'w' [4,2,3,3] FLOAT with group=1 expects 2");
    Value x4 = b.input("x4", DType.FLOAT, Shape.of(1, 4, 8, 8));
    assertEquals(Shape.of(1, 4, 6, 6), b.op("Conv").in(x4, w).attr("group", 2L).out().shape());
    Value bias = b.initializer("bias", Tensor.filled(DType.FLOAT, new long[] {3}, 0));
    assertRejected(() -> b.op("Conv").in(x4, w, bias).attr("group", 2L).out(), "bias 'bias' [3] FLOAT must be [4]");
  }

  /** out = in * scale + 1 with in [n, 3] FLOAT and an initializer. */
  private static Graph fragment() {
    GraphBuilder f = new GraphBuilder("frag");
    Value in = f.input("in", DType.FLOAT, Shape.parse("n", 3));
    Value scale = f.initializer("scale", Tensor.filled(DType.FLOAT, new long[] {3}, 2));
    f.output("out", f.add(f.mul(in, scale), f.scalar(1, DType.FLOAT)));
    return f.build();
  }

  @Test
  void includeWithWrongBindingNamesBothEnds() {
    GraphBuilder b = new GraphBuilder("host");
    Value wide = b.input("wide", DType.FLOAT, Shape.of(2, 5));
    assertRejected(() -> b.include(fragment(), "f", Map.of("in", wide)),
        "cannot wire 'wide' [2,5] FLOAT to fragment 'frag' input 'in', which expects [n,3] FLOAT");
    Value dbl = b.input("dbl", DType.DOUBLE, Shape.of(2, 3));
    assertRejected(() -> b.include(fragment(), "f", Map.of("in", dbl)), "'dbl' [2,3] DOUBLE", "fragment 'frag' input 'in'", "[n,3] FLOAT");
    Value ok = b.input("ok", DType.FLOAT, Shape.of(2, 3));
    assertRejected(() -> b.include(fragment(), "f", Map.of("in", ok, "nope", ok)), "graph 'frag' has no input 'nope'", "in [n,3] FLOAT");
    assertRejected(() -> b.include(fragment(), "f", Map.of()), "fragment 'frag' input 'in' [n,3] FLOAT is not bound");
    // The failed attempts left nothing behind: a correct include still works under the same scope.
    Value out = b.include(fragment(), "f", Map.of("in", ok)).get("out");
    assertEquals(Shape.of(2, 3), out.shape(), "the fragment's symbol n takes the bound size");
  }

  @Test
  void symbolsSharedByFragmentInputsMustBindConsistently() {
    GraphBuilder f = new GraphBuilder("pair");
    Value p = f.input("p", DType.FLOAT, Shape.parse("n", 3));
    Value q = f.input("q", DType.FLOAT, Shape.parse("n", 3));
    f.output("cat", f.op("Concat").in(p, q).attr("axis", 0L).out());
    Graph pair = f.build();
    GraphBuilder b = new GraphBuilder("host");
    Value two = b.input("two", DType.FLOAT, Shape.of(2, 3));
    Value four = b.input("four", DType.FLOAT, Shape.of(4, 3));
    java.util.LinkedHashMap<String, Value> bind = new java.util.LinkedHashMap<>();
    bind.put("p", two);
    bind.put("q", four);
    assertRejected(() -> b.include(pair, "pair", bind), "fragment 'pair' input", "symbol n", "'two' [2,3] FLOAT", "'four' [4,3] FLOAT");
    assertEquals(Shape.of(4, 3), b.include(pair, "pair", Map.of("p", two, "q", two)).get("cat").shape());
  }

  @Test
  void includingAFragmentTwiceKeepsNamesApart() {
    GraphBuilder b = new GraphBuilder("host");
    Value x = b.input("x", DType.FLOAT, Shape.of(2, 3));
    Value first = b.include(fragment(), "enc", Map.of("in", x)).get("out");
    Value second = b.include(fragment(), "enc", Map.of("in", first)).get("out");
    b.pushScope("outer");
    Value third = b.include(fragment(), "dec", Map.of("in", second)).get("out");
    b.popScope();
    b.output("y", third);
    Graph g = b.build(); // validates: unique node names, every read defined earlier

    assertNotEquals(first.name(), second.name());
    assertTrue(first.name().startsWith("enc/"), first.name());
    assertTrue(second.name().startsWith("enc/"), second.name());
    assertTrue(third.name().startsWith("outer/dec/"), third.name());
    Set<String> inits = g.initializers().keySet();
    // Each include copies the fragment's two initializers (the weight and the constant 1).
    assertEquals(Set.of("enc/scale", "enc/const", "enc/scale_2", "enc/const_2", "outer/dec/scale", "outer/dec/const"), inits);
    Set<String> nodeNames = new HashSet<>();
    g.nodes().forEach(n -> assertTrue(nodeNames.add(n.name()), "duplicate node " + n.name()));
    // The second copy reads the first copy's output, not its own.
    Value secondMul = g.nodes().stream().filter(n -> n.opType().equals("Mul") && n.inputs().contains(first.name())).findFirst()
        .map(n -> g.value(n.outputs().get(0))).orElseThrow();
    assertTrue(secondMul.name().startsWith("enc/"), secondMul.name());
    assertRejected(() -> b.pushScope("a/b"), "scope must be a non-empty name without '/'");
  }
}
