package ai.vqclip.core.backend;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.Graph;
import java.util.Map;
import java.util.Set;

/**
 * A compiled graph that runs on named host tensors. Owns native resources: close it. {@code close()}
 * is idempotent and throws nothing. One run at a time per instance unless {@link #threadSafe()}
 * says otherwise.
 */
public interface Executable extends AutoCloseable {
  /**
   * Whether {@link #run} may be called from several threads at once and {@link #close()} never
   * frees native state under a running call (then one compiled graph can serve concurrent runs).
   * The default is false.
   *
   * @return true when concurrent runs are safe
   */
  default boolean threadSafe() {
    return false;
  }

  /**
   * The graph this runs.
   *
   * @return the compiled graph
   */
  Graph graph();

  /**
   * The device it actually runs on (after any allowed fallback).
   *
   * @return the device the graph runs on
   */
  Device device();

  /**
   * Runs the graph and returns every output.
   *
   * @param inputs a tensor for every graph input, by name
   * @return every output by name
   * @throws IllegalArgumentException for unknown, missing or mistyped inputs (message lists expected and found)
   */
  default Map<String, Tensor> run(Map<String, Tensor> inputs) {
    return run(inputs, null);
  }

  /**
   * Runs the graph and returns the requested outputs ({@code null}: all).
   *
   * @param inputs a tensor for every graph input, by name
   * @param outputs names of the outputs to compute, or null for all
   * @return the requested outputs by name
   * @throws IllegalArgumentException for unknown, missing or mistyped inputs, or unknown outputs
   */
  Map<String, Tensor> run(Map<String, Tensor> inputs, Set<String> outputs);

  @Override
  void close();
}
