package ai.vqclip.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class TensorDirectMemoryTest {
  @Test
  void allocatesLittleEndianDirectBuffersAndRefusesBadSizes() {
    var b = Tensor.allocateDirect(16);
    assertTrue(b.isDirect());
    assertEquals(ByteOrder.LITTLE_ENDIAN, b.order());
    assertEquals(16, b.capacity());
    assertTrue(assertThrows(IllegalArgumentException.class, () -> Tensor.allocateDirect(-1)).getMessage().contains("got -1"));
    assertThrows(IllegalArgumentException.class, () -> Tensor.allocateDirect(1L << 31));
  }

  /** Run in a JVM with a 1 MB direct-memory limit: asks for 4 MB. */
  public static void main(String[] args) {
    try {
      Tensor.allocateDirect(4 << 20);
      System.out.println("allocated");
    } catch (IllegalStateException e) {
      System.out.println(e.getMessage());
    }
  }

  @Test
  void theDirectMemoryLimitGetsAMessageThatSaysWhatToDo() throws IOException, InterruptedException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p = new ProcessBuilder(List.of(java, "-XX:MaxDirectMemorySize=1m", "-cp", System.getProperty("java.class.path"),
        TensorDirectMemoryTest.class.getName())).redirectErrorStream(true).start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the child JVM did not finish");
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(out.contains("cannot reserve 4 MB of direct memory") && out.contains("-XX:MaxDirectMemorySize"), out);
  }
}
