package ai.vqclip.core.graph;

/** Element types of graph values, with their ONNX {@code TensorProto.DataType} codes. */
public enum DType {
  /**
   * 32-bit IEEE float (ONNX code 1).
   */
  FLOAT(1, 4),
  /**
   * Unsigned 8-bit integer (ONNX code 2).
   */
  UINT8(2, 1),
  /**
   * Signed 8-bit integer (ONNX code 3).
   */
  INT8(3, 1),
  /**
   * Signed 32-bit integer (ONNX code 6).
   */
  INT32(6, 4),
  /**
   * Signed 64-bit integer (ONNX code 7).
   */
  INT64(7, 8),
  /**
   * Boolean, one byte per element (ONNX code 9).
   */
  BOOL(9, 1),
  /**
   * 16-bit IEEE float (ONNX code 10).
   */
  FLOAT16(10, 2),
  /**
   * 64-bit IEEE float (ONNX code 11).
   */
  DOUBLE(11, 8),
  /**
   * bfloat16, the top half of a float32 (ONNX code 16).
   */
  BFLOAT16(16, 2);

  private final int onnxCode;
  private final int byteSize;

  DType(int onnxCode, int byteSize) {
    this.onnxCode = onnxCode;
    this.byteSize = byteSize;
  }

  /**
   * The ONNX {@code TensorProto.DataType} code.
   *
   * @return the ONNX code
   */
  public int onnxCode() {
    return onnxCode;
  }

  /**
   * Bytes per element.
   *
   * @return the size of one element in bytes
   */
  public int byteSize() {
    return byteSize;
  }

  /**
   * Whether gradients can flow through values of this type.
   *
   * @return true for the floating types
   */
  public boolean isFloating() {
    return this == FLOAT || this == DOUBLE || this == FLOAT16 || this == BFLOAT16;
  }

  /**
   * The type for an ONNX code.
   *
   * @param code an ONNX {@code TensorProto.DataType} code
   * @return the matching type
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
