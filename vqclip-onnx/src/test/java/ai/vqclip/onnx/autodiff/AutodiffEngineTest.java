package ai.vqclip.onnx.autodiff;

import static ai.vqclip.onnx.testing.GradCheck.TOL_F64;
import static ai.vqclip.onnx.testing.GradCheck.assertGradient;
import static ai.vqclip.onnx.testing.GradCheck.randomInputs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.autodiff.Autodiff;
import ai.vqclip.core.autodiff.GradientOverrides;
import ai.vqclip.core.autodiff.GradientRequest;
import ai.vqclip.core.autodiff.VjpRegistry;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Node;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import ai.vqclip.onnx.OnnxExport;
import ai.vqclip.onnx.OrtExecutable;
import ai.vqclip.onnx.testing.GradCheck;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Engine-level behaviour of {@link Autodiff}: the harness can fail, missing rules are reported,
 * gradient overrides, pruning, no recomputation unless asked, seeds and accumulation, initializers, and request
 * validation. DOUBLE throughout (every op used has a double kernel in ORT's CPU provider), except
 * where noted.
 */
class AutodiffEngineTest {
  private static final long SEED = 21;
  private static final double EPS = 1e-6;

  private static Tensor rand(long[] shape, long seed) {
    return GradCheck.random(DType.DOUBLE, shape, new SplittableRandom(seed), 1);
  }

  /** Sum of all elements as a dot product with ones (keeps these tests off the Reduce* rules). */
  private static Value sum(GraphBuilder b, Value v) {
    long n = v.shape().elementCount();
    return b.matmul(b.reshape(v, -1), b.constant(Tensor.filled(v.dtype(), new long[] {n}, 1)));
  }

  private static Map<String, Tensor> run(Graph g, Map<String, Tensor> in) {
    try (OrtExecutable ex = OrtExecutable.create(g, ExecutionOptions.cpu().withThreads(1))) {
      return ex.run(in);
    }
  }

  private static void assertClose(double[] expected, double[] actual, double tol, String what) {
    assertEquals(expected.length, actual.length, what + ": length");
    for (int i = 0; i < expected.length; i++) {
      double e = expected[i];
      double a = actual[i];
      assertTrue(Math.abs(e - a) <= tol * Math.max(1, Math.abs(e)), what + "[" + i + "]: expected " + e + ", got " + a);
    }
  }

  private static IllegalArgumentException assertIae(Runnable r, String... fragments) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
    for (String f : fragments) {
      assertTrue(e.getMessage().contains(f), () -> "message lacks '" + f + "': " + e.getMessage());
    }
    return e;
  }

  // ---------------------------------------------------------------- (a) the harness can fail

  @Test
  void gradCheckDetectsAWrongRule() {
    GraphBuilder b = new GraphBuilder("exp");
    Value x = b.input("x", DType.DOUBLE, Shape.of(3, 4));
    b.output(b.mul(b.op("Exp").in(x).out(), x));
    Graph g = b.build();
    Map<String, Tensor> in = randomInputs(g, Map.of(), SEED);
    VjpRegistry wrong = VjpRegistry.standard().register("Exp", c -> {
      // deliberately wrong: d exp(x) = 2 exp(x)
      Value y = c.output(0);
      c.setGrad(0, c.b().mul(c.gradOutput(0), c.b().mul(y, c.b().scalarLike(2, y))));
    });
    GradCheck.Result bad = GradCheck.check(g, in, List.of("x"), EPS, SEED, wrong);
    assertTrue(bad.error() > 0.05, "a wrong rule must fail the check: " + bad);
    GradCheck.Result good = GradCheck.check(g, in, List.of("x"), EPS, SEED);
    assertTrue(good.error() <= TOL_F64, "the right rule passes: " + good);
  }

  // ---------------------------------------------------------------- (b) missing rules

  @Test
  void missingRuleNamesOpTypeAndNode() {
    GraphBuilder b = new GraphBuilder("mod");
    Value x = b.input("x", DType.DOUBLE, Shape.of(3));
    Value m = b.op("Mod").in(x, b.scalar(0.7, DType.DOUBLE)).attr("fmod", 1L).named("myMod").out();
    b.output("loss", sum(b, m));
    assertIae(() -> Autodiff.differentiate(b.build(), GradientRequest.ofLoss("loss", "x")), "'Mod'", "myMod");

    // TopK now has a rule; ReduceProd still has none.
    GraphBuilder b2 = new GraphBuilder("prod");
    Value x2 = b2.input("x", DType.DOUBLE, Shape.of(5));
    Value pr = b2.op("ReduceProd").in(x2).named("myProd").out();
    b2.output("loss", sum(b2, pr));
    assertIae(() -> Autodiff.differentiate(b2.build(), GradientRequest.ofLoss("loss", "x")), "'ReduceProd'", "myProd");

    GraphBuilder b3 = new GraphBuilder("foo");
    Value x3 = b3.input("x", DType.DOUBLE, Shape.of(5));
    Value f = b3.op("Foo").in(x3).named("myFoo").out();
    b3.output("out", f);
    assertIae(() -> Autodiff.differentiate(b3.build(), GradientRequest.ofSeeds(List.of("out"), List.of("x"))), "'Foo'", "myFoo");
  }

  @Test
  void opsOffTheGradientPathNeedNoRule() {
    // "Foo" feeds only an output that is not differentiated: no rule is needed.
    GraphBuilder b = new GraphBuilder("offPath");
    Value x = b.input("x", DType.DOUBLE, Shape.of(4));
    b.output(b.op("Foo").in(x).named("myFoo").out());
    b.output("loss", sum(b, b.mul(x, x)));
    Graph g = Autodiff.differentiate(b.build(), GradientRequest.ofLoss("loss", "x").withoutForwardOutputs());
    assertFalse(g.opTypes().contains("Foo"), g.opTypes().toString());
  }

  // ---------------------------------------------------------------- (c) straight-through

  /** Differentiates {@code loss = sum(w * s^2)} of a graph input s: the gradient the ST output must pass on. */
  private static double[] downstreamGradient(Tensor s, Tensor w) {
    GraphBuilder b = new GraphBuilder("downstream");
    Value sv = b.input("s", DType.DOUBLE, Shape.of(s.shape()));
    Value wv = b.constant(w);
    b.output("loss", sum(b, b.mul(wv, b.mul(sv, sv))));
    Graph g = Autodiff.differentiate(b.build(), GradientRequest.ofLoss("loss", "s"));
    return run(g, Map.of("s", s)).get(GradientRequest.gradName("s")).toDoubles();
  }

  private static void assertNoVqclipDomain(Graph g) {
    for (Node n : g.nodes()) {
      assertFalse(n.domain().equals(Graph.VQCLIP_DOMAIN), "override op left in the graph: " + n.describe());
    }
    OnnxMl.ModelProto m;
    try {
      m = OnnxMl.ModelProto.parseFrom(OnnxExport.toBytes(g));
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
    for (OnnxMl.NodeProto n : m.getGraph().getNodeList()) {
      assertFalse(n.getDomain().equals(Graph.VQCLIP_DOMAIN), "exported node " + n.getName() + " is in domain " + n.getDomain());
    }
  }

  @Test
  void straightThroughRound() {
    GraphBuilder b = new GraphBuilder("stRound");
    Value z = b.input("z", DType.DOUBLE, Shape.of(3, 4));
    Value q = b.op("Round").in(b.mul(z, b.scalar(3, DType.DOUBLE))).out();
    Value st = GradientOverrides.straightThrough(b, q, b.mul(z, b.scalar(3, DType.DOUBLE)));
    Tensor w = rand(new long[] {3, 4}, 2);
    b.output("st", st);
    b.output("loss", sum(b, b.mul(b.constant(w), b.mul(st, st))));
    Graph g = Autodiff.differentiate(b.build(), GradientRequest.ofLoss("loss", "z"));
    assertNoVqclipDomain(g);

    Tensor zv = rand(new long[] {3, 4}, 3);
    Map<String, Tensor> out = run(g, Map.of("z", zv));
    double[] stv = out.get("st").toDoubles();
    double[] zs = zv.toDoubles();
    for (int i = 0; i < zs.length; i++) {
      assertEquals(Math.rint(3 * zs[i]), stv[i], 0, "forward is the rounded value");
    }
    // dL/dz = 3 * dL/dst, with dL/dst taken at the quantised value
    double[] gs = downstreamGradient(out.get("st"), w);
    double[] expected = new double[gs.length];
    for (int i = 0; i < gs.length; i++) {
      expected[i] = 3 * gs[i];
      assertEquals(2 * w.toDoubles()[i] * stv[i] * 3, expected[i], 1e-12, "analytic");
    }
    assertClose(expected, out.get(GradientRequest.gradName("z")).toDoubles(), 1e-12, "dL/dz");
  }

  @Test
  void straightThroughCodebookLookup() {
    // VQ: q = codebook[argmin_k |z_i - c_k|^2]; z + (q - z) with the gradient of q copied to z.
    GraphBuilder b = new GraphBuilder("stCodebook");
    Value z = b.input("z", DType.DOUBLE, Shape.of(6, 3));
    Value cb = b.initializer("codebook", rand(new long[] {5, 3}, 4));
    Value diff = b.sub(b.unsqueeze(z, 1), b.unsqueeze(cb, 0)); // [6,5,3]
    Value dist = b.reduceSum(b.mul(diff, diff), false, 2); // [6,5]; off the gradient path
    Value idx = b.op("ArgMin").in(dist).attr("axis", 1L).attr("keepdims", 0L).out();
    Value q = b.op("Gather").in(cb, idx).attr("axis", 0L).out();
    Value st = GradientOverrides.straightThrough(b, q, z);
    Tensor w = rand(new long[] {6, 3}, 5);
    b.output("st", st);
    b.output("loss", sum(b, b.mul(b.constant(w), b.mul(st, st))));
    Graph g = Autodiff.differentiate(b.build(), GradientRequest.ofLoss("loss", "z"));
    assertNoVqclipDomain(g);
    assertFalse(g.opTypes().contains("ScatterND"), "no gradient flows into the codebook: " + g.opTypes());

    Tensor zv = rand(new long[] {6, 3}, 6);
    Map<String, Tensor> out = run(g, Map.of("z", zv));
    double[] gs = downstreamGradient(out.get("st"), w);
    assertClose(gs, out.get(GradientRequest.gradName("z")).toDoubles(), 1e-12, "dL/dz equals dL/dst");
  }

  // ---------------------------------------------------------------- (d) clamp with gradient

  @Test
  void clampWithGradPassesOnlyTowardTheRange() {
    GraphBuilder b = new GraphBuilder("clampGrad");
    Value x = b.input("x", DType.DOUBLE, Shape.of(12));
    b.output("y", GradientOverrides.clampWithGrad(b, x, -1, 1));
    Graph g = Autodiff.differentiate(b.build(), GradientRequest.ofSeeds(List.of("y"), List.of("x")));
    assertNoVqclipDomain(g);
    // inside, below and above the range, each with both seed signs (and zero seeds at the bounds)
    double[] xs = {0.3, -0.4, -2.5, -1.5, 1.7, 3.0, 0.0, 0.9, -3.0, 2.0, -1.0, 1.0};
    double[] us = {1.5, -0.7, 0.8, -0.6, 0.4, -0.9, 2.0, -1.0, 0.0, 0.0, 0.5, -0.5};
    Map<String, Tensor> out = run(g, Map.of("x", Tensor.ofDoubles(new long[] {12}, xs),
        GradientRequest.seedName("y"), Tensor.ofDoubles(new long[] {12}, us)));
    double[] y = out.get("y").toDoubles();
    double[] gx = out.get(GradientRequest.gradName("x")).toDoubles();
    int passedOutside = 0;
    int blockedOutside = 0;
    for (int i = 0; i < xs.length; i++) {
      double c = Math.max(-1, Math.min(1, xs[i]));
      assertEquals(c, y[i], 0, "forward clamps");
      boolean inside = xs[i] >= -1 && xs[i] <= 1;
      // Gradient descent moves x by -u: outside the range that helps only when u * (x - c) >= 0.
      boolean passes = inside || us[i] * (xs[i] - c) >= 0;
      assertEquals(passes ? us[i] : 0, gx[i], 0, "x=" + xs[i] + " u=" + us[i]);
      if (!inside && us[i] != 0) {
        passedOutside += passes ? 1 : 0;
        blockedOutside += passes ? 0 : 1;
      }
    }
    assertTrue(passedOutside > 0 && blockedOutside > 0, "both outside cases are exercised");
  }

  @Test
  void clampWithGradMatchesFiniteDifferencesInsideTheRange() {
    GraphBuilder b = new GraphBuilder("clampInside");
    Value x = b.input("x", DType.DOUBLE, Shape.of(3, 4));
    b.output(b.mul(GradientOverrides.clampWithGrad(b, x, -10, 10), x));
    Graph g = b.build();
    assertGradient(g, randomInputs(g, Map.of(), SEED), List.of("x"), EPS, TOL_F64, SEED);
  }

  // ---------------------------------------------------------------- (e) pruning

  @Test
  void deadBranchesUnusedWeightsAndUnneededGradientsArePruned() {
    GraphBuilder b = new GraphBuilder("prune");
    Value x = b.input("x", DType.DOUBLE, Shape.of(2, 3));
    Value y = b.input("y", DType.DOUBLE, Shape.of(2, 3));
    Value w = b.initializer("w", rand(new long[] {2, 3}, 7));
    b.initializer("unusedWeight", rand(new long[] {4}, 8));
    Value side = b.op("Sin").in(b.op("Tanh").in(y).named("deadTanh").out()).named("deadSin").out();
    Value prod = b.op("Mul").in(x, w).named("fwdMul").out();
    b.output("loss", sum(b, b.op("Exp").in(prod).named("fwdExp").out()));
    b.output("side", side);
    Graph forward = b.build();
    Graph g = Autodiff.differentiate(forward, GradientRequest.ofLoss("loss", "x").withoutForwardOutputs());

    assertEquals(List.of(GradientRequest.gradName("x")), g.outputs().stream().map(Value::name).toList());
    for (Node n : g.nodes()) {
      assertFalse(n.name().startsWith("dead"), "dead branch node kept: " + n.describe());
      // The weight gradient would be g * x; only the input gradient (g * w) is asked for.
      if (n.name().startsWith("grad/")) {
        assertFalse(n.inputs().contains("x"), "backward node reads x, so it computes the unrequested weight gradient: " + n.describe());
      }
    }
    assertFalse(g.opTypes().contains("Sin") || g.opTypes().contains("Tanh"), g.opTypes().toString());
    assertFalse(g.initializers().containsKey("unusedWeight"), "unused initializer kept");
    for (String init : g.initializers().keySet()) {
      assertTrue(g.nodes().stream().anyMatch(n -> n.inputs().contains(init)), "initializer " + init + " is unused");
    }
    assertTrue(g.inputs().stream().anyMatch(v -> v.name().equals("y")), "declared inputs are kept for callers");

    // and the pruned graph still computes the right gradient: d/dx sum(exp(x w)) = w exp(x w)
    Tensor xv = rand(new long[] {2, 3}, 9);
    double[] gx = run(g, Map.of("x", xv, "y", rand(new long[] {2, 3}, 10))).get(GradientRequest.gradName("x")).toDoubles();
    double[] wv = forward.initializers().get("w").toDoubles();
    double[] expected = new double[6];
    for (int i = 0; i < 6; i++) {
      expected[i] = wv[i] * Math.exp(xv.toDoubles()[i] * wv[i]);
    }
    assertClose(expected, gx, 1e-12, "dL/dx");
  }

  // ---------------------------------------------------------------- (f) no recomputation

  @Test
  void forwardNodesAppearOnceAndBackwardNodesAreScoped() {
    GraphBuilder b = new GraphBuilder("noRecompute");
    Value x = b.input("x", DType.DOUBLE, Shape.of(3, 4));
    Value w = b.initializer("w", rand(new long[] {4, 2}, 11));
    Value h = b.op("Tanh").in(b.matmul(b.op("Exp").in(x).out(), w)).out();
    Value s = b.op("Sigmoid").in(h).out();
    // Not Mul(s, h): ORT 1.29 fuses h * Sigmoid(h) into com.microsoft.QuickGelu, which has no
    // double kernel (NOT_IMPLEMENTED at session creation).
    b.output("loss", sum(b, b.add(s, b.mul(h, h))));
    Graph forward = b.build();
    Graph g = Autodiff.differentiate(forward, GradientRequest.ofLoss("loss", "x", "w"));

    Map<String, Integer> count = new HashMap<>();
    g.nodes().forEach(n -> count.merge(n.name(), 1, Integer::sum));
    for (Node n : forward.nodes()) {
      assertEquals(1, count.getOrDefault(n.name(), 0), "forward node " + n.name() + " appears once");
    }
    java.util.Set<String> fwdNames = new java.util.HashSet<>();
    forward.nodes().forEach(n -> fwdNames.add(n.name()));
    for (Node n : g.nodes()) {
      if (!fwdNames.contains(n.name())) {
        assertTrue(n.name().startsWith("grad/"), "backward node outside the grad/ scope: " + n.describe());
      }
    }
    // The rules of Exp, Tanh and Sigmoid read the forward outputs: no second Exp/Tanh/Sigmoid.
    for (String op : List.of("Exp", "Tanh", "Sigmoid")) {
      assertEquals(1, g.nodes().stream().filter(n -> n.opType().equals(op)).count(), op + " nodes");
    }
    assertGradient(forward, randomInputs(forward, Map.of(), SEED), List.of("x", "w"), EPS, TOL_F64, SEED);
  }

  // ---------------------------------------------------------------- (f2) recomputation on request

  /** x -> Exp -> [segment "blk": MatMul w, Tanh, Sigmoid, Mul] -> sum; the segment reads x's Exp. */
  private static Graph segmented() {
    GraphBuilder b = new GraphBuilder("segmented");
    Value x = b.input("x", DType.DOUBLE, Shape.of(3, 4));
    Value w = b.initializer("w", rand(new long[] {4, 2}, 11));
    Value e = b.op("Exp").in(x).out();
    b.pushScope("blk");
    Value h = b.op("Tanh").in(b.matmul(e, w)).out();
    Value s = b.add(b.op("Sigmoid").in(h).out(), b.mul(h, h));
    b.popScope();
    b.output("loss", sum(b, b.mul(s, s)));
    return b.build();
  }

  @Test
  void recomputedSegmentGivesBitIdenticalGradientsWithoutReadingItsForwardActivations() {
    Graph forward = segmented();
    GradientRequest plain = GradientRequest.ofLoss("loss", "x", "w");
    Graph kept = Autodiff.differentiate(forward, plain);
    Graph recomputed = Autodiff.differentiate(forward, plain.withRecompute(List.of("blk")));
    Map<String, Tensor> in = randomInputs(forward, Map.of(), SEED);
    Map<String, Tensor> a = run(kept, in);
    Map<String, Tensor> r = run(recomputed, in);
    for (String out : List.of("loss", GradientRequest.gradName("x"), GradientRequest.gradName("w"))) {
      assertEquals(a.get(out), r.get(out), out + " differs with recomputation");
    }
    // The segment's forward activations are read by forward nodes only; its backward reads copies.
    java.util.Set<String> inside = new java.util.HashSet<>();
    forward.nodes().stream().filter(n -> n.name().startsWith("blk/")).forEach(n -> inside.addAll(n.outputs()));
    java.util.Set<String> consumedOutside = new java.util.HashSet<>();
    forward.nodes().stream().filter(n -> !n.name().startsWith("blk/")).forEach(n -> consumedOutside.addAll(n.inputs()));
    for (Node n : recomputed.nodes()) {
      if (n.name().startsWith("grad/")) {
        for (String v : n.inputs()) {
          assertTrue(!inside.contains(v) || consumedOutside.contains(v), n.describe() + " reads the segment's activation '" + v + "'");
        }
      }
    }
    assertEquals(2, recomputed.nodes().stream().filter(n -> n.opType().equals("Tanh")).count(), "Tanh nodes (forward and its copy)");
    assertEquals(1, kept.nodes().stream().filter(n -> n.opType().equals("Tanh")).count(), "Tanh nodes without recomputation");
  }

  @Test
  void recomputeScopeThatNamesNoNodeIsRejected() {
    assertIae(() -> Autodiff.differentiate(segmented(), GradientRequest.ofLoss("loss", "x").withRecompute(List.of("nope"))),
        "recompute scope 'nope'", "names no node");
    assertIae(() -> GradientRequest.ofLoss("loss", "x").withRecompute(List.of("blk/")), "trailing '/'");
  }

  // ---------------------------------------------------------------- (g) seeds and accumulation

  @Test
  void multipleSeededOutputsAndAccumulation() {
    GraphBuilder b = new GraphBuilder("seeds");
    Value x = b.input("x", DType.DOUBLE, Shape.of(5));
    Value y = b.input("y", DType.DOUBLE, Shape.of(5));
    b.output("o1", b.mul(x, x)); // x reaches o1 along two operand slots
    b.output("o2", b.mul(b.op("Sin").in(x).out(), y));
    Graph forward = b.build();
    Graph g = Autodiff.differentiate(forward, GradientRequest.ofSeeds(List.of("o1", "o2"), List.of("x", "y")));
    assertTrue(g.inputs().stream().anyMatch(v -> v.name().equals(GradientRequest.seedName("o1"))));
    assertTrue(g.inputs().stream().anyMatch(v -> v.name().equals(GradientRequest.seedName("o2"))));

    Tensor xv = rand(new long[] {5}, 12);
    Tensor yv = rand(new long[] {5}, 13);
    Tensor u1 = rand(new long[] {5}, 14);
    Tensor u2 = rand(new long[] {5}, 15);
    Map<String, Tensor> out = run(g, Map.of("x", xv, "y", yv, GradientRequest.seedName("o1"), u1, GradientRequest.seedName("o2"), u2));
    double[] ex = new double[5];
    double[] ey = new double[5];
    for (int i = 0; i < 5; i++) {
      double xi = xv.toDoubles()[i];
      ex[i] = 2 * xi * u1.toDoubles()[i] + Math.cos(xi) * yv.toDoubles()[i] * u2.toDoubles()[i];
      ey[i] = Math.sin(xi) * u2.toDoubles()[i];
    }
    assertClose(ex, out.get(GradientRequest.gradName("x")).toDoubles(), 1e-12, "dx");
    assertClose(ey, out.get(GradientRequest.gradName("y")).toDoubles(), 1e-12, "dy");
    assertTrue(out.containsKey("o1") && out.containsKey("o2"), "forward outputs kept");
    assertGradient(forward, randomInputs(forward, Map.of(), SEED), List.of("x", "y"), EPS, TOL_F64, SEED);
  }

  @Test
  void outputWithoutPathGetsZeroGradient() {
    GraphBuilder b = new GraphBuilder("noPath");
    Value x = b.input("x", DType.DOUBLE, Shape.of(2, 3));
    Value y = b.input("y", DType.DOUBLE, Shape.of(2, 3));
    b.output("loss", sum(b, b.mul(x, x)));
    b.output("other", y);
    Graph g = Autodiff.differentiate(b.build(), GradientRequest.ofLoss("loss", "x", "y"));
    double[] gy = run(g, Map.of("x", rand(new long[] {2, 3}, 1), "y", rand(new long[] {2, 3}, 2)))
        .get(GradientRequest.gradName("y")).toDoubles();
    assertClose(new double[6], gy, 0, "d loss / d y");
  }

  // ---------------------------------------------------------------- (h) initializers

  @Test
  void gradientWithRespectToInitializers() {
    GraphBuilder b = new GraphBuilder("init");
    Value x = b.input("x", DType.DOUBLE, Shape.of(3, 4));
    Value w = b.initializer("w", rand(new long[] {4, 2}, 16));
    Value bias = b.initializer("bias", rand(new long[] {2}, 17));
    b.output(b.op("Tanh").in(b.add(b.matmul(x, w), bias)).out());
    Graph g = b.build();
    Map<String, Tensor> in = randomInputs(g, Map.of(), SEED);
    assertGradient(g, in, List.of("w", "bias"), EPS, TOL_F64, SEED);
    assertGradient(g, in, List.of("x", "w", "bias"), EPS, TOL_F64, SEED);
  }

  // ---------------------------------------------------------------- (i) request validation

  @Test
  void invalidRequestsAreRejectedClearly() {
    GraphBuilder b = new GraphBuilder("bad");
    Value x = b.input("x", DType.DOUBLE, Shape.of(3));
    Value k = b.input("k", DType.INT64, Shape.of(3));
    Value h = b.op("Exp").in(x).named("hidden").out();
    b.output("vec", h);
    b.output("loss", sum(b, h));
    b.output("count", k);
    Graph g = b.build();
    Consumer<GradientRequest> diff = r -> Autodiff.differentiate(g, r);

    assertIae(() -> diff.accept(GradientRequest.ofLoss("loss", "nope")), "nope");
    assertIae(() -> diff.accept(GradientRequest.ofLoss("nope", "x")), "nope", "loss");
    assertIae(() -> diff.accept(GradientRequest.ofLoss("loss", "k")), "'k'", "floating");
    assertIae(() -> diff.accept(GradientRequest.ofLoss("loss", "hidden")), "'hidden'", "inputs or initializers");
    assertIae(() -> diff.accept(GradientRequest.ofLoss("vec", "x")), "'vec'", "one element", "ofSeeds");
    assertIae(() -> diff.accept(GradientRequest.ofLoss("count", "x")), "'count'", "non-floating");
    assertIae(() -> GradientRequest.ofLoss("loss"), "at least one");
    assertIae(() -> GradientRequest.ofLoss("loss", "x", "x"), "twice");
  }
}
