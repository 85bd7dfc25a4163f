package ai.vqclip.onnx.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.graph.DType;
import ai.vqclip.onnx.RandomWeights;
import ai.vqclip.onnx.clip.ClipConfig;
import ai.vqclip.onnx.clip.ClipEncoder;
import ai.vqclip.onnx.vqgan.VqganConfig;
import ai.vqclip.onnx.vqgan.VqganGenerator;
import ai.vqclip.onnx.weights.TorchWriters.Module;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Models loaded from the files users have: a taming Lightning checkpoint and an OpenAI TorchScript archive. */
class ModelFilesTest {
  private static final ExecutionOptions CPU = ExecutionOptions.cpu().withThreads(1);
  private static final VqganConfig VQGAN = new VqganConfig(8, List.of(1, 2), 1, List.of(8), 4, 4, 16, 16, 3, 3, false, false, 4);
  private static final ClipConfig CLIP = new ClipConfig(16, 32, 32, 2, 4, 8, 77, 100, 32, 2, 4);

  @TempDir Path dir;

  @Test
  void vqganFromLightningCheckpointsInEveryFormatDecodesLikeTheWeights() {
    Map<String, Tensor> w = new LinkedHashMap<>(RandomWeights.vqgan(VQGAN, 2));
    w.put("loss.discriminator.main.0.weight", Tensor.filled(DType.FLOAT, new long[] {2, 3, 1, 1}, 0.5));
    Path zip = dir.resolve("last.ckpt");
    TorchWriters.writeZip(zip, TorchZipTest.lightning(w), TorchWriters.Layout.TORCH_1_6);
    Path legacy = dir.resolve("legacy.ckpt");
    TorchWriters.writeLegacy(legacy, TorchZipTest.lightning(w));
    Path st = dir.resolve("model.safetensors");
    SafetensorsWriter.write(st, w, Map.of());
    Tensor expected;
    try (VqganGenerator g = VqganGenerator.load(StateDict.of(w), VQGAN, CPU)) {
      expected = g.decode(g.randomLatent(8, 8, 1));
    }
    for (Path p : List.of(zip, legacy, st)) {
      // The tiny model uses 4 GroupNorm groups (taming's 32 would not divide 8 channels), which
      // shapes cannot reveal: the inferred config takes the group count as a parameter.
      try (StateDict sd = WeightFiles.open(p); VqganGenerator g = VqganGenerator.load(sd, VqganConfig.inferFrom(sd, 4), CPU)) {
        assertEquals(VQGAN.chMult(), g.config().chMult(), p.toString());
        assertEquals(expected, g.decode(g.randomLatent(8, 8, 1)), p.toString());
      }
    }
  }

  /** OpenAI's CLIP module tree, with fp16 weights as the published archives have. */
  private static Module openAiTree(Map<String, Tensor> w) {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("training", false);
    for (Map.Entry<String, Tensor> e : w.entrySet()) {
      String[] path = e.getKey().split("\\.");
      Map<String, Object> node = root;
      for (int i = 0; i < path.length - 1; i++) {
        Object child = node.computeIfAbsent(path[i], k -> {
          Map<String, Object> m = new LinkedHashMap<>();
          m.put("training", false);
          return m;
        });
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) child;
        node = m;
      }
      Tensor t = e.getValue();
      boolean half = t.rank() >= 2 && !e.getKey().contains("embedding");
      node.put(path[path.length - 1], half ? Tensor.fromDoubles(DType.FLOAT16, t.shape(), t.toDoubles()) : t);
    }
    return toModule("__torch__.clip.model.CLIP", root);
  }

  @SuppressWarnings("unchecked")
  private static Module toModule(String cls, Map<String, Object> attrs) {
    Map<String, Object> out = new LinkedHashMap<>();
    attrs.forEach((k, v) -> out.put(k, v instanceof Map<?, ?> m ? toModule("__torch__.clip.model.Part", (Map<String, Object>) m) : v));
    return new Module(cls, out);
  }

  @Test
  void clipFromATorchScriptArchiveEmbedsLikeItsWeights() {
    Map<String, Tensor> w = RandomWeights.clip(CLIP, 3);
    Path pt = dir.resolve("ViT-tiny.pt");
    TorchWriters.writeTorchScript(pt, "ViT-tiny", openAiTree(w), List.of());
    // The archive stores fp16; the reference uses the same rounding.
    Map<String, Tensor> rounded = new LinkedHashMap<>();
    w.forEach((k, t) -> rounded.put(k, t.rank() >= 2 && !k.contains("embedding")
        ? Tensor.fromDoubles(DType.FLOAT, t.shape(), Tensor.fromDoubles(DType.FLOAT16, t.shape(), t.toDoubles()).toDoubles()) : t));
    SplittableRandom r = new SplittableRandom(1);
    double[] px = new double[2 * 3 * 32 * 32];
    for (int i = 0; i < px.length; i++) {
      px[i] = r.nextDouble();
    }
    Tensor images = Tensor.fromDoubles(DType.FLOAT, new long[] {2, 3, 32, 32}, px);
    float[] expected;
    try (ClipEncoder e = ClipEncoder.load(StateDict.of(rounded), CLIP, null, CPU)) {
      expected = e.embedImages(images).toFloats();
    }
    try (StateDict sd = WeightFiles.open(pt); ClipEncoder e = ClipEncoder.load(sd, CLIP, null, CPU)) {
      assertArrayEquals(expected, e.embedImages(images).toFloats());
    }
  }
}
