package ai.vqclip.onnx.weights;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The values the restricted unpickler builds. Python {@code None} is Java {@code null}, {@code bool}
 * is {@link Boolean}, {@code int} is {@link Long} (or {@link java.math.BigInteger} beyond 64 bits),
 * {@code float} is {@link Double}, {@code str} is {@link String}, {@code list} is a mutable {@link
 * List}, {@code dict} a {@link LinkedHashMap}, {@code set} a {@link java.util.LinkedHashSet}; the
 * records below cover the rest.
 */
final class Pickle {
  private Pickle() {}

  /** A class or function named by GLOBAL / STACK_GLOBAL; never resolved to code. */
  record Global(String module, String name) {
    String qualified() {
      return module + "." + name;
    }

    @Override
    public String toString() {
      return qualified();
    }
  }

  /** An immutable tuple (hashable when its items are). */
  record Tuple(List<Object> items) {
    static final Tuple EMPTY = new Tuple(List.of());

    Tuple {
      items = Collections.unmodifiableList(new ArrayList<>(items));
    }

    static Tuple of(Object... items) {
      return new Tuple(Arrays.asList(items));
    }

    int size() {
      return items.size();
    }

    Object get(int i) {
      return items.get(i);
    }
  }

  /** A bytes value (content equality, so it can be a dict key). */
  record Bytes(byte[] data) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Bytes b && Arrays.equals(b.data, data);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(data);
    }

    @Override
    public String toString() {
      return "bytes[" + data.length + "]";
    }
  }

  /**
   * An inert stand-in for what calling, instantiating or building an unknown class would have made:
   * it records the callee, the arguments, BUILD state and any items appended or set on it, and runs
   * nothing. Identity equality, so it is hashable like a default Python object.
   */
  static final class Obj {
    final Object callee;
    final Tuple args;
    Object state;
    final List<Object> listItems = new ArrayList<>();
    final Map<Object, Object> dictItems = new LinkedHashMap<>();

    Obj(Object callee, Tuple args) {
      this.callee = callee;
      this.args = args;
    }

    /** The class or function this stands in for, when named by a GLOBAL. */
    Global global() {
      return callee instanceof Global g ? g : null;
    }

    @Override
    public String toString() {
      return "<placeholder " + (callee instanceof Global g ? g.qualified() : "call") + "(...)>";
    }
  }

  /**
   * A torch storage reference from a persistent id: its key in the container, element type and
   * element count; for legacy views, the element offset into the root storage {@code key}.
   */
  record StorageRef(String key, StoredType type, long numel, String location, long viewOffset) {}

  /** A tensor: a strided view of a storage (offsets and strides in elements). */
  record TensorRef(StorageRef storage, long offset, long[] size, long[] stride, StoredType type) {
    @Override
    public boolean equals(Object o) {
      return this == o;
    }

    @Override
    public int hashCode() {
      return System.identityHashCode(this);
    }

    @Override
    public String toString() {
      return "tensor" + Arrays.toString(size) + " " + type + " @" + storage.key();
    }
  }

  /** A short, bounded description of a value for error messages. */
  static String describe(Object v) {
    if (v == null) {
      return "None";
    }
    if (v instanceof String s) {
      return "'" + (s.length() > 60 ? s.substring(0, 60) + "..." : s) + "'";
    }
    if (v instanceof Tuple t) {
      return "tuple of " + t.size();
    }
    if (v instanceof List<?> l) {
      return "list of " + l.size();
    }
    if (v instanceof Map<?, ?> m) {
      return "dict of " + m.size();
    }
    if (v instanceof Long || v instanceof Boolean || v instanceof Double || v instanceof Global) {
      return v.toString();
    }
    return v.getClass().getSimpleName() + " " + v;
  }
}
