package ai.vqclip.core.ops;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.autodiff.VjpContext;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Node;
import ai.vqclip.core.graph.ShapeInference;
import ai.vqclip.core.graph.Value;
import java.util.ArrayList;
import java.util.List;

/**
 * Op family (see {@link OpTable}) of the resampling ops Resize and GridSample.
 *
 * <p>Resize with static shapes and constant scales or sizes is linear in X and separable over
 * axes: on each of the last two axes it is a constant [out, in] interpolation matrix {@code A}, so
 * {@code Y = A_h X A_w^T} per (n, c) plane and {@code dX = A_h^T dY A_w}. The matrices are built
 * on the host exactly as ONNX Runtime's CPU kernel samples (same float arithmetic for the
 * coordinate transform, the same nearest rounding and the same edge clamping for linear mode), so
 * the gradient is that of the forward that actually runs.
 *
 * <p>GridSample (bilinear or nearest, padding zeros or border) is differentiated with respect to X
 * by scattering the output gradient with the bilinear weights (ScatterElements with reduction=add)
 * and with respect to the grid by gathering the four corner values and applying the derivative of
 * the bilinear weights.
 */
final class SamplingRules {
  private SamplingRules() {}

  static void define(OpTable t) {
    t.op("Resize").since(10).shape(ShapeInference::resize).grad(SamplingRules::resize);
    t.op("GridSample").since(16).shape(ShapeInference::gridSample).grad(SamplingRules::gridSample);
  }

  // ------------------------------------------------------------------ Resize

  private static void resize(VjpContext c) {
    Node n = c.node();
    GraphBuilder b = c.b();
    Value x = c.input(0);
    long[] xs = c.staticShape(x);
    long[] ys = c.staticShape(c.output(0));
    int r = xs.length;
    if (r < 2) {
      throw c.fail("input " + x + " must have rank >= 2");
    }
    String mode = n.attrString("mode", "nearest");
    if (!mode.equals("nearest") && !mode.equals("linear")) {
      throw c.fail("mode '" + mode + "' has no gradient rule; supported: nearest, linear");
    }
    if (n.attrInt("antialias", 0) != 0) {
      throw c.fail("antialias=1 is not supported; use antialias=0");
    }
    if (n.attributes().containsKey("axes")) {
      throw c.fail("the 'axes' attribute is not supported; give scales or sizes for every axis");
    }
    String ctm = n.attrString("coordinate_transformation_mode", "half_pixel");
    String nearestMode = n.attrString("nearest_mode", "round_prefer_floor");
    float[] scales = resizeScales(c, xs, ys);
    for (int i = 0; i < r - 2; i++) {
      if (xs[i] != ys[i] || scales[i] != 1f) {
        throw c.fail("only the last two axes may be resized, but axis " + i + " goes from " + xs[i] + " to " + ys[i]
            + " with scale " + scales[i]);
      }
    }
    Value g = c.gradOutput(0);
    // dX = A_h^T g A_w; an axis whose matrix is the identity is skipped.
    double[][] aw = resizeMatrix(c, mode, ctm, nearestMode, xs[r - 1], ys[r - 1], scales[r - 1]);
    if (aw != null) {
      g = b.matmul(g, b.constant(matrix(x.dtype(), aw, false)));
    }
    double[][] ah = resizeMatrix(c, mode, ctm, nearestMode, xs[r - 2], ys[r - 2], scales[r - 2]);
    if (ah != null) {
      g = b.matmul(b.constant(matrix(x.dtype(), ah, true)), g);
    }
    c.setGrad(0, g);
  }

  /** The scales ONNX Runtime uses: the scales input, or sizes/input as float when sizes are given. */
  private static float[] resizeScales(VjpContext c, long[] xs, long[] ys) {
    int r = xs.length;
    Tensor scalesT = c.input(2) == null ? null : c.requireConstantInput(2, "scales");
    Tensor sizesT = c.input(3) == null ? null : c.requireConstantInput(3, "sizes");
    float[] s = new float[r];
    if (scalesT != null && scalesT.elementCount() > 0) {
      double[] d = scalesT.toDoubles();
      if (d.length != r) {
        throw c.fail("scales has " + d.length + " entries for input rank " + r);
      }
      for (int i = 0; i < r; i++) {
        s[i] = (float) d[i];
      }
      return s;
    }
    if (sizesT == null || sizesT.elementCount() == 0) {
      throw c.fail("needs constant scales or sizes");
    }
    String policy = c.node().attrString("keep_aspect_ratio_policy", "stretch");
    if (!policy.equals("stretch")) {
      throw c.fail("keep_aspect_ratio_policy '" + policy + "' is not supported; use 'stretch'");
    }
    for (int i = 0; i < r; i++) {
      s[i] = xs[i] == 0 ? 1f : (float) ys[i] / (float) xs[i];
    }
    return s;
  }

  /**
   * The [out, in] matrix that Resize applies along one axis, or null when it is the identity. ONNX
   * Runtime leaves an axis with scale 1 untouched, so such an axis is the identity in every mode.
   */
  private static double[][] resizeMatrix(VjpContext c, String mode, String ctm, String nearestMode, long in, long out, float scale) {
    if (scale == 1f && in == out) {
      return null;
    }
    int li = Math.toIntExact(in);
    int lo = Math.toIntExact(out);
    double[][] a = new double[lo][li];
    for (int o = 0; o < lo; o++) {
      float orig = originalCoordinate(c, ctm, o, scale, lo, li);
      if (mode.equals("nearest")) {
        long k = nearestPixel(c, nearestMode, orig);
        k = Math.max(0, Math.min(k, li - 1));
        a[o][(int) k] = 1;
      } else {
        // ONNX Runtime clamps the source coordinate into [0, in-1], then interpolates between the
        // two neighbours; at the last pixel both neighbours coincide and get 0.5 each.
        float p = Math.max(0f, Math.min(orig, (float) (li - 1)));
        int i1 = Math.min((int) p, li - 1);
        int i2 = Math.min(i1 + 1, li - 1);
        float d1 = Math.abs(p - i1);
        float d2 = Math.abs(p - i2);
        if (i1 == i2) {
          d1 = 0.5f;
          d2 = 0.5f;
        }
        a[o][i1] += d2;
        a[o][i2] += d1;
      }
    }
    return a;
  }

  /** The source coordinate of output index {@code x}, in float arithmetic as ONNX Runtime computes it. */
  private static float originalCoordinate(VjpContext c, String ctm, int x, float scale, int lenOut, int lenIn) {
    float xf = x;
    switch (ctm) {
      case "half_pixel":
        return ((xf + 0.5f) / scale) - 0.5f;
      case "asymmetric":
        return xf / scale;
      case "pytorch_half_pixel":
        return lenOut > 1 ? (xf + 0.5f) / scale - 0.5f : 0f;
      case "tf_half_pixel_for_nn":
        return (xf + 0.5f) / scale;
      case "align_corners":
        return lenOut == 1 ? 0f : xf * (float) (lenIn - 1) / (float) (lenOut - 1);
      case "half_pixel_symmetric": {
        float outWidth = scale * (float) lenIn;
        float adjustment = (float) lenOut / outWidth;
        float center = (float) lenIn / 2;
        float offset = center * (1 - adjustment);
        return (float) (offset + (xf + 0.5) / scale - 0.5);
      }
      default:
        throw c.fail("coordinate_transformation_mode '" + ctm + "' is not supported; supported: half_pixel, "
            + "half_pixel_symmetric, pytorch_half_pixel, align_corners, asymmetric, tf_half_pixel_for_nn");
    }
  }

  private static long nearestPixel(VjpContext c, String nearestMode, float v) {
    switch (nearestMode) {
      case "round_prefer_floor":
        if (v == (float) (long) v + 0.5f) {
          return (long) Math.floor(v);
        }
        return roundHalfAway(v);
      case "round_prefer_ceil":
        return roundHalfAway(v);
      case "floor":
        return (long) Math.floor(v);
      case "ceil":
        return (long) Math.ceil(v);
      default:
        throw c.fail("nearest_mode '" + nearestMode + "' is not supported; supported: round_prefer_floor, "
            + "round_prefer_ceil, floor, ceil");
    }
  }

  /** C's round(): halves go away from zero (Java's Math.round goes toward +infinity). */
  private static long roundHalfAway(float v) {
    return v < 0 ? -Math.round(-(double) v) : Math.round((double) v);
  }

  /** A matrix constant, transposed when asked. */
  private static Tensor matrix(DType t, double[][] a, boolean transpose) {
    int rows = a.length;
    int cols = a[0].length;
    double[] d = new double[rows * cols];
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) {
        if (transpose) {
          d[j * rows + i] = a[i][j];
        } else {
          d[i * cols + j] = a[i][j];
        }
      }
    }
    return Tensor.fromDoubles(t, transpose ? new long[] {cols, rows} : new long[] {rows, cols}, d);
  }

  // ------------------------------------------------------------------ GridSample

  /** One sampled pixel: its flat index in the H*W plane, its weight, and the weight's derivatives. */
  private record Corner(Value index, Value weight, Value dWeightDx, Value dWeightDy) {}

  private static void gridSample(VjpContext c) {
    Node n = c.node();
    GraphBuilder b = c.b();
    Value x = c.input(0);
    Value grid = c.input(1);
    long[] xs = c.staticShape(x);
    long[] gs = c.staticShape(grid);
    if (xs.length != 4 || gs.length != 4 || gs[3] != 2) {
      throw c.fail("only 4-D sampling is supported: input " + x + " must be [N,C,H,W] and grid " + grid + " [N,Hout,Wout,2]");
    }
    String mode = n.attrString("mode", "bilinear");
    boolean linear = mode.equals("bilinear") || mode.equals("linear");
    if (!linear && !mode.equals("nearest")) {
      throw c.fail("mode '" + mode + "' has no gradient rule; supported: bilinear (linear), nearest");
    }
    String padding = n.attrString("padding_mode", "zeros");
    if (!padding.equals("zeros") && !padding.equals("border")) {
      throw c.fail("padding_mode '" + padding + "' has no gradient rule; supported: zeros, border");
    }
    boolean zeros = padding.equals("zeros");
    boolean alignCorners = n.attrInt("align_corners", 0) != 0;
    long bN = xs[0];
    long ch = xs[1];
    long h = xs[2];
    long w = xs[3];
    long points = gs[1] * gs[2];

    // Pixel coordinates: align_corners maps [-1,1] to [0, L-1], otherwise to [-0.5, L-0.5];
    // both are g * a + (L-1)/2 with a = (L-1)/2 or L/2.
    Value px = pixelCoordinate(b, b.op("Gather").in(grid, b.constant(Tensor.ofLongs(new long[0], 0))).attr("axis", 3L).out(), w, alignCorners);
    Value py = pixelCoordinate(b, b.op("Gather").in(grid, b.constant(Tensor.ofLongs(new long[0], 1))).attr("axis", 3L).out(), h, alignCorners);
    double sx = alignCorners ? (w - 1) / 2.0 : w / 2.0;
    double sy = alignCorners ? (h - 1) / 2.0 : h / 2.0;

    List<Corner> corners = new ArrayList<>();
    if (linear) {
      Axis ax = linearAxis(b, px, w, zeros);
      Axis ay = linearAxis(b, py, h, zeros);
      for (int i = 0; i < 2; i++) {
        for (int j = 0; j < 2; j++) {
          Value index = b.add(b.mul(ay.index[i], b.ints(w)), ax.index[j]);
          corners.add(new Corner(
              index, b.mul(ay.weight[i], ax.weight[j]), b.mul(ay.weight[i], ax.slope[j]), b.mul(ay.slope[i], ax.weight[j])));
        }
      }
    } else {
      // nearest: ONNX Runtime rounds half to even (nearbyint), as Round does
      Value[] cx = nearestAxis(b, px, w, zeros);
      Value[] cy = nearestAxis(b, py, h, zeros);
      // zeros padding: weight 1 inside the image, 0 outside; border: always 1 (index clamped)
      Value weight = zeros ? b.mul(cx[1], cy[1]) : b.onesLike(px);
      corners.add(new Corner(b.add(b.mul(cy[0], b.ints(w)), cx[0]), weight, null, null));
    }

    DType t = x.dtype();
    Value g = b.reshape(c.gradOutput(0), bN, ch, points);
    long[] flatIdx = {bN, 1, points};
    long[] expanded = {bN, ch, points};
    if (c.needsGrad(0)) {
      List<Value> idx = new ArrayList<>();
      List<Value> upd = new ArrayList<>();
      for (Corner k : corners) {
        idx.add(b.expand(b.reshape(k.index(), flatIdx), b.ints(expanded)));
        upd.add(b.mul(g, b.reshape(castTo(b, k.weight(), t), flatIdx)));
      }
      Value allIdx = idx.size() == 1 ? idx.get(0) : b.op("Concat").in(idx.toArray(new Value[0])).attr("axis", 2L).out();
      Value allUpd = upd.size() == 1 ? upd.get(0) : b.op("Concat").in(upd.toArray(new Value[0])).attr("axis", 2L).out();
      Value zerosPlane = b.op("ConstantOfShape").in(b.ints(bN, ch, h * w)).attr("value", Tensor.filled(t, new long[] {1}, 0)).out();
      Value dx = b.op("ScatterElements").in(zerosPlane, allIdx, allUpd).attr("axis", 2L).attr("reduction", "add").out();
      c.setGrad(0, b.reshape(dx, xs));
    }
    if (linear && c.needsGrad(1)) {
      Value xFlat = b.reshape(x, bN, ch, h * w);
      Value dOutDx = null;
      Value dOutDy = null;
      for (Corner k : corners) {
        Value v = b.op("GatherElements").in(xFlat, b.expand(b.reshape(k.index(), flatIdx), b.ints(expanded))).attr("axis", 2L).out();
        // sum over channels of g * corner value, per sample point: [N, points]
        Value s = castTo(b, b.reduceSum(b.mul(g, v), false, 1), grid.dtype());
        Value ex = b.mul(s, b.reshape(k.dWeightDx(), bN, points));
        Value ey = b.mul(s, b.reshape(k.dWeightDy(), bN, points));
        dOutDx = dOutDx == null ? ex : b.add(dOutDx, ex);
        dOutDy = dOutDy == null ? ey : b.add(dOutDy, ey);
      }
      Value gx = b.mul(b.reshape(dOutDx, bN, gs[1], gs[2], 1), b.scalarLike(sx, grid));
      Value gy = b.mul(b.reshape(dOutDy, bN, gs[1], gs[2], 1), b.scalarLike(sy, grid));
      c.setGrad(1, b.op("Concat").in(gx, gy).attr("axis", 3L).out());
    }
  }

  private static Value castTo(GraphBuilder b, Value v, DType t) {
    return v.dtype() == t ? v : b.cast(v, t);
  }

  private static Value pixelCoordinate(GraphBuilder b, Value normalized, long len, boolean alignCorners) {
    double a = alignCorners ? (len - 1) / 2.0 : len / 2.0;
    return b.add(b.mul(normalized, b.scalarLike(a, normalized)), b.scalarLike((len - 1) / 2.0, normalized));
  }

  /**
   * The two neighbours along one axis of a bilinear sample: int64 indices clamped into the image
   * (border padding samples the clamped pixel; for zeros padding the weight of an outside
   * neighbour is 0, so its clamped index is harmless), weights, and d(weight)/d(coordinate).
   */
  private record Axis(Value[] index, Value[] weight, Value[] slope) {}

  private static Axis linearAxis(GraphBuilder b, Value p, long len, boolean zeros) {
    Value lo = b.op("Floor").in(p).out();
    Value one = b.scalarLike(1, p);
    Value hi = b.add(lo, one);
    Value fracHi = b.sub(p, lo);
    Value fracLo = b.sub(one, fracHi);
    Value[] pos = {lo, hi};
    Value[] weight = {fracLo, fracHi};
    Value[] slope = {b.neg(b.onesLike(p)), b.onesLike(p)};
    Value[] index = new Value[2];
    for (int k = 0; k < 2; k++) {
      index[k] = clampedIndex(b, pos[k], len);
      if (zeros) {
        Value inside = insideMask(b, pos[k], len);
        weight[k] = b.mul(weight[k], inside);
        slope[k] = b.mul(slope[k], inside);
      }
    }
    return new Axis(index, weight, slope);
  }

  /** Nearest neighbour along one axis: {clamped int64 index, inside mask or null for border}. */
  private static Value[] nearestAxis(GraphBuilder b, Value p, long len, boolean zeros) {
    Value r = b.op("Round").in(p).out();
    return new Value[] {clampedIndex(b, r, len), zeros ? insideMask(b, r, len) : null};
  }

  private static Value clampedIndex(GraphBuilder b, Value pos, long len) {
    Value clipped = b.op("Clip").in(pos, b.scalarLike(0, pos), b.scalarLike(len - 1, pos)).out();
    return b.cast(clipped, DType.INT64);
  }

  /** 1 where an integral coordinate lies inside [0, len-1], else 0, in the coordinate's type. */
  private static Value insideMask(GraphBuilder b, Value pos, long len) {
    Value ge = b.op("GreaterOrEqual").in(pos, b.scalarLike(0, pos)).out();
    Value le = b.op("LessOrEqual").in(pos, b.scalarLike(len - 1, pos)).out();
    return b.cast(b.op("And").in(ge, le).out(), pos.dtype());
  }
}
