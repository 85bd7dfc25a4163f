package ai.vqclip.spark;

import ai.vqclip.augment.StandardCutouts;
import ai.vqclip.cli.models.ClipModel;
import ai.vqclip.cli.models.ModelSource;
import ai.vqclip.cli.models.Models;
import ai.vqclip.cli.models.RunDefaults;
import ai.vqclip.core.pipeline.GenerationService;
import ai.vqclip.core.pipeline.Pipeline;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.hadoop.conf.Configuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The models of this JVM: each model set and service settings loaded once, lazily, on the first
 * task that needs them, then shared by every later task on this executor (and by concurrent tasks,
 * whose runs one {@link GenerationService} batches together). They live until the JVM ends (a
 * shutdown hook drains and closes them): an executor serves one application.
 */
final class ExecutorModels {
  private static final Logger LOG = LoggerFactory.getLogger(ExecutorModels.class);

  /** One model set's loaded models, pipeline and service. */
  record Loaded(Models models, GenerationService service, RunDefaults defaults, int sizeStep, long loadMillis) {}

  private record Key(ModelSet models, ServiceSettings settings) {}

  private static final Map<Key, Loaded> LOADED = new ConcurrentHashMap<>();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(ExecutorModels::closeAll, "vqclip-spark-close"));
  }

  private ExecutorModels() {}

  /**
   * The loaded models for a set, loading them on first use (other tasks asking meanwhile wait).
   *
   * @param hadoopConf the job's Hadoop settings, to read files from HDFS or object stores
   */
  static Loaded get(ModelSet set, ServiceSettings settings, Map<String, String> hadoopConf) {
    return LOADED.computeIfAbsent(new Key(set, settings), k -> load(set, settings, hadoopConf));
  }

  private static Loaded load(ModelSet set, ServiceSettings settings, Map<String, String> hadoopConf) {
    long t0 = System.nanoTime();
    Configuration conf = new Configuration(false);
    hadoopConf.forEach(conf::set);
    Path cache = Path.of(System.getProperty("java.io.tmpdir"), "vqclip-spark-models");
    Stager stager = new Stager(conf, cache);
    var selection = set.select(stager);
    ModelSource builtIn = ModelSource.of(selection);
    RunDefaults defaults = set.builtInDefaults() ? builtIn.defaults() : RunDefaults.GENERATE_PY;
    Models models = Models.open(selection, builtIn, settings.options());
    try {
      Pipeline.Builder pb = Pipeline.builder(models.generator(), new StandardCutouts()).options(settings.options());
      for (ClipModel c : models.clips()) {
        pb.encoder(c.encoder());
      }
      // The built-in demo models' caption prior, as the CLI's runs use it (every row has a text prompt).
      if (set.builtInDefaults() && selection.builtInClips() && defaults.captionPrior() > 0) {
        pb.loss(builtIn.captionPrior(defaults.captionPrior()));
      }
      // The runs of a partition are submitted together: a batch waits a moment for its company.
      GenerationService service = GenerationService.builder(pb.build()).maxConcurrent(settings.maxConcurrent()).queueCapacity(100_000)
          .maxBatch(settings.maxBatch()).batchWait(settings.maxBatch() > 1 ? Duration.ofMillis(200) : Duration.ZERO).build();
      long ms = (System.nanoTime() - t0) / 1_000_000;
      LOG.info("vqclip models loaded in {} ms: {} ({})", ms, set, settings);
      return new Loaded(models, service, defaults, models.sizeStep(), ms);
    } catch (RuntimeException e) {
      models.close();
      throw e;
    }
  }

  /** Drains and closes every loaded set (the shutdown hook; also for tests). */
  static void closeAll() {
    for (Key k : Map.copyOf(LOADED).keySet()) {
      Loaded l = LOADED.remove(k);
      if (l != null) {
        try {
          l.service().closeNow();
        } finally {
          l.models().close();
        }
      }
    }
  }
}
