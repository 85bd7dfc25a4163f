package ai.vqclip.onnx.weights;

import ai.vqclip.onnx.weights.Pickle.Global;
import ai.vqclip.onnx.weights.Pickle.Tuple;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Emits pickles opcode for opcode as CPython's pickler does at protocol 2 (the protocol torch.save
 * uses): strings, tuples, lists and dicts memoized by identity as Python memoizes by id(), ints as
 * BININT1/BININT2/BININT/LONG1, tuples of up to three as TUPLE1-3, dict items in SETITEMS batches of
 * 1000, reduce values memoized after REDUCE. Test support for the torch container writers.
 *
 * <p>Values: null, Boolean, Integer/Long/BigInteger, Double, String, {@link Tuple}, {@link List},
 * {@link Map} (a plain dict), {@link Global}, and the records below.
 */
final class PickleWriter {
  /** {@code func(*args)} then optional list/dict items and BUILD state, as {@code save_reduce}. */
  record Reduce(Object func, Tuple args, Object state, Map<?, ?> dictItems) {
    Reduce(Object func, Tuple args) {
      this(func, args, null, null);
    }
  }

  /** {@code cls.__new__(cls, *args)} then BUILD state (how TorchScript modules are pickled). */
  record NewObj(Object cls, Tuple args, Object state) {}

  /** A persistent id (BINPERSID); never memoized, as Python's save_pers. */
  record Persistent(Object pid) {}

  /** A collections.OrderedDict: reduce to {@code OrderedDict()} then SETITEMS (state: its __dict__). */
  record OrderedDict(Map<?, ?> items, Map<String, Object> state) {
    OrderedDict(Map<?, ?> items) {
      this(items, null);
    }
  }

  static final Global ORDERED_DICT = new Global("collections", "OrderedDict");

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final IdentityHashMap<Object, Integer> memo = new IdentityHashMap<>();
  /** Turns custom objects (tensors) into a Reduce; memoized under the original object. */
  private final Function<Object, Object> reducer;
  /** The Global objects handed out, one per name, so repeats hit the memo as class objects do. */
  private final Map<String, Global> globals;

  PickleWriter(Function<Object, Object> reducer, Map<String, Global> globals) {
    this.reducer = reducer;
    this.globals = globals;
  }

  /** One complete pickle (PROTO 2 ... STOP) of {@code obj}. */
  static byte[] dump(Object obj, Function<Object, Object> reducer, Map<String, Global> globals) {
    PickleWriter w = new PickleWriter(reducer, globals);
    w.out.write(0x80);
    w.out.write(2);
    w.save(obj);
    w.out.write('.');
    return w.out.toByteArray();
  }

  static byte[] dump(Object obj) {
    return dump(obj, o -> null, new java.util.HashMap<>());
  }

  private void put(int idx) {
    if (idx < 256) {
      out.write('q');
      out.write(idx);
    } else {
      out.write('r');
      writeLe(idx, 4);
    }
  }

  private void get(int idx) {
    if (idx < 256) {
      out.write('h');
      out.write(idx);
    } else {
      out.write('j');
      writeLe(idx, 4);
    }
  }

  private void memoize(Object o) {
    int idx = memo.size();
    put(idx);
    memo.put(o, idx);
  }

  private void writeLe(long v, int n) {
    for (int i = 0; i < n; i++) {
      out.write((int) (v >>> (8 * i)) & 0xff);
    }
  }

  void save(Object obj) {
    if (obj instanceof Persistent p) {
      save(p.pid());
      out.write('Q');
      return;
    }
    if (obj != null && !(obj instanceof Boolean) && !(obj instanceof Number)) {
      Integer m = memo.get(obj);
      if (m != null) {
        get(m);
        return;
      }
    }
    if (obj == null) {
      out.write('N');
    } else if (obj instanceof Boolean b) {
      out.write(b ? 0x88 : 0x89);
    } else if (obj instanceof Integer || obj instanceof Long || obj instanceof BigInteger) {
      saveLong(obj instanceof BigInteger bi ? bi : BigInteger.valueOf(((Number) obj).longValue()));
    } else if (obj instanceof Double d) {
      out.write('G');
      out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.BIG_ENDIAN).putDouble(d).array());
    } else if (obj instanceof String s) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      out.write('X');
      writeLe(b.length, 4);
      out.writeBytes(b);
      memoize(obj);
    } else if (obj instanceof Tuple t) {
      saveTuple(t);
    } else if (obj instanceof List<?> l) {
      out.write(']');
      memoize(obj);
      batchAppends(l);
    } else if (obj instanceof Map<?, ?> m) {
      out.write('}');
      memoize(obj);
      batchSetItems(m);
    } else if (obj instanceof Global g) {
      out.write('c');
      out.writeBytes((g.module() + "\n" + g.name() + "\n").getBytes(StandardCharsets.UTF_8));
      memoize(obj);
    } else if (obj instanceof Reduce r) {
      saveReduce(r, obj);
    } else if (obj instanceof OrderedDict od) {
      saveReduce(new Reduce(global(ORDERED_DICT), Tuple.EMPTY, od.state(), od.items()), obj);
    } else if (obj instanceof NewObj n) {
      save(n.cls());
      save(n.args());
      out.write(0x81);
      memoize(obj);
      if (n.state() != null) {
        save(n.state());
        out.write('b');
      }
    } else {
      Object r = reducer.apply(obj);
      if (!(r instanceof Reduce red)) {
        throw new IllegalArgumentException("cannot pickle " + obj.getClass());
      }
      saveReduce(red, obj);
    }
  }

  /** The canonical Global object for a name (so a class pickles once and is fetched from the memo after). */
  Global global(Global g) {
    return globals.computeIfAbsent(g.qualified(), k -> g);
  }

  private void saveReduce(Reduce r, Object obj) {
    save(r.func());
    save(r.args());
    out.write('R');
    if (memo.containsKey(obj)) {
      out.write('0');
      get(memo.get(obj));
    } else {
      memoize(obj);
    }
    if (r.dictItems() != null) {
      batchSetItems(r.dictItems());
    }
    if (r.state() != null) {
      save(r.state());
      out.write('b');
    }
  }

  private void saveTuple(Tuple t) {
    int n = t.size();
    if (n == 0) {
      out.write(')');
      return;
    }
    if (n <= 3) {
      for (Object o : t.items()) {
        save(o);
      }
      if (memo.containsKey(t)) {
        for (int i = 0; i < n; i++) {
          out.write('0');
        }
        get(memo.get(t));
        return;
      }
      out.write(0x84 + n);
      memoize(t);
      return;
    }
    out.write('(');
    for (Object o : t.items()) {
      save(o);
    }
    if (memo.containsKey(t)) {
      out.write('1');
      get(memo.get(t));
      return;
    }
    out.write('t');
    memoize(t);
  }

  private void saveLong(BigInteger v) {
    if (v.signum() >= 0 && v.compareTo(BigInteger.valueOf(0xff)) <= 0) {
      out.write('K');
      out.write(v.intValue());
    } else if (v.signum() >= 0 && v.compareTo(BigInteger.valueOf(0xffff)) <= 0) {
      out.write('M');
      writeLe(v.intValue(), 2);
    } else if (v.bitLength() < 32) {
      out.write('J');
      writeLe(v.intValue(), 4);
    } else {
      // encode_long: minimal little-endian two's complement
      byte[] be = v.toByteArray();
      byte[] le = new byte[be.length];
      for (int i = 0; i < be.length; i++) {
        le[i] = be[be.length - 1 - i];
      }
      if (le.length < 256) {
        out.write(0x8a);
        out.write(le.length);
      } else {
        out.write(0x8b);
        writeLe(le.length, 4);
      }
      out.writeBytes(le);
    }
  }

  private void batchAppends(List<?> items) {
    for (int start = 0; start < items.size(); start += 1000) {
      List<?> batch = items.subList(start, Math.min(items.size(), start + 1000));
      if (batch.size() > 1) {
        out.write('(');
        for (Object o : batch) {
          save(o);
        }
        out.write('e');
      } else {
        save(batch.get(0));
        out.write('a');
      }
    }
  }

  private void batchSetItems(Map<?, ?> m) {
    List<Map.Entry<?, ?>> items = new ArrayList<>(m.entrySet());
    for (int start = 0; start < items.size(); start += 1000) {
      List<Map.Entry<?, ?>> batch = items.subList(start, Math.min(items.size(), start + 1000));
      if (batch.size() > 1) {
        out.write('(');
        for (Map.Entry<?, ?> e : batch) {
          save(e.getKey());
          save(e.getValue());
        }
        out.write('u');
      } else {
        save(batch.get(0).getKey());
        save(batch.get(0).getValue());
        out.write('s');
      }
    }
  }
}
