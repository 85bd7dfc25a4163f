package ai.vqclip.studio;

import ai.vqclip.core.Generator;
import ai.vqclip.core.pipeline.GenerationRequest;
import ai.vqclip.core.pipeline.Pipeline;
import java.util.Objects;

/**
 * A model choice on the studio's page: a pipeline (generator plus CLIP encoders) that every run
 * choosing it shares through one {@link ai.vqclip.core.pipeline.GenerationService}, and how a
 * request for it is made. The models stay their owner's: the studio never closes them.
 *
 * @param name the name shown and sent by the page (letters, digits, {@code -_.}, at most 64)
 * @param description one line shown beside the name
 * @param pipeline the pipeline runs use
 * @param generator the pipeline's generator, which encodes painted images back into latents
 * @param defaultSize the side the page proposes, in pixels
 * @param sizeStep sides must be multiples of this (the VQGAN's downsampling factor)
 * @param maxSize the largest side a run may ask for
 * @param requests makes a request from the page's settings, with this model's defaults for the rest
 */
public record StudioModel(String name, String description, Pipeline pipeline, Generator generator, int defaultSize, int sizeStep,
    int maxSize, Requests requests) {
  /**
   * Validates.
   *
   * @param name the name shown and sent by the page
   * @param description one line shown beside the name
   * @param pipeline the pipeline runs use
   * @param generator the pipeline's generator
   * @param defaultSize the side the page proposes
   * @param sizeStep sides must be multiples of this
   * @param maxSize the largest side a run may ask for
   * @param requests makes a request from the page's settings
   * @throws IllegalArgumentException for a bad name or sizes (the message names the value)
   * @throws NullPointerException for a null argument
   */
  public StudioModel {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(description, "description");
    Objects.requireNonNull(pipeline, "pipeline");
    Objects.requireNonNull(generator, "generator");
    Objects.requireNonNull(requests, "requests");
    if (!name.matches("[A-Za-z0-9._-]{1,64}")) {
      throw new IllegalArgumentException("model name must be 1 to 64 of A-Z a-z 0-9 . _ -, got '" + name + "'");
    }
    if (sizeStep < 1 || maxSize < sizeStep || defaultSize < sizeStep || defaultSize > maxSize || defaultSize % sizeStep != 0
        || maxSize % sizeStep != 0) {
      throw new IllegalArgumentException("model " + name + ": sizes must satisfy sizeStep <= defaultSize <= maxSize, both multiples of "
          + "sizeStep; got defaultSize " + defaultSize + ", sizeStep " + sizeStep + ", maxSize " + maxSize);
    }
  }

  /** Makes the request for a run from what the page sets; the model's own defaults fill in the rest (cutouts, optimizer, ...). */
  @FunctionalInterface
  public interface Requests {
    /**
     * A request builder for the page's settings.
     *
     * @param prompts prompts in generate.py's syntax ({@code text:weight|text:weight})
     * @param width picture width in pixels
     * @param height picture height in pixels
     * @param iterations total iterations of the run
     * @param seed the run's seed
     * @return the builder (the studio adds its preview interval, init, mask and edit)
     * @throws IllegalArgumentException for settings the model cannot run (the message names them)
     */
    GenerationRequest.Builder request(String prompts, int width, int height, int iterations, long seed);
  }
}
