package ai.vqclip.core.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Einsum equations: parsing (ellipsis, implicit output), shape inference and FLOP count. */
class EinsumEquationTest {
  @Test
  void parsesExplicitImplicitAndEllipsisForms() {
    assertEquals("bij,bjk->bik", EinsumEquation.parse("bij,bjk->bik", new int[] {3, 3}).equation());
    assertEquals("ij,jk->ik", EinsumEquation.parse("ij,jk", new int[] {2, 2}).equation());
    assertEquals("ij->", EinsumEquation.parse("ij->", new int[] {2}).equation());
    // ellipsis axes get unused letters, right-aligned across operands
    EinsumEquation e = EinsumEquation.parse("...ij,jk->...ik", new int[] {4, 2});
    assertEquals("ABij,jk->ABik", e.equation());
    EinsumEquation implicit = EinsumEquation.parse("...ij,...jk", new int[] {3, 4});
    assertEquals("Bij,ABjk->ABik", implicit.equation());
  }

  @Test
  void rejectsMalformedEquationsClearly() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EinsumEquation.parse("ij,jk->ik", new int[] {2}));
    assertTrue(e.getMessage().contains("2 operand(s) but the node has 1"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> EinsumEquation.parse("ij->iz", new int[] {2}));
    assertTrue(e.getMessage().contains("output letter 'z' is in no operand"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> EinsumEquation.parse("i..j->ij", new int[] {2}));
    assertTrue(e.getMessage().contains("malformed ellipsis"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> EinsumEquation.parse("i1->i", new int[] {1}));
    assertTrue(e.getMessage().contains("invalid character '1'"), e.getMessage());
  }

  @Test
  void shapeInferenceAndFlopsMatchTheEquivalentMatMul() {
    GraphBuilder b = new GraphBuilder("einsum");
    Value q = b.input("q", DType.FLOAT, Shape.of(2, 3, 5, 8));
    Value k = b.input("k", DType.FLOAT, Shape.of(2, 3, 7, 8));
    Value scores = b.op("Einsum").in(q, k).attr("equation", "bhid,bhjd->bhij").out();
    assertEquals(Shape.of(2, 3, 5, 7), scores.shape());
    Value viaMatMul = b.matmul(q, b.transpose(k, 0, 1, 3, 2));
    b.output(scores);
    b.output(viaMatMul);
    Graph g = b.build();
    long einsum = FlopCounter.count(g, g.nodes().stream().filter(n -> n.opType().equals("Einsum")).findFirst().orElseThrow());
    long matmul = FlopCounter.count(g, g.nodes().stream().filter(n -> n.opType().equals("MatMul")).findFirst().orElseThrow());
    assertEquals(2L * 2 * 3 * 5 * 7 * 8, einsum);
    assertEquals(matmul, einsum);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> b.op("Einsum").in(q, k).attr("equation", "bhid,bhjd->bhik").out());
    assertTrue(e.getMessage().contains("'k' is in no operand"), e.getMessage());
  }
}
