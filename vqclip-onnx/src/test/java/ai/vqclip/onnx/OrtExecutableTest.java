package ai.vqclip.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.backend.Device;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import ai.vqclip.onnx.testing.GradCheck;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Input validation, lifecycle, external initializers and the CUDA request on the CPU-only jar. */
class OrtExecutableTest {
  private static final ExecutionOptions OPTS = ExecutionOptions.cpu().withThreads(1);

  /** y = a * 2 + b with a [n,3] FLOAT and b [n,3] FLOAT sharing the symbol n, and s [2] FLOAT. */
  private static Graph twoInputs() {
    GraphBuilder b = new GraphBuilder("two");
    Value a = b.input("a", DType.FLOAT, Shape.parse("n", 3));
    Value bb = b.input("b", DType.FLOAT, Shape.parse("n", 3));
    Value s = b.input("s", DType.FLOAT, Shape.of(2));
    b.output("y", b.add(b.mul(a, b.scalar(2, DType.FLOAT)), bb));
    b.output("t", b.neg(s));
    return b.build();
  }

  private static Tensor ones(DType t, long... shape) {
    return Tensor.filled(t, shape, 1);
  }

  private static Map<String, Tensor> good() {
    return Map.of("a", ones(DType.FLOAT, 2, 3), "b", ones(DType.FLOAT, 2, 3), "s", ones(DType.FLOAT, 2));
  }

  private static void assertRejected(Executable call, String... parts) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
    for (String p : parts) {
      assertTrue(e.getMessage().contains(p), () -> "message '" + e.getMessage() + "' should contain '" + p + "'");
    }
  }

  private static Map<String, Tensor> with(String name, Tensor t) {
    Map<String, Tensor> m = new HashMap<>(good());
    m.put(name, t);
    return m;
  }

  @Test
  void runsAndReturnsRequestedOutputs() {
    try (OrtExecutable e = OrtExecutable.create(twoInputs(), OPTS)) {
      assertEquals(Device.CPU, e.device());
      Map<String, Tensor> all = e.run(good());
      assertEquals(Set.of("y", "t"), all.keySet());
      assertArrayEquals(new float[] {3, 3, 3, 3, 3, 3}, all.get("y").toFloats());
      Map<String, Tensor> one = e.run(good(), Set.of("t"));
      assertEquals(Set.of("t"), one.keySet());
      assertArrayEquals(new float[] {-1, -1}, one.get("t").toFloats());
      // The symbol n can take another size on another run.
      Map<String, Tensor> other = e.run(Map.of("a", ones(DType.FLOAT, 5, 3), "b", ones(DType.FLOAT, 5, 3), "s", ones(DType.FLOAT, 2)));
      assertArrayEquals(new long[] {5, 3}, other.get("y").shape());
    }
  }

  @Test
  void badInputsAreRejectedBeforeTheNativeCall() {
    try (OrtExecutable e = OrtExecutable.create(twoInputs(), OPTS)) {
      Map<String, Tensor> extra = new HashMap<>(good());
      extra.put("c", ones(DType.FLOAT, 2, 3));
      assertRejected(() -> e.run(extra), "unknown input 'c'", "graph 'two'", "expected inputs", "a [n,3] FLOAT");

      Map<String, Tensor> missing = new HashMap<>(good());
      missing.remove("b");
      assertRejected(() -> e.run(missing), "missing input 'b' [n,3] FLOAT", "given: ");

      assertRejected(() -> e.run(with("a", ones(DType.DOUBLE, 2, 3))), "input 'a' must be FLOAT [n,3]", "found DOUBLE [2,3]");

      assertRejected(() -> e.run(with("s", ones(DType.FLOAT, 3))), "input 's' must have shape [2]", "found [3]");
      assertRejected(() -> e.run(with("s", ones(DType.FLOAT, 1, 2))), "input 's' must have shape [2]", "found [1,2]");
      assertRejected(() -> e.run(with("a", ones(DType.FLOAT, 2, 4))), "input 'a' must have shape [n,3]", "found [2,4]");

      // n is bound to 2 by a, then b says 4.
      assertRejected(() -> e.run(with("b", ones(DType.FLOAT, 4, 3))), "input 'b' must have shape [n,3]", "found [4,3]", "n=2");

      assertRejected(() -> e.run(good(), Set.of("y", "nope")), "no output 'nope'", "outputs: [y", "t [2] FLOAT");
      assertRejected(() -> e.run(good(), Set.of()), "no outputs requested", "y ");

      Map<String, Tensor> nullValue = new HashMap<>(good());
      nullValue.put("a", null);
      assertRejected(() -> e.run(nullValue), "null tensor for input 'a'");
      // After all of that the executable still works.
      assertEquals(Set.of("y", "t"), e.run(good()).keySet());
    }
  }

  @Test
  void closeIsIdempotentAndRunAfterCloseFails() {
    OrtExecutable e = OrtExecutable.create(twoInputs(), OPTS);
    e.run(good());
    e.close();
    e.close();
    IllegalStateException ex = assertThrows(IllegalStateException.class, () -> e.run(good()));
    assertTrue(ex.getMessage().contains("'two' is closed"), ex.getMessage());
  }

  /** A graph whose weight (256 x 128 floats = 128 KiB) is big enough to be externalized. */
  private static Graph bigWeight() {
    GraphBuilder b = new GraphBuilder("big");
    Value x = b.input("x", DType.FLOAT, Shape.of(2, 256));
    Value w = b.initializer("w", GradCheck.random(DType.FLOAT, new long[] {256, 128}, new SplittableRandom(3), 0.1));
    Value small = b.initializer("bias", GradCheck.random(DType.FLOAT, new long[] {128}, new SplittableRandom(4), 0.1));
    b.output("y", b.op("Tanh").in(b.add(b.matmul(x, w), small)).out());
    return b.build();
  }

  @Test
  void externalInitializersGiveIdenticalResults() {
    Graph g = bigWeight();
    OnnxModel m = OnnxExport.export(g, 0);
    assertEquals(Set.of("w"), m.externalInitializers().keySet(), "only tensors of at least 64 KiB move out");
    assertTrue(m.bytes().length < 64 * 1024, "the proto no longer holds the weight: " + m.bytes().length + " bytes");
    Map<String, Tensor> in = Map.of("x", GradCheck.random(DType.FLOAT, new long[] {2, 256}, new SplittableRandom(5), 1));
    Tensor inline;
    try (OrtExecutable e = OrtExecutable.create(g, OPTS)) {
      inline = e.run(in).get("y");
    }
    for (int round = 0; round < 2; round++) { // also checks the externally held tensors survive reuse
      try (OrtExecutable e = OrtExecutable.create(g, OPTS, 0)) {
        assertEquals(inline, e.run(in).get("y"));
        assertEquals(inline, e.run(in).get("y"));
      }
    }
  }

  @Test
  void repeatedRunsOfOneSessionGiveIdenticalResults() {
    // Sessions run without ONNX Runtime's memory pattern (see OrtExecutable): buffers are then
    // allocated per run from the arena, and the second and later runs must still equal the first.
    Graph g = bigWeight();
    Map<String, Tensor> in = Map.of("x", GradCheck.random(DType.FLOAT, new long[] {2, 256}, new SplittableRandom(6), 1));
    Map<String, Tensor> other = Map.of("x", GradCheck.random(DType.FLOAT, new long[] {2, 256}, new SplittableRandom(7), 1));
    try (OrtExecutable e = OrtExecutable.create(g, OPTS)) {
      Tensor first = e.run(in).get("y");
      Tensor between = e.run(other).get("y");
      assertFalse(first.equals(between), "different inputs should give different outputs");
      for (int round = 0; round < 3; round++) {
        assertEquals(first, e.run(in).get("y"), "run " + round);
      }
    }
  }

  @Test
  void exportRefusesAProtoThatCannotFitEvenWithExternalData() {
    // 300 initializers of 1 KiB each: all under the 64 KiB externalization size, so they must stay
    // inside the proto; with a 1 MiB + 100 KiB limit standing in for protobuf's 2 GB they do not fit.
    GraphBuilder b = new GraphBuilder("many-small");
    Value x = b.input("x", DType.FLOAT, Shape.of(256));
    Value acc = x;
    for (int i = 0; i < 300; i++) {
      acc = b.add(acc, b.initializer("w" + i, Tensor.filled(DType.FLOAT, new long[] {256}, i)));
    }
    b.output("y", acc);
    Graph g = b.build();
    long limit = (1L << 20) + 100 * 1024;
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OnnxExport.export(g, 0, limit));
    assertTrue(e.getMessage().contains("graph 'many-small' cannot be exported") && e.getMessage().contains("307200 bytes")
        && e.getMessage().contains("at most " + limit + " bytes"), e.getMessage());
    // Within the limit the same export works and nothing was moved out (every tensor is small).
    assertTrue(OnnxExport.export(g, 0, 4L << 20).externalInitializers().isEmpty());
    assertThrows(IllegalArgumentException.class, () -> OnnxExport.export(g, -1));
  }

  @Test
  void cudaOnTheCpuJarFailsClearly() {
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> OrtExecutable.create(twoInputs(), ExecutionOptions.cuda()));
    assertTrue(e.getMessage().contains("CUDA 12") && e.getMessage().contains("cuDNN 9") && e.getMessage().contains("onnxruntime_gpu"),
        e.getMessage());
  }

  @Test
  void cudaWithFallbackRunsOnCpu() {
    try (OrtExecutable e = OrtExecutable.create(twoInputs(), ExecutionOptions.cuda().withCpuFallback(true))) {
      assertEquals(Device.CPU, e.device());
      assertArrayEquals(new float[] {3, 3, 3, 3, 3, 3}, e.run(good()).get("y").toFloats());
    }
  }

  @Test
  void backendServiceCompilesGraphs() {
    ai.vqclip.core.backend.Backend backend = ai.vqclip.core.backend.Backend.load();
    assertEquals("onnxruntime", backend.name());
    try (ai.vqclip.core.backend.Executable e = backend.compile(twoInputs(), OPTS)) {
      assertFalse(e.run(good()).isEmpty());
      assertEquals(List.of("a", "b", "s"), e.graph().inputs().stream().map(Value::name).toList());
    }
  }
}
