package ai.vqclip.onnx.autodiff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.autodiff.VjpRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Every op type with a gradient rule in {@link VjpRegistry#standard()} has a finite-difference
 * check: a {@link GradCatalogue} case (run by {@link CatalogueGradTest}) or a listed older test
 * class that builds the op and runs GradCheck. Adding a rule without a check fails here.
 */
class GradCoverageTest {
  /** How the older test classes build some ops: through GraphBuilder helpers instead of op("X"). */
  private static final Map<String, String> HELPERS = Map.ofEntries(
      Map.entry("Add", ".add("), Map.entry("Sub", ".sub("), Map.entry("Mul", ".mul("), Map.entry("Div", ".div("),
      Map.entry("Neg", ".neg("), Map.entry("MatMul", ".matmul("), Map.entry("Transpose", ".transpose("),
      Map.entry("Reshape", ".reshape("), Map.entry("Unsqueeze", ".unsqueeze("), Map.entry("Squeeze", ".squeeze("),
      Map.entry("Cast", ".cast("), Map.entry("Expand", ".expand("),
      Map.entry("ai.vqclip.StraightThrough", "straightThrough("), Map.entry("ai.vqclip.ClampWithGrad", "clampWithGrad("));

  private static final Path TEST_SOURCES = Path.of("src/test/java/ai/vqclip/onnx/autodiff");

  private static Set<String> catalogueOps() {
    Set<String> s = new TreeSet<>();
    GradCatalogue.cases().forEach(c -> s.add(c.op()));
    return s;
  }

  /** The differentiable ops of {@code r} that neither the catalogue nor an older test class checks. */
  private static Set<String> unchecked(VjpRegistry r) {
    Set<String> missing = new TreeSet<>(r.differentiableOpKeys());
    missing.removeAll(catalogueOps());
    missing.removeAll(GradCatalogue.CHECKED_ELSEWHERE.keySet());
    return missing;
  }

  @Test
  void everyDifferentiableOpHasAFiniteDifferenceCheck() {
    Set<String> differentiable = VjpRegistry.standard().differentiableOpKeys();
    assertTrue(differentiable.size() > 50, "the registry lists only " + differentiable.size() + " differentiable ops: " + differentiable);
    Set<String> missing = unchecked(VjpRegistry.standard());
    assertEquals(Set.of(), missing,
        "differentiable ops without a finite-difference check: add cases to GradCatalogue.cases() for " + missing);
  }

  @Test
  void aNewRuleWithoutACheckIsReported() {
    VjpRegistry r = VjpRegistry.standard().copy().register("my.Unchecked", c -> c.setGrad(0, c.gradOutput(0)));
    assertEquals(Set.of("my.Unchecked"), unchecked(r));
    // ops without a gradient need no check
    r.registerNonDifferentiable("my.Unchecked");
    assertEquals(Set.of(), unchecked(r));
  }

  @Test
  void catalogueNamesOnlyDifferentiableOps() {
    VjpRegistry r = VjpRegistry.standard();
    Set<String> stale = new TreeSet<>(catalogueOps());
    stale.addAll(GradCatalogue.CHECKED_ELSEWHERE.keySet());
    stale.removeAll(r.differentiableOpKeys());
    assertEquals(Set.of(), stale, "GradCatalogue names ops that have no gradient rule");
  }

  @Test
  void catalogueCasesExerciseTheirOp() {
    for (GradCatalogue.Case c : GradCatalogue.cases()) {
      String type = c.op().contains(".") ? c.op().substring(c.op().lastIndexOf('.') + 1) : c.op();
      assertTrue(c.graph().nodes().stream().anyMatch(n -> n.opType().equals(type)), () -> c + " has no " + type + " node");
      assertTrue(!c.wrt().isEmpty(), () -> c + " differentiates nothing");
    }
  }

  @Test
  void opsCheckedElsewhereAreBuiltAndCheckedThere() throws IOException {
    for (Map.Entry<String, String> e : GradCatalogue.CHECKED_ELSEWHERE.entrySet()) {
      Path src = TEST_SOURCES.resolve(e.getValue() + ".java");
      assertTrue(Files.isRegularFile(src), () -> "no test class " + src + " for " + e.getKey());
      String text = Files.readString(src);
      String op = e.getKey();
      String type = op.contains(".") ? op.substring(op.lastIndexOf('.') + 1) : op;
      boolean builds = Pattern.compile("\"" + Pattern.quote(type) + "[\",]").matcher(text).find()
          || (HELPERS.containsKey(op) && text.contains(HELPERS.get(op)));
      assertTrue(builds, () -> e.getValue() + " does not build op " + op);
      assertTrue(List.of("assertGradient", "GradCheck.check").stream().anyMatch(text::contains),
          () -> e.getValue() + " runs no finite-difference check");
    }
  }
}
