package ai.vqclip.onnx.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/** Shared tensors for the round-trip tests: every dtype, special float16 values, a scalar, an empty tensor. */
final class WeightTestData {
  private WeightTestData() {}

  static Tensor raw(DType t, long[] shape, byte[] bytes) {
    return Tensor.wrap(t, shape, ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN));
  }

  static Tensor halves(long[] shape, int... bits) {
    ByteBuffer b = ByteBuffer.allocate(bits.length * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (int h : bits) {
      b.putShort((short) h);
    }
    b.flip();
    return Tensor.wrap(DType.FLOAT16, shape, b);
  }

  static Tensor bf16(long[] shape, int... bits) {
    ByteBuffer b = ByteBuffer.allocate(bits.length * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (int h : bits) {
      b.putShort((short) h);
    }
    b.flip();
    return Tensor.wrap(DType.BFLOAT16, shape, b);
  }

  static Map<String, Tensor> tensors() {
    Random r = new Random(7);
    Map<String, Tensor> m = new LinkedHashMap<>();
    float[] f = new float[2 * 3 * 4];
    for (int i = 0; i < f.length; i++) {
      f[i] = (float) r.nextGaussian();
    }
    m.put("encoder.conv_in.weight", Tensor.ofFloats(new long[] {2, 3, 2, 2}, f));
    // 1, subnormal min, subnormal max, max normal, -0, +inf, -inf, NaN
    m.put("visual.proj", halves(new long[] {2, 4}, 0x3c00, 0x0001, 0x03ff, 0x7bff, 0x8000, 0x7c00, 0xfc00, 0x7e01));
    m.put("bf", bf16(new long[] {3}, 0x3f80, 0x0001, 0xff80));
    m.put("double", Tensor.ofDoubles(new long[] {2, 2}, 0.1, -1e300, Double.MIN_VALUE, Math.PI));
    m.put("decoder.num_batches_tracked", Tensor.ofLongs(new long[0], 123456789012L));
    m.put("ints", Tensor.ofInts(new long[] {3}, -1, 0, Integer.MAX_VALUE));
    m.put("i8", raw(DType.INT8, new long[] {2}, new byte[] {-128, 127}));
    m.put("u8", raw(DType.UINT8, new long[] {2}, new byte[] {0, (byte) 255}));
    m.put("mask", Tensor.ofBools(new long[] {2, 2}, true, false, false, true));
    m.put("logit_scale", Tensor.ofFloats(new long[0], 4.6052f));
    m.put("empty", Tensor.ofFloats(new long[] {0, 3}));
    return m;
  }

  static void assertSameTensors(Map<String, Tensor> expected, StateDict actual) {
    assertEquals(expected.keySet(), actual.keys());
    for (Map.Entry<String, Tensor> e : expected.entrySet()) {
      Tensor a = actual.tensor(e.getKey());
      assertEquals(e.getValue().dtype(), a.dtype(), e.getKey());
      assertArrayEquals(e.getValue().shape(), a.shape(), e.getKey());
      assertEquals(e.getValue().data(), a.data(), e.getKey()); // bit-exact, NaN payloads included
      assertEquals(new TensorSpec(e.getValue().dtype(), e.getValue().shape()), actual.spec(e.getKey()));
    }
  }
}
