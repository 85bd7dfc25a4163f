package ai.vqclip.studio;

import ai.vqclip.core.backend.ExecutionOptions;

/** The demo models loaded once for all the studio's test classes (one JVM), released when it exits. */
final class SharedModels {
  private static StudioModels models;

  private SharedModels() {}

  static synchronized StudioModels get() {
    if (models == null) {
      models = StudioModels.demo(ExecutionOptions.cpu().withThreads(1));
      StudioModels m = models;
      Runtime.getRuntime().addShutdownHook(new Thread(m::close));
    }
    return models;
  }
}
