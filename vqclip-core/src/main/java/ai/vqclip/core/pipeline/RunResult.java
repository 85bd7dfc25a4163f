package ai.vqclip.core.pipeline;

import ai.vqclip.core.Tensor;

/**
 * The outcome of a run.
 *
 * @param image the final image [1, 3, H, W] in [0, 1]
 * @param latent the final z
 * @param checkpoint the state to resume from
 * @param manifest what produced it
 */
public record RunResult(Tensor image, Tensor latent, Checkpoint checkpoint, RunManifest manifest) {}
