package ai.vqclip.onnx.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.ModelLoadException;
import ai.vqclip.core.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LegacyTorchTest {
  @TempDir Path dir;

  @Test
  void roundTripsEveryDtype() {
    Map<String, Tensor> t = WeightTestData.tensors();
    Path p = dir.resolve("legacy.pt");
    TorchWriters.writeLegacy(p, TorchWriters.stateDict(t));
    assertEquals(WeightFiles.Format.TORCH_LEGACY, WeightFiles.detect(p));
    try (TorchCheckpoint c = TorchCheckpoint.open(p)) {
      assertEquals(TorchCheckpoint.Kind.LEGACY, c.kind());
      WeightTestData.assertSameTensors(t, c.stateDict());
    }
  }

  @Test
  void viewsAndLightningDictsWork() {
    Path p = dir.resolve("views.pt");
    TorchWriters.writeLegacy(p, new PickleWriter.OrderedDict(new LinkedHashMap<>(TorchZipTest.views())));
    try (StateDict sd = WeightFiles.open(p)) {
      TorchZipTest.assertViews(sd);
    }
    Map<String, Tensor> w = TorchZipTest.vqganWeights();
    Path q = dir.resolve("lightning.ckpt");
    TorchWriters.writeLegacy(q, TorchZipTest.lightning(w));
    try (TorchCheckpoint c = TorchCheckpoint.open(q)) {
      WeightTestData.assertSameTensors(w, c.stateDict());
      assertEquals(w.size(), c.storageReads());
    }
  }

  @Test
  void legacyRootViewMetadataIsHonoured() throws Exception {
    // Hand-patch the pid of a legacy file: view_metadata ('v', 1, 2) on a root storage of 4 floats.
    Map<Object, Object> m = new LinkedHashMap<>();
    TorchWriters.Storage s = TorchZipTest.floatStorage(10, 11, 12, 13);
    m.put("v", new TorchWriters.TorchTensor(s, 0, new long[] {2}, new long[] {1}));
    Path p = dir.resolve("view.pt");
    TorchWriters.writeLegacy(p, new PickleWriter.OrderedDict(m));
    byte[] b = Files.readAllBytes(p);
    // the pid tuple ends "... K\x04 N t" (numel 4, view_metadata None, TUPLE): replace N by a tuple
    int at = indexOf(b, new byte[] {'K', 4, 'N', 't'});
    byte[] view = {'X', 1, 0, 0, 0, 'v', 'K', 1, 'K', 2, (byte) 0x87};
    byte[] patched = new byte[b.length - 1 + view.length];
    System.arraycopy(b, 0, patched, 0, at + 2);
    System.arraycopy(view, 0, patched, at + 2, view.length);
    System.arraycopy(b, at + 3, patched, at + 2 + view.length, b.length - at - 3);
    Path q = dir.resolve("view2.pt");
    Files.write(q, patched);
    try (StateDict sd = WeightFiles.open(q)) {
      assertEquals(11f, sd.tensor("v").toFloats()[0]);
      assertEquals(12f, sd.tensor("v").toFloats()[1]);
    }
  }

  private static int indexOf(byte[] b, byte[] pat) {
    outer:
    for (int i = 0; i + pat.length <= b.length; i++) {
      for (int j = 0; j < pat.length; j++) {
        if (b[i + j] != pat[j]) {
          continue outer;
        }
      }
      return i;
    }
    throw new AssertionError("pattern not found");
  }

  @Test
  void truncationAndWrongCountsAreReported() throws Exception {
    Path p = dir.resolve("legacy.pt");
    TorchWriters.writeLegacy(p, TorchWriters.stateDict(TorchZipTest.vqganWeights()));
    byte[] full = Files.readAllBytes(p);
    for (int cut : new int[] {full.length - 1, full.length - 9, full.length / 2, 30, 3}) {
      Path t = dir.resolve("cut" + cut + ".pt");
      Files.write(t, java.util.Arrays.copyOf(full, cut));
      ModelLoadException e = assertThrows(ModelLoadException.class, () -> WeightFiles.open(t).close(), "cut " + cut);
      assertTrue(e.getMessage().contains(t.toString()), e.getMessage());
    }
    // the first storage's element count says 3 where the pickle says 2
    int firstCount = full.length - (8 + 8) - (8 + 24) - (8 + 8) - (8 + 12);
    ByteBuffer bb = ByteBuffer.wrap(full).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(2L, bb.getLong(firstCount));
    bb.putLong(firstCount, 3L);
    Path w = dir.resolve("count.pt");
    Files.write(w, full);
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> WeightFiles.open(w));
    assertTrue(e.getMessage().contains("storage '0' has 3 elements") && e.getMessage().contains("says 2"), e.getMessage());
  }
}
