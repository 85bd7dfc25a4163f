/**
 * One-call adapters from a user's forward ONNX graph to vqclip's model interfaces: {@link
 * ai.vqclip.onnx.adapt.OnnxGenerator} (latent-to-image) and {@link ai.vqclip.onnx.adapt.OnnxEncoder}
 * (image embedding plus text embedding). Both import the file once, check its input and output
 * names, ranks, dtypes and sizes, and specialize it ({@link ai.vqclip.core.graph.Specialize}) to the
 * sizes of each run so the autodiff sees static shapes.
 */
package ai.vqclip.onnx.adapt;
