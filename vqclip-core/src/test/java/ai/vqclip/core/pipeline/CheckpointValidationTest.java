package ai.vqclip.core.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.ModelLoadException;
import ai.vqclip.core.optim.LatentOptimizer;
import ai.vqclip.core.optim.OptimizerConfig;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16, finding 6: a checkpoint is validated completely when loaded. Each case edits one field
 * of a valid checkpoint file as an attacker (or a bit flip) would.
 */
class CheckpointValidationTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  private static String floats(int n, float v) {
    ByteBuffer b = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      b.putFloat(v);
    }
    return Base64.getEncoder().encodeToString(b.array());
  }

  private Path valid() {
    int n = 1 * 2 * 3 * 4;
    float[] z = new float[n];
    java.util.Arrays.fill(z, 0.5f);
    Checkpoint c = new Checkpoint(10, new long[] {1, 2, 3, 4}, z, z, new float[2 * n], 10, 1.5, 7, "test");
    Path p = dir.resolve("run.ckpt");
    c.save(p);
    assertEquals(c, Checkpoint.load(p));
    return p;
  }

  private void assertRejected(Consumer<ObjectNode> edit, String... parts) throws IOException {
    Path p = valid();
    ObjectNode o = (ObjectNode) JSON.readTree(p.toFile());
    edit.accept(o);
    JSON.writeValue(p.toFile(), o);
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> Checkpoint.load(p));
    for (String part : parts) {
      assertTrue(e.getMessage().contains(part), () -> "'" + e.getMessage() + "' should contain '" + part + "'");
    }
    assertEquals(1, e.getMessage().lines().count(), e.getMessage());
  }

  @Test
  void countersOutOfRange() throws IOException {
    // The reported file: optimizerSteps = 2^31-1 ran every iteration, then overflowed and lost the run.
    assertRejected(o -> o.put("optimizerSteps", Integer.MAX_VALUE), "optimizerSteps", "2147483647");
    assertRejected(o -> o.put("optimizerSteps", -1), "optimizerSteps");
    assertRejected(o -> o.put("iteration", -3), "iteration");
    assertRejected(o -> o.put("iteration", 2_000_000).put("optimizerSteps", 2_000_000), "iteration must be in [0, 1000000]");
    assertRejected(o -> o.put("bestIteration", 11), "bestIteration");
    assertRejected(o -> o.put("iteration", 1L << 40), "iteration");
    assertRejected(o -> o.put("iteration", 2.5), "iteration");
    assertRejected(o -> o.put("iteration", "10"), "iteration");
    assertRejected(o -> o.remove("optimizerSteps"), "optimizerSteps");
    assertRejected(o -> o.put("bestLoss", "NaN"), "bestLoss");
    assertRejected(o -> o.put("format", "1"), "not a vqclip checkpoint");
  }

  @Test
  void arraysThatDoNotFitTheShape() throws IOException {
    // The reported file: an optimizer state shorter than the latent, accepted until restore failed.
    assertRejected(o -> o.put("optimizerState", floats(5, 0)), "optimizerState has 5 values");
    assertRejected(o -> o.put("optimizerState", floats(24 * 4, 0)), "optimizerState");
    assertRejected(o -> o.put("latent", floats(23, 0)), "latent has 23 values");
    assertRejected(o -> o.putArray("latentShape").add(1L << 40).add(1L << 40), "latentShape");
    assertRejected(o -> o.putArray("latentShape").add(0).add(24), "latentShape");
    assertRejected(o -> o.putArray("latentShape").add("x"), "latentShape");
    assertRejected(o -> o.put("latentShape", 24), "latentShape");
    assertRejected(o -> o.put("latent", floats(24, Float.NaN)), "latent[0] is NaN");
    assertRejected(o -> o.put("optimizerState", floats(48, Float.POSITIVE_INFINITY)), "optimizerState[0] is Infinity");
    assertRejected(o -> o.put("latentInit", "not base64!"), "latentInit");
  }

  @Test
  void stateSizesOfTheOptimizers() {
    int n = 24;
    for (OptimizerConfig.Kind k : OptimizerConfig.Kind.values()) {
      long size = LatentOptimizer.stateSize(OptimizerConfig.of(k, 0.1), n);
      assertEquals(new LatentOptimizer(OptimizerConfig.of(k, 0.1), n).state().length, size, k.toString());
      // Every optimizer's state is a size the loader accepts.
      new Checkpoint(0, new long[] {n}, new float[n], new float[n], new float[(int) size], 0, Double.POSITIVE_INFINITY, 0, "");
    }
  }
}
