package ai.vqclip.core;

import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * An immutable dense host tensor: element type, static shape and little-endian row-major data. Used
 * for graph initializers and for the named inputs and outputs of an executable graph.
 *
 * <p>{@code equals} compares type, shape and contents. The data may be a read-only view of a larger
 * (for example memory-mapped) buffer; it is never copied unless a factory says so.
 */
public final class Tensor {
  /** Largest element count a single tensor may hold (ONNX Runtime buffers are int-indexed). */
  public static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;

  private final DType dtype;
  private final long[] shape;
  private final ByteBuffer data;

  private Tensor(DType dtype, long[] shape, ByteBuffer data) {
    this.dtype = Objects.requireNonNull(dtype, "dtype");
    this.shape = shape.clone();
    long n = count(this.shape);
    long bytes = n * dtype.byteSize();
    if (data.remaining() != bytes) {
      throw new IllegalArgumentException(
          "tensor data has " + data.remaining() + " bytes, shape " + Arrays.toString(shape) + " of "
              + dtype + " needs " + bytes);
    }
    this.data = data.slice().order(ByteOrder.LITTLE_ENDIAN).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  private static long count(long[] shape) {
    long n = 1;
    for (long s : shape) {
      if (s < 0) {
        throw new IllegalArgumentException("tensor shape must be non-negative, got " + Arrays.toString(shape));
      }
      n = Math.multiplyExact(n, s);
    }
    if (n > MAX_ELEMENTS) {
      throw new IllegalArgumentException(
          "tensor shape " + Arrays.toString(shape) + " has " + n + " elements; at most " + MAX_ELEMENTS + " allowed");
    }
    return n;
  }

  private static ByteBuffer alloc(long n, DType t) {
    return ByteBuffer.allocate(Math.toIntExact(n * t.byteSize())).order(ByteOrder.LITTLE_ENDIAN);
  }

  private static void checkLength(long[] shape, int length) {
    long n = count(shape);
    if (n != length) {
      throw new IllegalArgumentException(
          "data has " + length + " elements, shape " + Arrays.toString(shape) + " needs " + n);
    }
  }

  /**
   * A float32 tensor (data copied).
   *
   * @param shape the dimensions
   * @param values the elements in row-major order
   * @return a new tensor
   * @throws IllegalArgumentException when the shape has a negative size, too many elements, or does
   *     not hold exactly {@code values.length} elements
   */
  public static Tensor ofFloats(long[] shape, float... values) {
    checkLength(shape, values.length);
    ByteBuffer b = alloc(values.length, DType.FLOAT);
    b.asFloatBuffer().put(values);
    return new Tensor(DType.FLOAT, shape, b);
  }

  /**
   * A float64 tensor (data copied).
   *
   * @param shape the dimensions
   * @param values the elements in row-major order
   * @return a new tensor
   * @throws IllegalArgumentException when the shape has a negative size, too many elements, or does
   *     not hold exactly {@code values.length} elements
   */
  public static Tensor ofDoubles(long[] shape, double... values) {
    checkLength(shape, values.length);
    ByteBuffer b = alloc(values.length, DType.DOUBLE);
    b.asDoubleBuffer().put(values);
    return new Tensor(DType.DOUBLE, shape, b);
  }

  /**
   * An int64 tensor (data copied).
   *
   * @param shape the dimensions
   * @param values the elements in row-major order
   * @return a new tensor
   * @throws IllegalArgumentException when the shape has a negative size, too many elements, or does
   *     not hold exactly {@code values.length} elements
   */
  public static Tensor ofLongs(long[] shape, long... values) {
    checkLength(shape, values.length);
    ByteBuffer b = alloc(values.length, DType.INT64);
    b.asLongBuffer().put(values);
    return new Tensor(DType.INT64, shape, b);
  }

  /**
   * An int32 tensor (data copied).
   *
   * @param shape the dimensions
   * @param values the elements in row-major order
   * @return a new tensor
   * @throws IllegalArgumentException when the shape has a negative size, too many elements, or does
   *     not hold exactly {@code values.length} elements
   */
  public static Tensor ofInts(long[] shape, int... values) {
    checkLength(shape, values.length);
    ByteBuffer b = alloc(values.length, DType.INT32);
    b.asIntBuffer().put(values);
    return new Tensor(DType.INT32, shape, b);
  }

  /**
   * A bool tensor (data copied).
   *
   * @param shape the dimensions
   * @param values the elements in row-major order
   * @return a new tensor
   * @throws IllegalArgumentException when the shape has a negative size, too many elements, or does
   *     not hold exactly {@code values.length} elements
   */
  public static Tensor ofBools(long[] shape, boolean... values) {
    checkLength(shape, values.length);
    ByteBuffer b = alloc(values.length, DType.BOOL);
    for (boolean v : values) {
      b.put((byte) (v ? 1 : 0));
    }
    b.flip();
    return new Tensor(DType.BOOL, shape, b);
  }

  /**
   * A 1-D int64 tensor, as used for shapes, axes and pads.
   *
   * @param values the elements
   * @return a new tensor of shape [values.length]
   */
  public static Tensor vector(long... values) {
    return ofLongs(new long[] {values.length}, values);
  }

  /**
   * A scalar of the given floating or integer type.
   *
   * @param dtype the element type
   * @param value the value, converted to {@code dtype}
   * @return a new rank-0 tensor
   */
  public static Tensor scalar(DType dtype, double value) {
    return filled(dtype, new long[0], value);
  }

  /**
   * A tensor of the given type and shape with every element equal to {@code value}.
   *
   * @param dtype the element type
   * @param shape the dimensions
   * @param value the value, converted to {@code dtype}
   * @return a new tensor
   * @throws IllegalArgumentException when the shape has a negative size or too many elements
   */
  public static Tensor filled(DType dtype, long[] shape, double value) {
    long n = count(shape);
    ByteBuffer b = alloc(n, dtype);
    for (long i = 0; i < n; i++) {
      putAsDouble(b, dtype, value);
    }
    b.flip();
    return new Tensor(dtype, shape, b);
  }

  /**
   * A tensor of {@code dtype} whose elements are {@code values} converted (rounded for ints).
   *
   * @param dtype the element type
   * @param shape the dimensions
   * @param values the elements in row-major order
   * @return a new tensor
   * @throws IllegalArgumentException when the shape has a negative size, too many elements, or does
   *     not hold exactly {@code values.length} elements
   */
  public static Tensor fromDoubles(DType dtype, long[] shape, double[] values) {
    checkLength(shape, values.length);
    ByteBuffer b = alloc(values.length, dtype);
    for (double v : values) {
      putAsDouble(b, dtype, v);
    }
    b.flip();
    return new Tensor(dtype, shape, b);
  }

  /**
   * Wraps raw little-endian bytes without copying. The caller must not modify the buffer afterwards.
   *
   * @param dtype the element type
   * @param shape the dimensions
   * @param littleEndianData exactly the bytes the shape needs, from the buffer's position
   * @return a tensor viewing the buffer read-only
   * @throws IllegalArgumentException when the buffer's remaining bytes do not match the shape, or
   *     the shape is invalid
   */
  public static Tensor wrap(DType dtype, long[] shape, ByteBuffer littleEndianData) {
    return new Tensor(dtype, shape, littleEndianData);
  }

  private static void putAsDouble(ByteBuffer b, DType t, double v) {
    switch (t) {
      case FLOAT -> b.putFloat((float) v);
      case DOUBLE -> b.putDouble(v);
      case INT64 -> b.putLong(Math.round(v));
      case INT32 -> b.putInt((int) Math.round(v));
      case INT8, UINT8 -> b.put((byte) Math.round(v));
      case BOOL -> b.put((byte) (v != 0 ? 1 : 0));
      case FLOAT16 -> b.putShort(Half.fromFloat((float) v));
      case BFLOAT16 -> b.putShort((short) (java.lang.Float.floatToIntBits((float) v) >>> 16));
    }
  }

  /**
   * Element type.
   *
   * @return the element type
   */
  public DType dtype() {
    return dtype;
  }

  /**
   * A copy of the shape.
   *
   * @return a new array of the dimensions
   */
  public long[] shape() {
    return shape.clone();
  }

  /**
   * The shape as a graph {@link Shape}.
   *
   * @return the static shape
   */
  public Shape graphShape() {
    return Shape.of(shape);
  }

  /**
   * Rank.
   *
   * @return the number of dimensions
   */
  public int rank() {
    return shape.length;
  }

  /**
   * Number of elements.
   *
   * @return the product of the dimensions
   */
  public long elementCount() {
    return count(shape);
  }

  /**
   * Whether the data lives outside the Java heap (a direct or memory-mapped buffer).
   *
   * @return true for off-heap data
   */
  public boolean isOffHeap() {
    return data.isDirect();
  }

  /**
   * This tensor with its data outside the Java heap: itself when it already is, otherwise a copy
   * into a direct buffer. Weights are kept off the heap once, at load time, so that every runtime
   * session can use their memory in place instead of holding a copy of its own.
   *
   * @return this tensor or an off-heap copy of it
   */
  public Tensor offHeap() {
    if (data.isDirect()) {
      return this;
    }
    ByteBuffer d = allocateDirect(data.remaining());
    d.put(data()).flip();
    return new Tensor(dtype, shape, d);
  }

  /**
   * A little-endian direct buffer of {@code bytes} bytes, for weights. Direct buffers count against
   * the JVM's {@code -XX:MaxDirectMemorySize}, which defaults to the maximum heap: a JVM with a
   * small heap and a large model runs out of it, and the JVM's own message ("Cannot reserve ... bytes
   * of direct buffer memory") does not say what to do.
   *
   * @param bytes the buffer size, in [0, Integer.MAX_VALUE]
   * @return a new zeroed direct buffer in little-endian order
   * @throws IllegalStateException naming the size and the JVM option when the limit is reached
   * @throws IllegalArgumentException for a size out of range
   */
  public static ByteBuffer allocateDirect(long bytes) {
    if (bytes < 0 || bytes > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("bytes must be in [0, " + Integer.MAX_VALUE + "], got " + bytes);
    }
    try {
      return ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
    } catch (OutOfMemoryError e) {
      throw new IllegalStateException("cannot reserve " + (bytes >> 20) + " MB of direct memory for model weights: the JVM's limit "
          + "is reached; raise it with -XX:MaxDirectMemorySize (it defaults to the maximum heap, -Xmx), e.g. "
          + "JAVA_OPTS=-XX:MaxDirectMemorySize=16g for ./vqclip", e);
    }
  }

  /**
   * A read-only little-endian view of the data, positioned at 0.
   *
   * @return a new read-only view of the data
   */
  public ByteBuffer data() {
    return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
  }

  /**
   * The elements as float32 (requires {@link DType#FLOAT}).
   *
   * @return a new array of the elements, row-major
   * @throws IllegalStateException when the tensor is not float32
   */
  public float[] toFloats() {
    requireType(DType.FLOAT);
    float[] out = new float[(int) elementCount()];
    data().asFloatBuffer().get(out);
    return out;
  }

  /**
   * The elements as int64 (requires {@link DType#INT64}).
   *
   * @return a new array of the elements, row-major
   * @throws IllegalStateException when the tensor is not int64
   */
  public long[] toLongs() {
    requireType(DType.INT64);
    long[] out = new long[(int) elementCount()];
    data().asLongBuffer().get(out);
    return out;
  }

  /**
   * The elements of any numeric or bool type, converted to double.
   *
   * @return a new array of the elements, row-major (bools as 0 and 1)
   */
  public double[] toDoubles() {
    int n = (int) elementCount();
    double[] out = new double[n];
    ByteBuffer b = data();
    for (int i = 0; i < n; i++) {
      out[i] =
          switch (dtype) {
            case FLOAT -> b.getFloat();
            case DOUBLE -> b.getDouble();
            case INT64 -> b.getLong();
            case INT32 -> b.getInt();
            case INT8 -> b.get();
            case UINT8 -> b.get() & 0xff;
            case BOOL -> b.get() != 0 ? 1 : 0;
            case FLOAT16 -> Half.toFloat(b.getShort());
            case BFLOAT16 -> java.lang.Float.intBitsToFloat((b.getShort() & 0xffff) << 16);
          };
    }
    return out;
  }

  private void requireType(DType t) {
    if (dtype != t) {
      throw new IllegalStateException("tensor is " + dtype + ", not " + t);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Tensor t && t.dtype == dtype && Arrays.equals(t.shape, shape) && t.data().equals(data());
  }

  @Override
  public int hashCode() {
    return Objects.hash(dtype, Arrays.hashCode(shape), data().hashCode());
  }

  @Override
  public String toString() {
    return "Tensor" + Arrays.toString(shape).replace(" ", "") + " " + dtype;
  }

  /** Half-precision conversions that work on Java 17 (Float.floatToFloat16 is Java 20+). */
  private static final class Half {
    static short fromFloat(float f) {
      int bits = java.lang.Float.floatToIntBits(f);
      int sign = (bits >>> 16) & 0x8000;
      int val = (bits & 0x7fffffff) + 0x1000; // round to nearest
      if (val >= 0x47800000) {
        if ((bits & 0x7fffffff) >= 0x47800000) {
          if (val < 0x7f800000) {
            return (short) (sign | 0x7c00);
          }
          return (short) (sign | 0x7c00 | ((bits & 0x007fffff) >>> 13));
        }
        return (short) (sign | 0x7bff);
      }
      if (val >= 0x38800000) {
        return (short) (sign | ((val - 0x38000000) >>> 13));
      }
      if (val < 0x33000000) {
        return (short) sign;
      }
      val = (bits & 0x7fffffff) >>> 23;
      return (short)
          (sign | ((((bits & 0x7fffff) | 0x800000) + (0x800000 >>> (val - 102))) >>> (126 - val)));
    }

    static float toFloat(short h) {
      int bits = h & 0xffff;
      int sign = (bits & 0x8000) << 16;
      int exp = (bits >>> 10) & 0x1f;
      int mant = bits & 0x3ff;
      if (exp == 0) {
        if (mant == 0) {
          return java.lang.Float.intBitsToFloat(sign);
        }
        float v = mant / 1024f * (float) Math.pow(2, -14);
        return sign != 0 ? -v : v;
      }
      if (exp == 31) {
        return java.lang.Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
      }
      return java.lang.Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }
  }
}
