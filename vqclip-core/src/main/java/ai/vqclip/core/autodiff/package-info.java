/**
 * Reverse-mode automatic differentiation over ONNX graphs: {@link
 * ai.vqclip.core.autodiff.Autodiff} appends the backward pass using one vector-Jacobian rule per
 * op type ({@link ai.vqclip.core.autodiff.VjpRegistry}), with gradient overrides and selective
 * recomputation.
 */
package ai.vqclip.core.autodiff;
