package ai.vqclip.onnx.autodiff;

import static ai.vqclip.onnx.testing.GradCheck.TOL_F32;
import static ai.vqclip.onnx.testing.GradCheck.TOL_F64;
import static ai.vqclip.onnx.testing.GradCheck.assertGradient;
import static ai.vqclip.onnx.testing.GradCheck.randomInputs;

import ai.vqclip.core.graph.DType;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Runs every finite-difference check of {@link GradCatalogue}. */
class CatalogueGradTest {
  private static final long SEED = 23;

  static List<GradCatalogue.Case> cases() {
    return GradCatalogue.cases();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void gradientMatchesFiniteDifferences(GradCatalogue.Case c) {
    boolean dbl = c.dtype() == DType.DOUBLE;
    assertGradient(c.graph(), randomInputs(c.graph(), c.given(), SEED), c.wrt(), dbl ? 1e-6 : 1e-2, dbl ? TOL_F64 : TOL_F32, SEED);
  }
}
