/**
 * The VQGAN-CLIP method: requests, the {@link ai.vqclip.core.pipeline.Pipeline} that builds one
 * fused forward-plus-backward step graph and runs the loop, checkpoints and manifests, and the
 * {@link ai.vqclip.core.pipeline.GenerationService} for many concurrent requests.
 */
package ai.vqclip.core.pipeline;
