package ai.vqclip.onnx.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.ModelLoadException;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.DType;
import ai.vqclip.onnx.weights.Pickle.Global;
import ai.vqclip.onnx.weights.TorchWriters.Layout;
import ai.vqclip.onnx.weights.TorchWriters.Storage;
import ai.vqclip.onnx.weights.TorchWriters.TorchTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TorchZipTest {
  @TempDir Path dir;

  static Storage floatStorage(float... v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : v) {
      b.putFloat(f);
    }
    return new Storage(StoredType.F32, b.array());
  }

  /** Views into shared storages: offset slice, transpose, broadcast (stride 0), and a plain one. */
  static Map<String, Object> views() {
    Storage s = floatStorage(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("whole", new TorchTensor(s, 0, new long[] {3, 4}, new long[] {4, 1}));
    m.put("row1", new TorchTensor(s, 4, new long[] {4}, new long[] {1}));
    m.put("transposed", new TorchTensor(s, 0, new long[] {4, 3}, new long[] {1, 4}));
    m.put("column2", new TorchTensor(s, 2, new long[] {3, 1}, new long[] {4, 1}));
    m.put("expanded", new TorchTensor(s, 5, new long[] {2, 3}, new long[] {0, 1}));
    return m;
  }

  static void assertViews(StateDict sd) {
    assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, sd.tensor("whole").toFloats());
    assertArrayEquals(new float[] {4, 5, 6, 7}, sd.tensor("row1").toFloats());
    assertArrayEquals(new float[] {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}, sd.tensor("transposed").toFloats());
    assertArrayEquals(new long[] {4, 3}, sd.tensor("transposed").shape());
    assertArrayEquals(new float[] {2, 6, 10}, sd.tensor("column2").toFloats());
    assertArrayEquals(new float[] {5, 6, 7, 5, 6, 7}, sd.tensor("expanded").toFloats());
  }

  @Test
  void roundTripsEveryDtypeInBothLayouts() throws Exception {
    Map<String, Tensor> t = WeightTestData.tensors();
    for (Layout layout : Layout.values()) {
      Path p = dir.resolve("sd-" + layout + ".pt");
      TorchWriters.writeZip(p, TorchWriters.stateDict(t), layout);
      assertEquals(WeightFiles.Format.TORCH_ZIP, WeightFiles.detect(p));
      try (StateDict sd = WeightFiles.open(p)) {
        WeightTestData.assertSameTensors(t, sd);
        assertEquals(1f, sd.floatTensor("visual.proj").toFloats()[0]);
      }
      try (TorchCheckpoint c = TorchCheckpoint.open(p)) {
        assertEquals(TorchCheckpoint.Kind.ZIP, c.kind());
      }
    }
  }

  @Test
  void viewsOfSharedStoragesAreHonoured() {
    Path p = dir.resolve("views.pt");
    TorchWriters.writeZip(p, new PickleWriter.OrderedDict(new LinkedHashMap<>(views())), Layout.TORCH_2);
    try (TorchCheckpoint c = TorchCheckpoint.open(p); StateDict sd = c.stateDict()) {
      assertViews(sd);
      assertEquals(new TensorSpec(DType.FLOAT, new long[] {4, 3}), sd.spec("transposed"));
    }
  }

  @Test
  void zipLayoutMatchesTorch() throws Exception {
    Path p = dir.resolve("layout.pt");
    TorchWriters.writeZip(p, TorchWriters.stateDict(WeightTestData.tensors()), Layout.TORCH_1_6, "last", Map.of());
    try (ZipFile z = new ZipFile(p.toFile())) {
      List<String> names = new ArrayList<>();
      z.stream().forEach(e -> names.add(e.getName()));
      assertEquals("last/version", names.get(0));
      assertEquals("last/data.pkl", names.get(1));
      assertTrue(names.contains("last/data/10"));
      assertEquals("3\n", new String(z.getInputStream(z.getEntry("last/version")).readAllBytes(), StandardCharsets.US_ASCII));
    }
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
      ZipArchive zip = ZipArchive.open(p, ch);
      for (ZipArchive.Entry e : zip.entries().values()) {
        assertEquals(0, zip.dataOffset(e) % 64, e.name() + " data must be 64-byte aligned");
        assertEquals(0, e.method());
      }
    }
    try (StateDict sd = WeightFiles.open(p)) {
      WeightTestData.assertSameTensors(WeightTestData.tensors(), sd);
    }
  }

  /** A PyTorch-Lightning 1.0 style checkpoint. Storages 0..4 belong to the callback and optimizer. */
  static Map<String, Object> lightning(Map<String, Tensor> weights) {
    Map<String, Object> ckpt = new LinkedHashMap<>();
    ckpt.put("epoch", 3L);
    ckpt.put("global_step", 12345L);
    ckpt.put("pytorch-lightning_version", "1.0.8");
    Map<String, Object> cbState = new LinkedHashMap<>();
    cbState.put("best_model_score", TorchTensor.of(Tensor.ofFloats(new long[0], 0.5f)));
    cbState.put("monitor", "val/rec_loss");
    Map<Object, Object> callbacks = new LinkedHashMap<>();
    callbacks.put(new Global("pytorch_lightning.callbacks.model_checkpoint", "ModelCheckpoint"), cbState);
    ckpt.put("callbacks", callbacks);
    List<Object> optimizers = new ArrayList<>();
    Pickle.Tuple betas = Pickle.Tuple.of(0.5, 0.9); // one object, as a Python constant is
    for (int o = 0; o < 2; o++) {
      Map<Object, Object> state = new LinkedHashMap<>();
      Map<String, Object> p0 = new LinkedHashMap<>();
      p0.put("step", 100L);
      p0.put("exp_avg", TorchTensor.of(Tensor.ofFloats(new long[] {2}, 1, 2)));
      p0.put("exp_avg_sq", TorchTensor.of(Tensor.ofFloats(new long[] {2}, 3, 4)));
      state.put((long) 0, p0);
      Map<String, Object> group = new LinkedHashMap<>();
      group.put("lr", 4.5e-6);
      group.put("betas", betas);
      group.put("params", new ArrayList<>(List.of(0L)));
      Map<String, Object> opt = new LinkedHashMap<>();
      opt.put("state", state);
      opt.put("param_groups", new ArrayList<>(List.of(group)));
      optimizers.add(opt);
    }
    ckpt.put("optimizer_states", optimizers);
    ckpt.put("lr_schedulers", new ArrayList<>());
    ckpt.put("state_dict", TorchWriters.stateDict(weights));
    return ckpt;
  }

  static Map<String, Tensor> vqganWeights() {
    Map<String, Tensor> w = new LinkedHashMap<>();
    w.put("encoder.conv_in.weight", Tensor.ofFloats(new long[] {2, 1, 1, 1}, 1, 2));
    w.put("quantize.embedding.weight", Tensor.ofFloats(new long[] {3, 2}, 1, 2, 3, 4, 5, 6));
    w.put("loss.discriminator.main.1.num_batches_tracked", Tensor.ofLongs(new long[0], 7));
    w.put("loss.perceptual_loss.scaling_layer.shift", Tensor.ofFloats(new long[] {1, 3, 1, 1}, -.03f, -.088f, -.188f));
    return w;
  }

  @Test
  void lightningCheckpointReadsOnlyTheStateDict() {
    Map<String, Tensor> w = vqganWeights();
    Path p = dir.resolve("last.ckpt");
    TorchWriters.writeZip(p, lightning(w), Layout.TORCH_1_6, "archive", Map.of());
    try (TorchCheckpoint c = TorchCheckpoint.open(p)) {
      assertEquals(List.of("epoch", "global_step", "pytorch-lightning_version", "callbacks", "optimizer_states",
          "lr_schedulers", "state_dict"), new ArrayList<>(c.topLevelKeys()));
      StateDict sd = c.stateDict();
      WeightTestData.assertSameTensors(w, sd);
      assertEquals(w.size(), c.storageReads(), "only the state dict's storages are read");
      try (StateDict model = sd.filter(k -> !k.startsWith("loss."))) {
        assertEquals(List.of("encoder.conv_in.weight", "quantize.embedding.weight"), new ArrayList<>(model.keys()));
      }
      assertTrue(c.placeholderClasses().contains("pytorch_lightning.callbacks.model_checkpoint.ModelCheckpoint"));
    }
    // with every callback/optimizer storage missing or corrupt the state dict still loads
    Map<String, byte[]> corrupt = new HashMap<>();
    corrupt.put("data/0", null);
    corrupt.put("data/1", new byte[] {1});
    corrupt.put("data/2", null);
    corrupt.put("data/3", new byte[0]);
    corrupt.put("data/4", null);
    Path q = dir.resolve("corrupt.ckpt");
    TorchWriters.writeZip(q, lightning(w), Layout.TORCH_1_6, "archive", corrupt);
    try (StateDict sd = WeightFiles.open(q)) {
      WeightTestData.assertSameTensors(w, sd);
    }
    try (TorchCheckpoint c = TorchCheckpoint.open(q)) {
      // a dict keyed by a class object has no named tensors
      ModelLoadException e = assertThrows(ModelLoadException.class, () -> c.stateDict("callbacks"));
      assertTrue(e.getMessage().contains("'callbacks' holds no tensors"), e.getMessage());
    }
    try (TorchCheckpoint c = TorchCheckpoint.open(q); StateDict opt = c.stateDict("optimizer_states")) {
      assertTrue(opt.keys().contains("0.state.0.exp_avg"));
      ModelLoadException e = assertThrows(ModelLoadException.class, () -> opt.tensor("0.state.0.exp_avg"));
      assertTrue(e.getMessage().contains("archive/data/1") && e.getMessage().contains("has 1 bytes"), e.getMessage());
      e = assertThrows(ModelLoadException.class, () -> opt.tensor("0.state.0.exp_avg_sq"));
      assertTrue(e.getMessage().contains("no entry 'archive/data/2'"), e.getMessage());
    }
  }

  @Test
  void stripPrefixSelectsASubmodule() {
    Path p = dir.resolve("prefixed.pt");
    TorchWriters.writeZip(p, TorchWriters.stateDict(vqganWeights()), Layout.TORCH_2);
    try (StateDict sd = WeightFiles.open(p).stripPrefix("loss.")) {
      assertEquals(List.of("discriminator.main.1.num_batches_tracked", "perceptual_loss.scaling_layer.shift"),
          new ArrayList<>(sd.keys()));
      assertEquals(7L, sd.tensor("discriminator.main.1.num_batches_tracked").toLongs()[0]);
    }
  }

  @Test
  void truncatedZipFailsCleanly() throws Exception {
    Path p = dir.resolve("full.pt");
    TorchWriters.writeZip(p, TorchWriters.stateDict(WeightTestData.tensors()), Layout.TORCH_2);
    byte[] full = Files.readAllBytes(p);
    for (int cut : new int[] {full.length - 1, full.length - 30, full.length - 100, full.length / 2, 100, 5}) {
      Path t = dir.resolve("cut" + cut + ".pt");
      Files.write(t, java.util.Arrays.copyOf(full, cut));
      ModelLoadException e = assertThrows(ModelLoadException.class, () -> WeightFiles.open(t).close(), "cut " + cut);
      assertTrue(e.getMessage().contains(t.toString()), e.getMessage());
    }
  }

  @Test
  void missingStorageEntryAndShortStorageAreReported() {
    Path p = dir.resolve("missing.pt");
    TorchWriters.writeZip(p, TorchWriters.stateDict(vqganWeights()), Layout.TORCH_2, "archive",
        Map.of("data/1", new byte[0]));
    Map<String, byte[]> drop = new HashMap<>();
    drop.put("data/0", null);
    Path q = dir.resolve("dropped.pt");
    TorchWriters.writeZip(q, TorchWriters.stateDict(vqganWeights()), Layout.TORCH_2, "archive", drop);
    try (StateDict sd = WeightFiles.open(q)) {
      ModelLoadException e = assertThrows(ModelLoadException.class, () -> sd.tensor("encoder.conv_in.weight"));
      assertTrue(e.getMessage().contains("'encoder.conv_in.weight'") && e.getMessage().contains("no entry 'archive/data/0'"),
          e.getMessage());
      assertEquals(3, sd.tensor("quantize.embedding.weight").shape()[0]);
    }
    try (StateDict sd = WeightFiles.open(p)) {
      ModelLoadException e = assertThrows(ModelLoadException.class, () -> sd.tensor("quantize.embedding.weight"));
      assertTrue(e.getMessage().contains("'archive/data/1' has 0 bytes") && e.getMessage().contains("24 bytes"),
          e.getMessage());
    }
    // a view reaching past its storage
    Storage s = floatStorage(1, 2, 3, 4);
    Map<Object, Object> m = new LinkedHashMap<>();
    m.put("too_big", new TorchTensor(s, 1, new long[] {2, 2}, new long[] {2, 1}));
    Path r = dir.resolve("short.pt");
    TorchWriters.writeZip(r, new PickleWriter.OrderedDict(m), Layout.TORCH_2);
    try (StateDict sd = WeightFiles.open(r)) {
      assertEquals(new TensorSpec(DType.FLOAT, new long[] {2, 2}), sd.spec("too_big"));
      ModelLoadException e = assertThrows(ModelLoadException.class, () -> sd.tensor("too_big"));
      assertTrue(e.getMessage().contains("'too_big'") && e.getMessage().contains("needs 5 elements")
          && e.getMessage().contains("holds 4"), e.getMessage());
    }
  }

  @Test
  void maliciousPickleInsideAZipRunsNothing() throws Exception {
    Path marker = dir.resolve("marker");
    byte[] cmd = ("touch " + marker).getBytes(StandardCharsets.UTF_8);
    java.io.ByteArrayOutputStream pkl = new java.io.ByteArrayOutputStream();
    pkl.writeBytes(new byte[] {(byte) 0x80, 2});
    pkl.writeBytes("cos\nsystem\nX".getBytes(StandardCharsets.US_ASCII));
    pkl.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(cmd.length).array());
    pkl.writeBytes(cmd);
    pkl.writeBytes(new byte[] {(byte) 0x85, 'R', '.'});
    Map<String, byte[]> rec = new LinkedHashMap<>();
    rec.put("data.pkl", pkl.toByteArray());
    rec.put("version", "3\n".getBytes(StandardCharsets.US_ASCII));
    Path p = dir.resolve("evil.pt");
    TorchWriters.writeRecords(p, "archive", rec, Map.of());
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> WeightFiles.open(p));
    assertTrue(e.getMessage().contains("holds no tensors"), e.getMessage());
    assertFalse(Files.exists(marker));
  }

  @Test
  void bigEndianAndForeignZipsAreRejected() {
    Path p = dir.resolve("be.pt");
    TorchWriters.writeZip(p, TorchWriters.stateDict(vqganWeights()), Layout.TORCH_2, "archive",
        Map.of("byteorder", "big".getBytes(StandardCharsets.US_ASCII)));
    assertTrue(assertThrows(ModelLoadException.class, () -> WeightFiles.open(p)).getMessage().contains("byteorder 'big'"));
    Map<String, byte[]> rec = new LinkedHashMap<>();
    rec.put("readme.txt", "hi".getBytes(StandardCharsets.US_ASCII));
    Path q = dir.resolve("other.zip");
    TorchWriters.writeRecords(q, "docs", rec, Map.of());
    assertTrue(assertThrows(ModelLoadException.class, () -> WeightFiles.open(q)).getMessage().contains("no <root>/data.pkl"));
  }
}
