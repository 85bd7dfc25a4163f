package ai.vqclip.core.ops;

import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.Node;

/** The floating-point operations of one node (a multiply-add counting as two). */
@FunctionalInterface
public interface FlopRule {
  /**
   * FLOPs of {@code n}, a node of {@code g}.
   *
   * @param g the graph holding the node, with static shapes
   * @param n the node
   * @return its FLOPs (multiply-adds count as two)
   * @throws IllegalArgumentException when the operands lack the static shapes the count needs
   */
  long count(Graph g, Node n);
}
