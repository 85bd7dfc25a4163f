/**
 * The graph IR: immutable {@link ai.vqclip.core.graph.Graph}s of ONNX nodes built with {@link
 * ai.vqclip.core.graph.GraphBuilder}, shape inference, host-side constant folding ({@link
 * ai.vqclip.core.graph.Specialize}) and FLOP counting.
 */
package ai.vqclip.core.graph;
