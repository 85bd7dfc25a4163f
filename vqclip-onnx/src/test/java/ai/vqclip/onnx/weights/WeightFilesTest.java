package ai.vqclip.onnx.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.ModelLoadException;
import ai.vqclip.core.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WeightFilesTest {
  @TempDir Path dir;

  @Test
  void sameTensorsReadAlikeFromEveryFormat() {
    Map<String, Tensor> t = WeightTestData.tensors();
    Path st = dir.resolve("a.safetensors");
    Path zip = dir.resolve("a.pt");
    Path legacy = dir.resolve("a.bin");
    SafetensorsWriter.write(st, t, null);
    TorchWriters.writeZip(zip, TorchWriters.stateDict(t), TorchWriters.Layout.TORCH_2);
    TorchWriters.writeLegacy(legacy, TorchWriters.stateDict(t));
    assertEquals(WeightFiles.Format.SAFETENSORS, WeightFiles.detect(st));
    assertEquals(WeightFiles.Format.TORCH_ZIP, WeightFiles.detect(zip));
    assertEquals(WeightFiles.Format.TORCH_LEGACY, WeightFiles.detect(legacy));
    for (Path p : new Path[] {st, zip, legacy}) {
      try (StateDict sd = WeightFiles.open(p)) {
        WeightTestData.assertSameTensors(t, sd);
        assertEquals(Map.of(), sd.metadata());
      }
    }
  }

  @Test
  void unknownFilesAreRejectedWithTheirFirstBytes() throws Exception {
    Path p = dir.resolve("x.onnx");
    Files.write(p, new byte[] {8, 7, 18, 3, 'o', 'r', 't', 0, 0, 0});
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> WeightFiles.open(p));
    assertTrue(e.getMessage().contains("0807120")
        && e.getMessage().contains(p.toString()), e.getMessage());
    Path empty = dir.resolve("empty.bin");
    Files.write(empty, new byte[0]);
    assertThrows(ModelLoadException.class, () -> WeightFiles.open(empty));
    assertThrows(ModelLoadException.class, () -> WeightFiles.open(dir.resolve("missing.pt")));
  }
}
