package ai.vqclip.core.autodiff;

/**
 * A vector-Jacobian product rule for one op type: given the gradients that reached a node's outputs,
 * it emits graph nodes computing the gradients of the node's inputs and reports them with {@link
 * VjpContext#setGrad}. Rules read forward values (inputs and outputs) by reference; they never
 * recompute the forward pass.
 */
@FunctionalInterface
public interface VjpRule {
  /** For ops whose outputs carry no gradient to their inputs (Shape, ArgMax, comparisons, ...). */
  VjpRule NONE = ctx -> {};

  /**
   * Emits the backward nodes of {@code ctx.node()}.
   *
   * @param ctx the forward node, its values, the incoming gradients and the builder; the rule
   *     reports input gradients with {@link VjpContext#setGrad}
   */
  void apply(VjpContext ctx);
}
