package ai.vqclip.core.graph;

import ai.vqclip.core.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/** An ONNX node attribute. Immutable; arrays are copied in and out. */
public final class Attribute {
  /** The attribute kinds vqclip emits and imports. */
  public enum Kind {
    /**
     * A 64-bit integer.
     */
    INT,
    /**
     * A 32-bit float.
     */
    FLOAT,
    /**
     * A string.
     */
    STRING,
    /**
     * A list of 64-bit integers.
     */
    INTS,
    /**
     * A list of 32-bit floats.
     */
    FLOATS,
    /**
     * A list of strings.
     */
    STRINGS,
    /**
     * A tensor.
     */
    TENSOR
  }

  private final Kind kind;
  private final Object value;

  private Attribute(Kind kind, Object value) {
    this.kind = kind;
    this.value = Objects.requireNonNull(value, "attribute value");
  }

  /**
   * An INT attribute.
   *
   * @param v the value
   * @return a new attribute
   */
  public static Attribute of(long v) {
    return new Attribute(Kind.INT, v);
  }

  /**
   * A FLOAT attribute.
   *
   * @param v the value
   * @return a new attribute
   */
  public static Attribute of(float v) {
    return new Attribute(Kind.FLOAT, v);
  }

  /**
   * A STRING attribute.
   *
   * @param v the value
   * @return a new attribute
   */
  public static Attribute of(String v) {
    return new Attribute(Kind.STRING, v);
  }

  /**
   * A TENSOR attribute.
   *
   * @param v the value (kept, not copied)
   * @return a new attribute
   */
  public static Attribute of(Tensor v) {
    return new Attribute(Kind.TENSOR, v);
  }

  /**
   * An INTS attribute.
   *
   * @param v the values (copied)
   * @return a new attribute
   */
  public static Attribute ints(long... v) {
    return new Attribute(Kind.INTS, v.clone());
  }

  /**
   * A FLOATS attribute.
   *
   * @param v the values (copied)
   * @return a new attribute
   */
  public static Attribute floats(float... v) {
    return new Attribute(Kind.FLOATS, v.clone());
  }

  /**
   * A STRINGS attribute.
   *
   * @param v the values (copied)
   * @return a new attribute
   */
  public static Attribute strings(List<String> v) {
    return new Attribute(Kind.STRINGS, List.copyOf(v));
  }

  /**
   * The kind.
   *
   * @return the attribute's kind, which decides the {@code as*} getter that works
   */
  public Kind kind() {
    return kind;
  }

  /**
   * INT value.
   *
   * @return the value
   * @throws IllegalStateException when the attribute is of another kind
   */
  public long asInt() {
    return (Long) require(Kind.INT);
  }

  /**
   * FLOAT value.
   *
   * @return the value
   * @throws IllegalStateException when the attribute is of another kind
   */
  public float asFloat() {
    return (Float) require(Kind.FLOAT);
  }

  /**
   * STRING value.
   *
   * @return the value
   * @throws IllegalStateException when the attribute is of another kind
   */
  public String asString() {
    return (String) require(Kind.STRING);
  }

  /**
   * TENSOR value.
   *
   * @return the tensor (shared, do not modify)
   * @throws IllegalStateException when the attribute is of another kind
   */
  public Tensor asTensor() {
    return (Tensor) require(Kind.TENSOR);
  }

  /**
   * INTS value (a copy).
   *
   * @return a copy of the values
   * @throws IllegalStateException when the attribute is of another kind
   */
  public long[] asInts() {
    return ((long[]) require(Kind.INTS)).clone();
  }

  /**
   * FLOATS value (a copy).
   *
   * @return a copy of the values
   * @throws IllegalStateException when the attribute is of another kind
   */
  public float[] asFloats() {
    return ((float[]) require(Kind.FLOATS)).clone();
  }

  /**
   * STRINGS value.
   *
   * @return the values (unmodifiable)
   * @throws IllegalStateException when the attribute is of another kind
   */
  @SuppressWarnings("unchecked")
  public List<String> asStrings() {
    return (List<String>) require(Kind.STRINGS);
  }

  private Object require(Kind k) {
    if (kind != k) {
      throw new IllegalStateException("attribute is " + kind + ", not " + k);
    }
    return value;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof Attribute a) || a.kind != kind) {
      return false;
    }
    return switch (kind) {
      case INTS -> Arrays.equals((long[]) value, (long[]) a.value);
      case FLOATS -> Arrays.equals((float[]) value, (float[]) a.value);
      default -> value.equals(a.value);
    };
  }

  @Override
  public int hashCode() {
    return switch (kind) {
      case INTS -> Arrays.hashCode((long[]) value);
      case FLOATS -> Arrays.hashCode((float[]) value);
      default -> value.hashCode();
    };
  }

  @Override
  public String toString() {
    return switch (kind) {
      case INTS -> Arrays.toString((long[]) value);
      case FLOATS -> Arrays.toString((float[]) value);
      default -> String.valueOf(value);
    };
  }
}
