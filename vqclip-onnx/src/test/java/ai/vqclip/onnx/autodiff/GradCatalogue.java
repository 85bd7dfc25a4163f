package ai.vqclip.onnx.autodiff;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * The catalogue of finite-difference gradient checks keyed by op type, run by {@link
 * CatalogueGradTest} and compared with the registry's differentiable op types by {@link
 * GradCoverageTest}. Each case is a tiny graph around one op, the inputs to differentiate, and the
 * precision: DOUBLE (eps 1e-6, tolerance 1e-6) where ORT's CPU provider has double kernels for the
 * op and for every op its backward pass emits, FLOAT (eps 1e-2, tolerance 1e-2) otherwise.
 *
 * <p>Ops checked by older, more thorough test classes are listed in {@link #CHECKED_ELSEWHERE}
 * with the class that checks them; the coverage test verifies those classes exist and name the op.
 */
final class GradCatalogue {
  private GradCatalogue() {}

  /**
   * One check.
   *
   * @param op the op type under test (registry key)
   * @param name a readable case name
   * @param graph the forward graph
   * @param given inputs that are not standard normal (others are drawn by GradCheck)
   * @param wrt the inputs differentiated
   * @param dtype DOUBLE or FLOAT (selects eps and tolerance)
   */
  record Case(String op, String name, Graph graph, Map<String, Tensor> given, List<String> wrt, DType dtype) {
    @Override
    public String toString() {
      return op + " " + name;
    }
  }

  /**
   * Differentiable ops checked by other test classes of this package (op -> simple class name).
   * Those classes hold parameterized checks (broadcasting, attributes, edge cases) that one catalogue
   * entry would only repeat.
   */
  static final Map<String, String> CHECKED_ELSEWHERE = checkedElsewhere();

  private static Map<String, String> checkedElsewhere() {
    Map<String, String> m = new LinkedHashMap<>();
    for (String op : List.of("Add", "Sub", "Mul", "Div", "Neg", "Sqrt", "Reciprocal", "Exp", "Log", "Abs", "Sigmoid", "Tanh",
        "Relu", "Max", "Min", "Identity")) {
      m.put(op, "ElementwiseGradTest");
    }
    for (String op : List.of("Pow", "Erf", "Asin", "Sin", "Cos", "Softplus", "LeakyRelu", "Where", "Cast", "Clip", "Gemm", "Sum")) {
      m.put(op, "MoreElementwiseGradTest");
    }
    for (String op : List.of("Conv", "ConvTranspose")) {
      m.put(op, "ConvGradTest");
    }
    for (String op : List.of("AveragePool", "MaxPool", "GlobalAveragePool", "GlobalMaxPool")) {
      m.put(op, "PoolGradTest");
    }
    for (String op : List.of("Softmax", "LogSoftmax", "LayerNormalization", "InstanceNormalization")) {
      m.put(op, "NormGradTest");
    }
    for (String op : List.of("ReduceSum", "ReduceMean", "ReduceSumSquare", "ReduceMax", "ReduceMin", "ReduceL2", "ReduceL1",
        "ReduceLogSumExp")) {
      m.put(op, "ReduceGradTest");
    }
    for (String op : List.of("Resize", "GridSample")) {
      m.put(op, "SamplingGradTest");
    }
    for (String op : List.of("Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Concat", "Split", "Slice", "Gather",
        "GatherElements", "Expand", "Tile", "Pad")) {
      m.put(op, "TensorGradTest");
    }
    m.put("MatMul", "ElementwiseGradTest");
    m.put("ai.vqclip.StraightThrough", "AutodiffEngineTest");
    m.put("ai.vqclip.ClampWithGrad", "AutodiffEngineTest");
    return java.util.Collections.unmodifiableMap(m);
  }

  /** Uniform values in (lo, hi) of a type. */
  static Tensor uniform(DType t, long[] shape, double lo, double hi, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    int n = 1;
    for (long s : shape) {
      n *= (int) s;
    }
    double[] d = new double[n];
    for (int i = 0; i < n; i++) {
      d[i] = lo + (hi - lo) * rnd.nextDouble();
    }
    return Tensor.fromDoubles(t, shape, d);
  }

  private static final class Cases {
    final List<Case> list = new ArrayList<>();

    /** A case over one graph built by {@code body}, which declares inputs and the output. */
    void add(String op, String name, DType t, Map<String, Tensor> given, List<String> wrt, int opset, Consumer<GraphBuilder> body) {
      GraphBuilder b = new GraphBuilder(op + "_" + name);
      if (opset != 0) {
        b.opset(opset);
      }
      body.accept(b);
      list.add(new Case(op, name, b.build(), given, wrt, t));
    }

    /** A unary op on x [3,5] with attributes set by {@code attrs}, inputs uniform in (lo, hi). */
    void unary(String op, String name, DType t, double lo, double hi, int opset, Consumer<GraphBuilder.OpBuilder> attrs) {
      add(op, name, t, Map.of("x", uniform(t, new long[] {3, 5}, lo, hi, 5)), List.of("x"), opset, b -> {
        Value x = b.input("x", t, Shape.of(3, 5));
        GraphBuilder.OpBuilder o = b.op(op).in(x);
        attrs.accept(o);
        b.output(o.out());
      });
    }
  }

  static List<Case> cases() {
    Cases c = new Cases();
    DType d = DType.DOUBLE;
    DType f = DType.FLOAT;
    // ---- activations. DOUBLE except Celu (float-only in the ONNX spec) and Gelu "none": ORT 1.29
    // runs Gelu through its function body, whose Erf has a float kernel only (so does the backward).
    c.unary("HardSigmoid", "default", d, -4, 4, 0, o -> {});
    c.unary("HardSigmoid", "alpha0.5_beta0.3", d, -3, 3, 0, o -> o.attr("alpha", 0.5f).attr("beta", 0.3f));
    c.unary("HardSwish", "default", d, -5, 5, 0, o -> {});
    c.unary("Elu", "default", d, -3, 3, 0, o -> {});
    c.unary("Elu", "alpha0.7", d, -3, 3, 0, o -> o.attr("alpha", 0.7f));
    c.unary("Selu", "default", d, -3, 3, 0, o -> {});
    c.unary("Selu", "alpha1.2_gamma0.9", d, -3, 3, 0, o -> o.attr("alpha", 1.2f).attr("gamma", 0.9f));
    c.unary("Celu", "default", f, -3, 3, 0, o -> {});
    c.unary("Celu", "alpha2", f, -3, 3, 0, o -> o.attr("alpha", 2f));
    c.unary("Softsign", "default", d, -3, 3, 0, o -> {});
    c.unary("Mish", "default", d, -4, 4, 0, o -> {});
    c.unary("Gelu", "none", f, -3, 3, 20, o -> {});
    c.unary("Gelu", "tanh", d, -3, 3, 20, o -> o.attr("approximate", "tanh"));
    for (long[] slope : new long[][] {{1}, {4, 1, 1}, {4, 3, 1}, {2, 4, 3, 5}}) {
      String name = "slope" + java.util.Arrays.toString(slope);
      c.add("PRelu", name, d, Map.of(), List.of("x", "s"), 0, b -> {
        Value x = b.input("x", d, Shape.of(2, 4, 3, 5));
        Value s = b.input("s", d, Shape.of(slope));
        b.output(b.op("PRelu").in(x, s).out());
      });
    }
    // ---- normalization
    for (long[] xs : new long[][] {{2, 3}, {2, 3, 4}, {2, 3, 4, 5}}) {
      String name = "x" + java.util.Arrays.toString(xs);
      Map<String, Tensor> given = Map.of("var", uniform(d, new long[] {3}, 0.5, 2, 9));
      c.add("BatchNormalization", name, d, given, List.of("x", "scale", "bias", "mean", "var"), 0, b -> {
        Value x = b.input("x", d, Shape.of(xs));
        Value[] p = new Value[4];
        String[] names = {"scale", "bias", "mean", "var"};
        for (int i = 0; i < 4; i++) {
          p[i] = b.input(names[i], d, Shape.of(3));
        }
        b.output(b.op("BatchNormalization").in(x, p[0], p[1], p[2], p[3]).attr("epsilon", 1e-3f).out());
      });
    }
    c.add("BatchNormalization", "x_only", d, Map.of("var", uniform(d, new long[] {3}, 0.5, 2, 9)), List.of("x"), 0, b -> {
      Value x = b.input("x", d, Shape.of(2, 3, 4, 4));
      Value[] p = new Value[4];
      String[] names = {"scale", "bias", "mean", "var"};
      for (int i = 0; i < 4; i++) {
        p[i] = b.input(names[i], d, Shape.of(3));
      }
      b.output(b.op("BatchNormalization").in(x, p[0], p[1], p[2], p[3]).out());
    });
    for (long p : new long[] {1, 2}) {
      for (long axis : new long[] {-1, 0, 1}) {
        c.add("LpNormalization", "p" + p + "_axis" + axis, d, Map.of(), List.of("x"), 0, b -> {
          Value x = b.input("x", d, Shape.of(3, 4));
          b.output(b.op("LpNormalization").in(x).attr("p", p).attr("axis", axis).out());
        });
      }
    }
    // ---- Einsum
    String[][] einsums = {
      {"bij,bjk->bik", "2,3,4", "2,4,5"},
      {"bhid,bhjd->bhij", "2,2,3,4", "2,2,5,4"},
      {"bhij,bhjd->bhid", "2,2,3,5", "2,2,5,4"},
      {"ij,jk", "3,4", "4,5"},
      {"i,j->ij", "3", "4"},
      {"ijk,k->i", "3,4,5", "5"},
      {"ij,ij->", "3,4", "3,4"},
      {"...ij,...jk->...ik", "2,3,4", "2,4,5"},
      {"ij->ji", "3,4"},
      {"ijk->", "2,3,4"},
      {"ijk->ki", "2,3,4"},
    };
    for (String[] e : einsums) {
      List<String> wrt = new ArrayList<>();
      for (int i = 1; i < e.length; i++) {
        wrt.add("x" + i);
      }
      c.add("Einsum", e[0], d, Map.of(), wrt, 0, b -> {
        Value[] xs = new Value[e.length - 1];
        for (int i = 1; i < e.length; i++) {
          long[] s = java.util.Arrays.stream(e[i].split(",")).mapToLong(Long::parseLong).toArray();
          xs[i - 1] = b.input("x" + i, d, Shape.of(s));
        }
        b.output(b.op("Einsum").in(xs).attr("equation", e[0]).out());
      });
    }
    // ---- CumSum, Trilu
    for (int exclusive = 0; exclusive <= 1; exclusive++) {
      for (int reverse = 0; reverse <= 1; reverse++) {
        for (long axis : new long[] {1, -3}) {
          long ex = exclusive;
          long rev = reverse;
          c.add("CumSum", "axis" + axis + "_ex" + ex + "_rev" + rev, d, Map.of(), List.of("x"), 0, b -> {
            Value x = b.input("x", d, Shape.of(3, 4, 2));
            b.output(b.op("CumSum").in(x, b.constant(Tensor.ofLongs(new long[] {}, axis))).attr("exclusive", ex).attr("reverse", rev).out());
          });
        }
      }
    }
    for (int upper = 0; upper <= 1; upper++) {
      for (Long k : new Long[] {null, -1L, 0L, 2L}) {
        long up = upper;
        c.add("Trilu", "upper" + up + "_k" + k, d, Map.of(), List.of("x"), 0, b -> {
          Value x = b.input("x", d, Shape.of(2, 4, 5));
          Value out = k == null
              ? b.op("Trilu").in(x).attr("upper", up).out()
              : b.op("Trilu").in(x, b.constant(Tensor.ofLongs(new long[] {}, k))).attr("upper", up).out();
          b.output(out);
        });
      }
    }
    // ---- Dropout in inference form is the identity
    c.add("Dropout", "inference", d, Map.of(), List.of("x"), 0, b -> {
      Value x = b.input("x", d, Shape.of(3, 4));
      b.output(b.op("Sin").in(b.op("Dropout").in(x, b.scalar(0.5, d)).out()).out());
    });
    c.add("Dropout", "training_mode_false", d, Map.of(), List.of("x"), 0, b -> {
      Value x = b.input("x", d, Shape.of(3, 4));
      Value off = b.constant(Tensor.ofBools(new long[] {}, false));
      b.output(b.op("Sin").in(b.op("Dropout").in(x, b.scalar(0.5, d), off).out()).out());
    });
    // ---- inverse trigonometry (float: ORT's CPU Acos/Atan kernels are float-only), Mean, CastLike, TopK
    c.unary("Acos", "default", f, -0.9, 0.9, 0, o -> {});
    c.unary("Atan", "default", f, -3, 3, 0, o -> {});
    // Mean: float, ORT's CPU kernel has no double variant
    c.add("Mean", "broadcast3", f, Map.of(), List.of("a", "b", "c"), 0, b -> {
      Value a = b.input("a", f, Shape.of(2, 3, 4));
      Value bb = b.input("b", f, Shape.of(3, 1));
      Value cc = b.input("c", f, Shape.of(4));
      b.output(b.op("Mean").in(a, bb, cc).out());
    });
    c.add("CastLike", "float_to_double", f, Map.of(), List.of("x"), 0, b -> {
      Value x = b.input("x", f, Shape.of(3, 4));
      b.output(b.op("CastLike").in(x, b.constant(Tensor.ofDoubles(new long[] {}, 0))).out());
    });
    for (long axis : new long[] {-1, 0, 1}) {
      for (long largest : new long[] {0, 1}) {
        c.add("TopK", "axis" + axis + "_largest" + largest, d, Map.of(), List.of("x"), 0, b -> {
          Value x = b.input("x", d, Shape.of(4, 5, 3));
          List<Value> o = b.op("TopK").in(x, b.constant(Tensor.ofLongs(new long[] {1}, 2))).attr("axis", axis)
              .attr("largest", largest).outs(2);
          b.output(o.get(0));
        });
      }
    }
    return c.list;
  }
}
