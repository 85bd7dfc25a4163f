/**
 * The CLIP encoder built from its weights: {@link ai.vqclip.onnx.clip.ClipConfig} (the architecture,
 * inferred from a state dict's shapes), {@link ai.vqclip.onnx.clip.ClipWeights} (OpenAI and Hugging
 * Face key names mapped onto OpenAI's, validated), {@link ai.vqclip.onnx.clip.ClipGraphs} (the ViT
 * image and text transformers as graph fragments) and {@link ai.vqclip.onnx.clip.ClipEncoder}, the
 * {@link ai.vqclip.core.Encoder} implementation.
 */
package ai.vqclip.onnx.clip;
