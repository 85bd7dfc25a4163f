package ai.vqclip.core.backend;

/** Where a graph runs. */
public enum Device {
  /** The host CPU. */
  CPU,
  /** An NVIDIA GPU through CUDA. */
  CUDA
}
