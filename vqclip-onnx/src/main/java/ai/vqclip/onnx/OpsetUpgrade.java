package ai.vqclip.onnx;

import ai.vqclip.core.ModelLoadException;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.Attribute;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Node;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Rewrites one imported node from its model's opset (7 to 26) into the form vqclip's graphs use
 * (opset {@link Graph#OPSET}, 18): attributes that later opsets turned into inputs become constant
 * inputs, removed ops become their successors (Upsample to Resize, Scatter to ScatterElements), and
 * old semantics that differ are rebuilt from newer ops (Softmax before 13 coerces its input to 2-D).
 * Only signature changes need work here: between 7 and 18 every other change to an op only adds
 * types, or attributes and inputs whose defaults keep the old meaning (see ONNX's Changelog.md).
 * Anything that cannot be expressed in the new form is a {@link ModelLoadException} naming the op,
 * node and opset.
 */
final class OpsetUpgrade {
  private static final Set<String> REDUCE_AXES_INPUT_FROM_18 =
      Set.of("ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceSumSquare", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp");

  /** Ops that no opset from 7 on defines with the old meaning and that have no replacement here. */
  private static final Set<String> REMOVED =
      Set.of("ImageScaler", "Crop", "ScaledTanh", "Affine", "ParametricSoftplus", "GRUUnit", "GivenTensorFill", "Scale", "DynamicSlice");

  private final int opset;
  private final GraphBuilder b;
  private final String source;

  OpsetUpgrade(int opset, GraphBuilder b, String source) {
    this.opset = opset;
    this.b = b;
    this.source = source;
  }

  /** The upgraded node(s), in order; the last one produces the original node's outputs. */
  List<Node> upgrade(String name, String op, String domain, List<String> inputsIn, List<String> outputs, Map<String, Attribute> attrsIn) {
    List<String> in = new ArrayList<>(inputsIn);
    Map<String, Attribute> a = new LinkedHashMap<>(attrsIn);
    if (domain.isEmpty() && op.equals("Constant")) {
      constantValueAttribute(name, a);
    }
    if (!domain.isEmpty() || opset >= Graph.OPSET) {
      return List.of(new Node(name, op, domain, in, outputs, a));
    }
    if (REMOVED.contains(op)) {
      throw refuse(name, op, "the op was removed from ONNX and has no replacement in vqclip");
    }
    switch (op) {
      case "Clip" -> {
        if (opset < 11) {
          DType t = dtypeOf(in, 0, name, op);
          Attribute min = a.remove("min");
          Attribute max = a.remove("max");
          trim(in);
          requireInputs(in, 1, name, op);
          in.add(min == null ? "" : b.constant(Tensor.scalar(t, floatAttr(min, "min", name, op))).name());
          in.add(max == null ? "" : b.constant(Tensor.scalar(t, floatAttr(max, "max", name, op))).name());
          trim(in);
        }
      }
      case "Slice" -> {
        if (opset < 10) {
          long[] starts = intsAttr(a.remove("starts"), "starts", name, op, true);
          long[] ends = intsAttr(a.remove("ends"), "ends", name, op, true);
          long[] axes = intsAttr(a.remove("axes"), "axes", name, op, false);
          trim(in);
          requireInputs(in, 1, name, op);
          in.add(b.ints(starts).name());
          in.add(b.ints(ends).name());
          if (axes != null) {
            in.add(b.ints(axes).name());
          }
        }
      }
      case "Pad" -> {
        if (opset < 11) {
          DType t = dtypeOf(in, 0, name, op);
          long[] pads = intsAttr(a.remove("pads"), "pads", name, op, true);
          Attribute value = a.remove("value");
          trim(in);
          requireInputs(in, 1, name, op);
          in.add(b.ints(pads).name());
          if (value != null) {
            in.add(b.constant(Tensor.scalar(t, floatAttr(value, "value", name, op))).name());
          }
        }
      }
      case "Squeeze", "Unsqueeze" -> {
        if (opset < 13) {
          long[] axes = intsAttr(a.remove("axes"), "axes", name, op, op.equals("Unsqueeze"));
          trim(in);
          requireInputs(in, 1, name, op);
          if (axes != null) {
            in.add(b.ints(axes).name());
          }
        }
      }
      case "Split" -> {
        if (opset < 13) {
          long[] split = intsAttr(a.remove("split"), "split", name, op, false);
          trim(in);
          if (in.size() > 1) {
            // Split-2..11 has one input; Split-1 took the split as a second input.
            throw refuse(name, op, "it has " + in.size() + " inputs; one is expected from opset 2 on");
          }
          requireInputs(in, 1, name, op);
          if (split != null) {
            in.add(b.ints(split).name());
          }
        }
        trim(in);
        if (in.size() < 2 && !a.containsKey("num_outputs")) {
          // From 18 an even split names its number of parts.
          a.put("num_outputs", Attribute.of((long) outputs.size()));
        }
      }
      case "ReduceSum" -> {
        if (opset < 13) {
          axesToInput(in, a, name, op);
        }
      }
      case "TopK" -> {
        if (opset < 10) {
          long[] k = new long[] {intAttr(a.remove("k"), "k", name, op)};
          trim(in);
          requireInputs(in, 1, name, op);
          in.add(b.ints(k).name());
        }
      }
      case "Upsample" -> {
        return List.of(upsample(name, in, outputs, a));
      }
      case "Resize" -> {
        if (opset < 11) {
          return List.of(resize10(name, in, outputs, a));
        }
        if ("tf_half_pixel_for_nn".equals(stringAttr(a.get("coordinate_transformation_mode")))) {
          throw refuse(name, op, "coordinate_transformation_mode 'tf_half_pixel_for_nn' was removed in opset 13");
        }
      }
      case "Scatter" -> {
        // Scatter (9, 10) is ScatterElements under its old name.
        return List.of(new Node(name, "ScatterElements", domain, in, outputs, a));
      }
      case "BatchNormalization" -> {
        a.remove("consumed_inputs");
        Attribute spatial = a.remove("spatial");
        if (spatial != null && spatial.kind() == Attribute.Kind.INT && spatial.asInt() == 0) {
          throw refuse(name, op, "spatial=0 (per-activation statistics) has no equivalent after opset 8");
        }
        Attribute isTest = a.remove("is_test");
        Attribute training = a.remove("training_mode");
        if (training != null && training.kind() == Attribute.Kind.INT && training.asInt() != 0) {
          throw refuse(name, op, "training_mode=1 normalizes with batch statistics; export the model in eval mode");
        }
        long used = outputs.stream().skip(1).filter(o -> !o.isEmpty()).count();
        if (used > 0 && (isTest == null || isTest.asInt() == 0)) {
          throw refuse(name, op, "it is in training form (outputs running mean/variance or saved statistics); export the model in eval mode");
        }
        outputs = List.of(outputs.get(0));
      }
      case "Dropout" -> {
        a.remove("is_test");
        a.remove("ratio"); // inference: the ratio does not matter
        if (opset < 12 && in.size() > 1) {
          throw refuse(name, op, "it has " + in.size() + " inputs; one is expected before opset 12");
        }
      }
      case "Softmax", "LogSoftmax", "Hardmax" -> {
        if (opset < 13) {
          return softmax2d(name, op, in, outputs, a);
        }
      }
      case "Gemm" -> a.remove("broadcast");
      case "Add", "Sub", "Mul", "Div", "Pow", "And", "Or", "Xor", "Equal", "Greater", "Less", "PRelu" -> {
        if (a.containsKey("broadcast") || a.containsKey("axis")) {
          throw refuse(name, op, "it uses the legacy 'broadcast'/'axis' attributes (opset 6 and older)");
        }
      }
      default -> {
        if (opset < 18 && REDUCE_AXES_INPUT_FROM_18.contains(op)) {
          axesToInput(in, a, name, op);
        }
      }
    }
    return List.of(new Node(name, op, domain, in, outputs, a));
  }

  private void axesToInput(List<String> in, Map<String, Attribute> a, String name, String op) {
    long[] axes = intsAttr(a.remove("axes"), "axes", name, op, false);
    if (axes == null) {
      return;
    }
    trim(in);
    if (in.size() != 1) {
      throw new ModelLoadException(source + ": node '" + name + "' (" + op + ") at opset " + opset + " takes 1 input, found " + in.size());
    }
    in.add(b.ints(axes).name());
  }

  /**
   * Upsample (7: scales attribute; 9: scales input) is Resize with the asymmetric coordinate
   * transform (output index i reads input i / scale) and, for nearest, rounding down.
   */
  private Node upsample(String name, List<String> in, List<String> outputs, Map<String, Attribute> a) {
    String mode = stringAttr(a.getOrDefault("mode", Attribute.of("nearest")));
    trim(in);
    String scales;
    if (opset < 9) {
      Attribute s = a.get("scales");
      if (s == null || s.kind() != Attribute.Kind.FLOATS) {
        throw refuse(name, "Upsample", "attribute 'scales' (FLOATS) is required before opset 9");
      }
      float[] f = s.asFloats();
      scales = b.constant(Tensor.ofFloats(new long[] {f.length}, f)).name();
      requireInputs(in, 1, name, "Upsample");
    } else {
      requireInputs(in, 2, name, "Upsample");
      scales = in.get(1);
    }
    return resizeNode(name, in.get(0), scales, outputs, mode, "Upsample");
  }

  /** Resize 10 has (X, scales) and the same asymmetric semantics as Upsample. */
  private Node resize10(String name, List<String> in, List<String> outputs, Map<String, Attribute> a) {
    String mode = stringAttr(a.getOrDefault("mode", Attribute.of("nearest")));
    trim(in);
    requireInputs(in, 2, name, "Resize");
    return resizeNode(name, in.get(0), in.get(1), outputs, mode, "Resize");
  }

  private Node resizeNode(String name, String x, String scales, List<String> outputs, String mode, String op) {
    if (!mode.equals("nearest") && !mode.equals("linear")) {
      throw refuse(name, op, "mode '" + mode + "' is not 'nearest' or 'linear'");
    }
    Map<String, Attribute> r = new LinkedHashMap<>();
    r.put("mode", Attribute.of(mode));
    r.put("coordinate_transformation_mode", Attribute.of("asymmetric"));
    if (mode.equals("nearest")) {
      // The old ops take the input pixel floor(i / scale) when enlarging. ONNX Runtime's
      // implementation rounds up when shrinking; keep that for scales all <= 1.
      Tensor s = b.constantValue(b.value(scales));
      String rounding = "floor";
      if (s != null) {
        double[] v = s.toDoubles();
        boolean down = false;
        boolean up = false;
        for (double d : v) {
          down |= d < 1;
          up |= d > 1;
        }
        if (down && up) {
          throw refuse(name, op, "nearest mode enlarges some axes and shrinks others (scales " + java.util.Arrays.toString(v)
              + "); the old rounding has no single nearest_mode");
        }
        rounding = down ? "ceil" : "floor";
      }
      r.put("nearest_mode", Attribute.of(rounding));
    }
    return new Node(name, "Resize", "", List.of(x, "", scales), outputs, r);
  }

  /**
   * Softmax, LogSoftmax and Hardmax before 13 flatten the input to 2-D at {@code axis} (default 1)
   * and normalize each row: the same as the 13 form over the last axis when axis is the last one,
   * otherwise a Flatten, the op over axis 1 and a Reshape back.
   */
  private List<Node> softmax2d(String name, String op, List<String> in, List<String> outputs, Map<String, Attribute> a) {
    trim(in);
    requireInputs(in, 1, name, op);
    long axis = a.containsKey("axis") ? intAttr(a.get("axis"), "axis", name, op) : 1;
    String x = in.get(0);
    ai.vqclip.core.graph.Shape s = b.value(x).shape();
    if (s.hasRank()) {
      int r = s.rank();
      long ax = axis < 0 ? axis + r : axis;
      if (ax < 0 || ax >= Math.max(r, 1)) {
        throw refuse(name, op, "axis " + axis + " is out of range for rank " + r);
      }
      if (ax == r - 1) {
        return List.of(new Node(name, op, "", in, outputs, Map.of("axis", Attribute.of(-1L))));
      }
    }
    String flat = b.freshName(name + "/flat");
    String norm = b.freshName(name + "/rows");
    String shape = b.freshName(name + "/shape");
    List<Node> nodes = new ArrayList<>();
    nodes.add(new Node(flat, "Flatten", "", List.of(x), List.of(flat), Map.of("axis", Attribute.of(axis))));
    nodes.add(new Node(norm, op, "", List.of(flat), List.of(norm), Map.of("axis", Attribute.of(1L))));
    nodes.add(new Node(shape, "Shape", "", List.of(x), List.of(shape), Map.of()));
    nodes.add(new Node(name, "Reshape", "", List.of(norm, shape), outputs, Map.of()));
    return nodes;
  }

  /**
   * Constant's value_float(s)/value_int(s) forms (opset 12 on) become the one 'value' tensor form
   * that the rest of vqclip reads; sparse and string constants are refused.
   */
  private void constantValueAttribute(String name, Map<String, Attribute> a) {
    if (a.size() != 1) {
      throw refuse(name, "Constant", "it must have exactly one value attribute, found " + a.keySet());
    }
    String k = a.keySet().iterator().next();
    Attribute v = a.get(k);
    Tensor t;
    try {
      t = switch (k) {
        case "value" -> v.asTensor();
        case "value_float" -> Tensor.ofFloats(new long[0], v.asFloat());
        case "value_floats" -> {
          float[] f = v.asFloats();
          yield Tensor.ofFloats(new long[] {f.length}, f);
        }
        case "value_int" -> Tensor.ofLongs(new long[0], v.asInt());
        case "value_ints" -> Tensor.vector(v.asInts());
        default -> throw refuse(name, "Constant", "attribute '" + k + "' is not supported; value, value_float(s) and value_int(s) are");
      };
    } catch (IllegalStateException e) {
      throw refuse(name, "Constant", "attribute '" + k + "' has the wrong type: " + e.getMessage());
    }
    a.clear();
    a.put("value", Attribute.of(t));
  }

  // ------------------------------------------------------------------ helpers

  private DType dtypeOf(List<String> in, int i, String name, String op) {
    if (i >= in.size() || in.get(i).isEmpty()) {
      throw refuse(name, op, "input " + i + " is required");
    }
    return b.value(in.get(i)).dtype();
  }

  private static void trim(List<String> in) {
    while (!in.isEmpty() && in.get(in.size() - 1).isEmpty()) {
      in.remove(in.size() - 1);
    }
  }

  private void requireInputs(List<String> in, int n, String name, String op) {
    if (in.size() != n) {
      throw refuse(name, op, "it has " + in.size() + " inputs; " + n + " expected at this opset");
    }
  }

  private long[] intsAttr(Attribute at, String key, String name, String op, boolean required) {
    if (at == null) {
      if (required) {
        throw refuse(name, op, "attribute '" + key + "' is required");
      }
      return null;
    }
    if (at.kind() != Attribute.Kind.INTS) {
      throw refuse(name, op, "attribute '" + key + "' must be INTS, found " + at.kind());
    }
    return at.asInts();
  }

  private long intAttr(Attribute at, String key, String name, String op) {
    if (at == null || at.kind() != Attribute.Kind.INT) {
      throw refuse(name, op, "attribute '" + key + "' must be an INT" + (at == null ? " and is missing" : ", found " + at.kind()));
    }
    return at.asInt();
  }

  private double floatAttr(Attribute at, String key, String name, String op) {
    if (at.kind() != Attribute.Kind.FLOAT) {
      throw refuse(name, op, "attribute '" + key + "' must be FLOAT, found " + at.kind());
    }
    return at.asFloat();
  }

  private static String stringAttr(Attribute at) {
    return at == null || at.kind() != Attribute.Kind.STRING ? null : at.asString();
  }

  private ModelLoadException refuse(String name, String op, String why) {
    return new ModelLoadException(source + ": node '" + name + "' (" + op + ", opset " + opset + ") cannot be upgraded to opset "
        + Graph.OPSET + ": " + why);
  }
}
