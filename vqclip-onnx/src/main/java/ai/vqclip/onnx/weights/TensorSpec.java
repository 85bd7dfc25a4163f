package ai.vqclip.onnx.weights;

import ai.vqclip.core.graph.DType;
import java.util.Arrays;
import java.util.Objects;

/**
 * The type and shape of a stored tensor, known without reading its data.
 *
 * @param dtype element type as stored (before any conversion)
 * @param shape dimensions
 */
public record TensorSpec(DType dtype, long[] shape) {
  /**
   * Checks the type and copies the shape.
   *
   * @param dtype element type as stored (not null)
   * @param shape dimensions (copied)
   * @throws NullPointerException when {@code dtype} is null
   */
  public TensorSpec {
    Objects.requireNonNull(dtype, "dtype");
    shape = shape.clone();
  }

  /**
   * The dimensions.
   *
   * @return a copy of the dimensions
   */
  @Override
  public long[] shape() {
    return shape.clone();
  }

  /**
   * Element count.
   *
   * @return the product of the dimensions
   * @throws ArithmeticException when it overflows a long
   */
  public long elementCount() {
    long n = 1;
    for (long s : shape) {
      n = Math.multiplyExact(n, s);
    }
    return n;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorSpec t && t.dtype == dtype && Arrays.equals(t.shape, shape);
  }

  @Override
  public int hashCode() {
    return 31 * dtype.hashCode() + Arrays.hashCode(shape);
  }

  @Override
  public String toString() {
    return Arrays.toString(shape).replace(" ", "") + " " + dtype;
  }
}
