package ai.vqclip.core.graph;

import java.util.Objects;

/**
 * A typed value in a graph: a graph input, an initializer or a node output.
 *
 * @param name the unique name within its graph
 * @param dtype the element type
 * @param shape the (possibly symbolic or unknown) shape
 */
public record Value(String name, DType dtype, Shape shape) {
  /**
   * Checks that every component is given and the name is not empty.
   *
   * @param name the unique name within its graph
   * @param dtype the element type
   * @param shape the (possibly symbolic or unknown) shape
   * @throws NullPointerException when a component is null
   * @throws IllegalArgumentException when the name is empty
   */
  public Value {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(dtype, "dtype");
    Objects.requireNonNull(shape, "shape");
    if (name.isEmpty()) {
      throw new IllegalArgumentException("value name must not be empty");
    }
  }

  /**
   * Rank; throws if unknown.
   *
   * @return the number of dims
   * @throws IllegalStateException when the rank is unknown
   */
  public int rank() {
    return shape.rank();
  }

  @Override
  public String toString() {
    return "'" + name + "' " + shape + " " + dtype;
  }
}
