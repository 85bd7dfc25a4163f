/**
 * Readers of model weight files from untrusted sources: safetensors, PyTorch zip and legacy
 * checkpoints through a restricted unpickler that executes nothing, TorchScript archives; every
 * size read from a header is bounded.
 */
package ai.vqclip.onnx.weights;
