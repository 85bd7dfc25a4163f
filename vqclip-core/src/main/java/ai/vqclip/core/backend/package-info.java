/**
 * The runtime SPI: a {@link ai.vqclip.core.backend.Backend} compiles graphs into {@link
 * ai.vqclip.core.backend.Executable}s (ONNX Runtime in vqclip-onnx), with execution options and
 * executables shared between identical graphs.
 */
package ai.vqclip.core.backend;
