package ai.vqclip.core.ops;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.autodiff.VjpContext;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.ShapeInference;
import ai.vqclip.core.graph.Value;

/**
 * Op family (see {@link OpTable}) of the Reduce* ops: ReduceSum, ReduceMean, ReduceSumSquare,
 * ReduceMax, ReduceMin, ReduceL2, ReduceL1 and ReduceLogSumExp.
 *
 * <p>Every rule first brings the output gradient back to the input's rank (re-inserting reduced
 * axes when {@code keepdims=0}), then lets elementwise broadcasting spread it over the reduced
 * axes. The axes come from the {@code axes} input (opset 18; it must be a constant) or from the
 * {@code axes} attribute of older opsets, both resolved by {@link ShapeInference#reduceAxes}.
 * Backward nodes use only ReduceSum with an axes input, which is valid from opset 13 on, so the
 * rules also work for graphs imported at opsets 13 to 17.
 */
final class ReduceRules {
  private ReduceRules() {}

  static void define(OpTable t) {
    t.op("ReduceSum").shape(ShapeInference::reduce).grad(c -> {
      Reduction red = Reduction.of(c);
      c.setGrad(0, red.spread(red.keepDims(c.gradOutput(0))));
    });
    t.op("ReduceMean").shape(ShapeInference::reduce).grad(c -> {
      Reduction red = Reduction.of(c);
      GraphBuilder b = c.b();
      Value g = red.keepDims(c.gradOutput(0));
      Value scaled = red.noop() ? g : b.div(g, red.count(c.output(0)));
      c.setGrad(0, red.spread(scaled));
    });
    t.op("ReduceSumSquare").shape(ShapeInference::reduce).grad(c -> {
      Reduction red = Reduction.of(c);
      GraphBuilder b = c.b();
      Value x = c.input(0);
      // d(sum x^2)/dx = 2x; ORT also squares the input when the reduction is a no-op
      // (noop_with_empty_axes), so the same expression holds there.
      c.setGrad(0, b.mul(red.keepDims(c.gradOutput(0)), b.mul(x, b.scalarLike(2, x))));
    });
    // shape rule only: no gradient rule yet
    t.op("ReduceProd").shape(ShapeInference::reduce);
    t.op("ReduceMax").shape(ShapeInference::reduce).grad(ReduceRules::selectGrad);
    t.op("ReduceMin").shape(ShapeInference::reduce).grad(ReduceRules::selectGrad);
    t.op("ReduceL2").shape(ShapeInference::reduce).grad(c -> {
      Reduction red = Reduction.of(c);
      GraphBuilder b = c.b();
      Value x = c.input(0);
      Value y = red.keepDims(c.output(0));
      Value g = red.keepDims(c.gradOutput(0));
      // d|x|_2/dx = x / |x|_2; at |x|_2 = 0 the norm has no derivative and the gradient is taken
      // as 0 (the subgradient of least norm) instead of the NaN that 0/0 would give.
      Value zero = b.scalarLike(0, y);
      Value isZero = b.op("Equal").in(y, zero).out();
      Value safeY = b.op("Where").in(isZero, b.scalarLike(1, y), y).out();
      Value ratio = b.op("Where").in(isZero, zero, b.div(g, safeY)).out();
      c.setGrad(0, b.mul(x, ratio));
    });
    t.op("ReduceL1").shape(ShapeInference::reduce).grad(c -> {
      Reduction red = Reduction.of(c);
      GraphBuilder b = c.b();
      Value x = c.input(0);
      c.setGrad(0, b.mul(red.keepDims(c.gradOutput(0)), b.op("Sign").in(x).out()));
    });
    t.op("ReduceLogSumExp").shape(ShapeInference::reduce).grad(c -> {
      Reduction red = Reduction.of(c);
      GraphBuilder b = c.b();
      Value x = c.input(0);
      // d logsumexp(x)/dx = softmax(x) = exp(x - y), with y the forward output.
      Value p = b.op("Exp").in(b.sub(x, red.keepDims(c.output(0)))).out();
      c.setGrad(0, b.mul(red.keepDims(c.gradOutput(0)), p));
    });
  }

  /**
   * ReduceMax/ReduceMin: the gradient goes to the input elements equal to the result, split evenly
   * among ties (so it sums to the output gradient, as the subgradient of a max should).
   */
  private static void selectGrad(VjpContext c) {
    Reduction red = Reduction.of(c);
    GraphBuilder b = c.b();
    Value x = c.input(0);
    Value y = red.keepDims(c.output(0));
    Value mask = b.cast(b.op("Equal").in(x, y).out(), x.dtype());
    Value count = red.sumKeep(mask);
    c.setGrad(0, b.mul(mask, b.div(red.keepDims(c.gradOutput(0)), count)));
  }

  /** The resolved axes of one Reduce* node and helpers to undo the reduction's shape change. */
  private static final class Reduction {
    private final VjpContext c;
    private final Value x;
    private final int rank;
    /** Sorted non-negative axes; null means all axes; empty means no reduction (noop_with_empty_axes). */
    private final long[] axes;
    private final boolean keep;

    private Reduction(VjpContext c, Value x, long[] axes, boolean keep) {
      this.c = c;
      this.x = x;
      this.rank = x.rank();
      this.axes = axes;
      this.keep = keep;
    }

    static Reduction of(VjpContext c) {
      Value x = c.input(0);
      if (!x.shape().hasRank()) {
        throw c.fail("needs the rank of input " + x);
      }
      Tensor axesT = null;
      if (c.input(1) != null) {
        axesT = c.requireConstantInput(1, "axes");
      }
      long[] axes = ShapeInference.reduceAxes(c.node(), x.rank(), axesT);
      boolean keep = c.node().attrInt("keepdims", 1) != 0;
      return new Reduction(c, x, axes, keep);
    }

    /** Whether the node reduces nothing (empty axes with noop_with_empty_axes=1). */
    boolean noop() {
      return axes != null && axes.length == 0;
    }

    private long[] allAxes() {
      if (axes != null) {
        return axes;
      }
      long[] a = new long[rank];
      for (int i = 0; i < rank; i++) {
        a[i] = i;
      }
      return a;
    }

    /** A reduced value (shaped like the output) reshaped to the input's rank, with size-1 reduced axes. */
    Value keepDims(Value v) {
      if (keep || noop()) {
        return v;
      }
      GraphBuilder b = c.b();
      if (axes == null) {
        long[] ones = new long[rank];
        java.util.Arrays.fill(ones, 1);
        return b.reshape(v, ones);
      }
      // axes are sorted ascending, so Unsqueeze puts each back where it was
      return b.unsqueeze(v, axes);
    }

    /** Broadcasts a value of the reduced shape with kept dims over the input's shape. */
    Value spread(Value k) {
      if (noop()) {
        return k;
      }
      GraphBuilder b = c.b();
      Value shape = x.shape().isStatic() ? b.ints(x.shape().toArray()) : b.shapeOf(x);
      return b.expand(k, shape);
    }

    /** ReduceSum of an input-shaped value over this node's axes, keeping dims. */
    Value sumKeep(Value v) {
      if (noop()) {
        return v;
      }
      return c.b().reduceSum(v, true, allAxes());
    }

    /** The number of input elements that went into each output element, in {@code like}'s type. */
    Value count(Value like) {
      GraphBuilder b = c.b();
      if (x.shape().isStatic()) {
        long n = 1;
        for (long a : allAxes()) {
          n *= x.shape().size((int) a);
        }
        return b.scalarLike(n, like);
      }
      Value nx = b.cast(b.op("Size").in(x).out(), like.dtype());
      Value ny = b.cast(b.op("Size").in(c.output(0)).out(), like.dtype());
      return b.div(nx, ny);
    }
  }
}
