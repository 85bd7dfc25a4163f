/**
 * JMH benchmarks of vqclip's engine on ONNX Runtime: {@link ai.vqclip.bench.SgemmPeak} (the
 * matrix-multiply peak of this machine through the same backend) and {@link
 * ai.vqclip.bench.ConvNetStep} (forward and backward of a conv-heavy graph), with FLOPs counted
 * from the graph by {@link ai.vqclip.core.graph.FlopCounter}. {@link ai.vqclip.bench.BenchMain} runs
 * both in one JVM and writes a JSON summary.
 */
package ai.vqclip.bench;
