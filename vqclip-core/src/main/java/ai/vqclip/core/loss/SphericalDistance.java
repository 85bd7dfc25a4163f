package ai.vqclip.core.loss;

import ai.vqclip.core.autodiff.GradientOverrides;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Value;

/**
 * The prompt loss of VQGAN-CLIP (METHOD.md B.6), as graph nodes. For image embeddings {@code u}
 * [n, D] and prompt embeddings {@code v} [k, D], with unit vectors {@code û, v̂}:
 *
 * <pre>
 *   d_ij = 2 * asin(|û_i - v̂_j| / 2)^2          (= θ²/2 for the angle θ between them)
 *   loss = |w| * mean_ij(sign(w) * d_ij)
 * </pre>
 *
 * and the gradient flows through {@code max(sign(w) * d_ij, stop)}: a positive prompt stops pulling
 * once its distance is below {@code stop}. Weight and stop are graph values (scalars), so a prompt
 * schedule changes only inputs, never the graph.
 */
public final class SphericalDistance {
  private SphericalDistance() {}

  /**
   * Row-wise L2 normalisation of [m, D] (no epsilon: CLIP embeddings are never zero).
   *
   * @param b the builder
   * @param x rows to normalise, [m, D]
   * @return the unit rows, [m, D]
   */
  public static Value normalize(GraphBuilder b, Value x) {
    Value norm = b.op("Sqrt").in(b.op("ReduceSumSquare").in(x, b.ints(-1)).attr("keepdims", 1L).out()).out();
    return b.div(x, norm);
  }

  /**
   * {@code d} [n, k]: the squared spherical distances between rows of {@code u} and rows of {@code
   * v}.
   *
   * @param b the builder
   * @param u embeddings [n, D] (normalised inside)
   * @param v embeddings [k, D] (normalised inside)
   * @return the distances, [n, k]
   */
  public static Value distances(GraphBuilder b, Value u, Value v) {
    Value un = b.unsqueeze(normalize(b, u), 1); // [n, 1, D]
    Value vn = b.unsqueeze(normalize(b, v), 0); // [1, k, D]
    // The tiny offset in fromChord keeps the gradient finite when an image and a prompt embedding
    // coincide (d/dx sqrt(x) is infinite at 0); it changes d by at most 5e-13.
    return fromChord(b, b.sub(un, vn));
  }

  /**
   * {@code d_i} [n]: the squared spherical distance between row i of {@code u} and row i of {@code
   * v} (both [n, D]).
   *
   * @param b the builder
   * @param u embeddings [n, D] (normalised inside)
   * @param v embeddings [n, D] (normalised inside)
   * @return the distances, [n]
   */
  public static Value rowwise(GraphBuilder b, Value u, Value v) {
    Value diff = b.sub(normalize(b, u), normalize(b, v));
    return fromChord(b, diff);
  }

  private static Value fromChord(GraphBuilder b, Value diff) {
    Value sumsq = b.op("ReduceSumSquare").in(diff, b.ints(-1)).attr("keepdims", 0L).out();
    Value chord = b.op("Sqrt").in(b.add(sumsq, b.scalarLike(1e-12, sumsq))).out();
    Value half = b.op("Min").in(b.mul(chord, b.scalarLike(0.5, chord)), b.scalarLike(1, chord)).out();
    Value angle = asinOfNonNegative(b, half);
    return b.mul(b.mul(angle, angle), b.scalarLike(2, angle));
  }

  /** Abramowitz & Stegun 4.4.46 coefficients: asin(x) = pi/2 - sqrt(1-x) * sum(a_k x^k), |error| <= 2e-8 on [0, 1]. */
  private static final double[] ASIN_COEFFS = {
    1.5707963050, -0.2145988016, 0.0889789874, -0.0501743046, 0.0308918810, -0.0170881256, 0.0066700901, -0.0012624911
  };

  /**
   * asin(x) for x in [0, 1] from Sqrt, Mul and Add only: ONNX Runtime's CUDA provider has no Asin
   * (nor Acos/Atan) kernel, and a CPU fallback inside the step graph would copy tensors across the bus
   * every iteration. The approximation's error (2e-8) is below float32 resolution.
   *
   * @param b the builder
   * @param x values in [0, 1]
   * @return asin(x), same shape
   */
  public static Value asinOfNonNegative(GraphBuilder b, Value x) {
    Value poly = b.scalarLike(ASIN_COEFFS[ASIN_COEFFS.length - 1], x);
    for (int k = ASIN_COEFFS.length - 2; k >= 0; k--) {
      poly = b.add(b.mul(poly, x), b.scalarLike(ASIN_COEFFS[k], x)); // Horner
    }
    Value root = b.op("Sqrt").in(b.sub(b.scalarLike(1, x), x)).out();
    return b.sub(b.scalarLike(Math.PI / 2, x), b.mul(root, poly));
  }

  /**
   * The weighted prompt loss, a scalar.
   *
   * @param b the builder
   * @param u image embeddings [n, D]
   * @param v prompt embeddings [k, D]
   * @param weight scalar weight w (any sign; 0 disables the prompt)
   * @param stop scalar stop value (-inf: never stop)
   * @return the loss, a scalar
   */
  public static Value loss(GraphBuilder b, Value u, Value v, Value weight, Value stop) {
    return weighted(b, distances(b, u, v), weight, stop);
  }

  /**
   * The weighted loss over matched rows: row i of {@code u} against row i of {@code v} (both
   * [n, D]), as for an image prompt re-augmented in lockstep with the cutouts.
   *
   * @param b the builder
   * @param u image embeddings [n, D]
   * @param v prompt embeddings [n, D], one per cutout
   * @param weight scalar weight w (any sign; 0 disables the prompt)
   * @param stop scalar stop value (-inf: never stop)
   * @return the loss, a scalar
   */
  public static Value pairedLoss(GraphBuilder b, Value u, Value v, Value weight, Value stop) {
    return weighted(b, rowwise(b, u, v), weight, stop);
  }

  /**
   * The weighted loss of distances {@code d} (any shape): {@code |w| * mean(sign(w) * d)}, with the
   * gradient through {@code max(sign(w) * d, stop)} (METHOD.md B.6). Used with every {@link
   * ai.vqclip.core.PromptLoss}.
   *
   * @param b the builder
   * @param d the distances
   * @param weight scalar weight w (any sign; 0 disables the term)
   * @param stop scalar stop value (-inf: never stop)
   * @return the loss, a scalar
   */
  public static Value weighted(GraphBuilder b, Value d, Value weight, Value stop) {
    Value sign = b.op("Sign").in(weight).out();
    Value signed = b.mul(d, sign);
    Value stopped = b.op("Max").in(signed, stop).out();
    // Forward value: sign*d; gradient: through max(sign*d, stop) (METHOD.md B.6).
    Value routed = GradientOverrides.straightThrough(b, signed, stopped);
    Value mean = b.reduceMean(routed, false);
    return b.mul(mean, b.op("Abs").in(weight).out());
  }
}
