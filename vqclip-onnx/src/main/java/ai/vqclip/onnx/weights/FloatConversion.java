package ai.vqclip.onnx.weights;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Exact conversions of stored floating tensors to float32. Every float16 and bfloat16 value
 * (subnormals, infinities, NaN payloads included) is representable in float32, so these never round;
 * float64 rounds to nearest.
 */
public final class FloatConversion {
  private FloatConversion() {}

  /**
   * An IEEE binary16 bit pattern as float32 (exact).
   *
   * @param half the binary16 bits
   * @return the same value as a float (subnormals, infinities and NaN included)
   */
  public static float halfToFloat(short half) {
    int h = half & 0xffff;
    int sign = (h & 0x8000) << 16;
    int exp = (h >>> 10) & 0x1f;
    int mant = h & 0x3ff;
    if (exp == 0x1f) {
      // Inf or NaN; the payload shifts into the top of the float mantissa, keeping NaN a NaN.
      return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    }
    if (exp == 0) {
      if (mant == 0) {
        return Float.intBitsToFloat(sign);
      }
      // Subnormal half: normalise, since every half subnormal is a normal float.
      int e = 1;
      while ((mant & 0x400) == 0) {
        mant <<= 1;
        e--;
      }
      mant &= 0x3ff;
      return Float.intBitsToFloat(sign | ((e + 112) << 23) | (mant << 13));
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }

  /**
   * A bfloat16 bit pattern as float32 (exact: bfloat16 is the top half of a float32).
   *
   * @param bf16 the bfloat16 bits
   * @return the same value as a float
   */
  public static float bfloat16ToFloat(short bf16) {
    return Float.intBitsToFloat((bf16 & 0xffff) << 16);
  }

  /**
   * A floating tensor as float32: returned as is when already float32, converted from FLOAT16,
   * BFLOAT16 (exactly) or DOUBLE (rounded to nearest).
   *
   * @param t a tensor of a floating type
   * @param name the tensor's name, for the error message
   * @return {@code t} itself when float32, else a new float32 tensor of the same shape
   * @throws IllegalArgumentException for a non-floating tensor
   */
  public static Tensor toFloat(Tensor t, String name) {
    if (t.dtype() == DType.FLOAT) {
      return t;
    }
    if (!t.dtype().isFloating()) {
      throw new IllegalArgumentException("tensor '" + name + "' is " + t.dtype() + ", not a floating type");
    }
    int n = (int) t.elementCount();
    ByteBuffer in = t.data();
    ByteBuffer out = ByteBuffer.allocate(Math.multiplyExact(n, 4)).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      float v =
          switch (t.dtype()) {
            case FLOAT16 -> halfToFloat(in.getShort());
            case BFLOAT16 -> bfloat16ToFloat(in.getShort());
            case DOUBLE -> (float) in.getDouble();
            default -> throw new IllegalStateException(t.dtype().toString());
          };
      out.putFloat(v);
    }
    out.flip();
    return Tensor.wrap(DType.FLOAT, t.shape(), out);
  }
}
