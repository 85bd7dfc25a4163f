package ai.vqclip.core.backend;

import java.util.Objects;

/**
 * How a backend compiles and runs a graph.
 *
 * @param device where to run
 * @param deviceId the GPU index for {@link Device#CUDA}
 * @param allowCpuFallback when CUDA is requested but cannot load, run on CPU (logged) instead of failing
 * @param intraOpThreads threads inside an op; 0 lets the runtime choose
 * @param optimizationLevel graph optimization level
 * @param deterministic request deterministic kernels (bit-identical repeated runs)
 * @param activationArena on CPU, allocate activations from the runtime's arena (fastest) rather
 *     than one by one (lowest peak memory: the arena grows in powers of two and keeps its chunks);
 *     results are bit-identical either way
 */
public record ExecutionOptions(
    Device device,
    int deviceId,
    boolean allowCpuFallback,
    int intraOpThreads,
    OptimizationLevel optimizationLevel,
    boolean deterministic,
    boolean activationArena) {

  /** Graph optimization levels, as ONNX Runtime names them. */
  public enum OptimizationLevel {
    /**
     * No graph optimizations.
     */
    NONE,
    /**
     * Basic, semantics-preserving rewrites such as constant folding.
     */
    BASIC,
    /**
     * Basic plus extended fusions.
     */
    EXTENDED,
    /**
     * Every optimization the runtime has, layout changes included.
     */
    ALL
  }

  /**
   * Checks the values.
   *
   * @param device where to run (not null)
   * @param deviceId the GPU index, at least 0
   * @param allowCpuFallback run on CPU when CUDA cannot load
   * @param intraOpThreads threads inside an op, in [0, 1024]; 0 lets the runtime choose
   * @param optimizationLevel graph optimization level (not null)
   * @param deterministic request deterministic kernels
   * @param activationArena allocate CPU activations from the runtime's arena
   * @throws IllegalArgumentException for a negative device id or a thread count out of range
   * @throws NullPointerException when {@code device} or {@code optimizationLevel} is null
   */
  public ExecutionOptions {
    Objects.requireNonNull(device, "device");
    Objects.requireNonNull(optimizationLevel, "optimizationLevel");
    if (deviceId < 0) {
      throw new IllegalArgumentException("deviceId must be >= 0, got " + deviceId);
    }
    if (intraOpThreads < 0 || intraOpThreads > 1024) {
      throw new IllegalArgumentException("intraOpThreads must be in [0, 1024] (0 = runtime default), got " + intraOpThreads);
    }
  }

  /**
   * Options with the activation arena on, as before {@code activationArena} existed.
   *
   * @param device where to run (not null)
   * @param deviceId the GPU index, at least 0
   * @param allowCpuFallback run on CPU when CUDA cannot load
   * @param intraOpThreads threads inside an op, in [0, 1024]; 0 lets the runtime choose
   * @param optimizationLevel graph optimization level (not null)
   * @param deterministic request deterministic kernels
   * @throws IllegalArgumentException for a negative device id or a thread count out of range
   * @throws NullPointerException when {@code device} or {@code optimizationLevel} is null
   */
  public ExecutionOptions(Device device, int deviceId, boolean allowCpuFallback, int intraOpThreads, OptimizationLevel optimizationLevel,
      boolean deterministic) {
    this(device, deviceId, allowCpuFallback, intraOpThreads, optimizationLevel, deterministic, true);
  }

  /**
   * CPU, runtime-chosen threads, all optimizations, deterministic.
   *
   * @return CPU options
   */
  public static ExecutionOptions cpu() {
    return new ExecutionOptions(Device.CPU, 0, false, 0, OptimizationLevel.ALL, true);
  }

  /**
   * CUDA device 0, no CPU fallback.
   *
   * @return CUDA options
   */
  public static ExecutionOptions cuda() {
    return new ExecutionOptions(Device.CUDA, 0, false, 0, OptimizationLevel.ALL, false);
  }

  /**
   * A copy with another thread count.
   *
   * @param threads threads inside an op, in [0, 1024]; 0 lets the runtime choose
   * @return a copy with this thread count
   * @throws IllegalArgumentException for a count out of range
   */
  public ExecutionOptions withThreads(int threads) {
    return new ExecutionOptions(device, deviceId, allowCpuFallback, threads, optimizationLevel, deterministic, activationArena);
  }

  /**
   * A copy on another GPU (its index, from 0), for {@link Device#CUDA}.
   *
   * @param id the GPU index, at least 0
   * @return a copy with this device id
   * @throws IllegalArgumentException for a negative id
   */
  public ExecutionOptions withDeviceId(int id) {
    return new ExecutionOptions(device, id, allowCpuFallback, intraOpThreads, optimizationLevel, deterministic, activationArena);
  }

  /**
   * A copy with CPU fallback allowed or not.
   *
   * @param allow true to run on CPU when CUDA cannot load
   * @return a copy with this setting
   */
  public ExecutionOptions withCpuFallback(boolean allow) {
    return new ExecutionOptions(device, deviceId, allow, intraOpThreads, optimizationLevel, deterministic, activationArena);
  }

  /**
   * A copy with another optimization level.
   *
   * @param level the optimization level (not null)
   * @return a copy with this level
   */
  public ExecutionOptions withOptimizationLevel(OptimizationLevel level) {
    return new ExecutionOptions(device, deviceId, allowCpuFallback, intraOpThreads, level, deterministic, activationArena);
  }

  /**
   * A copy with the CPU activation arena on or off.
   *
   * @param on true to allocate activations from the runtime's arena (fastest), false to allocate
   *     them one by one (lowest peak memory)
   * @return a copy with this setting
   */
  public ExecutionOptions withActivationArena(boolean on) {
    return new ExecutionOptions(device, deviceId, allowCpuFallback, intraOpThreads, optimizationLevel, deterministic, on);
  }
}
