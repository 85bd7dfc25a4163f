package ai.vqclip.core.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.autodiff.VjpRegistry;
import ai.vqclip.core.graph.ShapeInference;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** docs/ops.md is what the op table generates, and the table is what the registries use. */
class OpsDocTest {
  private static final Path DOC = Path.of("..", "docs", "ops.md");
  private static final String REGENERATE = "mvn -B -o -pl vqclip-core test -Dtest=OpsDocTest -Dvqclip.writeOpsDoc=true";

  @Test
  void committedOpsListMatchesTheOpTable() throws IOException {
    String md = OpsDoc.markdown(OpTable.standard());
    if (Boolean.getBoolean("vqclip.writeOpsDoc")) {
      Files.writeString(DOC, md, StandardCharsets.UTF_8);
    }
    assertTrue(Files.isRegularFile(DOC), "missing " + DOC.toAbsolutePath().normalize() + "; generate it with: " + REGENERATE);
    assertEquals(md, Files.readString(DOC, StandardCharsets.UTF_8),
        "docs/ops.md is stale (the op table changed); regenerate it with: " + REGENERATE);
  }

  @Test
  void registriesAreFilledFromTheTable() {
    OpTable t = OpTable.standard();
    VjpRegistry r = VjpRegistry.standard();
    for (OpDef d : t.defs()) {
      switch (d.gradient()) {
        case RULE -> assertTrue(r.differentiableOpKeys().contains(d.key()), d.key());
        case NONE -> assertTrue(r.isNonDifferentiable(d.key()), d.key());
        case PIECEWISE_CONSTANT -> assertTrue(r.isPiecewiseConstant(d.key()), d.key());
        case MISSING -> assertTrue(r.rule(d.key()).isEmpty(), d.key());
      }
      assertEquals(d.shape() != null, ShapeInference.standard().opKeys().contains(d.key()), d.key());
    }
    assertEquals(t.defs().size(), r.opKeys().size() + t.defs().stream().filter(d -> d.gradient() == OpDef.Gradient.MISSING).count());
  }

  @Test
  void standardTableIsReadOnlyButCopiesExtendEverything() {
    assertThrows(IllegalStateException.class, () -> OpTable.standard().op("Foo"));
    OpTable t = OpTable.standard().copy();
    t.op("my.Double").shape(ShapeInference::same).grad(c -> c.setGrad(0, c.b().add(c.gradOutput(0), c.gradOutput(0))))
        .flops((g, n) -> 1);
    assertTrue(t.vjpRegistry().differentiableOpKeys().contains("my.Double"));
    assertTrue(t.shapeInference().opKeys().contains("my.Double"));
    assertTrue(t.flops("my.Double").isPresent());
    assertTrue(OpTable.standard().def("my.Double").isEmpty());
  }
}
