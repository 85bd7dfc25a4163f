/**
 * Batch generation on Apache Spark: {@link ai.vqclip.spark.SparkGeneration} turns a Dataset of
 * requests into a Dataset of results, each executor JVM running its partitions through one shared
 * {@link ai.vqclip.core.pipeline.GenerationService}; {@link ai.vqclip.spark.BatchJob} adds the
 * results table and contact sheets, and {@link ai.vqclip.spark.BatchMain} is the spark-submit main
 * class behind {@code vqclip batch}. See docs/scale-out.md.
 */
package ai.vqclip.spark;
