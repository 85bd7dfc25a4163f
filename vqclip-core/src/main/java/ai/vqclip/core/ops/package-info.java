/**
 * One op, one place: the table of supported ONNX ops ({@link ai.vqclip.core.ops.OpTable}), each
 * with its shape rule, gradient rule and FLOP count, grouped by family; {@code docs/ops.md} is
 * generated from it.
 */
package ai.vqclip.core.ops;
