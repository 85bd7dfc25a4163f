package ai.vqclip.onnx.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.ModelLoadException;
import ai.vqclip.onnx.weights.TorchWriters.Layout;
import ai.vqclip.onnx.weights.TorchWriters.Storage;
import ai.vqclip.onnx.weights.TorchWriters.TorchTensor;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16, finding 8: {@link StateDict#checkStorage} finds a missing or short storage from the
 * headers alone (no tensor byte is read), as {@code vqclip inspect} needs.
 */
public class StorageCheckTest {
  @TempDir Path dir;

  /**
   * Torch ZIP files with one bad tensor {@code big}: {@code "missing"} (its storage entry is
   * dropped), {@code "short"} (16 bytes for 2^30 elements, the persistent id saying 4), {@code
   * "truncated"} (the entry shorter than its persistent id says). Public for the CLI's tests.
   */
  public static Path write(Path file, String how) {
    Storage s = new Storage(StoredType.F32, new byte[16]);
    Map<Object, Object> m = new LinkedHashMap<>();
    m.put("ok", TorchTensor.of(ai.vqclip.core.Tensor.ofFloats(new long[] {2}, new float[] {1, 2})));
    long n = how.equals("short") ? 1L << 30 : 4;
    m.put("big", new TorchTensor(s, 0, new long[] {n}, new long[] {1}));
    Map<String, byte[]> replace = new HashMap<>();
    if (how.equals("missing")) {
      replace.put("data/1", null);
    } else if (how.equals("truncated")) {
      replace.put("data/1", new byte[8]);
    }
    TorchWriters.writeZip(file, new PickleWriter.OrderedDict(m), Layout.TORCH_2, "archive", replace);
    return file;
  }

  @Test
  void missingShortAndTruncatedStoragesAreFoundWithoutReadingData() {
    for (String how : new String[] {"missing", "short", "truncated"}) {
      Path f = write(dir.resolve(how + ".pt"), how);
      try (TorchCheckpoint c = TorchCheckpoint.open(f); StateDict sd = c.stateDict()) {
        sd.checkStorage("ok");
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> sd.checkStorage("big"), how);
        assertTrue(e.getMessage().contains("'big'") || e.getMessage().contains("archive/data/1"), e.getMessage());
        assertEquals(0, c.storageReads(), "no storage is read");
      }
    }
  }

  @Test
  void legacyStoragesAreCheckedToo() {
    Path f = dir.resolve("legacy.pt");
    Map<Object, Object> m = new LinkedHashMap<>();
    m.put("big", new TorchTensor(new Storage(StoredType.F32, new byte[16]), 0, new long[] {1L << 30}, new long[] {1}));
    TorchWriters.writeLegacy(f, new PickleWriter.OrderedDict(m));
    try (TorchCheckpoint c = TorchCheckpoint.open(f); StateDict sd = c.stateDict()) {
      assertThrows(ModelLoadException.class, () -> sd.checkStorage("big"));
      assertEquals(0, c.storageReads());
    }
  }
}
