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

  /** A static shape. */
  public static Shape of(long... sizes) {
    List<Dim> d = new ArrayList<>(sizes.length);
    for (long s : sizes) {
      d.add(Dim.of(s));
    }
    return new Shape(d);
  }

  /** A shape from dims. */
  public static Shape of(List<Dim> dims) {
    return new Shape(List.copyOf(dims));
  }

  /**
   * A shape from a mixed list: {@link Long}/{@link Integer} entries are static, {@link String}
   * entries symbolic.
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

  /** A scalar (rank 0) shape. */
  public static Shape scalar() {
    return new Shape(List.of());
  }

  /** Whether the rank is known. */
  public boolean hasRank() {
    return dims != null;
  }

  /** The rank; throws if unknown. */
  public int rank() {
    requireRank();
    return dims.size();
  }

  /** The dims; throws if the rank is unknown. */
  public List<Dim> dims() {
    requireRank();
    return dims;
  }

  /** Dim {@code i}; negative indices count from the end. */
  public Dim dim(int i) {
    requireRank();
    return dims.get(i < 0 ? i + dims.size() : i);
  }

  /** Static size of dim {@code i}; throws if symbolic. */
  public long size(int i) {
    Dim d = dim(i);
    if (!d.isStatic()) {
      throw new IllegalStateException("dimension " + i + " of " + this + " is symbolic");
    }
    return d.size();
  }

  /** Whether every dim is known. */
  public boolean isStatic() {
    return dims != null && dims.stream().allMatch(Dim::isStatic);
  }

  /** The static sizes; throws if any is unknown. */
  public long[] toArray() {
    if (!isStatic()) {
      throw new IllegalStateException("shape " + this + " is not static");
    }
    return dims.stream().mapToLong(Dim::size).toArray();
  }

  /** Element count; throws if not static. */
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
