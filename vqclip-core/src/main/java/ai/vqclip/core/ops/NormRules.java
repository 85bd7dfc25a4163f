package ai.vqclip.core.ops;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.autodiff.VjpContext;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.ShapeInference;
import ai.vqclip.core.graph.Value;

/**
 * Op family (see {@link OpTable}) of Softmax, LogSoftmax, LayerNormalization,
 * InstanceNormalization, BatchNormalization (inference form) and LpNormalization.
 *
 * <p>Softmax and LogSoftmax follow opset-13 semantics (one {@code axis}, default -1), the only
 * ones vqclip graphs can have since their opset is at least 13. The normalizations share one
 * backward formula: with {@code xhat = (x - mean) * invStd} over a set of axes and {@code d =
 * dL/dxhat}, {@code dL/dx = invStd * (d - mean(d) - xhat * mean(d * xhat))}.
 */
final class NormRules {
  private NormRules() {}

  static void define(OpTable t) {
    t.op("Softmax").shape(ShapeInference::same).grad(NormRules::softmax);
    t.op("LogSoftmax").shape(ShapeInference::same).grad(NormRules::logSoftmax);
    t.op("LayerNormalization").since(17).shape(ShapeInference::layerNormalization).grad(NormRules::layerNorm);
    t.op("InstanceNormalization").shape(ShapeInference::same).grad(NormRules::instanceNorm);
    t.op("BatchNormalization").shape(ShapeInference::same).grad(NormRules::batchNorm);
    t.op("LpNormalization").shape(ShapeInference::same).grad(NormRules::lpNorm);
  }

  private static long softmaxAxis(VjpContext c) {
    Value x = c.input(0);
    if (!x.shape().hasRank()) {
      throw c.fail("needs the rank of input " + x);
    }
    long axis = c.node().attrInt("axis", -1);
    int r = x.rank();
    if (axis < -r || axis >= r) {
      throw c.fail("axis " + axis + " is out of range for input " + x + " of rank " + r);
    }
    return axis < 0 ? axis + r : axis;
  }

  /** y = softmax(x): dx = y * (g - sum(g * y, axis)). */
  private static void softmax(VjpContext c) {
    GraphBuilder b = c.b();
    long axis = softmaxAxis(c);
    Value y = c.output(0);
    Value g = c.gradOutput(0);
    Value s = b.reduceSum(b.mul(g, y), true, axis);
    c.setGrad(0, b.mul(y, b.sub(g, s)));
  }

  /** y = x - logsumexp(x): dx = g - exp(y) * sum(g, axis). */
  private static void logSoftmax(VjpContext c) {
    GraphBuilder b = c.b();
    long axis = softmaxAxis(c);
    Value y = c.output(0);
    Value g = c.gradOutput(0);
    Value s = b.reduceSum(g, true, axis);
    c.setGrad(0, b.sub(g, b.mul(b.op("Exp").in(y).out(), s)));
  }

  /** Normalization statistics of x over some axes, all in x's element type and with kept dims. */
  private record Stats(Value xhat, Value invStd) {}

  /**
   * Recomputes mean and inverse standard deviation of {@code x} over {@code axes}. This is a small
   * recomputation of forward statistics (two reductions over x), accepted because the forward node
   * does not always keep them: InstanceNormalization has no statistics outputs, and
   * LayerNormalization's Mean/InvStdDev outputs are optional and may be in another type (stash_type).
   * A known {@code xhat} (the forward output of a normalization without affine) is reused as is.
   */
  private static Stats stats(GraphBuilder b, Value x, long[] axes, long count, double eps, Value xhat) {
    Value inv = b.scalarLike(1.0 / count, x);
    Value mean = b.mul(b.reduceSum(x, true, axes), inv);
    Value centered = b.sub(x, mean);
    // ReduceSumSquare: one read of the centered values instead of a Mul pass and a ReduceSum.
    Value var = b.mul(b.op("ReduceSumSquare").in(centered, b.ints(axes)).attr("keepdims", 1L).out(), inv);
    Value invStd = b.op("Reciprocal").in(b.op("Sqrt").in(b.add(var, b.scalarLike(eps, x))).out()).out();
    return new Stats(xhat == null ? b.mul(centered, invStd) : xhat, invStd);
  }

  private static Stats stats(GraphBuilder b, Value x, long[] axes, long count, double eps) {
    return stats(b, x, axes, count, eps, null);
  }

  /** Whether {@code t} is a constant whose every element equals {@code v}. */
  private static boolean allEqual(Tensor t, double v) {
    if (t == null) {
      return false;
    }
    for (double e : t.toDoubles()) {
      if (e != v) {
        return false;
      }
    }
    return true;
  }

  /** dL/dx from d = dL/dxhat: invStd * (d - mean(d) - xhat * mean(d * xhat)), means over {@code axes}. */
  private static Value normBackward(GraphBuilder b, Value d, Stats st, long[] axes, long count) {
    Value inv = b.scalarLike(1.0 / count, d);
    Value meanD = b.mul(b.reduceSum(d, true, axes), inv);
    Value meanDx = b.mul(b.reduceSum(b.mul(d, st.xhat()), true, axes), inv);
    return b.mul(st.invStd(), b.sub(b.sub(d, meanD), b.mul(st.xhat(), meanDx)));
  }

  private static long[] range(int from, int to) {
    long[] a = new long[to - from];
    for (int i = from; i < to; i++) {
      a[i - from] = i;
    }
    return a;
  }

  /** Elements per normalized group: the product of {@code axes}' sizes, which must be static. */
  private static long count(VjpContext c, Value x, long[] axes) {
    long n = 1;
    for (long a : axes) {
      if (!x.shape().dim((int) a).isStatic()) {
        throw c.fail("normalized axis " + a + " of " + x + " must have a static size to differentiate");
      }
      n *= x.shape().size((int) a);
    }
    return n;
  }

  /**
   * LayerNormalization (opset 17): normalizes over axes {@code [axis, rank)} and applies Scale and
   * the optional B. Gradients flow to X, Scale and B, and also from the optional Mean and InvStdDev
   * outputs when something downstream uses them.
   */
  private static void layerNorm(VjpContext c) {
    GraphBuilder b = c.b();
    Value x = c.input(0);
    Value scale = c.input(1);
    Value bias = c.input(2);
    if (!x.shape().hasRank()) {
      throw c.fail("needs the rank of input " + x);
    }
    int r = x.rank();
    long axis = c.node().attrInt("axis", -1);
    if (axis < -r || axis >= r) {
      throw c.fail("axis " + axis + " is out of range for input " + x + " of rank " + r);
    }
    int ax = (int) (axis < 0 ? axis + r : axis);
    double eps = c.node().attrFloat("epsilon", 1e-5f);
    long[] axes = range(ax, r);
    long count = count(c, x, axes);
    Stats st = layerNormStats(c, b, x, axes, count, eps);
    Value g = c.gradOutput(0);
    if (g != null && c.needsGrad(1)) {
      c.setGrad(1, c.unbroadcast(b.mul(g, st.xhat()), scale));
    }
    if (g != null && bias != null && c.needsGrad(2)) {
      c.setGrad(2, c.unbroadcast(g, bias));
    }
    if (!c.needsGrad(0)) {
      return;
    }
    Value dx = g == null ? null : normBackward(b, b.mul(g, scale), st, axes, count);
    // Optional statistics outputs: d mean/dx_i = 1/M and d invStd/dx_i = -invStd^2 * xhat_i / M.
    Value gMean = c.node().outputs().size() > 1 ? c.gradOutput(1) : null;
    Value gInv = c.node().outputs().size() > 2 ? c.gradOutput(2) : null;
    Value invM = b.scalarLike(1.0 / count, x);
    if (gMean != null) {
      Value t = b.mul(castTo(b, gMean, x.dtype()), invM);
      dx = dx == null ? b.expand(t, b.shapeOf(x)) : b.add(dx, t);
    }
    if (gInv != null) {
      Value s2 = b.mul(st.invStd(), st.invStd());
      Value t = b.neg(b.mul(b.mul(castTo(b, gInv, x.dtype()), b.mul(s2, invM)), st.xhat()));
      dx = dx == null ? t : b.add(dx, t);
    }
    c.setGrad(0, dx);
  }

  /** Uses the node's Mean/InvStdDev outputs when present and in x's type, else recomputes them. */
  private static Stats layerNormStats(VjpContext c, GraphBuilder b, Value x, long[] axes, long count, double eps) {
    Value mean = c.node().outputs().size() > 1 ? c.output(1) : null;
    Value invStd = c.node().outputs().size() > 2 ? c.output(2) : null;
    if (mean != null && invStd != null && mean.dtype() == x.dtype() && invStd.dtype() == x.dtype()) {
      return new Stats(b.mul(b.sub(x, mean), invStd), invStd);
    }
    return stats(b, x, axes, count, eps);
  }

  private static Value castTo(GraphBuilder b, Value v, DType t) {
    return v.dtype() == t ? v : b.cast(v, t);
  }

  /**
   * InstanceNormalization: X [N,C,D1,...], scale [C], B [C]; each (n, c) slice is normalized over
   * the spatial axes.
   */
  private static void instanceNorm(VjpContext c) {
    GraphBuilder b = c.b();
    Value x = c.input(0);
    if (!x.shape().hasRank() || x.rank() < 3) {
      throw c.fail("input " + x + " must have known rank >= 3 [N,C,D1,...]");
    }
    int r = x.rank();
    double eps = c.node().attrFloat("epsilon", 1e-5f);
    long[] spatial = range(2, r);
    long count = count(c, x, spatial);
    Value g = c.gradOutput(0);
    // Without affine (scale all ones, B all zeros: how GroupNorm is written, its affine per channel
    // after a Reshape) the forward output is xhat itself: no recomputation of xhat, no multiply by scale.
    boolean plain = allEqual(c.constantInput(1), 1) && allEqual(c.constantInput(2), 0);
    Stats st = stats(b, x, spatial, count, eps, plain ? c.output(0) : null);
    // scale and B are [C]; axes of x other than C are summed out for their gradients
    long[] perChannel = new long[r - 1];
    perChannel[0] = 0;
    System.arraycopy(spatial, 0, perChannel, 1, spatial.length);
    long[] channelShape = new long[r];
    java.util.Arrays.fill(channelShape, 1);
    channelShape[1] = -1;
    // summing every axis but C with keepdims=0 leaves [C], the shape of scale and B
    if (c.needsGrad(1)) {
      c.setGrad(1, b.reduceSum(b.mul(g, st.xhat()), false, perChannel));
    }
    if (c.needsGrad(2)) {
      c.setGrad(2, b.reduceSum(g, false, perChannel));
    }
    if (c.needsGrad(0)) {
      Value d = plain ? g : b.mul(g, b.reshape(c.input(1), channelShape));
      c.setGrad(0, normBackward(b, d, st, spatial, count));
    }
  }

  /**
   * BatchNormalization in inference form: {@code y = scale (x - mean) / sqrt(var + eps) + B} with
   * [C] statistics on axis 1. Gradients go to X, scale, B and also to the mean and var inputs.
   * training_mode=1 (which updates running statistics from the batch) is refused.
   */
  private static void batchNorm(VjpContext c) {
    GraphBuilder b = c.b();
    if (c.node().attrInt("training_mode", 0) != 0 || c.node().outputs().size() > 1) {
      throw c.fail("only the inference form (training_mode=0, one output) is differentiated; export the model in eval mode");
    }
    Value x = c.input(0);
    if (!x.shape().hasRank() || x.rank() < 2) {
      throw c.fail("input " + x + " must have known rank >= 2 [N,C,...]");
    }
    int r = x.rank();
    double eps = c.node().attrFloat("epsilon", 1e-5f);
    Value scale = c.input(1);
    Value mean = c.input(3);
    Value var = c.input(4);
    long[] channelShape = new long[r];
    java.util.Arrays.fill(channelShape, 1);
    channelShape[1] = -1;
    long[] notChannel = new long[r - 1];
    notChannel[0] = 0;
    for (int i = 2; i < r; i++) {
      notChannel[i - 1] = i;
    }
    Value g = c.gradOutput(0);
    Value invStd = b.op("Reciprocal").in(b.op("Sqrt").in(b.add(var, b.scalarLike(eps, var))).out()).out(); // [C]
    Value invStdR = b.reshape(invStd, channelShape);
    Value centered = b.sub(x, b.reshape(mean, channelShape));
    if (c.needsGrad(0)) {
      c.setGrad(0, b.mul(g, b.reshape(b.mul(scale, invStd), channelShape)));
    }
    Value sumG = c.needsGrad(2) || c.needsGrad(3) ? b.reduceSum(g, false, notChannel) : null; // [C]
    Value sumGc = c.needsGrad(1) || c.needsGrad(4) ? b.reduceSum(b.mul(g, centered), false, notChannel) : null; // [C]
    if (c.needsGrad(1)) {
      c.setGrad(1, b.mul(sumGc, invStd));
    }
    if (c.needsGrad(2)) {
      c.setGrad(2, sumG);
    }
    if (c.needsGrad(3)) {
      c.setGrad(3, b.neg(b.mul(sumG, b.mul(scale, invStd))));
    }
    if (c.needsGrad(4)) {
      // d invStd / d var = -invStd^3 / 2
      Value inv3 = b.mul(invStd, b.mul(invStd, invStd));
      c.setGrad(4, b.mul(b.mul(sumGc, scale), b.mul(inv3, b.scalarLike(-0.5, var))));
    }
  }

  /**
   * LpNormalization: {@code y = x / |x|_p} along {@code axis}. p=2: {@code dx = (g - y sum(g y)) / n};
   * p=1: {@code dx = (g - sign(x) sum(g y)) / n}, n the norm (ONNX defines no epsilon: a zero norm
   * gives NaN forward and backward alike).
   */
  private static void lpNorm(VjpContext c) {
    GraphBuilder b = c.b();
    Value x = c.input(0);
    if (!x.shape().hasRank()) {
      throw c.fail("needs the rank of input " + x);
    }
    int r = x.rank();
    long axis = c.node().attrInt("axis", -1);
    if (axis < -r || axis >= r) {
      throw c.fail("axis " + axis + " is out of range for input " + x + " of rank " + r);
    }
    long ax = axis < 0 ? axis + r : axis;
    long p = c.node().attrInt("p", 2);
    Value y = c.output(0);
    Value g = c.gradOutput(0);
    Value n;
    Value dir;
    if (p == 2) {
      n = b.op("Sqrt").in(b.reduceSum(b.mul(x, x), true, ax)).out();
      dir = y;
    } else if (p == 1) {
      n = b.reduceSum(b.op("Abs").in(x).out(), true, ax);
      dir = b.op("Sign").in(x).out();
    } else {
      throw c.fail("p must be 1 or 2, got " + p);
    }
    Value s = b.reduceSum(b.mul(g, y), true, ax);
    c.setGrad(0, b.div(b.sub(g, b.mul(dir, s)), n));
  }
}
