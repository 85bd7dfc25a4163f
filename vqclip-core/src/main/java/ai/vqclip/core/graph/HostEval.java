package ai.vqclip.core.graph;

import ai.vqclip.core.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Evaluates small nodes on the host (in Java) for {@link Specialize}: shape arithmetic and other ops
 * whose inputs are all constants. Integer and bool tensors compute in {@code long}, floating ones in
 * {@code double} and are rounded once to their type, which for the ops folded here (+, -, *, /,
 * comparisons, copies) gives the same bits as computing in the type itself. Returns null for ops it
 * does not fold, so the node stays in the graph.
 *
 * <p><b>Why one long class.</b> It is one evaluator: a short case per folded op (elementwise, shape,
 * slicing, gathering, concatenation, reductions) over the same dtype conversions, kept together so
 * that the exact-rounding argument above covers every case in one place.
 */
final class HostEval {
  /** Largest output (elements) folded; bigger results stay as nodes so graphs do not bloat. */
  static final long MAX_FOLD_ELEMENTS = 1L << 20;

  /** A host tensor: exactly one of {@code l} (integer/bool types) and {@code d} (floating) is set. */
  record T(DType dt, long[] shape, long[] l, double[] d) {
    static T of(Tensor t) {
      long[] s = t.shape();
      if (t.dtype().isFloating()) {
        return new T(t.dtype(), s, null, t.toDoubles());
      }
      if (t.dtype() == DType.INT64) {
        return new T(t.dtype(), s, t.toLongs(), null);
      }
      double[] v = t.toDoubles();
      long[] l = new long[v.length];
      for (int i = 0; i < v.length; i++) {
        l[i] = (long) v[i];
      }
      return new T(t.dtype(), s, l, null);
    }

    int n() {
      return l != null ? l.length : d.length;
    }

    double dbl(int i) {
      return l != null ? l[i] : d[i];
    }

    long lng(int i) {
      return l != null ? l[i] : (long) d[i];
    }

    Tensor tensor() {
      if (dt == DType.INT64) {
        return Tensor.ofLongs(shape, l);
      }
      if (l != null) {
        double[] v = new double[l.length];
        for (int i = 0; i < v.length; i++) {
          v[i] = l[i];
        }
        return Tensor.fromDoubles(dt, shape, v);
      }
      return Tensor.fromDoubles(dt, shape, d);
    }

    /** A new tensor of this type taking elements at {@code idx}. */
    T gather(long[] newShape, int[] idx) {
      if (l != null) {
        long[] o = new long[idx.length];
        for (int i = 0; i < idx.length; i++) {
          o[i] = l[idx[i]];
        }
        return new T(dt, newShape, o, null);
      }
      double[] o = new double[idx.length];
      for (int i = 0; i < idx.length; i++) {
        o[i] = d[idx[i]];
      }
      return new T(dt, newShape, null, o);
    }
  }

  private HostEval() {}

  /**
   * The outputs of {@code n} given its inputs (null for omitted optional inputs), or null when the
   * op is not folded here or the result would be larger than {@link #MAX_FOLD_ELEMENTS}.
   */
  static List<Tensor> eval(Node n, List<Tensor> inputs) {
    List<T> in = new ArrayList<>();
    for (Tensor t : inputs) {
      in.add(t == null ? null : T.of(t));
    }
    T out;
    try {
      out = eval1(n, in);
    } catch (TooBig e) {
      return null;
    }
    if (out == null || count(out.shape) > MAX_FOLD_ELEMENTS) {
      return null;
    }
    return List.of(out.tensor());
  }

  private static T eval1(Node n, List<T> in) {
    String op = n.opType();
    switch (op) {
      case "Add", "Sub", "Mul", "Div", "Min", "Max", "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor", "Mod" -> {
        return binary(n, op, in.get(0), in.get(1));
      }
      case "Neg", "Abs", "Not", "Floor", "Ceil", "Sqrt" -> {
        return unary(op, in.get(0));
      }
      case "Where" -> {
        return where(in.get(0), in.get(1), in.get(2));
      }
      case "Cast" -> {
        return cast(in.get(0), DType.fromOnnx((int) n.attrInt("to", -1)));
      }
      case "Reshape", "Squeeze", "Unsqueeze", "Flatten" -> {
        return null; // handled by reshapeLike: the output shape comes from shape inference
      }
      case "Concat" -> {
        return concat(n, in);
      }
      case "Gather" -> {
        return gather(n, in.get(0), in.get(1));
      }
      case "Slice" -> {
        return slice(n, in);
      }
      case "ConstantOfShape" -> {
        long[] shape = in.get(0).l;
        check(shape);
        Attribute a = n.attributes().get("value");
        T v = a == null ? new T(DType.FLOAT, new long[] {1}, null, new double[] {0}) : T.of(a.asTensor());
        int c = (int) count(shape);
        return v.gather(shape, new int[c]);
      }
      case "Range" -> {
        return range(in.get(0), in.get(1), in.get(2));
      }
      case "Expand" -> {
        long[] target = in.get(1).l;
        long[] s = broadcastShape(n, in.get(0).shape, target);
        return in.get(0).gather(s, broadcastIndex(in.get(0).shape, s));
      }
      case "NonZero" -> {
        return nonZero(in.get(0));
      }
      case "Transpose" -> {
        return transpose(n, in.get(0));
      }
      default -> {
        return null;
      }
    }
  }

  /** Output of a shape-only op (Reshape/Squeeze/Unsqueeze/Flatten/Identity): same data, inferred shape. */
  static Tensor reshapeLike(Tensor data, long[] shape) {
    T t = T.of(data);
    return new T(t.dt, shape, t.l, t.d).tensor();
  }

  // ------------------------------------------------------------------ ops

  private static T binary(Node n, String op, T a, T b) {
    long[] s = broadcastShape(n, a.shape, b.shape);
    int[] ia = broadcastIndex(a.shape, s);
    int[] ib = broadcastIndex(b.shape, s);
    int c = ia.length;
    boolean cmp = Arrays.asList("Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor").contains(op);
    if (cmp) {
      long[] o = new long[c];
      for (int i = 0; i < c; i++) {
        boolean r;
        if (a.l != null && b.l != null) {
          long x = a.l[ia[i]];
          long y = b.l[ib[i]];
          r = switch (op) {
            case "Equal" -> x == y;
            case "Less" -> x < y;
            case "Greater" -> x > y;
            case "LessOrEqual" -> x <= y;
            case "GreaterOrEqual" -> x >= y;
            case "And" -> x != 0 && y != 0;
            case "Or" -> x != 0 || y != 0;
            default -> (x != 0) != (y != 0);
          };
        } else {
          double x = a.dbl(ia[i]);
          double y = b.dbl(ib[i]);
          r = switch (op) {
            case "Equal" -> x == y;
            case "Less" -> x < y;
            case "Greater" -> x > y;
            case "LessOrEqual" -> x <= y;
            case "GreaterOrEqual" -> x >= y;
            default -> throw new IllegalArgumentException(n.describe() + ": " + op + " needs bool inputs");
          };
        }
        o[i] = r ? 1 : 0;
      }
      return new T(DType.BOOL, s, o, null);
    }
    if (a.l != null) {
      long[] o = new long[c];
      for (int i = 0; i < c; i++) {
        long x = a.l[ia[i]];
        long y = b.lng(ib[i]);
        o[i] = switch (op) {
          case "Add" -> x + y;
          case "Sub" -> x - y;
          case "Mul" -> x * y;
          case "Div" -> {
            if (y == 0) {
              throw new IllegalArgumentException(n.describe() + ": integer division by zero in constant folding");
            }
            yield x / y;
          }
          case "Mod" -> {
            if (y == 0) {
              throw new IllegalArgumentException(n.describe() + ": integer modulo by zero in constant folding");
            }
            // ONNX Mod with fmod=0 takes the divisor's sign, like Python.
            yield n.attrInt("fmod", 0) != 0 ? x % y : Math.floorMod(x, y);
          }
          case "Min" -> Math.min(x, y);
          default -> Math.max(x, y);
        };
      }
      return new T(a.dt, s, o, null);
    }
    double[] o = new double[c];
    for (int i = 0; i < c; i++) {
      double x = a.d[ia[i]];
      double y = b.dbl(ib[i]);
      o[i] = switch (op) {
        case "Add" -> x + y;
        case "Sub" -> x - y;
        case "Mul" -> x * y;
        case "Div" -> x / y;
        case "Mod" -> x % y;
        case "Min" -> Math.min(x, y);
        default -> Math.max(x, y);
      };
    }
    return round(new T(a.dt, s, null, o));
  }

  /** Rounds doubles to float32 where the type is FLOAT, so chained folds match computing in float. */
  private static T round(T t) {
    if (t.dt == DType.FLOAT && t.d != null) {
      for (int i = 0; i < t.d.length; i++) {
        t.d[i] = (float) t.d[i];
      }
    }
    return t;
  }

  private static T unary(String op, T a) {
    if (a.l != null) {
      long[] o = new long[a.l.length];
      for (int i = 0; i < o.length; i++) {
        long x = a.l[i];
        o[i] = switch (op) {
          case "Neg" -> -x;
          case "Abs" -> Math.abs(x);
          case "Not" -> x == 0 ? 1 : 0;
          default -> x;
        };
      }
      if (op.equals("Sqrt")) {
        return null;
      }
      return new T(a.dt, a.shape, o, null);
    }
    double[] o = new double[a.d.length];
    for (int i = 0; i < o.length; i++) {
      double x = a.d[i];
      o[i] = switch (op) {
        case "Neg" -> -x;
        case "Abs" -> Math.abs(x);
        case "Floor" -> Math.floor(x);
        case "Ceil" -> Math.ceil(x);
        case "Sqrt" -> a.dt == DType.FLOAT ? Math.sqrt((float) x) : Math.sqrt(x);
        default -> x;
      };
    }
    return round(new T(a.dt, a.shape, null, o));
  }

  private static T where(T c, T a, T b) {
    long[] s = broadcastShape(null, broadcastShape(null, c.shape, a.shape), b.shape);
    int[] ic = broadcastIndex(c.shape, s);
    int[] ia = broadcastIndex(a.shape, s);
    int[] ib = broadcastIndex(b.shape, s);
    if (a.l != null) {
      long[] o = new long[ic.length];
      for (int i = 0; i < o.length; i++) {
        o[i] = c.l[ic[i]] != 0 ? a.l[ia[i]] : b.lng(ib[i]);
      }
      return new T(a.dt, s, o, null);
    }
    double[] o = new double[ic.length];
    for (int i = 0; i < o.length; i++) {
      o[i] = c.l[ic[i]] != 0 ? a.d[ia[i]] : b.dbl(ib[i]);
    }
    return new T(a.dt, s, null, o);
  }

  private static T cast(T a, DType to) {
    if (to.isFloating()) {
      double[] o = new double[a.n()];
      for (int i = 0; i < o.length; i++) {
        o[i] = a.dbl(i);
      }
      return round(new T(to, a.shape, null, o));
    }
    long[] o = new long[a.n()];
    for (int i = 0; i < o.length; i++) {
      if (to == DType.BOOL) {
        o[i] = a.dbl(i) != 0 ? 1 : 0;
      } else if (a.l != null) {
        o[i] = a.l[i];
      } else {
        o[i] = (long) a.d[i]; // toward zero, as C casts
      }
      o[i] = switch (to) {
        case INT32 -> (int) o[i];
        case INT8 -> (byte) o[i];
        case UINT8 -> o[i] & 0xff;
        default -> o[i];
      };
    }
    return new T(to, a.shape, o, null);
  }

  private static T concat(Node n, List<T> in) {
    T first = in.get(0);
    int r = first.shape.length;
    long axisAttr = n.attrInt("axis", 0);
    int ax = (int) (axisAttr < 0 ? axisAttr + r : axisAttr);
    if (ax < 0 || ax >= r) {
      throw new IllegalArgumentException(n.describe() + ": axis " + axisAttr + " out of range for rank " + r);
    }
    long[] s = first.shape.clone();
    s[ax] = 0;
    for (T t : in) {
      s[ax] += t.shape[ax];
    }
    check(s);
    long outer = count(Arrays.copyOfRange(s, 0, ax));
    long inner = count(Arrays.copyOfRange(s, ax + 1, r));
    int[] idx = new int[(int) count(s)];
    int[] src = new int[idx.length];
    int k = 0;
    for (long o = 0; o < outer; o++) {
      for (int ti = 0; ti < in.size(); ti++) {
        long block = in.get(ti).shape[ax] * inner;
        for (long j = 0; j < block; j++) {
          src[k] = ti;
          idx[k++] = (int) (o * block + j);
        }
      }
    }
    boolean floating = first.d != null;
    if (floating) {
      double[] out = new double[idx.length];
      for (int i = 0; i < idx.length; i++) {
        out[i] = in.get(src[i]).dbl(idx[i]);
      }
      return new T(first.dt, s, null, out);
    }
    long[] out = new long[idx.length];
    for (int i = 0; i < idx.length; i++) {
      out[i] = in.get(src[i]).lng(idx[i]);
    }
    return new T(first.dt, s, out, null);
  }

  private static T gather(Node n, T data, T indices) {
    int r = data.shape.length;
    long axisAttr = n.attrInt("axis", 0);
    int ax = (int) (axisAttr < 0 ? axisAttr + r : axisAttr);
    if (ax < 0 || ax >= r) {
      throw new IllegalArgumentException(n.describe() + ": axis " + axisAttr + " out of range for rank " + r);
    }
    long dim = data.shape[ax];
    long[] s = new long[r - 1 + indices.shape.length];
    System.arraycopy(data.shape, 0, s, 0, ax);
    System.arraycopy(indices.shape, 0, s, ax, indices.shape.length);
    System.arraycopy(data.shape, ax + 1, s, ax + indices.shape.length, r - ax - 1);
    check(s);
    long outer = count(Arrays.copyOfRange(data.shape, 0, ax));
    long inner = count(Arrays.copyOfRange(data.shape, ax + 1, r));
    int[] idx = new int[(int) count(s)];
    int k = 0;
    for (long o = 0; o < outer; o++) {
      for (long q : indices.l) {
        long i = q < 0 ? q + dim : q;
        if (i < 0 || i >= dim) {
          throw new IllegalArgumentException(n.describe() + ": index " + q + " out of range for axis " + ax + " of size " + dim);
        }
        for (long j = 0; j < inner; j++) {
          idx[k++] = (int) ((o * dim + i) * inner + j);
        }
      }
    }
    return data.gather(s, idx);
  }

  private static T slice(Node n, List<T> in) {
    T x = in.get(0);
    long[] axes = in.size() > 3 && in.get(3) != null ? in.get(3).l : null;
    long[] steps = in.size() > 4 && in.get(4) != null ? in.get(4).l : null;
    List<ShapeInference.SliceAxis> sa = ShapeInference.sliceAxes(n, x.shape, in.get(1).l, in.get(2).l, axes, steps);
    int r = x.shape.length;
    long[] start = new long[r];
    long[] step = new long[r];
    long[] s = x.shape.clone();
    Arrays.fill(step, 1);
    for (ShapeInference.SliceAxis a : sa) {
      start[a.axis()] = a.start();
      step[a.axis()] = a.step();
      s[a.axis()] = a.count();
    }
    check(s);
    long[] strides = strides(x.shape);
    long base = 0;
    long[] eff = new long[r];
    for (int d = 0; d < r; d++) {
      base += start[d] * strides[d];
      eff[d] = step[d] * strides[d];
    }
    return x.gather(s, stridedIndex(s, base, eff));
  }

  private static T range(T start, T limit, T delta) {
    if (start.l != null) {
      long s = start.l[0];
      long d = delta.l[0];
      if (d == 0) {
        throw new IllegalArgumentException("Range delta must not be 0");
      }
      long n = Math.max(0, (long) Math.ceil((double) (limit.l[0] - s) / d));
      check(new long[] {n});
      long[] o = new long[(int) n];
      for (int i = 0; i < n; i++) {
        o[i] = s + i * d;
      }
      return new T(start.dt, new long[] {n}, o, null);
    }
    double s = start.d[0];
    double d = delta.d[0];
    long n = Math.max(0, (long) Math.ceil((limit.d[0] - s) / d));
    check(new long[] {n});
    double[] o = new double[(int) n];
    for (int i = 0; i < n; i++) {
      o[i] = s + i * d;
    }
    return round(new T(start.dt, new long[] {n}, null, o));
  }

  private static T nonZero(T x) {
    int r = x.shape.length;
    List<Integer> hits = new ArrayList<>();
    for (int i = 0; i < x.n(); i++) {
      if (x.dbl(i) != 0) {
        hits.add(i);
      }
    }
    long[] strides = strides(x.shape);
    long[] o = new long[r * hits.size()];
    for (int h = 0; h < hits.size(); h++) {
      long rem = hits.get(h);
      for (int d = 0; d < r; d++) {
        o[d * hits.size() + h] = rem / strides[d];
        rem %= strides[d];
      }
    }
    return new T(DType.INT64, new long[] {r, hits.size()}, o, null);
  }

  private static T transpose(Node n, T x) {
    int r = x.shape.length;
    long[] perm = n.attrInts("perm", null);
    if (perm == null) {
      perm = new long[r];
      for (int i = 0; i < r; i++) {
        perm[i] = r - 1 - i;
      }
    }
    long[] s = new long[r];
    for (int i = 0; i < r; i++) {
      s[i] = x.shape[(int) perm[i]];
    }
    long[] inStrides = strides(x.shape);
    long[] eff = new long[r];
    for (int d = 0; d < r; d++) {
      eff[d] = inStrides[(int) perm[d]];
    }
    return x.gather(s, stridedIndex(s, 0, eff));
  }

  // ------------------------------------------------------------------ broadcasting

  static long[] broadcastShape(Node n, long[] a, long[] b) {
    int r = Math.max(a.length, b.length);
    long[] s = new long[r];
    for (int i = 0; i < r; i++) {
      long x = i - (r - a.length) >= 0 ? a[i - (r - a.length)] : 1;
      long y = i - (r - b.length) >= 0 ? b[i - (r - b.length)] : 1;
      if (x != y && x != 1 && y != 1) {
        throw new IllegalArgumentException((n == null ? "" : n.describe() + ": ") + "shapes " + Arrays.toString(a) + " and "
            + Arrays.toString(b) + " do not broadcast");
      }
      s[i] = x == 1 ? y : x;
    }
    check(s);
    return s;
  }

  /** For each element of the broadcast shape {@code s}, the flat index into a tensor of shape {@code a}. */
  static int[] broadcastIndex(long[] a, long[] s) {
    int r = s.length;
    long[] st = new long[r];
    long[] as = strides(a);
    for (int i = 0; i < a.length; i++) {
      st[r - a.length + i] = a[i] == 1 ? 0 : as[i];
    }
    return stridedIndex(s, 0, st);
  }

  /**
   * For each element of shape {@code s} in row-major order, the flat source index {@code base + sum_d
   * pos[d] * strides[d]}: the one walk behind slicing, transposing and broadcasting.
   */
  private static int[] stridedIndex(long[] s, long base, long[] strides) {
    int r = s.length;
    int[] idx = new int[(int) count(s)];
    long[] pos = new long[r];
    for (int i = 0; i < idx.length; i++) {
      long off = base;
      for (int d = 0; d < r; d++) {
        off += pos[d] * strides[d];
      }
      idx[i] = (int) off;
      for (int d = r - 1; d >= 0; d--) {
        if (++pos[d] < s[d]) {
          break;
        }
        pos[d] = 0;
      }
    }
    return idx;
  }

  private static long[] strides(long[] s) {
    long[] st = new long[s.length];
    long k = 1;
    for (int i = s.length - 1; i >= 0; i--) {
      st[i] = k;
      k *= s[i];
    }
    return st;
  }

  static long count(long[] s) {
    long n = 1;
    for (long d : s) {
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  /** Bounds a folded result's size before anything is allocated for it. */
  private static void check(long[] s) {
    long n = 1;
    for (long d : s) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension in folded shape " + Arrays.toString(s));
      }
      if (d != 0 && n > MAX_FOLD_ELEMENTS / d) {
        throw new TooBig();
      }
      n *= d;
    }
  }

  /** Thrown when a folded result would exceed {@link #MAX_FOLD_ELEMENTS}: the node is then kept. */
  static final class TooBig extends RuntimeException {
    TooBig() {
      super(null, null, false, false);
    }
  }
}
