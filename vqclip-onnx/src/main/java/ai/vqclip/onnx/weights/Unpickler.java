package ai.vqclip.onnx.weights;

import ai.vqclip.core.ModelLoadException;
import ai.vqclip.onnx.weights.Pickle.Bytes;
import ai.vqclip.onnx.weights.Pickle.Global;
import ai.vqclip.onnx.weights.Pickle.Obj;
import ai.vqclip.onnx.weights.Pickle.StorageRef;
import ai.vqclip.onnx.weights.Pickle.TensorRef;
import ai.vqclip.onnx.weights.Pickle.Tuple;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A restricted pickle virtual machine (protocols 0 to 5) that executes nothing. It understands the
 * few callables a torch checkpoint needs (tensor rebuild functions, {@code OrderedDict}, {@code
 * torch.Size}, sets, TorchScript list builders); any other GLOBAL becomes an inert {@link Global}
 * name, and calling or instantiating it an inert {@link Obj} that only records its arguments.
 *
 * <p>Resources are bounded by the input: every length read from the stream is checked against the
 * bytes left before anything is allocated, and each memo entry or stack slot costs at least one input
 * byte. Dict keys must be hashable in Python's sense (no lists or dicts, tuples nested at most {@value
 * #MAX_KEY_DEPTH} deep) so hashing cannot recurse without bound.
 */
final class Unpickler {
  /** Resolves a persistent id (torch's storage tuples) to a value. */
  interface PersistentLoader {
    Object load(Object pid);
  }

  static final int MAX_KEY_DEPTH = 32;
  private static final Object MARK = new Object() {
    @Override
    public String toString() {
      return "MARK";
    }
  };

  private final PickleInput in;
  private final PersistentLoader persistent;
  private final ArrayList<Object> stack = new ArrayList<>();
  private final ArrayList<Integer> marks = new ArrayList<>();
  private final HashMap<Long, Object> memo = new HashMap<>();
  private long opStart;

  Unpickler(PickleInput in, PersistentLoader persistent) {
    this.in = in;
    this.persistent = persistent;
  }

  /** Unpickles one object (up to STOP). */
  static Object load(PickleInput in, PersistentLoader persistent) {
    return new Unpickler(in, persistent).load();
  }

  private ModelLoadException fail(String msg) {
    return new ModelLoadException(in.source() + ": pickle error at byte " + opStart + ": " + msg);
  }

  Object load() {
    while (true) {
      opStart = in.position();
      int op = in.read();
      switch (op) {
        case 0x80 -> { // PROTO
          int p = in.read();
          if (p > 5) {
            throw fail("unsupported pickle protocol " + p + " (at most 5)");
          }
        }
        case 0x95 -> { // FRAME: framing is only a hint for buffered readers
          long n = u64();
          if (n > in.remaining()) {
            throw in.truncated(n);
          }
        }
        case '.' -> { // STOP
          Object v = pop();
          if (v == MARK) {
            throw fail("STOP with a MARK on top of the stack");
          }
          return v;
        }
        case '(' -> {
          marks.add(stack.size());
          stack.add(MARK);
        }
        case 'N' -> push(null);
        case 0x88 -> push(Boolean.TRUE);
        case 0x89 -> push(Boolean.FALSE);
        case 'I' -> {
          String s = line();
          if (s.equals("00")) {
            push(Boolean.FALSE);
          } else if (s.equals("01")) {
            push(Boolean.TRUE);
          } else {
            push(parseInt(s));
          }
        }
        case 'J' -> push((long) le(4).getInt());
        case 'K' -> push((long) in.read());
        case 'M' -> push((long) (le(2).getShort() & 0xffff));
        case 'L' -> push(parseInt(line()));
        case 0x8a -> push(longFromBytes(in.read()));
        case 0x8b -> {
          long n = le(4).getInt();
          if (n < 0) {
            throw fail("LONG4 with negative length " + n);
          }
          push(longFromBytes(n));
        }
        case 'G' -> push(ByteBuffer.wrap(bytes(8)).order(ByteOrder.BIG_ENDIAN).getDouble());
        case 'F' -> {
          String s = line();
          try {
            push(Double.parseDouble(s));
          } catch (NumberFormatException e) {
            throw fail("FLOAT with invalid literal '" + s + "'");
          }
        }
        case 'X' -> push(utf8(le(4).getInt() & 0xffffffffL));
        case 0x8c -> push(utf8(in.read()));
        case 0x8d -> push(utf8(u64()));
        case 'V' -> push(rawUnicodeEscape(new String(lineBytes(), StandardCharsets.ISO_8859_1)));
        case 'T' -> {
          long n = le(4).getInt();
          if (n < 0) {
            throw fail("BINSTRING with negative length " + n);
          }
          push(utf8(n));
        }
        case 'U' -> push(utf8(in.read()));
        case 'S' -> push(quoted(line()));
        case 'B' -> push(new Bytes(bytes(le(4).getInt() & 0xffffffffL)));
        case 'C' -> push(new Bytes(bytes(in.read())));
        case 0x8e, 0x96 -> push(new Bytes(bytes(u64())));
        case ')' -> push(Tuple.EMPTY);
        case 't' -> push(new Tuple(popMark()));
        case 0x85 -> push(Tuple.of(pop()));
        case 0x86 -> {
          Object b = pop();
          Object a = pop();
          push(Tuple.of(a, b));
        }
        case 0x87 -> {
          Object c = pop();
          Object b = pop();
          Object a = pop();
          push(Tuple.of(a, b, c));
        }
        case ']' -> push(new ArrayList<>());
        case 'l' -> push(new ArrayList<>(popMark()));
        case 'a' -> {
          Object v = pop();
          append(top(), List.of(v == null ? NULL_ITEM : v));
        }
        case 'e' -> {
          List<Object> items = popMark();
          append(top(), items);
        }
        case '}' -> push(new LinkedHashMap<>());
        case 'd' -> {
          List<Object> items = popMark();
          Map<Object, Object> m = new LinkedHashMap<>();
          setItems(m, items);
          push(m);
        }
        case 's' -> {
          Object v = pop();
          Object k = pop();
          setItems(top(), java.util.Arrays.asList(k, v));
        }
        case 'u' -> {
          List<Object> items = popMark();
          setItems(top(), items);
        }
        case 0x8f -> push(new LinkedHashSet<>());
        case 0x90 -> {
          List<Object> items = popMark();
          Object s = top();
          if (!(s instanceof Set<?>)) {
            throw fail("ADDITEMS on " + Pickle.describe(s) + ", not a set");
          }
          for (Object k : items) {
            checkHashable(k, 0);
          }
          @SuppressWarnings("unchecked")
          Set<Object> set = (Set<Object>) s;
          set.addAll(items);
        }
        case 0x91 -> {
          List<Object> items = popMark();
          for (Object k : items) {
            checkHashable(k, 0);
          }
          push(java.util.Collections.unmodifiableSet(new LinkedHashSet<>(items)));
        }
        case 'c' -> {
          String module = line();
          String name = line();
          push(new Global(module, name));
        }
        case 0x93 -> {
          Object name = pop();
          Object module = pop();
          if (!(module instanceof String m) || !(name instanceof String n)) {
            throw fail("STACK_GLOBAL needs two strings, got " + Pickle.describe(module) + " and "
                + Pickle.describe(name));
          }
          push(new Global(m, n));
        }
        case 'i' -> { // INST: module, name lines; arguments since MARK
          String module = line();
          String name = line();
          push(call(new Global(module, name), new Tuple(popMark())));
        }
        case 'o' -> { // OBJ: class and arguments since MARK
          List<Object> items = popMark();
          if (items.isEmpty()) {
            throw fail("OBJ without a class");
          }
          push(call(items.get(0), new Tuple(items.subList(1, items.size()))));
        }
        case 'R' -> {
          Object args = pop();
          Object func = pop();
          if (!(args instanceof Tuple t)) {
            throw fail("REDUCE arguments must be a tuple, got " + Pickle.describe(args));
          }
          push(call(func, t));
        }
        case 0x81 -> { // NEWOBJ
          Object args = pop();
          Object cls = pop();
          if (!(args instanceof Tuple t)) {
            throw fail("NEWOBJ arguments must be a tuple, got " + Pickle.describe(args));
          }
          push(newObject(cls, t));
        }
        case 0x92 -> { // NEWOBJ_EX
          pop(); // kwargs: recorded nowhere, nothing runs
          Object args = pop();
          Object cls = pop();
          if (!(args instanceof Tuple t)) {
            throw fail("NEWOBJ_EX arguments must be a tuple, got " + Pickle.describe(args));
          }
          push(newObject(cls, t));
        }
        case 'b' -> {
          Object state = pop();
          Object inst = top();
          if (inst instanceof Obj o) {
            o.state = state;
          }
          // BUILD on anything else (an OrderedDict's _metadata, a parameter's state) sets Python
          // attributes that a state dict never needs: dropped.
        }
        case 'Q' -> {
          Object pid = pop();
          push(persistent.load(pid));
        }
        case 'P' -> push(persistent.load(line()));
        case 'q' -> memo.put((long) in.read(), peekForMemo());
        case 'r' -> memo.put(le(4).getInt() & 0xffffffffL, peekForMemo());
        case 'p' -> memo.put(parseMemoIndex(line()), peekForMemo());
        case 0x94 -> memo.put((long) memo.size(), peekForMemo());
        case 'h' -> push(memoGet(in.read()));
        case 'j' -> push(memoGet(le(4).getInt() & 0xffffffffL));
        case 'g' -> push(memoGet(parseMemoIndex(line())));
        case '0' -> {
          if (!stack.isEmpty() && stack.get(stack.size() - 1) == MARK) {
            popMark();
          } else {
            pop();
          }
        }
        case '1' -> popMark();
        case '2' -> push(top());
        case 0x82, 0x83, 0x84 -> throw fail("extension registry opcodes (EXT1/2/4) are not supported");
        case 0x97, 0x98 -> throw fail("out-of-band buffers (NEXT_BUFFER/READONLY_BUFFER) are not supported");
        default -> throw fail(String.format("unknown opcode 0x%02x", op));
      }
    }
  }

  /** Stands in for None inside List.of, which rejects nulls. */
  private static final Object NULL_ITEM = new Object();

  // ---- stack -------------------------------------------------------------------------------

  private void push(Object v) {
    stack.add(v);
  }

  private Object pop() {
    if (stack.isEmpty()) {
      throw fail("stack underflow");
    }
    Object v = stack.remove(stack.size() - 1);
    if (v == MARK) {
      throw fail("unexpected MARK");
    }
    return v;
  }

  private Object top() {
    if (stack.isEmpty() || stack.get(stack.size() - 1) == MARK) {
      throw fail("stack underflow");
    }
    return stack.get(stack.size() - 1);
  }

  private Object peekForMemo() {
    if (stack.isEmpty()) {
      throw fail("memoize with an empty stack");
    }
    Object v = stack.get(stack.size() - 1);
    if (v == MARK) {
      throw fail("memoize of a MARK");
    }
    return v;
  }

  private List<Object> popMark() {
    if (marks.isEmpty()) {
      throw fail("no MARK on the stack");
    }
    int pos = marks.remove(marks.size() - 1);
    List<Object> items = new ArrayList<>(stack.subList(pos + 1, stack.size()));
    while (stack.size() > pos) {
      stack.remove(stack.size() - 1);
    }
    return items;
  }

  private Object memoGet(long idx) {
    if (!memo.containsKey(idx)) {
      throw fail("memo key " + idx + " is not defined");
    }
    return memo.get(idx);
  }

  // ---- containers --------------------------------------------------------------------------

  @SuppressWarnings("unchecked")
  private void append(Object target, List<Object> items) {
    List<Object> vals = new ArrayList<>(items.size());
    for (Object v : items) {
      vals.add(v == NULL_ITEM ? null : v);
    }
    if (target instanceof List<?> l) {
      ((List<Object>) l).addAll(vals);
    } else if (target instanceof Obj o) {
      o.listItems.addAll(vals);
    } else {
      throw fail("APPEND(S) on " + Pickle.describe(target) + ", not a list");
    }
  }

  @SuppressWarnings("unchecked")
  private void setItems(Object target, List<Object> items) {
    if (items.size() % 2 != 0) {
      throw fail("SETITEMS with an odd number (" + items.size() + ") of keys and values");
    }
    Map<Object, Object> m;
    if (target instanceof Map<?, ?> mm) {
      m = (Map<Object, Object>) mm;
    } else if (target instanceof Obj o) {
      m = o.dictItems;
    } else {
      throw fail("SETITEM(S) on " + Pickle.describe(target) + ", not a dict");
    }
    for (int i = 0; i < items.size(); i += 2) {
      checkHashable(items.get(i), 0);
      m.put(items.get(i), items.get(i + 1));
    }
  }

  private void checkHashable(Object k, int depth) {
    if (k instanceof Tuple t) {
      if (depth >= MAX_KEY_DEPTH) {
        throw fail("dict key nested more than " + MAX_KEY_DEPTH + " tuples deep");
      }
      for (Object o : t.items()) {
        checkHashable(o, depth + 1);
      }
    } else if (k instanceof List<?> || k instanceof Map<?, ?> || (k instanceof Set<?> s && !isFrozen(s))) {
      throw fail("unhashable dict key or set item: " + Pickle.describe(k));
    }
  }

  private static boolean isFrozen(Set<?> s) {
    // FROZENSET builds an unmodifiable set; its items were checked when it was made.
    return s.getClass().getName().contains("Unmodifiable");
  }

  // ---- callables ---------------------------------------------------------------------------

  private Object newObject(Object cls, Tuple args) {
    // cls.__new__(cls, *args): never run; a placeholder keeps the arguments.
    return new Obj(cls, args);
  }

  private Object call(Object func, Tuple args) {
    if (func instanceof Global g) {
      switch (g.qualified()) {
        case "collections.OrderedDict", "builtins.dict", "__builtin__.dict" -> {
          Map<Object, Object> m = new LinkedHashMap<>();
          if (args.size() == 1 && args.get(0) instanceof Collection<?> pairs) {
            for (Object p : pairs) {
              if (!(p instanceof Tuple t) || t.size() != 2) {
                throw fail(g + " argument must hold (key, value) pairs, got " + Pickle.describe(p));
              }
              setItems(m, t.items());
            }
          } else if (args.size() != 0) {
            throw fail(g + " called with " + args.size() + " arguments");
          }
          return m;
        }
        case "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2" -> {
          return rebuildTensor(g, args, null);
        }
        case "torch._utils._rebuild_tensor_v3" -> {
          if (args.size() < 7) {
            throw fail(g + " needs 7 or more arguments, got " + args.size());
          }
          Object dt = args.get(6);
          StoredType t = dt instanceof Global d && d.module().equals("torch") ? StoredType.fromTorchDType(d.name()) : null;
          if (t == null) {
            throw fail(g + " with unsupported dtype " + Pickle.describe(dt));
          }
          return rebuildTensor(g, args, t);
        }
        case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state" -> {
          if (args.size() < 1) {
            throw fail(g + " without arguments");
          }
          return args.get(0);
        }
        case "torch._tensor._rebuild_from_type_v2", "torch._tensor._rebuild_from_type" -> {
          // (func, type, args, state): a tensor subclass; rebuild the plain tensor inside.
          if (args.size() < 3 || !(args.get(2) instanceof Tuple inner)) {
            throw fail(g + " needs (func, type, args, ...)");
          }
          return call(args.get(0), inner);
        }
        case "torch.Size", "builtins.tuple", "__builtin__.tuple" -> {
          if (args.size() == 0) {
            return Tuple.EMPTY;
          }
          if (args.get(0) instanceof Collection<?> c) {
            return new Tuple(new ArrayList<>(c));
          }
          if (args.get(0) instanceof Tuple t) {
            return t;
          }
          throw fail(g + " of " + Pickle.describe(args.get(0)));
        }
        case "builtins.set", "__builtin__.set", "builtins.frozenset", "__builtin__.frozenset" -> {
          Set<Object> s = new LinkedHashSet<>();
          if (args.size() == 1) {
            Collection<?> c = args.get(0) instanceof Tuple t ? t.items()
                : args.get(0) instanceof Collection<?> cc ? cc : null;
            if (c == null) {
              throw fail(g + " of " + Pickle.describe(args.get(0)));
            }
            for (Object o : c) {
              checkHashable(o, 0);
              s.add(o);
            }
          }
          return s;
        }
        case "torch.jit._pickle.build_intlist", "torch.jit._pickle.build_tensorlist",
            "torch.jit._pickle.build_doublelist", "torch.jit._pickle.build_boollist",
            "torch.jit._pickle.build_genericlist", "torch.jit._pickle.build_list",
            "torch.jit._pickle.restore_type_tag" -> {
          if (args.size() < 1) {
            throw fail(g + " without arguments");
          }
          return args.get(0);
        }
        case "_codecs.encode" -> {
          // Protocol 2 pickles Python 3 bytes as _codecs.encode(str, 'latin1').
          if (args.size() >= 1 && args.get(0) instanceof String s
              && (args.size() < 2 || "latin1".equals(args.get(1)) || "latin-1".equals(args.get(1)))) {
            return new Bytes(s.getBytes(StandardCharsets.ISO_8859_1));
          }
          return new Obj(g, args);
        }
        default -> {
          return new Obj(g, args);
        }
      }
    }
    if (func instanceof Obj) {
      return new Obj(func, args);
    }
    throw fail("REDUCE on " + Pickle.describe(func) + ", which is not callable");
  }

  private long[] longs(Global g, String what, Object v) {
    List<Object> items;
    if (v instanceof Tuple t) {
      items = t.items();
    } else if (v instanceof List<?> l) {
      items = new ArrayList<>(l);
    } else {
      throw fail(g + ": " + what + " must be a tuple of ints, got " + Pickle.describe(v));
    }
    long[] out = new long[items.size()];
    for (int i = 0; i < out.length; i++) {
      if (!(items.get(i) instanceof Long x) || x < 0) {
        throw fail(g + ": " + what + " must hold non-negative ints, got " + Pickle.describe(items.get(i)));
      }
      out[i] = x;
    }
    return out;
  }

  private TensorRef rebuildTensor(Global g, Tuple args, StoredType dtype) {
    if (args.size() < 4) {
      throw fail(g + " needs (storage, offset, size, stride, ...), got " + args.size() + " arguments");
    }
    if (!(args.get(0) instanceof StorageRef s)) {
      throw fail(g + ": first argument must be a storage (persistent id), got " + Pickle.describe(args.get(0)));
    }
    if (!(args.get(1) instanceof Long offset) || offset < 0) {
      throw fail(g + ": storage offset must be a non-negative int, got " + Pickle.describe(args.get(1)));
    }
    long[] size = longs(g, "size", args.get(2));
    long[] stride = longs(g, "stride", args.get(3));
    if (size.length != stride.length) {
      throw fail(g + ": size has " + size.length + " dims but stride has " + stride.length);
    }
    StoredType t = dtype != null ? dtype : s.type();
    return new TensorRef(s, offset, size, stride, t);
  }

  // ---- primitive reads ---------------------------------------------------------------------

  private ByteBuffer le(int n) {
    return ByteBuffer.wrap(bytes(n)).order(ByteOrder.LITTLE_ENDIAN);
  }

  private long u64() {
    long n = le(8).getLong();
    if (n < 0) {
      throw fail("length " + Long.toUnsignedString(n) + " exceeds the input");
    }
    return n;
  }

  private byte[] bytes(long n) {
    if (n > in.remaining()) {
      throw in.truncated(n);
    }
    if (n > Integer.MAX_VALUE - 8) {
      throw fail("a " + n + "-byte value is too large");
    }
    byte[] b = new byte[(int) n];
    in.readFully(b);
    return b;
  }

  private String utf8(long n) {
    return new String(bytes(n), StandardCharsets.UTF_8);
  }

  /** A newline-terminated line (without the newline); its length is bounded by the input left. */
  private String line() {
    String s = new String(lineBytes(), StandardCharsets.UTF_8);
    return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
  }

  private byte[] lineBytes() {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    while (true) {
      int c = in.read();
      if (c == '\n') {
        break;
      }
      b.write(c);
    }
    return b.toByteArray();
  }

  private Object parseInt(String s) {
    String t = s.endsWith("L") ? s.substring(0, s.length() - 1) : s;
    try {
      return normalize(new BigInteger(t));
    } catch (NumberFormatException e) {
      throw fail("invalid integer literal '" + (s.length() > 40 ? s.substring(0, 40) + "..." : s) + "'");
    }
  }

  private long parseMemoIndex(String s) {
    try {
      long v = Long.parseLong(s);
      if (v < 0) {
        throw new NumberFormatException();
      }
      return v;
    } catch (NumberFormatException e) {
      throw fail("invalid memo index '" + s + "'");
    }
  }

  private Object longFromBytes(long n) {
    byte[] le = bytes(n);
    if (le.length == 0) {
      return 0L;
    }
    byte[] be = new byte[le.length];
    for (int i = 0; i < le.length; i++) {
      be[i] = le[le.length - 1 - i];
    }
    return normalize(new BigInteger(be));
  }

  private static Object normalize(BigInteger v) {
    return v.bitLength() < 64 ? (Object) v.longValue() : v;
  }

  private String quoted(String s) {
    if (s.length() >= 2 && (s.charAt(0) == '\'' || s.charAt(0) == '"') && s.charAt(s.length() - 1) == s.charAt(0)) {
      return s.substring(1, s.length() - 1);
    }
    throw fail("STRING argument is not quoted: " + Pickle.describe(s));
  }

  /** Python's raw-unicode-escape: only backslash-u and backslash-U sequences are escapes. */
  private String rawUnicodeEscape(String s) {
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && i + 1 < s.length() && (s.charAt(i + 1) == 'u' || s.charAt(i + 1) == 'U')) {
        int len = s.charAt(i + 1) == 'u' ? 4 : 8;
        if (i + 2 + len <= s.length()) {
          try {
            b.appendCodePoint(Integer.parseUnsignedInt(s.substring(i + 2, i + 2 + len), 16));
            i += 1 + len;
            continue;
          } catch (IllegalArgumentException e) {
            throw fail("invalid escape in UNICODE argument");
          }
        }
      }
      b.append(c);
    }
    return b.toString();
  }
}
