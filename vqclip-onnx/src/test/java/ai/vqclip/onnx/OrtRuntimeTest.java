package ai.vqclip.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 16, finding 1: ONNX Runtime's environment creation walks {@code /proc/self/cmdline}
 * recursively on the calling thread, and a long command line (a 5,000-character prompt) killed the
 * JVM with SIGSEGV (exit 139, no message) from a default-size thread. Each case runs a child JVM with
 * a long command line that compiles and runs a graph from a thread with a 512 kB stack.
 */
class OrtRuntimeTest {
  /** Child JVM: builds, compiles and runs y = x + 1 on a small-stack thread; prints "ran 2.0". */
  public static void main(String[] args) throws InterruptedException {
    Thread t = new Thread(null, () -> {
      GraphBuilder b = new GraphBuilder("plus-one");
      Value x = b.input("x", DType.FLOAT, Shape.of(1));
      b.output("y", b.add(x, b.scalar(1, DType.FLOAT)));
      try (OrtExecutable e = OrtExecutable.create(b.build(), ExecutionOptions.cpu().withThreads(1))) {
        Tensor y = e.run(Map.of("x", Tensor.ofFloats(new long[] {1}, new float[] {1f}))).get("y");
        System.out.println("ran " + y.toDoubles()[0]);
      }
    }, "small-stack", 512 << 10);
    t.start();
    t.join();
  }

  @ParameterizedTest(name = "{0} bytes of arguments")
  @ValueSource(ints = {5_000, 400_000})
  void aLongCommandLineDoesNotCrashTheRuntime(int argBytes) throws IOException, InterruptedException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new ArrayList<>(List.of(java, "-Xss1m", "-cp", System.getProperty("java.class.path"), OrtRuntimeTest.class.getName()));
    // One argument is at most 128 kB on Linux (MAX_ARG_STRLEN): split longer command lines.
    for (int left = argBytes; left > 0; left -= 100_000) {
      cmd.add("p".repeat(Math.min(left, 100_000)));
    }
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the child JVM did not finish");
    assertEquals(0, p.exitValue(), "child exit " + p.exitValue() + " (139 = SIGSEGV): " + out);
    assertTrue(out.contains("ran 2.0"), out);
  }

  @Test
  void theStackGrowsWithTheCommandLine() {
    long cmd = OrtRuntime.commandLineBytes();
    assertTrue(cmd > 0, "this test JVM has a command line");
    assertEquals(OrtRuntime.BASE_STACK_BYTES + OrtRuntime.STACK_BYTES_PER_CMDLINE_BYTE * cmd, OrtRuntime.stackBytes());
  }
}
