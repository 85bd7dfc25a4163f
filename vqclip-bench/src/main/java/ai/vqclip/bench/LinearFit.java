package ai.vqclip.bench;

/**
 * An ordinary least-squares line {@code y = intercept + slope * x} through measured points, with
 * the coefficient of determination and the largest residual relative to its measured value: how
 * the per-step cost scales with cutouts or pixels.
 *
 * @param intercept the fitted value at x = 0
 * @param slope the fitted increase per unit of x
 * @param r2 coefficient of determination, 1 for points exactly on the line
 * @param maxRelativeResidual largest |y - fit| / |y| over the points
 * @param points how many points were fitted
 */
public record LinearFit(double intercept, double slope, double r2, double maxRelativeResidual, int points) {
  /**
   * Fits a line through {@code (x[i], y[i])}.
   *
   * @throws IllegalArgumentException with fewer than two points, arrays of different lengths,
   *     non-finite values or all x equal
   */
  public static LinearFit of(double[] x, double[] y) {
    if (x.length != y.length || x.length < 2) {
      throw new IllegalArgumentException("a line needs two or more (x, y) points of equal count, got " + x.length + " x and " + y.length + " y");
    }
    int n = x.length;
    double mx = 0;
    double my = 0;
    for (int i = 0; i < n; i++) {
      if (!Double.isFinite(x[i]) || !Double.isFinite(y[i])) {
        throw new IllegalArgumentException("point " + i + " is not finite: (" + x[i] + ", " + y[i] + ")");
      }
      mx += x[i] / n;
      my += y[i] / n;
    }
    double sxx = 0;
    double sxy = 0;
    double syy = 0;
    for (int i = 0; i < n; i++) {
      sxx += (x[i] - mx) * (x[i] - mx);
      sxy += (x[i] - mx) * (y[i] - my);
      syy += (y[i] - my) * (y[i] - my);
    }
    if (sxx == 0) {
      throw new IllegalArgumentException("every x is " + x[0] + ": no line can be fitted");
    }
    double slope = sxy / sxx;
    double intercept = my - slope * mx;
    double sse = 0;
    double worst = 0;
    for (int i = 0; i < n; i++) {
      double r = y[i] - (intercept + slope * x[i]);
      sse += r * r;
      worst = Math.max(worst, Math.abs(r) / Math.max(Math.abs(y[i]), Double.MIN_NORMAL));
    }
    double r2 = syy == 0 ? 1 : 1 - sse / syy;
    return new LinearFit(intercept, slope, r2, worst, n);
  }
}
