package ai.vqclip.core.pipeline;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.util.List;
import java.util.Map;

/**
 * What produced an output: the request, the seed, the models and the software and machine, so a
 * result can be reproduced (the same seed gives bit-identical results on CPU with the same thread
 * count and versions).
 *
 * @param vqclipVersion this library's version
 * @param runtime the graph runtime and its version
 * @param java the Java runtime version
 * @param os operating system name and version
 * @param arch CPU architecture
 * @param seed the run's seed
 * @param width image width
 * @param height image height
 * @param iterationsRun iterations actually run (after any resume, in total)
 * @param stopReason why the run ended
 * @param prompts the prompt sets, as parsed
 * @param request a description of every request field
 * @param models provenance of the generator and each encoder
 * @param elapsedMillis wall time of this run (excluding earlier runs before a resume)
 */
public record RunManifest(
    String vqclipVersion,
    String runtime,
    String java,
    String os,
    String arch,
    long seed,
    int width,
    int height,
    int iterationsRun,
    String stopReason,
    List<String> prompts,
    String request,
    Map<String, Map<String, String>> models,
    long elapsedMillis) {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** @return the manifest as JSON */
  public String toJson() {
    try {
      return JSON.writeValueAsString(this);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("manifest cannot be written as JSON", e);
    }
  }
}
