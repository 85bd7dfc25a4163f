package ai.vqclip.onnx.weights;

import ai.vqclip.core.ModelLoadException;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Locale;

/**
 * Element types as weight files store them. Most map one to one onto a {@link DType}; the few that
 * vqclip's tensors lack (I16, U16, U32) are widened losslessly on read, and U64 and the 8-bit
 * floats are known (so their byte sizes check a file's layout) but cannot be read.
 */
enum StoredType {
  F64(8, DType.DOUBLE),
  F32(4, DType.FLOAT),
  F16(2, DType.FLOAT16),
  BF16(2, DType.BFLOAT16),
  I64(8, DType.INT64),
  I32(4, DType.INT32),
  I16(2, DType.INT32),
  I8(1, DType.INT8),
  U8(1, DType.UINT8),
  BOOL(1, DType.BOOL),
  U16(2, DType.INT32),
  U32(4, DType.INT64),
  U64(8, null),
  F8_E4M3(1, null),
  F8_E5M2(1, null);

  final int byteSize;
  /** The dtype a read tensor has; null when vqclip cannot represent this type. */
  final DType target;

  StoredType(int byteSize, DType target) {
    this.byteSize = byteSize;
    this.target = target;
  }

  /** The safetensors name of this type (the enum name), or null when unknown. */
  static StoredType fromSafetensors(String name) {
    for (StoredType t : values()) {
      if (t.name().equals(name)) {
        return t;
      }
    }
    return null;
  }

  /** A torch storage class name ({@code FloatStorage}, ...) to its element type, or null. */
  static StoredType fromTorchStorage(String className) {
    return switch (className) {
      case "FloatStorage" -> F32;
      case "HalfStorage" -> F16;
      case "BFloat16Storage" -> BF16;
      case "DoubleStorage" -> F64;
      case "LongStorage" -> I64;
      case "IntStorage" -> I32;
      case "ShortStorage" -> I16;
      case "CharStorage" -> I8;
      case "ByteStorage", "UntypedStorage" -> U8;
      case "BoolStorage" -> BOOL;
      default -> null;
    };
  }

  /** A torch dtype attribute name ({@code float32}, {@code half}, ...) to its element type, or null. */
  static StoredType fromTorchDType(String name) {
    return switch (name) {
      case "float32", "float" -> F32;
      case "float16", "half" -> F16;
      case "bfloat16" -> BF16;
      case "float64", "double" -> F64;
      case "int64", "long" -> I64;
      case "int32", "int" -> I32;
      case "int16", "short" -> I16;
      case "int8" -> I8;
      case "uint8" -> U8;
      case "bool" -> BOOL;
      case "uint16" -> U16;
      case "uint32" -> U32;
      case "uint64" -> U64;
      case "float8_e4m3fn" -> F8_E4M3;
      case "float8_e5m2" -> F8_E5M2;
      default -> null;
    };
  }

  /** The torch storage class name written for this type. */
  String torchStorageName() {
    return switch (this) {
      case F32 -> "FloatStorage";
      case F16 -> "HalfStorage";
      case BF16 -> "BFloat16Storage";
      case F64 -> "DoubleStorage";
      case I64 -> "LongStorage";
      case I32 -> "IntStorage";
      case I16 -> "ShortStorage";
      case I8 -> "CharStorage";
      case U8 -> "ByteStorage";
      case BOOL -> "BoolStorage";
      default -> throw new IllegalArgumentException("torch has no typed storage for " + this);
    };
  }

  /** The stored type of a vqclip dtype (the inverse of {@link #target} for the types it covers). */
  static StoredType of(DType t) {
    return switch (t) {
      case FLOAT -> F32;
      case DOUBLE -> F64;
      case FLOAT16 -> F16;
      case BFLOAT16 -> BF16;
      case INT64 -> I64;
      case INT32 -> I32;
      case INT8 -> I8;
      case UINT8 -> U8;
      case BOOL -> BOOL;
    };
  }

  /**
   * The dtype a tensor of this type reads as.
   *
   * @throws ModelLoadException if vqclip cannot represent it
   */
  DType targetOrThrow(String what) {
    if (target == null) {
      throw new ModelLoadException(
          what + " has element type " + name() + ", which vqclip cannot read; supported: F64, F32, F16, BF16, "
              + "I64, I32, I16, I8, U8, BOOL, U16, U32");
    }
    return target;
  }

  /**
   * A tensor from little-endian stored bytes: wrapped without copying where the types agree,
   * widened into a new buffer otherwise.
   */
  Tensor decode(ByteBuffer stored, long[] shape, String what) {
    DType t = targetOrThrow(what);
    ByteBuffer in = stored.slice().order(ByteOrder.LITTLE_ENDIAN);
    if (t.byteSize() == byteSize) {
      return Tensor.wrap(t, shape, in);
    }
    int n = in.remaining() / byteSize;
    ByteBuffer out = ByteBuffer.allocate(Math.multiplyExact(n, t.byteSize())).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      switch (this) {
        case I16 -> out.putInt(in.getShort());
        case U16 -> out.putInt(in.getShort() & 0xffff);
        case U32 -> out.putLong(in.getInt() & 0xffffffffL);
        default -> throw new IllegalStateException("no widening for " + this);
      }
    }
    out.flip();
    return Tensor.wrap(t, shape, out);
  }

  /** Lower-case name for messages. */
  String display() {
    return name().toLowerCase(Locale.ROOT);
  }
}
