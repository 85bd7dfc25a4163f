/**
 * The ONNX Runtime back end ({@link ai.vqclip.onnx.OrtBackend}), ONNX import (opsets 7 to 26) and
 * export, and the CUDA kernel-coverage check.
 */
package ai.vqclip.onnx;
