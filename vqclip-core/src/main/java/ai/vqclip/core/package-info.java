/**
 * The core types of vqclip: {@link ai.vqclip.core.Tensor}, the model interfaces a pipeline is
 * built from (generators, encoders, augmentations), the library's exceptions and its {@link
 * ai.vqclip.core.Version}. This module has no ONNX Runtime dependency.
 */
package ai.vqclip.core;
