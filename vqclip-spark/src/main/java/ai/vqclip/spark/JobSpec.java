package ai.vqclip.spark;

import java.io.Serializable;
import java.util.Map;
import java.util.Objects;

/**
 * What every task of a generation job needs, shipped with its closure.
 *
 * @param models the model set
 * @param settings how each executor runs requests
 * @param outputDir where the pictures go (a Hadoop file system location)
 * @param hadoopConf the driver's Hadoop settings (file systems and their credentials)
 */
record JobSpec(ModelSet models, ServiceSettings settings, String outputDir, Map<String, String> hadoopConf) implements Serializable {
  private static final long serialVersionUID = 1L;

  JobSpec {
    Objects.requireNonNull(models, "models");
    Objects.requireNonNull(settings, "settings");
    Objects.requireNonNull(outputDir, "outputDir");
    hadoopConf = Map.copyOf(hadoopConf);
  }
}
