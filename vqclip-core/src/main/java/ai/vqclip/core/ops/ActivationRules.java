package ai.vqclip.core.ops;

import ai.vqclip.core.autodiff.VjpContext;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.ShapeInference;
import ai.vqclip.core.graph.Value;

/**
 * Op family (shape rule, VJP rule, FLOPs per op; see {@link OpTable}) of the pointwise activations
 * exporters emit: LeakyRelu, PRelu, Elu, Selu, Celu, HardSigmoid, HardSwish, Softplus, Softsign,
 * Mish and Gelu (opset 20, both approximations). Each rule multiplies the incoming gradient by the
 * derivative written out in ONNX ops; at the kinks of the piecewise ones the derivative of the
 * side with {@code x <= 0} (or of the clamped side) is taken, as PyTorch does.
 */
final class ActivationRules {
  private ActivationRules() {}

  /** Selu's default alpha and gamma (ONNX spec, the float32 values of the SELU paper's constants). */
  static final float SELU_ALPHA = 1.67326319217681884765625f;

  static final float SELU_GAMMA = 1.05070102214813232421875f;

  static void define(OpTable t) {
    t.op("LeakyRelu").shape(ShapeInference::same).grad(c -> {
      float alpha = c.node().attrFloat("alpha", 0.01f);
      c.setGrad(0, positiveOr(c, c.gradOutput(0), c.b().mul(c.gradOutput(0), c.b().scalarLike(alpha, c.input(0)))));
    });
    t.op("PRelu").shape(ShapeInference::binary).grad(ActivationRules::prelu);
    t.op("Elu").shape(ShapeInference::same).grad(c -> {
      // x <= 0: y = alpha (e^x - 1), dy/dx = y + alpha
      GraphBuilder b = c.b();
      float alpha = c.node().attrFloat("alpha", 1f);
      Value g = c.gradOutput(0);
      c.setGrad(0, positiveOr(c, g, b.mul(g, b.add(c.output(0), b.scalarLike(alpha, g)))));
    });
    t.op("Selu").shape(ShapeInference::same).grad(c -> {
      // x > 0: y = gamma x; x <= 0: y = gamma alpha (e^x - 1), dy/dx = y + gamma alpha
      GraphBuilder b = c.b();
      float alpha = c.node().attrFloat("alpha", SELU_ALPHA);
      float gamma = c.node().attrFloat("gamma", SELU_GAMMA);
      Value g = c.gradOutput(0);
      Value neg = b.mul(g, b.add(c.output(0), b.scalarLike((double) gamma * alpha, g)));
      c.setGrad(0, positiveOr(c, b.mul(g, b.scalarLike(gamma, g)), neg));
    });
    t.op("Celu").since(12).shape(ShapeInference::same).grad(c -> {
      // x <= 0: y = alpha (e^(x/alpha) - 1), dy/dx = e^(x/alpha)
      GraphBuilder b = c.b();
      float alpha = c.node().attrFloat("alpha", 1f);
      Value x = c.input(0);
      Value g = c.gradOutput(0);
      Value e = b.op("Exp").in(b.div(x, b.scalarLike(alpha, x))).out();
      c.setGrad(0, positiveOr(c, g, b.mul(g, e)));
    });
    t.op("HardSigmoid").shape(ShapeInference::same).grad(c -> {
      float alpha = c.node().attrFloat("alpha", 0.2f);
      float beta = c.node().attrFloat("beta", 0.5f);
      c.setGrad(0, c.b().mul(c.gradOutput(0), hardSigmoidSlope(c, alpha, beta)));
    });
    t.op("HardSwish").since(14).shape(ShapeInference::same).grad(c -> {
      // y = x hs(x), hs = HardSigmoid(alpha 1/6, beta 1/2): dy/dx = hs(x) + x hs'(x)
      GraphBuilder b = c.b();
      Value x = c.input(0);
      Value hs = b.op("HardSigmoid").in(x).attr("alpha", 1f / 6).attr("beta", 0.5f).out();
      Value d = b.add(hs, b.mul(x, hardSigmoidSlope(c, 1f / 6, 0.5f)));
      c.setGrad(0, b.mul(c.gradOutput(0), d));
    });
    t.op("Softplus").shape(ShapeInference::same).grad(c -> c.setGrad(0, c.b().mul(c.gradOutput(0), c.b().op("Sigmoid").in(c.input(0)).out())));
    t.op("Softsign").shape(ShapeInference::same).grad(c -> {
      // y = x / (1 + |x|): dy/dx = 1 / (1 + |x|)^2
      GraphBuilder b = c.b();
      Value x = c.input(0);
      Value den = b.add(b.scalarLike(1, x), b.op("Abs").in(x).out());
      c.setGrad(0, b.div(c.gradOutput(0), b.mul(den, den)));
    });
    t.op("Mish").since(18).shape(ShapeInference::same).grad(c -> {
      // y = x tanh(sp(x)), sp = softplus: dy/dx = t + x (1 - t^2) sigmoid(x), t = tanh(sp(x))
      GraphBuilder b = c.b();
      Value x = c.input(0);
      Value th = b.op("Tanh").in(b.op("Softplus").in(x).out()).out();
      Value s = b.op("Sigmoid").in(x).out();
      Value d = b.add(th, b.mul(b.mul(x, b.sub(b.scalarLike(1, x), b.mul(th, th))), s));
      c.setGrad(0, b.mul(c.gradOutput(0), d));
    });
    t.op("Gelu").since(20).shape(ShapeInference::same).grad(ActivationRules::gelu);
  }

  /** {@code Where(x > 0, pos, neg)}, the derivative split of the ReLU family. */
  private static Value positiveOr(VjpContext c, Value pos, Value neg) {
    GraphBuilder b = c.b();
    Value x = c.input(0);
    Value isPos = b.op("Greater").in(x, b.scalarLike(0, x)).out();
    return b.op("Where").in(isPos, pos, neg).out();
  }

  /** d/dx clamp(alpha x + beta, 0, 1): alpha strictly inside (0, 1), else 0. */
  private static Value hardSigmoidSlope(VjpContext c, float alpha, float beta) {
    GraphBuilder b = c.b();
    Value x = c.input(0);
    Value t = b.add(b.mul(x, b.scalarLike(alpha, x)), b.scalarLike(beta, x));
    Value inside = b.op("And")
        .in(b.op("Greater").in(t, b.scalarLike(0, x)).out(), b.op("Less").in(t, b.scalarLike(1, x)).out())
        .out();
    return b.op("Where").in(inside, b.scalarLike(alpha, x), b.scalarLike(0, x)).out();
  }

  /** y = x if x > 0 else slope x, slope broadcast to x (unidirectionally). */
  private static void prelu(VjpContext c) {
    GraphBuilder b = c.b();
    Value x = c.input(0);
    Value slope = c.input(1);
    Value g = c.gradOutput(0);
    Value isPos = b.op("Greater").in(x, b.scalarLike(0, x)).out();
    Value zero = b.scalarLike(0, x);
    if (c.needsGrad(0)) {
      c.setGrad(0, c.unbroadcast(b.op("Where").in(isPos, g, b.mul(g, slope)).out(), x));
    }
    if (c.needsGrad(1)) {
      c.setGrad(1, c.unbroadcast(b.op("Where").in(isPos, zero, b.mul(g, x)).out(), slope));
    }
  }

  /**
   * Gelu (opset 20). approximate="none": y = x Phi(x), dy/dx = Phi(x) + x phi(x). approximate="tanh":
   * y = x/2 (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3), dy/dx = (1 + t)/2 + x/2 (1 - t^2) du/dx.
   */
  private static void gelu(VjpContext c) {
    GraphBuilder b = c.b();
    Value x = c.input(0);
    Value g = c.gradOutput(0);
    String approx = c.node().attrString("approximate", "none");
    Value half = b.scalarLike(0.5, x);
    Value one = b.scalarLike(1, x);
    Value d;
    switch (approx) {
      case "none" -> {
        Value cdf = b.mul(half, b.add(one, b.op("Erf").in(b.mul(x, b.scalarLike(1 / Math.sqrt(2), x))).out()));
        Value pdf = b.mul(b.op("Exp").in(b.mul(b.mul(x, x), b.scalarLike(-0.5, x))).out(), b.scalarLike(1 / Math.sqrt(2 * Math.PI), x));
        d = b.add(cdf, b.mul(x, pdf));
      }
      case "tanh" -> {
        double k = Math.sqrt(2 / Math.PI);
        Value x2 = b.mul(x, x);
        Value u = b.mul(b.scalarLike(k, x), b.add(x, b.mul(b.scalarLike(0.044715, x), b.mul(x2, x))));
        Value t = b.op("Tanh").in(u).out();
        Value du = b.mul(b.scalarLike(k, x), b.add(one, b.mul(b.scalarLike(3 * 0.044715, x), x2)));
        d = b.add(b.mul(half, b.add(one, t)), b.mul(b.mul(half, x), b.mul(b.sub(one, b.mul(t, t)), du)));
      }
      default -> throw c.fail("approximate must be \"none\" or \"tanh\", got \"" + approx + "\"");
    }
    c.setGrad(0, b.mul(g, d));
  }
}
