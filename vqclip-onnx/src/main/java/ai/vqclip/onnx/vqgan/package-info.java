/**
 * The taming-transformers VQGAN built in vqclip's graph IR from the original weights: {@link
 * ai.vqclip.onnx.vqgan.VqganConfig} (presets, {@code model.yaml}, inference from shapes), {@link
 * ai.vqclip.onnx.vqgan.VqganWeights} (key and shape validation), {@link
 * ai.vqclip.onnx.vqgan.VqganGraphs} (decoder, encoder, quantizer and synthesis fragments) and
 * {@link ai.vqclip.onnx.vqgan.VqganGenerator} (the {@link ai.vqclip.core.Generator}).
 */
package ai.vqclip.onnx.vqgan;
