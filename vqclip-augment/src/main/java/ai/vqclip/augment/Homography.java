package ai.vqclip.augment;

/**
 * 3x3 homographies as row-major {@code double[9]}: products, inverses, the homography through four
 * point pairs, and the common affine building blocks. Host-side helpers of the geometric
 * augmentations.
 */
public final class Homography {
  private Homography() {}

  /**
   * The identity.
   *
   * @return a new identity matrix
   */
  public static double[] identity() {
    return new double[] {1, 0, 0, 0, 1, 0, 0, 0, 1};
  }

  /**
   * a * b (apply b first).
   *
   * @param a the homography applied second
   * @param b the homography applied first
   * @return the new product matrix
   */
  public static double[] multiply(double[] a, double[] b) {
    double[] r = new double[9];
    for (int i = 0; i < 3; i++) {
      for (int j = 0; j < 3; j++) {
        double s = 0;
        for (int k = 0; k < 3; k++) {
          s += a[3 * i + k] * b[3 * k + j];
        }
        r[3 * i + j] = s;
      }
    }
    return r;
  }

  /**
   * The inverse (adjugate over determinant).
   *
   * @param m the homography to invert
   * @return a new matrix, the inverse of {@code m}
   * @throws IllegalArgumentException if {@code m} is singular or its determinant is not finite
   */
  public static double[] invert(double[] m) {
    double a = m[0], b = m[1], c = m[2], d = m[3], e = m[4], f = m[5], g = m[6], h = m[7], i = m[8];
    double ca = e * i - f * h;
    double cb = -(d * i - f * g);
    double cc = d * h - e * g;
    double det = a * ca + b * cb + c * cc;
    if (det == 0 || !Double.isFinite(det)) {
      throw new IllegalArgumentException("homography is singular (determinant " + det + ")");
    }
    double[] r = {
      ca, -(b * i - c * h), b * f - c * e,
      cb, a * i - c * g, -(a * f - c * d),
      cc, -(a * h - b * g), a * e - b * d
    };
    for (int k = 0; k < 9; k++) {
      r[k] /= det;
    }
    return r;
  }

  /**
   * Maps (x, y) through {@code m}: {x', y'}.
   *
   * @param m the homography
   * @param x the point's x coordinate
   * @param y the point's y coordinate
   * @return the mapped point {x', y'} (infinite or NaN if the point maps to infinity)
   */
  public static double[] apply(double[] m, double x, double y) {
    double w = m[6] * x + m[7] * y + m[8];
    return new double[] {(m[0] * x + m[1] * y + m[2]) / w, (m[3] * x + m[4] * y + m[5]) / w};
  }

  /**
   * Translation by (tx, ty).
   *
   * @param tx shift along x, in pixels
   * @param ty shift along y, in pixels
   * @return a new translation matrix
   */
  public static double[] translation(double tx, double ty) {
    return new double[] {1, 0, tx, 0, 1, ty, 0, 0, 1};
  }

  /**
   * Scaling by (sx, sy) about the origin.
   *
   * @param sx scale factor along x
   * @param sy scale factor along y
   * @return a new scaling matrix
   */
  public static double[] scaling(double sx, double sy) {
    return new double[] {sx, 0, 0, 0, sy, 0, 0, 0, 1};
  }

  /**
   * Rotation by {@code radians} about the origin.
   *
   * @param radians rotation angle; positive turns x towards y
   * @return a new rotation matrix
   */
  public static double[] rotation(double radians) {
    double c = Math.cos(radians);
    double s = Math.sin(radians);
    return new double[] {c, -s, 0, s, c, 0, 0, 0, 1};
  }

  /**
   * Shear by angles (radians) along x and y.
   *
   * @param sx shear angle along x, in radians
   * @param sy shear angle along y, in radians
   * @return a new shear matrix
   */
  public static double[] shear(double sx, double sy) {
    return new double[] {1, Math.tan(sx), 0, Math.tan(sy), 1, 0, 0, 0, 1};
  }

  /**
   * {@code m} applied about the point (cx, cy) instead of the origin.
   *
   * @param m the homography
   * @param cx x coordinate of the fixed point
   * @param cy y coordinate of the fixed point
   * @return a new matrix, {@code m} conjugated by the translation to (cx, cy)
   */
  public static double[] about(double[] m, double cx, double cy) {
    return multiply(translation(cx, cy), multiply(m, translation(-cx, -cy)));
  }

  /**
   * The homography mapping each {@code from[k]} to {@code to[k]} (four points, {x, y} each, no
   * three collinear), by solving the 8x8 direct linear system with partial pivoting.
   *
   * @param from four source points, {x, y} each
   * @param to four target points, {x, y} each
   * @return the homography (normalised so that its last element is 1)
   * @throws IllegalArgumentException if the correspondence is degenerate (e.g. three collinear
   *     points)
   */
  public static double[] fromPoints(double[][] from, double[][] to) {
    double[][] a = new double[8][9];
    for (int k = 0; k < 4; k++) {
      double x = from[k][0];
      double y = from[k][1];
      double u = to[k][0];
      double v = to[k][1];
      a[2 * k] = new double[] {x, y, 1, 0, 0, 0, -u * x, -u * y, u};
      a[2 * k + 1] = new double[] {0, 0, 0, x, y, 1, -v * x, -v * y, v};
    }
    for (int col = 0; col < 8; col++) {
      int piv = col;
      for (int r = col + 1; r < 8; r++) {
        if (Math.abs(a[r][col]) > Math.abs(a[piv][col])) {
          piv = r;
        }
      }
      if (Math.abs(a[piv][col]) < 1e-12) {
        throw new IllegalArgumentException("degenerate point correspondence for a homography");
      }
      double[] t = a[col];
      a[col] = a[piv];
      a[piv] = t;
      for (int r = 0; r < 8; r++) {
        if (r != col) {
          double f = a[r][col] / a[col][col];
          for (int c = col; c < 9; c++) {
            a[r][c] -= f * a[col][c];
          }
        }
      }
    }
    double[] h = new double[9];
    for (int r = 0; r < 8; r++) {
      h[r] = a[r][8] / a[r][r];
    }
    h[8] = 1;
    return h;
  }
}
