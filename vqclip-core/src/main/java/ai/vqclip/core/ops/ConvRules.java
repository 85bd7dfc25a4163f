package ai.vqclip.core.ops;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.autodiff.VjpContext;
import ai.vqclip.core.graph.Attribute;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.FlopCounter;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.ShapeInference;
import ai.vqclip.core.graph.ShapeInference.Spatial;
import ai.vqclip.core.graph.Value;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Op family (see {@link OpTable}) of Conv, ConvTranspose, AveragePool, MaxPool, GlobalAveragePool
 * and GlobalMaxPool, for any spatial rank (1-D, 2-D, 3-D) with static shapes and {@code
 * auto_pad=NOTSET}.
 *
 * <p>Design choices:
 *
 * <ul>
 *   <li>Every ConvTranspose these rules emit has symmetric pads ({@code pads[i] == pads[i + r]}):
 *       ORT's CUDA provider runs ConvTranspose with asymmetric pads on the CPU (onnxruntime issue
 *       #11312). Asymmetric forward pads are handled by padding each axis by the smaller of its two
 *       pads and slicing the rest away. The output_padding this needs is always below the stride.
 *   <li>Weight gradients are one Conv whose "batch" axis runs over (per-group) input channels and
 *       whose channel axis runs over (group, batch) pairs, with {@code group} equal to the forward
 *       group count, so grouped and depthwise convolutions need no Split/Concat.
 *   <li>MaxPool routes the gradient through its argmax indices with ScatterElements(add). When the
 *       forward node already produces the Indices output (row-major storage order) that output is
 *       used; otherwise a second MaxPool with the same attributes and an Indices output re-reads the
 *       forward input, since a rule cannot add outputs to the forward node.
 * </ul>
 *
 * <p>Why one long class: the six ops' rules share the same spatial bookkeeping (pads, strides,
 * dilations, output padding, the flipped-kernel and ConvTranspose input-gradient forms), and
 * splitting them would spread that bookkeeping over several files that must change together.
 */
final class ConvRules {
  private ConvRules() {}

  static void define(OpTable t) {
    t.op("Conv").shape(ShapeInference::conv).grad(ConvRules::conv).flops((g, n) -> {
      // out [N, Cout, spatial...], W [Cout, Cin/group, k...]: each output element is a dot product
      // of length (Cin/group) * prod(k).
      long[] out = FlopCounter.staticShape(g, n, n.outputs().get(0));
      long[] w = FlopCounter.staticShape(g, n, n.input(1));
      return 2 * FlopCounter.product(out, 0) * FlopCounter.product(w, 1);
    });
    t.op("ConvTranspose").shape(ShapeInference::convTranspose).grad(ConvRules::convTranspose).flops((g, n) -> {
      // x [N, Cin, spatial...], W [Cin, Cout/group, k...]: each input element is scattered into
      // (Cout/group) * prod(k) outputs.
      long[] x = FlopCounter.staticShape(g, n, n.input(0));
      long[] w = FlopCounter.staticShape(g, n, n.input(1));
      return 2 * FlopCounter.product(x, 0) * FlopCounter.product(w, 1);
    });
    t.op("AveragePool").shape(ShapeInference::pool).grad(ConvRules::averagePool);
    t.op("MaxPool").shape(ShapeInference::pool).grad(ConvRules::maxPool);
    t.op("GlobalAveragePool").shape(ShapeInference::globalPool).grad(ConvRules::globalAveragePool);
    t.op("GlobalMaxPool").shape(ShapeInference::globalPool).grad(ConvRules::globalMaxPool);
  }

  // ---------------------------------------------------------------- Conv

  private static void conv(VjpContext c) {
    GraphBuilder b = c.b();
    Value x = c.input(0);
    Value w = c.input(1);
    Value dy = c.gradOutput(0);
    long[] xs = c.staticShape(x);
    long[] ws = c.staticShape(w);
    long[] ys = c.staticShape(c.output(0));
    int sr = xs.length - 2;
    long[] kernel = Arrays.copyOfRange(ws, 2, ws.length);
    Spatial sp = spatial(c, sr, kernel);
    long group = c.node().attrInt("group", 1);
    long[] pb = Arrays.copyOfRange(sp.pads(), 0, sr);
    long[] pe = Arrays.copyOfRange(sp.pads(), sr, 2 * sr);
    if (c.needsGrad(0)) {
      // dX[i] = sum_{o,j: i = o*s + j*d - pb} dY[o] W[j]: a transposed convolution of dY with W. At
      // stride 1 it is also a plain Conv with the flipped, channel-swapped kernel, which ONNX Runtime
      // runs with its blocked (NCHWc) kernels, about 1.5x faster than its ConvTranspose on the CPU.
      Value dx = useFlippedConv(sp.strides(), sp.dilations(), kernel, pb, pe)
          ? flippedConv(c, dy, w, ws, group, sp.dilations(), pb, pe)
          : transposedConv(c, dy, w, group, sp.strides(), sp.dilations(), pb, pe, tail(ys), tail(xs));
      c.setGrad(0, dx);
    }
    if (c.needsGrad(1)) {
      // dW[m,c,j] = sum_{n,o} dY[n,m,o] X[n,c,o*s + j*d - pb]: correlate X with dY, stride d, dilation s.
      c.setGrad(1, weightGrad(c, x, xs, dy, ys, group, sp.dilations(), sp.strides(), pb, pe, kernel));
    }
    if (c.needsGrad(2)) {
      c.setGrad(2, b.reduceSum(dy, false, nonChannelAxes(xs.length)));
    }
  }

  /**
   * System property that selects how the input gradient of a Conv is emitted: {@code flipped}
   * (default: a Conv with the flipped kernel wherever the strides are 1) or {@code transpose}
   * (always a ConvTranspose, the rule before issue 18). For comparisons and benchmarks; both give
   * the same gradient to float rounding.
   */
  static final String INPUT_GRAD_PROPERTY = "vqclip.autodiff.convInputGrad";

  /** Suffix of the value (a Slice node's output) that holds a constant weight's flipped, channel-swapped kernel. */
  static final String FLIPPED_SUFFIX = "/flipped_for_input_grad";

  /**
   * Whether the input gradient can be a Conv with the flipped kernel: all strides 1 and pads no
   * larger than the dilated kernel extent (so the gradient Conv's pads are non-negative).
   */
  private static boolean useFlippedConv(long[] s, long[] d, long[] k, long[] pb, long[] pe) {
    String mode = System.getProperty(INPUT_GRAD_PROPERTY, "flipped");
    if (mode.equals("transpose")) {
      return false;
    }
    if (!mode.equals("flipped")) {
      throw new IllegalArgumentException("system property " + INPUT_GRAD_PROPERTY + " is '" + mode + "'; allowed: flipped, transpose");
    }
    for (int a = 0; a < s.length; a++) {
      long extent = d[a] * (k[a] - 1);
      if (s[a] != 1 || pb[a] > extent || pe[a] > extent) {
        return false;
      }
    }
    return true;
  }

  /**
   * The input gradient of a stride-1 Conv as a Conv: with j' = K-1-j, dX[i] = sum_j' dY[i - (K-1-j')d + pb]
   * W[K-1-j'], i.e. dY correlated with the spatially flipped kernel, pads (K-1)d - pb at the begin and
   * (K-1)d - pe at the end, the same dilation and group, and each group's in/out channels swapped:
   * W'[g*Cg + c, m] = W[g*Mg + m, c]. The transform is a Reshape/Transpose/Slice subgraph; over a
   * constant weight it is emitted once per weight and ONNX Runtime folds it into an initializer at
   * session creation.
   */
  private static Value flippedConv(VjpContext c, Value dy, Value w, long[] ws, long group, long[] d, long[] pb, long[] pe) {
    GraphBuilder b = c.b();
    int sr = ws.length - 2;
    long[] k = tail(ws);
    long[] pads = new long[2 * sr];
    for (int a = 0; a < sr; a++) {
      pads[a] = d[a] * (k[a] - 1) - pb[a];
      pads[a + sr] = d[a] * (k[a] - 1) - pe[a];
    }
    Value flipped;
    if (b.constantValue(w) != null) {
      // Emitted as nodes over the weight all the same: ONNX Runtime's constant folding turns them into
      // its own initializer once, at session creation (then packs it for its NCHWc kernels), so no
      // flipped copy is kept on the Java side for the session's lifetime (0.2 GB for the VQGAN decoder).
      // Named after the weight, so every Conv that reads the same weight shares one.
      String name = w.name() + FLIPPED_SUFFIX;
      flipped = b.hasValue(name) ? b.value(name) : flipKernel(b, w, ws, group, name);
    } else {
      flipped = flipKernel(b, w, ws, group, null);
    }
    return b.op("Conv")
        .in(dy, flipped)
        .attr("group", group)
        .ints("kernel_shape", k)
        .ints("dilations", d)
        .ints("pads", pads)
        .out();
  }

  /**
   * [M, Cg, k...] with M = group * Mg to [group * Cg, Mg, k...], channels swapped per group and every
   * spatial axis reversed, as graph nodes; {@code name} names the result (null: a fresh name).
   */
  private static Value flipKernel(GraphBuilder b, Value w, long[] ws, long group, String name) {
    int rank = ws.length;
    int sr = rank - 2;
    Value swapped;
    if (group == 1) {
      swapped = b.transpose(w, swap01(rank));
    } else {
      long[] split = new long[rank + 1];
      split[0] = group;
      split[1] = ws[0] / group;
      System.arraycopy(ws, 1, split, 2, rank - 1);
      long[] perm = swapAxes(rank + 1, 1, 2);
      long[] merged = ws.clone();
      merged[0] = group * ws[1];
      merged[1] = ws[0] / group;
      swapped = b.reshape(b.transpose(b.reshape(w, split), perm), merged);
    }
    long[] starts = new long[sr];
    long[] ends = new long[sr];
    long[] steps = new long[sr];
    Arrays.fill(starts, -1);
    Arrays.fill(ends, Long.MIN_VALUE);
    Arrays.fill(steps, -1);
    return b.op("Slice").in(swapped, b.ints(starts), b.ints(ends), b.ints(spatialAxes(sr)), b.ints(steps)).named(name).out();
  }

  // ---------------------------------------------------------------- ConvTranspose

  private static void convTranspose(VjpContext c) {
    GraphBuilder b = c.b();
    Value x = c.input(0);
    Value w = c.input(1);
    Value dy = c.gradOutput(0);
    long[] xs = c.staticShape(x);
    long[] ws = c.staticShape(w);
    long[] ys = c.staticShape(c.output(0));
    int sr = xs.length - 2;
    long[] kernel = Arrays.copyOfRange(ws, 2, ws.length);
    if (c.node().attributes().containsKey("output_shape")) {
      throw c.fail("output_shape " + Arrays.toString(c.node().attrInts("output_shape", null))
          + " is not supported; give explicit pads and output_padding instead");
    }
    Spatial sp = spatial(c, sr, kernel);
    long group = c.node().attrInt("group", 1);
    long[] pb = Arrays.copyOfRange(sp.pads(), 0, sr);
    long[] pe = Arrays.copyOfRange(sp.pads(), sr, 2 * sr);
    if (c.needsGrad(0)) {
      // Y[i] = sum_{o,j: i = o*s + j*d - pb} X[o] W[j], so dX[o] = sum_j dY[o*s + j*d - pb] W[j]:
      // a Conv of dY with W (whose [Cin, Cout/g, k] layout is Conv's [M, C/g, k] layout here).
      c.setGrad(0, convToSize(c, dy, w, group, sp.strides(), sp.dilations(), pb, pe, tail(xs)));
    }
    if (c.needsGrad(1)) {
      // dW[ci,co,j] = sum_{n,o} X[n,ci,o] dY[n,co,o*s + j*d - pb]: the Conv weight gradient with the
      // roles of input and output gradient swapped.
      c.setGrad(1, weightGrad(c, dy, ys, x, xs, group, sp.dilations(), sp.strides(), pb, pe, kernel));
    }
    if (c.needsGrad(2)) {
      c.setGrad(2, b.reduceSum(dy, false, nonChannelAxes(xs.length)));
    }
  }

  // ---------------------------------------------------------------- pools

  private static void averagePool(VjpContext c) {
    GraphBuilder b = c.b();
    Value x = c.input(0);
    Value dy = c.gradOutput(0);
    long[] xs = c.staticShape(x);
    long[] ys = c.staticShape(c.output(0));
    int sr = xs.length - 2;
    Spatial sp = spatial(c, sr, null);
    for (long d : sp.dilations()) {
      if (d != 1) {
        throw c.fail("dilations " + Arrays.toString(sp.dilations()) + " are not supported (AveragePool has none at opset 18); use 1");
      }
    }
    long[] pb = Arrays.copyOfRange(sp.pads(), 0, sr);
    long[] pe = Arrays.copyOfRange(sp.pads(), sr, 2 * sr);
    requireFloorSizes(c, xs, ys, sp);
    boolean includePad = c.node().attrInt("count_include_pad", 0) != 0;
    Value scaled;
    if (includePad) {
      // With floor-mode sizes every window lies inside the padded input, so each divides by prod(k).
      scaled = b.mul(dy, b.scalarLike(1.0 / product(sp.kernel()), dy));
    } else {
      scaled = b.mul(dy, b.constant(inverseCounts(x.dtype(), xs, ys, sp, pb)));
    }
    long channels = xs[1];
    long[] onesShape = new long[xs.length];
    onesShape[0] = channels;
    onesShape[1] = 1;
    System.arraycopy(sp.kernel(), 0, onesShape, 2, sr);
    Value ones = b.constant(Tensor.filled(x.dtype(), onesShape, 1));
    // Each input element receives the scaled gradient of every window that covers it: a depthwise
    // transposed convolution with an all-ones kernel.
    c.setGrad(0, transposedConv(c, scaled, ones, channels, sp.strides(), sp.dilations(), pb, pe, tail(ys), tail(xs)));
  }

  /** 1 / (number of non-pad input elements) per output position, shaped [1, 1, Ho, ...]. */
  private static Tensor inverseCounts(DType dtype, long[] xs, long[] ys, Spatial sp, long[] pb) {
    int sr = xs.length - 2;
    long[][] perAxis = new long[sr][];
    for (int a = 0; a < sr; a++) {
      long ho = ys[2 + a];
      perAxis[a] = new long[(int) ho];
      for (int o = 0; o < ho; o++) {
        long start = o * sp.strides()[a] - pb[a];
        long end = Math.min(start + sp.kernel()[a], xs[2 + a]);
        perAxis[a][o] = end - Math.max(start, 0);
      }
    }
    long[] shape = new long[xs.length];
    shape[0] = 1;
    shape[1] = 1;
    System.arraycopy(ys, 2, shape, 2, sr);
    int n = Math.toIntExact(product(tail(ys)));
    double[] v = new double[n];
    int[] idx = new int[sr];
    for (int i = 0; i < n; i++) {
      long cnt = 1;
      for (int a = 0; a < sr; a++) {
        cnt *= perAxis[a][idx[a]];
      }
      v[i] = 1.0 / cnt;
      for (int a = sr - 1; a >= 0; a--) {
        if (++idx[a] < ys[2 + a]) {
          break;
        }
        idx[a] = 0;
      }
    }
    return Tensor.fromDoubles(dtype, shape, v);
  }

  /** ceil_mode=1 is accepted only where it gives the floor-mode output size (then windows agree). */
  private static void requireFloorSizes(VjpContext c, long[] xs, long[] ys, Spatial sp) {
    int sr = xs.length - 2;
    for (int a = 0; a < sr; a++) {
      long eff = sp.dilations()[a] * (sp.kernel()[a] - 1) + 1;
      long floor = Math.floorDiv(xs[2 + a] + sp.pads()[a] + sp.pads()[a + sr] - eff, sp.strides()[a]) + 1;
      if (floor != ys[2 + a]) {
        throw c.fail("ceil_mode=1 with output size " + ys[2 + a] + " on spatial axis " + a + " (floor mode gives " + floor
            + ") is not supported; use ceil_mode=0 or pads that make both modes agree");
      }
    }
  }

  private static void maxPool(VjpContext c) {
    GraphBuilder b = c.b();
    Value x = c.input(0);
    long[] xs = c.staticShape(x);
    c.staticShape(c.output(0));
    spatial(c, xs.length - 2, null);
    Value indices = null;
    if (c.node().outputs().size() > 1 && c.output(1) != null && c.node().attrInt("storage_order", 0) == 0) {
      indices = c.output(1);
    }
    if (indices == null) {
      // A rule cannot add the Indices output to the forward node, so a second MaxPool with the same
      // windows recomputes it (row-major storage order, which is what the scatter below expects).
      Map<String, Attribute> attrs = new LinkedHashMap<>(c.node().attributes());
      attrs.put("storage_order", Attribute.of(0L));
      indices = b.op("MaxPool").in(x).attrs(attrs).outs(2).get(1);
    }
    c.setGrad(0, scatterToArgmax(b, x, xs, indices, c.gradOutput(0)));
  }

  /**
   * Adds each output gradient to the input element its index names. MaxPool's indices are flat
   * offsets into the whole input tensor (batch and channel included), so the scatter runs on the
   * flattened input.
   */
  private static Value scatterToArgmax(GraphBuilder b, Value x, long[] xs, Value indices, Value dy) {
    Value flatX = b.reshape(x, -1);
    Value zeros = b.zerosLike(flatX);
    Value scattered = b.op("ScatterElements")
        .in(zeros, b.reshape(indices, -1), b.reshape(dy, -1))
        .attr("axis", 0L)
        .attr("reduction", "add")
        .out();
    return b.reshape(scattered, xs);
  }

  private static void globalAveragePool(VjpContext c) {
    GraphBuilder b = c.b();
    Value x = c.input(0);
    long[] xs = c.staticShape(x);
    long n = product(tail(xs));
    Value scaled = b.mul(c.gradOutput(0), b.scalarLike(1.0 / n, x));
    c.setGrad(0, b.expand(scaled, b.ints(xs)));
  }

  private static void globalMaxPool(VjpContext c) {
    GraphBuilder b = c.b();
    Value x = c.input(0);
    long[] xs = c.staticShape(x);
    // The global max is a MaxPool whose window is the whole spatial extent; its Indices name the argmax.
    Value indices = b.op("MaxPool").in(x).ints("kernel_shape", tail(xs)).outs(2).get(1);
    c.setGrad(0, scatterToArgmax(b, x, xs, indices, c.gradOutput(0)));
  }

  // ---------------------------------------------------------------- shared building blocks

  /**
   * The transposed convolution of {@code dy} (spatial sizes {@code dySpatial}) with {@code w} ([M,
   * C/g, k...]) that inverts a Conv with these strides, dilations and pads, cropped or extended to
   * {@code target} spatial sizes. The emitted ConvTranspose has symmetric pads per axis (the smaller
   * of the forward pads); the remaining offset is removed by a Slice.
   */
  private static Value transposedConv(
      VjpContext c, Value dy, Value w, long group, long[] s, long[] d, long[] pb, long[] pe, long[] dySpatial, long[] target) {
    GraphBuilder b = c.b();
    int sr = target.length;
    long[] k = tail(c.staticShape(w));
    long[] pads = new long[2 * sr];
    long[] outPad = new long[sr];
    long[] start = new long[sr];
    long[] len = new long[sr];
    boolean needSlice = false;
    for (int a = 0; a < sr; a++) {
      long full = (dySpatial[a] - 1) * s[a] + d[a] * (k[a] - 1) + 1;
      long p = Math.min(pb[a], pe[a]);
      // ConvTranspose with pads p gives out[i] = full[i + p]; dX[i] = full[i + pb] = out[i + pb - p].
      long op = Math.max(0, pb[a] + p + target[a] - full);
      if (op >= Math.max(s[a], d[a])) {
        // Cannot happen for sizes a forward Conv produced (op <= (H + pb + pe - eff) mod s).
        throw c.fail("internal: output_padding " + op + " on spatial axis " + a + " would not be below stride " + s[a]);
      }
      pads[a] = p;
      pads[a + sr] = p;
      outPad[a] = op;
      start[a] = pb[a] - p;
      len[a] = full - 2 * p + op;
      needSlice |= start[a] != 0 || len[a] != target[a];
    }
    GraphBuilder.OpBuilder ct = b.op("ConvTranspose")
        .in(dy, w)
        .attr("group", group)
        .ints("kernel_shape", k)
        .ints("strides", s)
        .ints("dilations", d)
        .ints("pads", pads);
    if (Arrays.stream(outPad).anyMatch(v -> v != 0)) {
      ct.ints("output_padding", outPad);
    }
    Value out = ct.out();
    if (!needSlice) {
      return out;
    }
    long[] ends = new long[sr];
    for (int a = 0; a < sr; a++) {
      ends[a] = start[a] + target[a];
    }
    return slice(b, out, start, ends, spatialAxes(sr));
  }

  /**
   * Conv of {@code in} with {@code w} (strides, dilations, begin pads as given) whose end pads are
   * trimmed so the output has {@code target} spatial sizes where possible, then sliced to exactly
   * {@code target}.
   */
  private static Value convToSize(VjpContext c, Value in, Value w, long group, long[] s, long[] d, long[] pb, long[] pe, long[] target) {
    GraphBuilder b = c.b();
    long[] inSpatial = tail(c.staticShape(in));
    long[] k = tail(c.staticShape(w));
    int sr = target.length;
    long[] pads = new long[2 * sr];
    boolean needSlice = false;
    for (int a = 0; a < sr; a++) {
      long eff = d[a] * (k[a] - 1) + 1;
      // Padded length beyond what `target` outputs need; trim it from the end pad first.
      long excess = inSpatial[a] + pb[a] + pe[a] - eff - (target[a] - 1) * s[a];
      if (excess < 0) {
        throw c.fail("internal: gradient convolution on spatial axis " + a + " is " + (-excess) + " short of size " + target[a]);
      }
      long trim = Math.min(pe[a], excess);
      pads[a] = pb[a];
      pads[a + sr] = pe[a] - trim;
      needSlice |= (excess - trim) >= s[a];
    }
    Value out = b.op("Conv")
        .in(in, w)
        .attr("group", group)
        .ints("kernel_shape", k)
        .ints("strides", s)
        .ints("dilations", d)
        .ints("pads", pads)
        .out();
    if (!needSlice) {
      return out;
    }
    return slice(b, out, new long[sr], target, spatialAxes(sr));
  }

  /**
   * The weight gradient shared by Conv and ConvTranspose: {@code G[b, a, j] = sum_{n,o} A[n, g*Ag + a,
   * j*cs + o*cd - pb] B[n, g*Bg + b, o]} for output-channel {@code b} of group {@code g}, returned as
   * [g*Bg, Ag, kernel...]. It is one grouped Conv whose batch axis runs over {@code a} and whose
   * channels run over (group, n); {@code B} becomes the weights.
   */
  private static Value weightGrad(
      VjpContext c, Value a, long[] as, Value bv, long[] bs, long group, long[] cs, long[] cd, long[] pb, long[] pe, long[] kernel) {
    GraphBuilder b = c.b();
    int rank = as.length;
    long n = as[0];
    long ag = as[1] / group;
    Value aT;
    if (group == 1) {
      aT = b.transpose(a, swap01(rank));
    } else {
      long[] split = new long[rank + 1];
      split[0] = n;
      split[1] = group;
      split[2] = ag;
      System.arraycopy(as, 2, split, 3, rank - 2);
      long[] perm = new long[rank + 1];
      perm[0] = 2;
      perm[1] = 1;
      perm[2] = 0;
      for (int i = 3; i <= rank; i++) {
        perm[i] = i;
      }
      long[] merged = new long[rank];
      merged[0] = ag;
      merged[1] = group * n;
      System.arraycopy(as, 2, merged, 2, rank - 2);
      aT = b.reshape(b.transpose(b.reshape(a, split), perm), merged);
    }
    // B's channels are already ordered (group, b), so moving them to the front gives Conv weights
    // [g*Bg, N, o...] that read channels (group, n) of aT.
    Value bT = b.transpose(bv, swap01(rank));
    Value z = convToSize(c, aT, bT, group, cs, cd, pb, pe, kernel);
    return b.transpose(z, swap01(rank));
  }

  // ---------------------------------------------------------------- small helpers

  private static Spatial spatial(VjpContext c, int sr, long[] kernelFromWeights) {
    if (sr < 1) {
      throw c.fail("needs an input of rank >= 3, got " + c.input(0));
    }
    Spatial sp;
    try {
      sp = ShapeInference.spatial(c.node(), sr, kernelFromWeights);
    } catch (IllegalArgumentException e) {
      throw c.fail(e.getMessage());
    }
    if (kernelFromWeights != null && !Arrays.equals(sp.kernel(), kernelFromWeights)) {
      throw c.fail("kernel_shape " + Arrays.toString(sp.kernel()) + " differs from the weight's spatial shape "
          + Arrays.toString(kernelFromWeights));
    }
    return sp;
  }

  private static Value slice(GraphBuilder b, Value v, long[] starts, long[] ends, long[] axes) {
    return b.op("Slice").in(v, b.ints(starts), b.ints(ends), b.ints(axes)).out();
  }

  private static long[] tail(long[] shape) {
    return Arrays.copyOfRange(shape, 2, shape.length);
  }

  private static long[] spatialAxes(int sr) {
    long[] a = new long[sr];
    for (int i = 0; i < sr; i++) {
      a[i] = i + 2;
    }
    return a;
  }

  private static long[] nonChannelAxes(int rank) {
    long[] a = new long[rank - 1];
    a[0] = 0;
    for (int i = 2; i < rank; i++) {
      a[i - 1] = i;
    }
    return a;
  }

  private static long[] swap01(int rank) {
    return swapAxes(rank, 0, 1);
  }

  /** The permutation of {@code rank} axes that swaps axes {@code a} and {@code b}. */
  private static long[] swapAxes(int rank, int a, int b) {
    long[] p = new long[rank];
    for (int i = 0; i < rank; i++) {
      p[i] = i;
    }
    p[a] = b;
    p[b] = a;
    return p;
  }

  private static long product(long[] v) {
    long p = 1;
    for (long x : v) {
      p *= x;
    }
    return p;
  }
}
