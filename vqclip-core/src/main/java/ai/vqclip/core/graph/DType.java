package ai.vqclip.core.graph;

/** Element types of graph values, with their ONNX {@code TensorProto.DataType} codes. */
public enum DType {
  FLOAT(1, 4),
  UINT8(2, 1),
  INT8(3, 1),
  INT32(6, 4),
  INT64(7, 8),
  BOOL(9, 1),
  FLOAT16(10, 2),
  DOUBLE(11, 8),
  BFLOAT16(16, 2);

  private final int onnxCode;
  private final int byteSize;

  DType(int onnxCode, int byteSize) {
    this.onnxCode = onnxCode;
    this.byteSize = byteSize;
  }

  /** The ONNX {@code TensorProto.DataType} code. */
  public int onnxCode() {
    return onnxCode;
  }

  /** Bytes per element. */
  public int byteSize() {
    return byteSize;
  }

  /** Whether gradients can flow through values of this type. */
  public boolean isFloating() {
    return this == FLOAT || this == DOUBLE || this == FLOAT16 || this == BFLOAT16;
  }

  /**
   * The type for an ONNX code.
   *
   * @throws IllegalArgumentException if the code is not one vqclip supports
   */
  public static DType fromOnnx(int code) {
    for (DType t : values()) {
      if (t.onnxCode == code) {
        return t;
      }
    }
    throw new IllegalArgumentException(
        "ONNX data type " + code + " is not supported; supported: " + java.util.Arrays.toString(values()));
  }
}
