package ai.vqclip.core.autodiff;

import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Value;

/** VJP rules of elementwise ops, activations, selection and casts, and the ops with no gradient. */
final class ElementwiseRules {
  private ElementwiseRules() {}

  static void register(VjpRegistry r) {
    r.registerNonDifferentiable(
        "Shape", "Size", "Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual", "And",
        "Or", "Not", "Xor", "Constant", "ConstantOfShape", "IsNaN", "IsInf", "Range");
    // Zero gradient almost everywhere: refused unless the caller chooses (VjpRegistry.chooseGradient).
    r.registerPiecewiseConstant("Floor", "Ceil", "Round", "Sign", "ArgMin", "ArgMax");
    r.register("Identity", c -> c.setGrad(0, c.gradOutput(0)));
    r.register("Dropout", ElementwiseRules::dropout);
    r.register("Add", c -> {
      c.setGrad(0, c.unbroadcast(c.gradOutput(0), c.input(0)));
      c.setGrad(1, c.unbroadcast(c.gradOutput(0), c.input(1)));
    });
    r.register("Sub", c -> {
      c.setGrad(0, c.unbroadcast(c.gradOutput(0), c.input(0)));
      if (c.needsGrad(1)) {
        c.setGrad(1, c.unbroadcast(c.b().neg(c.gradOutput(0)), c.input(1)));
      }
    });
    r.register("Mul", c -> {
      GraphBuilder b = c.b();
      Value g = c.gradOutput(0);
      if (c.needsGrad(0)) {
        c.setGrad(0, c.unbroadcast(b.mul(g, c.input(1)), c.input(0)));
      }
      if (c.needsGrad(1)) {
        c.setGrad(1, c.unbroadcast(b.mul(g, c.input(0)), c.input(1)));
      }
    });
    r.register("Div", c -> {
      GraphBuilder b = c.b();
      Value g = c.gradOutput(0);
      Value gOverB = b.div(g, c.input(1));
      c.setGrad(0, c.needsGrad(0) ? c.unbroadcast(gOverB, c.input(0)) : null);
      if (c.needsGrad(1)) {
        // d(a/b)/db = -(a/b)/b
        c.setGrad(1, c.unbroadcast(b.neg(b.mul(gOverB, c.output(0))), c.input(1)));
      }
    });
    r.register("Neg", c -> c.setGrad(0, c.b().neg(c.gradOutput(0))));
    r.register("Pow", c -> {
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
    r.register("Sqrt", c -> {
      GraphBuilder b = c.b();
      c.setGrad(0, b.div(b.mul(c.gradOutput(0), b.scalarLike(0.5, c.output(0))), c.output(0)));
    });
    r.register("Reciprocal", c -> {
      GraphBuilder b = c.b();
      Value y = c.output(0);
      c.setGrad(0, b.neg(b.mul(c.gradOutput(0), b.mul(y, y))));
    });
    r.register("Exp", c -> c.setGrad(0, c.b().mul(c.gradOutput(0), c.output(0))));
    r.register("Log", c -> c.setGrad(0, c.b().div(c.gradOutput(0), c.input(0))));
    r.register("Abs", c -> c.setGrad(0, c.b().mul(c.gradOutput(0), c.b().op("Sign").in(c.input(0)).out())));
    r.register("Sigmoid", c -> {
      GraphBuilder b = c.b();
      Value y = c.output(0);
      c.setGrad(0, b.mul(c.gradOutput(0), b.mul(y, b.sub(b.scalarLike(1, y), y))));
    });
    r.register("Tanh", c -> {
      GraphBuilder b = c.b();
      Value y = c.output(0);
      c.setGrad(0, b.mul(c.gradOutput(0), b.sub(b.scalarLike(1, y), b.mul(y, y))));
    });
    r.register("Erf", c -> {
      GraphBuilder b = c.b();
      Value x = c.input(0);
      Value e = b.op("Exp").in(b.neg(b.mul(x, x))).out();
      c.setGrad(0, b.mul(c.gradOutput(0), b.mul(e, b.scalarLike(2 / Math.sqrt(Math.PI), x))));
    });
    r.register("Relu", c -> {
      GraphBuilder b = c.b();
      Value pos = b.op("Greater").in(c.input(0), b.scalarLike(0, c.input(0))).out();
      c.setGrad(0, b.op("Where").in(pos, c.gradOutput(0), b.scalarLike(0, c.input(0))).out());
    });
    r.register("Asin", c -> {
      GraphBuilder b = c.b();
      Value x = c.input(0);
      Value s = b.op("Sqrt").in(b.sub(b.scalarLike(1, x), b.mul(x, x))).out();
      c.setGrad(0, b.div(c.gradOutput(0), s));
    });
    r.register("Sin", c -> c.setGrad(0, c.b().mul(c.gradOutput(0), c.b().op("Cos").in(c.input(0)).out())));
    r.register("Cos", c -> c.setGrad(0, c.b().neg(c.b().mul(c.gradOutput(0), c.b().op("Sin").in(c.input(0)).out()))));
    r.register("Max", ElementwiseRules::selectGrad);
    r.register("Min", ElementwiseRules::selectGrad);
    r.register("Sum", c -> {
      for (int i = 0; i < c.inputCount(); i++) {
        if (c.needsGrad(i)) {
          c.setGrad(i, c.unbroadcast(c.gradOutput(0), c.input(i)));
        }
      }
    });
    r.register("Where", c -> {
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
    r.register("Cast", c -> {
      DType from = c.input(0).dtype();
      c.setGrad(0, c.gradOutput(0).dtype() == from ? c.gradOutput(0) : c.b().cast(c.gradOutput(0), from));
    });
    r.register("Clip", c -> {
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
}
