package ai.vqclip.onnx.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.ModelLoadException;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.DType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {
  @TempDir Path dir;

  private Path raw(String name, long headerLen, byte[] header, int dataBytes) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(8 + header.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(headerLen).put(header);
    for (int i = 0; i < dataBytes; i++) {
      b.put((byte) i);
    }
    Path p = dir.resolve(name);
    Files.write(p, b.array());
    return p;
  }

  private Path raw(String name, String header, int dataBytes) throws IOException {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    return raw(name, h.length, h, dataBytes);
  }

  private String failure(Path p) {
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> SafetensorsFile.open(p).close());
    assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
    return e.getMessage();
  }

  @Test
  void roundTripsEveryDtypeWithMetadata() {
    Map<String, Tensor> t = WeightTestData.tensors();
    Path p = dir.resolve("m.safetensors");
    SafetensorsWriter.write(p, t, Map.of("format", "pt"));
    try (SafetensorsFile f = SafetensorsFile.open(p)) {
      WeightTestData.assertSameTensors(t, f);
      assertEquals(Map.of("format", "pt"), f.metadata());
      assertEquals("F16", f.storedDtype("visual.proj"));
      float[] h = f.floatTensor("visual.proj").toFloats();
      assertEquals(1f, h[0]);
      assertEquals((float) Math.pow(2, -24), h[1]);
      assertEquals(Float.POSITIVE_INFINITY, h[5]);
      assertTrue(Float.isNaN(h[7]));
      assertEquals(-0f, h[4]);
      assertEquals(1f / -0f, 1f / h[4]);
      assertEquals(Float.NEGATIVE_INFINITY, f.floatTensor("bf").toFloats()[2]);
      assertEquals(0.1f, f.floatTensor("double").toFloats()[0]);
      assertThrows(IllegalArgumentException.class, () -> f.floatTensor("ints"));
      assertThrows(IllegalArgumentException.class, () -> f.tensor("nope"));
    }
    // the header is padded so the data section starts 8-byte aligned
    assertEquals(0, (readHeaderLength(p) + 8) % 8);
  }

  private static long readHeaderLength(Path p) {
    try {
      return ByteBuffer.wrap(Files.readAllBytes(p), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void widensInt16AndUnsignedTypes() throws IOException {
    String h = "{\"a\":{\"dtype\":\"I16\",\"shape\":[2],\"data_offsets\":[0,4]},"
        + "\"b\":{\"dtype\":\"U16\",\"shape\":[1],\"data_offsets\":[4,6]},"
        + "\"c\":{\"dtype\":\"U32\",\"shape\":[],\"data_offsets\":[6,10]},"
        + "\"d\":{\"dtype\":\"U64\",\"shape\":[1],\"data_offsets\":[10,18]}}";
    byte[] hb = h.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + hb.length + 18).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(hb.length).put(hb).putShort((short) -2).putShort((short) 300).putShort((short) 0xffff)
        .putInt(0xffffffff).putLong(1);
    Path p = dir.resolve("w.safetensors");
    Files.write(p, b.array());
    try (StateDict f = SafetensorsFile.open(p)) {
      assertArrayEquals(new double[] {-2, 300}, f.tensor("a").toDoubles());
      assertEquals(DType.INT32, f.spec("a").dtype());
      assertEquals(65535, f.tensor("b").toDoubles()[0]);
      assertEquals(4294967295L, f.tensor("c").toLongs()[0]);
      ModelLoadException e = assertThrows(ModelLoadException.class, () -> f.tensor("d"));
      assertTrue(e.getMessage().contains("U64") && e.getMessage().contains("'d'"), e.getMessage());
    }
  }

  @Test
  void rejectsHeaderLengthBeyondFile() throws IOException {
    String m = failure(raw("huge.safetensors", 1L << 40, "{}".getBytes(StandardCharsets.UTF_8), 0));
    assertTrue(m.contains("1099511627776"), m);
    m = failure(raw("neg.safetensors", -1L, "{}".getBytes(StandardCharsets.UTF_8), 0));
    assertTrue(m.contains("18446744073709551615"), m);
    m = failure(raw("long.safetensors", 100, "{}".getBytes(StandardCharsets.UTF_8), 10));
    assertTrue(m.contains("header length 100 exceeds the 12 bytes"), m);
    Path tiny = dir.resolve("tiny.safetensors");
    Files.write(tiny, new byte[] {1, 2, 3});
    assertTrue(failure(tiny).contains("3 bytes"));
  }

  @Test
  void rejectsOverlapsGapsAndTrailingBytes() throws IOException {
    String m = failure(raw("overlap.safetensors",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
            + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12));
    assertTrue(m.contains("'b'") && m.contains("overlap") && m.contains("'a'") && m.contains("[4, 12]"), m);
    m = failure(raw("gap.safetensors",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
            + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12));
    assertTrue(m.contains("gap") && m.contains("[4, 8)") && m.contains("'b'"), m);
    m = failure(raw("trail.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 9));
    assertTrue(m.contains("9 bytes") && m.contains("cover only 4"), m);
    m = failure(raw("range.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4000]}}", 4));
    assertTrue(m.contains("'a'") && m.contains("[0, 4000]") && m.contains("4-byte data section"), m);
  }

  @Test
  void rejectsShapeThatDisagreesWithOffsets() throws IOException {
    String m = failure(raw("shape.safetensors", "{\"w\":{\"dtype\":\"F16\",\"shape\":[3,3],\"data_offsets\":[0,16]}}", 16));
    assertTrue(m.contains("'w'") && m.contains("needs 18 bytes") && m.contains("hold 16"), m);
    m = failure(raw("overflow.safetensors",
        "{\"w\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,4]}}", 4));
    assertTrue(m.contains("overflows"), m);
    m = failure(raw("negshape.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4));
    assertTrue(m.contains("non-negative"), m);
  }

  @Test
  void rejectsUnknownDtypeDuplicateKeysAndBadEncoding() throws IOException {
    String m = failure(raw("dtype.safetensors", "{\"w\":{\"dtype\":\"F128\",\"shape\":[1],\"data_offsets\":[0,16]}}", 16));
    assertTrue(m.contains("unknown dtype 'F128'") && m.contains("'w'"), m);
    m = failure(raw("dup.safetensors",
        "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
            + "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8));
    assertTrue(m.contains("Duplicate") && m.contains("'w'"), m);
    byte[] bad = "{\"\u00e9\":{}}".getBytes(StandardCharsets.ISO_8859_1);
    m = failure(raw("latin1.safetensors", bad.length, bad, 0));
    assertTrue(m.contains("not valid UTF-8"), m);
    m = failure(raw("array.safetensors", "[1,2]", 0));
    assertTrue(m.contains("not a JSON object"), m);
    m = failure(raw("json.safetensors", "{\"a\":", 0));
    assertTrue(m.contains("not valid JSON"), m);
    m = failure(raw("meta.safetensors", "{\"__metadata__\":{\"k\":1}}", 0));
    assertTrue(m.contains("__metadata__") && m.contains("'k'"), m);
  }

  @Test
  void acceptsEmptyAndZeroSizeTensorsAndSpacePaddedHeader() throws IOException {
    Path p = raw("pad.safetensors",
        "{\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},"
            + "\"s\":{\"dtype\":\"BOOL\",\"shape\":[],\"data_offsets\":[0,1]}}      ", 1);
    try (StateDict f = WeightFiles.open(p)) {
      assertEquals(List.of("z", "s"), List.copyOf(f.keys()));
      assertEquals(0, f.tensor("z").elementCount());
      assertArrayEquals(new long[0], f.tensor("s").shape());
    }
    try (StateDict f = WeightFiles.open(raw("none.safetensors", "{}", 0))) {
      assertTrue(f.keys().isEmpty());
    }
  }
}
