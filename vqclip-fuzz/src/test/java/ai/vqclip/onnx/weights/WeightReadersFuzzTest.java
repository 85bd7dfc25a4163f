package ai.vqclip.onnx.weights;

import ai.vqclip.core.ModelLoadException;
import ai.vqclip.fuzz.FuzzFiles;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Path;

/**
 * Fuzz targets of the weight readers (in this package to reach the unpickler). Every reader may
 * throw only {@link ModelLoadException}; anything else, an OutOfMemoryError at -Xmx1g, a hang or
 * a crash is a finding. The seeds ({@code WeightReadersFuzzTestInputs/<target>/}) are written by
 * {@link FuzzSeeds} with the project's own writers.
 */
class WeightReadersFuzzTest {
  /** Opens the file as any weight file and reads every tensor's spec and data. */
  static void readAll(Path file) {
    try (StateDict sd = WeightFiles.open(file)) {
      for (String k : sd.keys()) {
        sd.spec(k);
        sd.checkStorage(k);
        sd.tensor(k);
      }
    } catch (ModelLoadException expected) {
      // the documented failure
    }
  }

  @FuzzTest(maxDuration = FuzzFiles.DURATION)
  void safetensors(byte[] data) {
    readAll(FuzzFiles.write("fuzz.safetensors", data));
  }

  @FuzzTest(maxDuration = FuzzFiles.DURATION)
  void torchZip(byte[] data) {
    readAll(FuzzFiles.write("fuzz.ckpt", data));
  }

  @FuzzTest(maxDuration = FuzzFiles.DURATION)
  void legacyPickle(byte[] data) {
    readAll(FuzzFiles.write("fuzz.pth", data));
  }

  @FuzzTest(maxDuration = FuzzFiles.DURATION)
  void torchScript(byte[] data) {
    Path f = FuzzFiles.write("fuzz.pt", data);
    try (TorchCheckpoint c = TorchCheckpoint.open(f)) {
      c.topLevelKeys();
      c.constantCount();
      readAll(f);
    } catch (ModelLoadException expected) {
      // the documented failure
    }
  }

  @FuzzTest(maxDuration = FuzzFiles.DURATION)
  void unpickler(byte[] data) {
    try {
      Unpickler.load(PickleInput.of(data, "fuzz"), pid -> pid);
    } catch (ModelLoadException expected) {
      // the documented failure
    }
  }
}
