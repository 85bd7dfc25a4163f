package ai.vqclip.core.ops;

import ai.vqclip.core.autodiff.VjpContext;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Node;
import ai.vqclip.core.graph.ShapeInference;
import ai.vqclip.core.graph.Value;

/**
 * The elementwise op family (see {@link OpTable}): arithmetic, math functions, selection, casts,
 * comparisons and logic (no gradient), and the piecewise-constant ops (Round, Floor, Ceil, Sign,
 * ArgMax, ArgMin).
 */
final class ElementwiseRules {
  private ElementwiseRules() {}

  static void define(OpTable t) {
    // No gradient: integer, boolean or constant outputs.
    t.op("Shape").shape(ShapeInference::shape).noGradient();
    t.op("Size").shape(ShapeInference::size).noGradient();
    t.op("Equal").shape(ShapeInference::comparison).noGradient();
    t.op("Greater").shape(ShapeInference::comparison).noGradient();
    t.op("Less").shape(ShapeInference::comparison).noGradient();
    t.op("GreaterOrEqual").since(12).shape(ShapeInference::comparison).noGradient();
    t.op("LessOrEqual").since(12).shape(ShapeInference::comparison).noGradient();
    t.op("And").shape(ShapeInference::comparison).noGradient();
    t.op("Or").shape(ShapeInference::comparison).noGradient();
    t.op("Not").shape(ShapeInference::not).noGradient();
    t.op("Xor").shape(ShapeInference::comparison).noGradient();
    t.op("Constant").shape(ShapeInference::constant).noGradient();
    t.op("ConstantOfShape").since(9).shape(ShapeInference::constantOfShape).noGradient();
    t.op("IsNaN").since(9).shape(ShapeInference::isNaN).noGradient();
    t.op("IsInf").since(10).shape(ShapeInference::isInf).noGradient();
    t.op("Range").since(11).shape(ShapeInference::range).noGradient();
    // Zero gradient almost everywhere: refused unless the caller chooses (VjpRegistry.chooseGradient).
    t.op("Floor").shape(ShapeInference::same).piecewiseConstant();
    t.op("Ceil").shape(ShapeInference::same).piecewiseConstant();
    t.op("Round").since(11).shape(ShapeInference::same).piecewiseConstant();
    t.op("Sign").since(9).shape(ShapeInference::same).piecewiseConstant();
    t.op("ArgMin").shape(ShapeInference::argReduce).piecewiseConstant();
    t.op("ArgMax").shape(ShapeInference::argReduce).piecewiseConstant();
    // Shape rule only: fmod's gradient w.r.t. the divisor is -trunc(a/b), a piecewise-constant
    // quotient with jumps, so no rule is offered (differentiating through it is refused).
    t.op("Mod").since(10).shape(ShapeInference::binary);
    // d acos(x) = -dx / sqrt(1 - x^2)
    t.op("Acos").since(7).shape(ShapeInference::same).grad(c -> {
      GraphBuilder b = c.b();
      Value x = c.input(0);
      Value s = b.op("Sqrt").in(b.sub(b.scalarLike(1, x), b.mul(x, x))).out();
      c.setGrad(0, b.neg(b.div(c.gradOutput(0), s)));
    });
    // d atan(x) = dx / (1 + x^2)
    t.op("Atan").since(7).shape(ShapeInference::same).grad(c -> {
      GraphBuilder b = c.b();
      Value x = c.input(0);
      c.setGrad(0, b.div(c.gradOutput(0), b.add(b.scalarLike(1, x), b.mul(x, x))));
    });
    // Mean of n broadcast inputs: each gets g / n, summed back to its own shape.
    t.op("Mean").shape(ShapeInference::variadic).grad(c -> {
      GraphBuilder b = c.b();
      Value share = b.div(c.gradOutput(0), b.scalarLike(c.inputCount(), c.gradOutput(0)));
      for (int i = 0; i < c.inputCount(); i++) {
        if (c.needsGrad(i)) {
          c.setGrad(i, c.unbroadcast(share, c.input(i)));
        }
      }
    });
    // CastLike(x, like) is Cast(x, to = like's type): the gradient is cast back to x's type; the
    // second input only lends its type.
    t.op("CastLike").since(15).shape(ShapeInference::castLike).grad(c -> {
      DType from = c.input(0).dtype();
      c.setGrad(0, c.gradOutput(0).dtype() == from ? c.gradOutput(0) : c.b().cast(c.gradOutput(0), from));
    });
    t.op("Identity").shape(ShapeInference::same).grad(c -> c.setGrad(0, c.gradOutput(0)));
    t.op("Dropout").shape(ShapeInference::dropout).grad(ElementwiseRules::dropout);
    t.op("Add").shape(ShapeInference::binary).grad(c -> {
      c.setGrad(0, c.unbroadcast(c.gradOutput(0), c.input(0)));
      c.setGrad(1, c.unbroadcast(c.gradOutput(0), c.input(1)));
    });
    t.op("Sub").shape(ShapeInference::binary).grad(c -> {
      c.setGrad(0, c.unbroadcast(c.gradOutput(0), c.input(0)));
      if (c.needsGrad(1)) {
        c.setGrad(1, c.unbroadcast(c.b().neg(c.gradOutput(0)), c.input(1)));
      }
    });
    t.op("Mul").shape(ShapeInference::binary).grad(c -> {
      GraphBuilder b = c.b();
      Value g = c.gradOutput(0);
      if (swish(c)) {
        return;
      }
      if (c.needsGrad(0)) {
        c.setGrad(0, c.unbroadcast(b.mul(g, c.input(1)), c.input(0)));
      }
      if (c.needsGrad(1)) {
        c.setGrad(1, c.unbroadcast(b.mul(g, c.input(0)), c.input(1)));
      }
    });
    t.op("Div").shape(ShapeInference::binary).grad(c -> {
      GraphBuilder b = c.b();
      Value g = c.gradOutput(0);
      Value gOverB = b.div(g, c.input(1));
      c.setGrad(0, c.needsGrad(0) ? c.unbroadcast(gOverB, c.input(0)) : null);
      if (c.needsGrad(1)) {
        // d(a/b)/db = -(a/b)/b
        c.setGrad(1, c.unbroadcast(b.neg(b.mul(gOverB, c.output(0))), c.input(1)));
      }
    });
    t.op("Neg").shape(ShapeInference::same).grad(c -> c.setGrad(0, c.b().neg(c.gradOutput(0))));
    t.op("Pow").shape(ShapeInference::binary).grad(c -> {
      GraphBuilder b = c.b();
      Value g = c.gradOutput(0);
      Value x = c.input(0);
      Value p = c.input(1);
      if (c.needsGrad(0)) {
        Value pT = p.dtype() == x.dtype() ? p : b.cast(p, x.dtype());
        // p * x^(p-1), written as p * y / x would fail at x = 0
        Value pm1 = b.sub(pT, b.scalarLike(1, pT));
        Value d = b.mul(pT, b.op("Pow").in(x, pm1).out());
        c.setGrad(0, c.unbroadcast(b.mul(g, d), x));
      }
      if (c.needsGrad(1)) {
        Value lx = b.op("Log").in(x).out();
        Value d = b.mul(b.mul(g, c.output(0)), lx);
        c.setGrad(1, c.unbroadcast(b.cast(d, p.dtype()), p));
      }
    });
    t.op("Sqrt").shape(ShapeInference::same).grad(c -> {
      GraphBuilder b = c.b();
      c.setGrad(0, b.div(b.mul(c.gradOutput(0), b.scalarLike(0.5, c.output(0))), c.output(0)));
    });
    t.op("Reciprocal").shape(ShapeInference::same).grad(c -> {
      GraphBuilder b = c.b();
      Value y = c.output(0);
      c.setGrad(0, b.neg(b.mul(c.gradOutput(0), b.mul(y, y))));
    });
    t.op("Exp").shape(ShapeInference::same).grad(c -> c.setGrad(0, c.b().mul(c.gradOutput(0), c.output(0))));
    t.op("Log").shape(ShapeInference::same).grad(c -> c.setGrad(0, c.b().div(c.gradOutput(0), c.input(0))));
    t.op("Abs").shape(ShapeInference::same).grad(c -> c.setGrad(0, c.b().mul(c.gradOutput(0), c.b().op("Sign").in(c.input(0)).out())));
    t.op("Sigmoid").shape(ShapeInference::same).grad(c -> {
      GraphBuilder b = c.b();
      Value y = c.output(0);
      c.setGrad(0, b.mul(c.gradOutput(0), b.mul(y, b.sub(b.scalarLike(1, y), y))));
    });
    t.op("Tanh").shape(ShapeInference::same).grad(c -> {
      GraphBuilder b = c.b();
      Value y = c.output(0);
      c.setGrad(0, b.mul(c.gradOutput(0), b.sub(b.scalarLike(1, y), b.mul(y, y))));
    });
    t.op("Erf").since(9).shape(ShapeInference::same).grad(c -> {
      GraphBuilder b = c.b();
      Value x = c.input(0);
      Value e = b.op("Exp").in(b.neg(b.mul(x, x))).out();
      c.setGrad(0, b.mul(c.gradOutput(0), b.mul(e, b.scalarLike(2 / Math.sqrt(Math.PI), x))));
    });
    t.op("Relu").shape(ShapeInference::same).grad(c -> {
      GraphBuilder b = c.b();
      Value pos = b.op("Greater").in(c.input(0), b.scalarLike(0, c.input(0))).out();
      c.setGrad(0, b.op("Where").in(pos, c.gradOutput(0), b.scalarLike(0, c.input(0))).out());
    });
    t.op("Asin").since(7).shape(ShapeInference::same).grad(c -> {
      GraphBuilder b = c.b();
      Value x = c.input(0);
      Value s = b.op("Sqrt").in(b.sub(b.scalarLike(1, x), b.mul(x, x))).out();
      c.setGrad(0, b.div(c.gradOutput(0), s));
    });
    t.op("Sin").since(7).shape(ShapeInference::same).grad(c -> c.setGrad(0, c.b().mul(c.gradOutput(0), c.b().op("Cos").in(c.input(0)).out())));
    t.op("Cos").since(7).shape(ShapeInference::same).grad(c -> c.setGrad(0, c.b().neg(c.b().mul(c.gradOutput(0), c.b().op("Sin").in(c.input(0)).out()))));
    t.op("Max").shape(ShapeInference::variadic).grad(ElementwiseRules::selectGrad);
    t.op("Min").shape(ShapeInference::variadic).grad(ElementwiseRules::selectGrad);
    t.op("Sum").shape(ShapeInference::variadic).grad(c -> {
      for (int i = 0; i < c.inputCount(); i++) {
        if (c.needsGrad(i)) {
          c.setGrad(i, c.unbroadcast(c.gradOutput(0), c.input(i)));
        }
      }
    });
    t.op("Where").since(9).shape(ShapeInference::where).grad(c -> {
      GraphBuilder b = c.b();
      Value g = c.gradOutput(0);
      Value zero = b.scalarLike(0, g);
      if (c.needsGrad(1)) {
        c.setGrad(1, c.unbroadcast(b.op("Where").in(c.input(0), g, zero).out(), c.input(1)));
      }
      if (c.needsGrad(2)) {
        c.setGrad(2, c.unbroadcast(b.op("Where").in(c.input(0), zero, g).out(), c.input(2)));
      }
    });
    t.op("Cast").shape(ShapeInference::cast).grad(c -> {
      DType from = c.input(0).dtype();
      c.setGrad(0, c.gradOutput(0).dtype() == from ? c.gradOutput(0) : c.b().cast(c.gradOutput(0), from));
    });
    t.op("Clip").shape(ShapeInference::same).grad(c -> {
      GraphBuilder b = c.b();
      Value x = c.input(0);
      Value g = c.gradOutput(0);
      Value zero = b.scalarLike(0, g);
      Value inside = null;
      Value min = c.input(1);
      Value max = c.input(2);
      if (min != null) {
        Value ge = b.op("GreaterOrEqual").in(x, min).out();
        inside = ge;
        if (c.needsGrad(1)) {
          c.setGrad(1, c.unbroadcast(b.op("Where").in(ge, zero, g).out(), min));
        }
      }
      if (max != null) {
        Value le = b.op("LessOrEqual").in(x, max).out();
        inside = inside == null ? le : b.op("And").in(inside, le).out();
        if (c.needsGrad(2)) {
          c.setGrad(2, c.unbroadcast(b.op("Where").in(le, zero, g).out(), max));
        }
      }
      c.setGrad(0, inside == null ? g : b.op("Where").in(inside, g, zero).out());
    });
  }

  /**
   * Dropout in inference is the identity. With a training_mode input that is not the constant
   * false, the forward pass is random (and scaled by 1/(1-ratio)), so it is refused.
   */
  private static void dropout(VjpContext c) {
    if (c.input(2) != null) {
      ai.vqclip.core.Tensor t = c.constantInput(2);
      if (t == null || t.elementCount() != 1 || t.toDoubles()[0] != 0) {
        throw c.fail("Dropout with training_mode " + (t == null ? "given by a non-constant input" : "= 1")
            + " drops random elements in the forward pass and is not differentiated; export the model in eval mode "
            + "(training_mode absent or false) or remove the Dropout");
      }
    }
    c.setGrad(0, c.gradOutput(0));
  }

  /** Max/Min: the gradient goes to the inputs equal to the output, split evenly among ties. */
  private static void selectGrad(VjpContext c) {
    GraphBuilder b = c.b();
    Value y = c.output(0);
    Value g = c.gradOutput(0);
    Value[] masks = new Value[c.inputCount()];
    Value count = null;
    for (int i = 0; i < c.inputCount(); i++) {
      masks[i] = b.cast(b.op("Equal").in(c.input(i), y).out(), y.dtype());
      count = count == null ? masks[i] : b.add(count, masks[i]);
    }
    Value share = b.div(g, count);
    for (int i = 0; i < c.inputCount(); i++) {
      if (c.needsGrad(i)) {
        c.setGrad(i, c.unbroadcast(b.mul(share, masks[i]), c.input(i)));
      }
    }
  }

  /**
   * y = x * Sigmoid(x) (swish, SiLU) as one fused gradient: dy/dx = s + x s (1 - s) = s + y (1 - s)
   * with s the forward Sigmoid output, four passes over the tensor instead of the six that the Mul
   * and Sigmoid rules emit one by one. The Sigmoid node then receives no gradient from this Mul (its
   * part is in dx already); gradients from its other consumers, if any, still reach x through it.
   *
   * @return whether the node was a swish and its gradient has been set
   */
  private static boolean swish(VjpContext c) {
    for (int xi = 0; xi < 2; xi++) {
      Node p = c.inputProducer(1 - xi);
      Value x = c.input(xi);
      if (p != null && p.opType().equals("Sigmoid") && p.domain().isEmpty() && p.inputs().get(0).equals(c.node().inputs().get(xi))
          && VjpContext.sameStatic(x, c.output(0))) {
        GraphBuilder b = c.b();
        Value s = c.input(1 - xi);
        Value y = c.output(0);
        Value d = b.add(s, b.mul(y, b.sub(b.scalarLike(1, s), s)));
        c.setGrad(xi, b.mul(c.gradOutput(0), d));
        return true;
      }
    }
    return false;
  }
}
