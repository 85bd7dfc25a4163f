package ai.vqclip.core.backend;

import ai.vqclip.core.graph.Graph;
import java.util.ServiceLoader;

/**
 * Compiles graphs to {@link Executable}s. Implementations are found with {@link ServiceLoader}
 * (vqclip-onnx provides the ONNX Runtime backend), so vqclip-core does not depend on a runtime.
 */
public interface Backend {
  /**
   * A short name, for example {@code "onnxruntime"}.
   *
   * @return the backend's name
   */
  String name();

  /**
   * The runtime's version, for run manifests.
   *
   * @return the version string, or {@code "unknown"}
   */
  default String runtimeVersion() {
    return "unknown";
  }

  /**
   * Compiles a graph for execution.
   *
   * @param graph the graph, with static shapes
   * @param options device, threads and optimization settings
   * @return an open executable; close it to free native resources
   * @throws IllegalStateException when the requested device cannot be used and fallback is not
   *     allowed
   */
  Executable compile(Graph graph, ExecutionOptions options);

  /**
   * The first backend on the class path.
   *
   * @return the first {@link Backend} service found
   * @throws IllegalStateException when none is (add vqclip-onnx to the class path)
   */
  static Backend load() {
    return ServiceLoader.load(Backend.class)
        .findFirst()
        .orElseThrow(() -> new IllegalStateException("no vqclip Backend on the class path; add the vqclip-onnx module"));
  }
}
