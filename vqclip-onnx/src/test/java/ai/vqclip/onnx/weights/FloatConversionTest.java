package ai.vqclip.onnx.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class FloatConversionTest {
  /** binary16 decoded from its definition, independently of the bit-shuffling implementation. */
  private static double reference(int h) {
    int sign = (h >>> 15) & 1;
    int exp = (h >>> 10) & 0x1f;
    int mant = h & 0x3ff;
    double mag;
    if (exp == 0) {
      mag = mant * Math.pow(2, -24);
    } else if (exp == 31) {
      mag = mant == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
    } else {
      mag = (1 + mant / 1024.0) * Math.pow(2, exp - 15);
    }
    return sign == 1 ? -mag : mag;
  }

  @Test
  void everyHalfConvertsExactly() {
    for (int h = 0; h < 65536; h++) {
      float f = FloatConversion.halfToFloat((short) h);
      double ref = reference(h);
      if (Double.isNaN(ref)) {
        assertTrue(Float.isNaN(f), "half 0x" + Integer.toHexString(h));
        // the payload survives in the top mantissa bits and the sign is kept
        assertEquals(h & 0x3ff, (Float.floatToRawIntBits(f) >>> 13) & 0x3ff);
        assertEquals(h >>> 15, Float.floatToRawIntBits(f) >>> 31);
      } else {
        assertEquals(ref, (double) f, 0.0, "half 0x" + Integer.toHexString(h));
        assertEquals(h >>> 15, Float.floatToRawIntBits(f) >>> 31, "sign of half 0x" + Integer.toHexString(h));
      }
    }
    assertEquals(Math.pow(2, -24), FloatConversion.halfToFloat((short) 0x0001), 0.0); // smallest subnormal
    assertEquals(65504f, FloatConversion.halfToFloat((short) 0x7bff));
    assertEquals(Float.NEGATIVE_INFINITY, FloatConversion.halfToFloat((short) 0xfc00));
  }

  @Test
  void bfloat16IsTheTopHalfOfAFloat() {
    assertEquals(1f, FloatConversion.bfloat16ToFloat((short) 0x3f80));
    assertEquals(-2f, FloatConversion.bfloat16ToFloat((short) 0xc000));
    assertEquals(Float.POSITIVE_INFINITY, FloatConversion.bfloat16ToFloat((short) 0x7f80));
    assertTrue(Float.isNaN(FloatConversion.bfloat16ToFloat((short) 0x7fc1)));
    assertEquals(Float.intBitsToFloat(0x00010000), FloatConversion.bfloat16ToFloat((short) 0x0001)); // subnormal
  }

  @Test
  void toFloatConvertsTensorsAndRejectsIntegers() {
    ByteBuffer b = ByteBuffer.allocate(6).order(ByteOrder.LITTLE_ENDIAN);
    b.putShort((short) 0x3c00).putShort((short) 0x0200).putShort((short) 0x7e00).flip();
    Tensor half = Tensor.wrap(DType.FLOAT16, new long[] {3}, b);
    float[] f = FloatConversion.toFloat(half, "h").toFloats();
    assertEquals(1f, f[0]);
    assertEquals(Math.pow(2, -15), f[1], 0.0);
    assertTrue(Float.isNaN(f[2]));
    Tensor d = Tensor.ofDoubles(new long[] {2}, 0.1, 1e300);
    float[] g = FloatConversion.toFloat(d, "d").toFloats();
    assertEquals(0.1f, g[0]);
    assertEquals(Float.POSITIVE_INFINITY, g[1]);
    assertThrows(IllegalArgumentException.class, () -> FloatConversion.toFloat(Tensor.vector(1, 2), "v"));
  }
}
