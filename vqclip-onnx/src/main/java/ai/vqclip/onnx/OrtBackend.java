package ai.vqclip.onnx;

import ai.vqclip.core.backend.Backend;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.graph.Graph;

/** The ONNX Runtime backend (found through {@link java.util.ServiceLoader}). */
public final class OrtBackend implements Backend {
  /** Public for ServiceLoader. */
  public OrtBackend() {}

  @Override
  public String name() {
    return "onnxruntime";
  }

  @Override
  public String runtimeVersion() {
    return "onnxruntime " + OrtRuntime.environment().getVersion();
  }

  @Override
  public OrtExecutable compile(Graph graph, ExecutionOptions options) {
    return OrtExecutable.create(graph, options);
  }
}
