package ai.vqclip.core.graph;

import java.util.Objects;

/**
 * One dimension of a {@link Shape}: a static size ({@code size >= 0}) or a named symbol (for example
 * {@code "batch"}) whose size is known only when the graph runs.
 *
 * @param size the static size, or -1 when symbolic
 * @param symbol the symbol name, or null when static
 */
public record Dim(long size, String symbol) {
  /**
   * Checks that exactly one of a size and a symbol is given.
   *
   * @param size the static size (at least 0), or -1 when symbolic
   * @param symbol the non-empty symbol name, or null when static
   * @throws IllegalArgumentException for a negative static size, a symbol with a size other than
   *     -1, or an empty symbol
   */
  public Dim {
    if (symbol == null && size < 0) {
      throw new IllegalArgumentException("dimension size must be >= 0, got " + size);
    }
    if (symbol != null && size != -1) {
      throw new IllegalArgumentException("a symbolic dimension has size -1, got " + size);
    }
    if (symbol != null && symbol.isEmpty()) {
      throw new IllegalArgumentException("dimension symbol must not be empty");
    }
  }

  /**
   * A static dimension.
   *
   * @param size the size, at least 0
   * @return the dim
   * @throws IllegalArgumentException for a negative size
   */
  public static Dim of(long size) {
    return new Dim(size, null);
  }

  /**
   * A symbolic dimension.
   *
   * @param name the symbol, non-empty
   * @return the dim
   * @throws IllegalArgumentException for an empty name
   */
  public static Dim symbol(String name) {
    return new Dim(-1, Objects.requireNonNull(name, "name"));
  }

  /**
   * Whether the size is known.
   *
   * @return true for a static dimension
   */
  public boolean isStatic() {
    return symbol == null;
  }

  @Override
  public String toString() {
    return isStatic() ? Long.toString(size) : symbol;
  }
}
