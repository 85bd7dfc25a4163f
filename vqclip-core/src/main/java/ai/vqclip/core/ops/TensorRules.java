package ai.vqclip.core.ops;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.autodiff.VjpContext;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Dim;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.ShapeInference.SliceAxis;
import ai.vqclip.core.graph.ShapeInference;
import ai.vqclip.core.graph.Value;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Op family (see {@link OpTable}) of tensor-manipulation ops: Reshape, Flatten, Squeeze,
 * Unsqueeze, Transpose, Concat, Split, Slice, Gather, GatherElements, Expand, Tile, Pad, CumSum
 * and Trilu. All of them move or copy elements, so their gradients move the incoming gradient back
 * (reshape, inverse permutation, slicing, padding with zeros) and sum it where one input element
 * fed several outputs (scatter-add, reductions).
 *
 * <p><b>Why one long class.</b> It is one op family's table ({@link OpTable}): for each of its 15
 * ops a shape, gradient and FLOP rule, a short one each. The families are the split; splitting a
 * family further would separate ops whose gradients mirror each other (Slice and Pad, Concat and
 * Split, Gather and scatter-add).
 */
final class TensorRules {
  private TensorRules() {}

  /** Slice end meaning "to the end" for negative steps (ONNX clamps it to -1). */
  private static final long NEG_INF = Long.MIN_VALUE;

  /** Slice end meaning "to the end" for positive steps. */
  private static final long POS_INF = Long.MAX_VALUE;

  static void define(OpTable t) {
    for (String op : List.of("Reshape", "Flatten", "Squeeze", "Unsqueeze")) {
      // These only relabel the same elements in the same order.
      ShapeInference.Rule shape = switch (op) {
        case "Reshape" -> ShapeInference::reshape;
        case "Flatten" -> ShapeInference::flatten;
        case "Squeeze" -> ShapeInference::squeeze;
        default -> ShapeInference::unsqueeze;
      };
      t.op(op).shape(shape).grad(c -> c.setGrad(0, reshapeLike(c.b(), c.gradOutput(0), c.input(0))));
    }
    t.op("Transpose").shape(ShapeInference::transpose).grad(TensorRules::transpose);
    t.op("Concat").shape(ShapeInference::concat).grad(TensorRules::concat);
    t.op("Split").shape(ShapeInference::split).grad(TensorRules::split);
    t.op("Slice").shape(ShapeInference::slice).grad(TensorRules::slice);
    t.op("Gather").shape(ShapeInference::gather).grad(TensorRules::gather);
    t.op("GatherElements").since(11).shape(ShapeInference::gatherElements).grad(TensorRules::gatherElements);
    t.op("Expand").since(8).shape(ShapeInference::expand).grad(c -> c.setGrad(0, c.unbroadcast(c.gradOutput(0), c.input(0))));
    t.op("Tile").shape(ShapeInference::tile).grad(TensorRules::tile);
    t.op("Pad").shape(ShapeInference::pad).grad(TensorRules::pad);
    // Shape rules only (no gradient rule yet: differentiating through them is refused).
    t.op("ScatterElements").since(11).shape(ShapeInference::same);
    t.op("ScatterND").since(11).shape(ShapeInference::same);
    t.op("TopK").shape(ShapeInference::topK).grad(TensorRules::topK);
    // y_i = sum_{j <= i} x_j, so dx_j = sum_{i >= j} g_i: the cumulative sum in the other direction,
    // with the same exclusivity.
    t.op("CumSum").since(11).shape(ShapeInference::same).grad(c -> c.setGrad(0, c.b().op("CumSum").in(c.gradOutput(0), c.input(1))
        .attr("exclusive", c.node().attrInt("exclusive", 0))
        .attr("reverse", c.node().attrInt("reverse", 0) != 0 ? 0L : 1L).out()));
    // Trilu keeps a fixed triangle: its Jacobian is a 0/1 diagonal mask, applied to g the same way.
    t.op("Trilu").since(14).shape(ShapeInference::same).grad(c -> c.setGrad(0, c.input(1) == null
        ? c.b().op("Trilu").in(c.gradOutput(0)).attr("upper", c.node().attrInt("upper", 1)).out()
        : c.b().op("Trilu").in(c.gradOutput(0), c.input(1)).attr("upper", c.node().attrInt("upper", 1)).out()));
  }

  // ---------------------------------------------------------------- rules

  private static void transpose(VjpContext c) {
    Value x = c.input(0);
    if (!x.shape().hasRank()) {
      throw c.fail("needs the rank of " + x);
    }
    int r = x.rank();
    long[] perm = c.node().attrInts("perm", null);
    if (perm == null) {
      perm = new long[r];
      for (int i = 0; i < r; i++) {
        perm[i] = r - 1 - i;
      }
    }
    long[] inv = new long[r];
    for (int i = 0; i < r; i++) {
      inv[(int) normAxis(c, perm[i], r)] = i;
    }
    c.setGrad(0, c.b().transpose(c.gradOutput(0), inv));
  }

  private static void concat(VjpContext c) {
    GraphBuilder b = c.b();
    Value g = c.gradOutput(0);
    Value first = c.input(0);
    if (!first.shape().hasRank()) {
      throw c.fail("needs the rank of " + first);
    }
    int ax = (int) normAxis(c, c.node().attrInt("axis", 0), first.rank());
    int n = c.inputCount();
    boolean allStatic = true;
    for (int i = 0; i < n; i++) {
      Value xi = c.input(i);
      allStatic &= xi.shape().hasRank() && xi.shape().dim(ax).isStatic();
    }
    if (allStatic) {
      // One Slice per input that needs a gradient; inputs that need none cost nothing.
      long off = 0;
      for (int i = 0; i < n; i++) {
        long size = c.input(i).shape().size(ax);
        if (c.needsGrad(i)) {
          c.setGrad(i, sliceAxis(b, g, ax, off, off + size, 1));
        }
        off += size;
      }
      return;
    }
    // Sizes known only at run time: split by the runtime sizes along the axis.
    Value[] sizes = new Value[n];
    for (int i = 0; i < n; i++) {
      sizes[i] = dimsOf(b, c.input(i), ax, ax + 1);
    }
    Value split = b.op("Concat").in(sizes).attr("axis", 0L).out();
    List<Value> parts = b.op("Split").in(g, split).attr("axis", (long) ax).outs(n);
    for (int i = 0; i < n; i++) {
      c.setGrad(i, parts.get(i));
    }
  }

  private static void split(VjpContext c) {
    Value x = c.input(0);
    if (!x.shape().hasRank()) {
      throw c.fail("needs the rank of " + x);
    }
    long ax = normAxis(c, c.node().attrInt("axis", 0), x.rank());
    int n = c.node().outputs().size();
    Value[] gs = new Value[n];
    for (int i = 0; i < n; i++) {
      if (c.output(i) == null) {
        throw c.fail("output " + i + " is omitted; every Split output is needed to place the gradient");
      }
      // Outputs no loss depends on contribute zeros of their own shape.
      gs[i] = c.gradOutput(i) != null ? c.gradOutput(i) : zeros(c.b(), c.output(i));
    }
    c.setGrad(0, n == 1 ? gs[0] : c.b().op("Concat").in(gs).attr("axis", ax).out());
  }

  private static void slice(VjpContext c) {
    GraphBuilder b = c.b();
    Value x = c.input(0);
    if (!x.shape().hasRank()) {
      throw c.fail("needs the rank of " + x);
    }
    // Only the sliced axes need static sizes; others may be symbolic (-1 here, never read).
    long[] shape = new long[x.rank()];
    for (int i = 0; i < shape.length; i++) {
      Dim d = x.shape().dim(i);
      shape[i] = d.isStatic() ? d.size() : -1;
    }
    long[] starts = c.requireConstantInput(1, "starts").toLongs();
    long[] ends = c.requireConstantInput(2, "ends").toLongs();
    long[] axes = c.input(3) == null ? null : c.requireConstantInput(3, "axes").toLongs();
    long[] steps = c.input(4) == null ? null : c.requireConstantInput(4, "steps").toLongs();
    List<SliceAxis> sliced = ShapeInference.sliceAxes(c.node(), shape, starts, ends, axes, steps);
    for (SliceAxis s : sliced) {
      if (shape[s.axis()] < 0) {
        throw c.fail("needs the static size of sliced axis " + s.axis() + " of " + x);
      }
    }
    Value g = c.gradOutput(0);
    for (SliceAxis s : sliced) {
      if (s.count() == 0) {
        // Empty slice: no element of x reaches the output.
        c.setGrad(0, zeros(b, x));
        return;
      }
    }
    for (SliceAxis s : sliced) {
      int ax = s.axis();
      long step = s.step();
      long count = s.count();
      long first = s.start();
      if (step < 0) {
        // Reverse the gradient so that it lists the picked elements in ascending order.
        g = sliceAxis(b, g, ax, -1, NEG_INF, -1);
        first = s.start() + (count - 1) * step;
        step = -step;
      }
      g = spread(c, g, ax, count, step);
      long span = (count - 1) * step + 1;
      g = padAxis(b, g, ax, first, shape[ax] - first - span);
    }
    c.setGrad(0, g);
  }

  /**
   * Places the {@code n} entries of {@code g} along {@code axis} {@code step} apart with zeros in
   * between: the result has {@code (n - 1) * step + 1} entries there. Done by appending a new axis
   * of size 1, padding it to {@code step} and merging it into {@code axis}.
   */
  private static Value spread(VjpContext c, Value g, int axis, long n, long step) {
    if (step == 1) {
      return g;
    }
    GraphBuilder b = c.b();
    Value u = b.unsqueeze(g, axis + 1);
    u = padAxis(b, u, axis + 1, 0, step - 1);
    Value m;
    if (g.shape().isStatic()) {
      long[] merged = g.shape().toArray();
      merged[axis] = n * step;
      m = reshapeStatic(b, u, merged);
    } else {
      Value merged = b.op("Concat").in(dimsOf(b, g, 0, axis), b.ints(n * step), dimsOf(b, g, axis + 1, g.rank())).attr("axis", 0L).out();
      m = b.op("Reshape").in(u, merged).attr("allowzero", 1L).out();
    }
    return sliceAxis(b, m, axis, 0, (n - 1) * step + 1, 1);
  }

  private static void gather(VjpContext c) {
    GraphBuilder b = c.b();
    Value x = c.input(0);
    Value idx = c.input(1);
    Value g = c.gradOutput(0);
    if (!x.shape().hasRank() || !idx.shape().hasRank()) {
      throw c.fail("needs the ranks of " + x + " and " + idx);
    }
    int r = x.rank();
    int ax = (int) normAxis(c, c.node().attrInt("axis", 0), r);
    Value axisSize = dimsOf(b, x, ax, ax + 1);
    Value flatIdx = normalizedIndices(b, idx, axisSize, new long[] {-1, 1});
    // g is x[:ax] ++ idx.shape ++ x[ax+1:]; make the index dims one dim of size K
    if (idx.rank() != 1) {
      Value shape;
      if (x.shape().isStatic()) {
        long[] s = x.shape().toArray();
        s[ax] = -1;
        shape = b.ints(s);
      } else {
        shape = b.op("Concat").in(dimsOf(b, x, 0, ax), b.ints(-1), dimsOf(b, x, ax + 1, r)).attr("axis", 0L).out();
      }
      g = b.reshape(g, shape);
    }
    // ScatterND adds rows into the leading axis, so bring the gathered axis to the front.
    long[] perm = new long[r];
    perm[0] = ax;
    for (int i = 0, k = 1; i < r; i++) {
      if (i != ax) {
        perm[k++] = i;
      }
    }
    Value zShape;
    if (x.shape().isStatic()) {
      long[] s = x.shape().toArray();
      long[] ps = new long[r];
      for (int i = 0; i < r; i++) {
        ps[i] = s[(int) perm[i]];
      }
      zShape = b.ints(ps);
    } else {
      zShape = b.op("Concat").in(axisSize, dimsOf(b, x, 0, ax), dimsOf(b, x, ax + 1, r)).attr("axis", 0L).out();
    }
    Value z = b.op("ConstantOfShape").in(zShape).attr("value", Tensor.filled(x.dtype(), new long[] {1}, 0)).out();
    Value upd = ax == 0 ? g : b.transpose(g, perm);
    Value acc = b.op("ScatterND").in(z, flatIdx, upd).attr("reduction", "add").out();
    if (ax != 0) {
      long[] inv = new long[r];
      for (int i = 0; i < r; i++) {
        inv[(int) perm[i]] = i;
      }
      acc = b.transpose(acc, inv);
    }
    c.setGrad(0, acc);
  }

  /**
   * TopK's values output gathers k entries of x along the axis at the indices output, so its
   * gradient scatters g back there (the indices output is integer and carries none). Ties pick one
   * element, as the forward does.
   */
  private static void topK(VjpContext c) {
    GraphBuilder b = c.b();
    Value x = c.input(0);
    Value g = c.gradOutput(0);
    if (g == null) {
      return;
    }
    if (!x.shape().hasRank()) {
      throw c.fail("needs the rank of " + x);
    }
    long ax = normAxis(c, c.node().attrInt("axis", -1), x.rank());
    Value acc = b.op("ScatterElements").in(zeros(b, x), c.output(1), g).attr("axis", ax).attr("reduction", "add").out();
    c.setGrad(0, acc);
  }

  private static void gatherElements(VjpContext c) {
    GraphBuilder b = c.b();
    Value x = c.input(0);
    Value idx = c.input(1);
    if (!x.shape().hasRank()) {
      throw c.fail("needs the rank of " + x);
    }
    long ax = normAxis(c, c.node().attrInt("axis", 0), x.rank());
    Value axisSize = dimsOf(b, x, (int) ax, (int) ax + 1);
    Value norm = normalizedIndices(b, idx, axisSize, null);
    Value acc = b.op("ScatterElements").in(zeros(b, x), norm, c.gradOutput(0)).attr("axis", ax).attr("reduction", "add").out();
    c.setGrad(0, acc);
  }

  /**
   * Indices as INT64 with negative entries made non-negative ({@code i + size}), optionally reshaped.
   * Constant indices are normalised here; others get Less/Add/Where nodes.
   */
  private static Value normalizedIndices(GraphBuilder b, Value idx, Value axisSize, long[] reshape) {
    Tensor ct = b.constantValue(idx);
    Tensor sizeT = b.constantValue(axisSize);
    if (ct != null && sizeT != null) {
      long size = sizeT.toLongs()[0];
      long[] v = ct.toLongs();
      for (int i = 0; i < v.length; i++) {
        v[i] = v[i] < 0 ? v[i] + size : v[i];
      }
      long[] shape = ct.shape();
      if (reshape != null) {
        shape = new long[] {v.length, 1};
      }
      return b.constant(Tensor.ofLongs(shape, v));
    }
    Value i64 = idx.dtype() == DType.INT64 ? idx : b.cast(idx, DType.INT64);
    Value neg = b.op("Less").in(i64, b.scalar(0, DType.INT64)).out();
    Value n = b.op("Where").in(neg, b.add(i64, axisSize), i64).out();
    return reshape == null ? n : b.reshape(n, reshape);
  }

  private static void tile(VjpContext c) {
    GraphBuilder b = c.b();
    Value x = c.input(0);
    if (!x.shape().hasRank()) {
      throw c.fail("needs the rank of " + x);
    }
    long[] reps = c.requireConstantInput(1, "repeats").toLongs();
    int r = x.rank();
    if (reps.length != r) {
      throw c.fail("repeats " + Arrays.toString(reps) + " must have one entry per axis of " + x);
    }
    // Output index along axis i is k * d_i + j (k < r_i, j < d_i): view as [r0, d0, r1, d1, ...] and
    // sum over the repeat axes.
    Value shape;
    if (x.shape().isStatic()) {
      long[] s = x.shape().toArray();
      long[] t = new long[2 * r];
      for (int i = 0; i < r; i++) {
        t[2 * i] = reps[i];
        t[2 * i + 1] = s[i];
      }
      shape = b.ints(t);
    } else {
      Value[] parts = new Value[2 * r];
      for (int i = 0; i < r; i++) {
        parts[2 * i] = b.ints(reps[i]);
        parts[2 * i + 1] = dimsOf(b, x, i, i + 1);
      }
      shape = b.op("Concat").in(parts).attr("axis", 0L).out();
    }
    Value v = b.op("Reshape").in(c.gradOutput(0), shape).attr("allowzero", 1L).out();
    long[] axes = new long[r];
    for (int i = 0; i < r; i++) {
      axes[i] = 2L * i;
    }
    c.setGrad(0, b.reduceSum(v, false, axes));
  }

  private static void pad(VjpContext c) {
    GraphBuilder b = c.b();
    Value x = c.input(0);
    if (!x.shape().hasRank()) {
      throw c.fail("needs the rank of " + x);
    }
    int r = x.rank();
    String mode = c.node().attrString("mode", "constant");
    long[] pads = c.requireConstantInput(1, "pads").toLongs();
    long[] axes = c.input(3) != null ? c.requireConstantInput(3, "axes").toLongs() : null;
    long[][] ba = ShapeInference.padsPerAxis(c.node(), r, pads, axes);
    long[] before = ba[0];
    long[] after = ba[1];
    Value g = c.gradOutput(0);
    switch (mode) {
      case "constant" -> padConstant(c, g, before, after);
      case "reflect", "edge" -> {
        for (int a = 0; a < r; a++) {
          if (before[a] < 0 || after[a] < 0) {
            throw c.fail("negative pads " + Arrays.toString(pads) + " (cropping) are only supported in mode 'constant', not '" + mode + "'");
          }
        }
        for (int a = 0; a < r; a++) {
          if (before[a] == 0 && after[a] == 0) {
            continue;
          }
          Dim dd = x.shape().dim(a);
          if (!dd.isStatic()) {
            throw c.fail("mode '" + mode + "' needs the static size of padded axis " + a + " of " + x);
          }
          g = mode.equals("reflect") ? unreflect(c, g, a, dd.size(), before[a], after[a]) : unedge(c, g, a, dd.size(), before[a], after[a]);
        }
        c.setGrad(0, g);
      }
      default -> throw c.fail("mode '" + mode + "' is not supported; supported modes: constant, reflect, edge");
    }
  }

  /** Constant-mode Pad: slice the padding off, zero-pad where the forward cropped (negative pads). */
  private static void padConstant(VjpContext c, Value g, long[] before, long[] after) {
    GraphBuilder b = c.b();
    int r = before.length;
    List<long[]> sl = new ArrayList<>();
    boolean crop = false;
    for (int a = 0; a < r; a++) {
      if (before[a] > 0 || after[a] > 0) {
        sl.add(new long[] {a, Math.max(before[a], 0), after[a] > 0 ? -after[a] : POS_INF});
      }
      crop |= before[a] < 0 || after[a] < 0;
    }
    Value inner = g;
    if (!sl.isEmpty()) {
      long[] st = new long[sl.size()];
      long[] en = new long[sl.size()];
      long[] ax = new long[sl.size()];
      for (int i = 0; i < sl.size(); i++) {
        ax[i] = sl.get(i)[0];
        st[i] = sl.get(i)[1];
        en[i] = sl.get(i)[2];
      }
      inner = b.op("Slice").in(g, b.ints(st), b.ints(en), b.ints(ax)).out();
    }
    if (c.needsGrad(2)) {
      // Every padded output element is the constant: its gradient is the sum of g outside the copy.
      Value cv = c.input(2);
      Value outside = b.sub(b.reduceSum(g, false), b.reduceSum(inner, false));
      c.setGrad(2, reshapeLike(b, outside, cv));
    }
    Value gx = inner;
    if (crop) {
      long[] p = new long[2 * r];
      for (int a = 0; a < r; a++) {
        p[a] = Math.max(-before[a], 0);
        p[a + r] = Math.max(-after[a], 0);
      }
      gx = b.op("Pad").in(inner, b.ints(p)).out();
    }
    c.setGrad(0, gx);
  }

  /**
   * Reflect-mode Pad along one axis of size {@code d}: output {@code j < pb} copies {@code x[pb - j]}
   * and output {@code pb + d + k} copies {@code x[d - 2 - k]}. The gradient is the middle part plus the
   * reversed borders added back at those positions.
   */
  private static Value unreflect(VjpContext c, Value g, int ax, long d, long pb, long pe) {
    if (pb > d - 1 || pe > d - 1) {
      throw c.fail("reflect pads (" + pb + ", " + pe + ") on axis " + ax + " must be at most size - 1 = " + (d - 1));
    }
    GraphBuilder b = c.b();
    Value mid = sliceAxis(b, g, ax, pb, pb + d, 1);
    if (pb > 0) {
      // g[pb-1], ..., g[0] belong to x[1], ..., x[pb]
      Value front = sliceAxis(b, g, ax, pb - 1, NEG_INF, -1);
      mid = b.add(mid, padAxis(b, front, ax, 1, d - 1 - pb));
    }
    if (pe > 0) {
      // g[pb+d+pe-1], ..., g[pb+d] belong to x[d-1-pe], ..., x[d-2]
      Value back = sliceAxis(b, g, ax, pb + d + pe - 1, pb + d - 1, -1);
      mid = b.add(mid, padAxis(b, back, ax, d - 1 - pe, 1));
    }
    return mid;
  }

  /** Edge-mode Pad along one axis: the borders all copy the first and the last element. */
  private static Value unedge(VjpContext c, Value g, int ax, long d, long pb, long pe) {
    GraphBuilder b = c.b();
    Value mid = sliceAxis(b, g, ax, pb, pb + d, 1);
    if (pb > 0) {
      Value front = b.reduceSum(sliceAxis(b, g, ax, 0, pb, 1), true, ax);
      mid = b.add(mid, padAxis(b, front, ax, 0, d - 1));
    }
    if (pe > 0) {
      Value back = b.reduceSum(sliceAxis(b, g, ax, pb + d, POS_INF, 1), true, ax);
      mid = b.add(mid, padAxis(b, back, ax, d - 1, 0));
    }
    return mid;
  }

  // ---------------------------------------------------------------- helpers

  private static long normAxis(VjpContext c, long axis, int rank) {
    long a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= rank) {
      throw c.fail("axis " + axis + " is out of range for rank " + rank);
    }
    return a;
  }

  /** {@code g} reshaped to {@code like}'s shape (constant when static, else its runtime shape). */
  static Value reshapeLike(GraphBuilder b, Value g, Value like) {
    if (like.shape().isStatic()) {
      return reshapeStatic(b, g, like.shape().toArray());
    }
    return b.reshape(g, b.shapeOf(like));
  }

  /** Reshape to a static shape; {@code allowzero} keeps zero-sized dims literal. */
  private static Value reshapeStatic(GraphBuilder b, Value g, long[] shape) {
    if (g.shape().isStatic() && Arrays.equals(g.shape().toArray(), shape)) {
      return g;
    }
    return b.op("Reshape").in(g, b.ints(shape)).attr("allowzero", 1L).out();
  }

  /** Zeros of {@code like}'s type and shape (constant shape when static). */
  private static Value zeros(GraphBuilder b, Value like) {
    if (!like.shape().isStatic()) {
      return b.zerosLike(like);
    }
    return b.op("ConstantOfShape").in(b.ints(like.shape().toArray())).attr("value", Tensor.filled(like.dtype(), new long[] {1}, 0)).out();
  }

  /** Dims {@code [from, to)} of {@code v} as a 1-D INT64 value (constant where static). */
  private static Value dimsOf(GraphBuilder b, Value v, int from, int to) {
    boolean stat = true;
    long[] s = new long[to - from];
    for (int i = from; i < to; i++) {
      Dim d = v.shape().dim(i);
      stat &= d.isStatic();
      s[i - from] = d.isStatic() ? d.size() : -1;
    }
    if (stat) {
      return b.ints(s);
    }
    return b.op("Slice").in(b.shapeOf(v), b.ints(from), b.ints(to)).out();
  }

  /** One-axis Slice with constant parameters. */
  private static Value sliceAxis(GraphBuilder b, Value v, int axis, long start, long end, long step) {
    return b.op("Slice").in(v, b.ints(start), b.ints(end), b.ints(axis), b.ints(step)).out();
  }

  /** Constant-mode zero padding of one axis; returns {@code v} when both amounts are 0. */
  private static Value padAxis(GraphBuilder b, Value v, int axis, long before, long after) {
    if (before == 0 && after == 0) {
      return v;
    }
    int r = v.rank();
    long[] p = new long[2 * r];
    p[axis] = before;
    p[axis + r] = after;
    return b.op("Pad").in(v, b.ints(p)).out();
  }
}
