package ai.vqclip.core.graph;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * The shape of a graph value: a list of {@link Dim}s, or {@link #UNKNOWN} when not even the rank is
 * known (for example the output of an op without shape inference). Immutable.
 */
public final class Shape {
  /** A shape of unknown rank. */
  public static final Shape UNKNOWN = new Shape(null);

  private final List<Dim> dims;

  private Shape(List<Dim> dims) {
    this.dims = dims == null ? null : Collections.unmodifiableList(new ArrayList<>(dims));
  }

  /**
   * A static shape.
   *
   * @param sizes the static sizes
   * @return the shape
   */
  public static Shape of(long... sizes) {
    List<Dim> d = new ArrayList<>(sizes.length);
    for (long s : sizes) {
      d.add(Dim.of(s));
    }
    return new Shape(d);
  }

  /**
   * A shape from dims.
   *
   * @param dims the dims (copied)
   * @return the shape
   */
  public static Shape of(List<Dim> dims) {
    return new Shape(List.copyOf(dims));
  }

  /**
   * A shape from a mixed list: {@link Long}/{@link Integer} entries are static, {@link String}
   * entries symbolic.
   *
   * @param dims numbers for static sizes, strings for symbols
   * @return the shape
   * @throws IllegalArgumentException for an entry that is neither
   */
  public static Shape parse(Object... dims) {
    List<Dim> d = new ArrayList<>();
    for (Object o : dims) {
      if (o instanceof Number n) {
        d.add(Dim.of(n.longValue()));
      } else if (o instanceof String s) {
        d.add(Dim.symbol(s));
      } else {
        throw new IllegalArgumentException("dims must be numbers or symbol strings, got " + o);
      }
    }
    return new Shape(d);
  }

  /**
   * A scalar (rank 0) shape.
   *
   * @return the rank-0 shape
   */
  public static Shape scalar() {
    return new Shape(List.of());
  }

  /**
   * Whether the rank is known.
   *
   * @return false only for {@link #UNKNOWN}
   */
  public boolean hasRank() {
    return dims != null;
  }

  /**
   * The rank; throws if unknown.
   *
   * @return the number of dims
   * @throws IllegalStateException when the rank is unknown
   */
  public int rank() {
    requireRank();
    return dims.size();
  }

  /**
   * The dims; throws if the rank is unknown.
   *
   * @return the dims (unmodifiable)
   * @throws IllegalStateException when the rank is unknown
   */
  public List<Dim> dims() {
    requireRank();
    return dims;
  }

  /**
   * Dim {@code i}; negative indices count from the end.
   *
   * @param i the dim index, negative counting from the end
   * @return the dim
   * @throws IllegalStateException when the rank is unknown
   */
  public Dim dim(int i) {
    requireRank();
    return dims.get(i < 0 ? i + dims.size() : i);
  }

  /**
   * Static size of dim {@code i}; throws if symbolic.
   *
   * @param i the dim index, negative counting from the end
   * @return the size
   * @throws IllegalStateException when the rank is unknown or the dim is symbolic
   */
  public long size(int i) {
    Dim d = dim(i);
    if (!d.isStatic()) {
      throw new IllegalStateException("dimension " + i + " of " + this + " is symbolic");
    }
    return d.size();
  }

  /**
   * Whether every dim is known.
   *
   * @return true when the rank and every size are known
   */
  public boolean isStatic() {
    return dims != null && dims.stream().allMatch(Dim::isStatic);
  }

  /**
   * The static sizes; throws if any is unknown.
   *
   * @return a new array of the sizes
   * @throws IllegalStateException when the shape is not static
   */
  public long[] toArray() {
    if (!isStatic()) {
      throw new IllegalStateException("shape " + this + " is not static");
    }
    return dims.stream().mapToLong(Dim::size).toArray();
  }

  /**
   * Element count; throws if not static.
   *
   * @return the product of the sizes (1 for a scalar)
   * @throws IllegalStateException when the shape is not static
   * @throws ArithmeticException when the product overflows a long
   */
  public long elementCount() {
    long n = 1;
    for (long s : toArray()) {
      n = Math.multiplyExact(n, s);
    }
    return n;
  }

  /**
   * Whether a value of shape {@code actual} may be wired where this shape is expected: same rank,
   * and equal static sizes where both are static. Symbols match anything.
   *
   * @param actual the shape of the value to wire in
   * @return true when it fits (always when either rank is unknown)
   */
  public boolean accepts(Shape actual) {
    if (!hasRank() || !actual.hasRank()) {
      return true;
    }
    if (rank() != actual.rank()) {
      return false;
    }
    for (int i = 0; i < rank(); i++) {
      Dim e = dims.get(i);
      Dim a = actual.dims.get(i);
      if (e.isStatic() && a.isStatic() && e.size() != a.size()) {
        return false;
      }
    }
    return true;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Shape s && java.util.Objects.equals(dims, s.dims);
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hashCode(dims);
  }

  @Override
  public String toString() {
    return dims == null ? "[?]" : dims.toString().replace(" ", "");
  }

  private void requireRank() {
    if (dims == null) {
      throw new IllegalStateException("shape rank is unknown");
    }
  }

  /** Helper for static shapes in messages. */
  static String str(long[] s) {
    return Arrays.toString(s).replace(" ", "");
  }
}
