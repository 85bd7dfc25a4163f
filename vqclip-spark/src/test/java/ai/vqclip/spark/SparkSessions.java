package ai.vqclip.spark;

import org.apache.spark.sql.SparkSession;

/** The test session: local, small and quiet (no UI, two shuffle partitions, scratch under target/). */
final class SparkSessions {
  private SparkSessions() {}

  /**
   * A session on {@code master}.
   *
   * @param master e.g. {@code local[2,3]}: two threads, a task tried up to three times
   */
  static SparkSession start(String master) {
    return SparkSession.builder().master(master).appName("vqclip-spark-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.local.dir", System.getProperty("spark.local.dir", "target/spark-local"))
        .getOrCreate();
  }
}
