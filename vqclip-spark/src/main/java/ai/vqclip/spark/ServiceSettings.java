package ai.vqclip.spark;

import ai.vqclip.core.backend.ExecutionOptions;
import java.io.Serializable;

/**
 * How each executor runs its requests: one {@link ai.vqclip.core.pipeline.GenerationService} per
 * executor JVM and model set with these settings, shared by the tasks running in it.
 *
 * @param device {@code cpu}, {@code cuda} or {@code cuda:N}
 * @param threads threads inside an ONNX Runtime op, in [0, 1024] (0: the runtime's choice; on a CPU
 *     executor, its cores divided by {@code maxConcurrent})
 * @param maxConcurrent runs at once per executor, in [1, 256]
 * @param maxBatch runs of the same shape one run slot advances together, in [1, 64]
 */
public record ServiceSettings(String device, int threads, int maxConcurrent, int maxBatch) implements Serializable {
  private static final long serialVersionUID = 1L;

  /**
   * Validates.
   *
   * @param device {@code cpu}, {@code cuda} or {@code cuda:N}
   * @param threads threads inside an op, in [0, 1024]
   * @param maxConcurrent runs at once per executor, in [1, 256]
   * @param maxBatch runs advanced together, in [1, 64]
   * @throws IllegalArgumentException for a value out of range (the message names it)
   */
  public ServiceSettings {
    if (device == null || !device.matches("cpu|cuda(:\\d{1,3})?")) {
      throw new IllegalArgumentException("device must be cpu, cuda or cuda:N, got " + device);
    }
    if (threads < 0 || threads > 1024) {
      throw new IllegalArgumentException("threads must be in [0, 1024], got " + threads);
    }
    if (maxConcurrent < 1 || maxConcurrent > 256) {
      throw new IllegalArgumentException("maxConcurrent must be in [1, 256], got " + maxConcurrent);
    }
    if (maxBatch < 1 || maxBatch > 64) {
      throw new IllegalArgumentException("maxBatch must be in [1, 64], got " + maxBatch);
    }
  }

  /** @return CPU, the runtime's thread count, one run slot advancing up to 8 runs together */
  public static ServiceSettings defaults() {
    return new ServiceSettings("cpu", 0, 1, 8);
  }

  /** @return the execution options of these settings */
  ExecutionOptions options() {
    ExecutionOptions o = device.startsWith("cuda") ? ExecutionOptions.cuda() : ExecutionOptions.cpu();
    if (device.startsWith("cuda:")) {
      o = o.withDeviceId(Integer.parseInt(device.substring(5)));
    }
    return o.withThreads(threads);
  }
}
