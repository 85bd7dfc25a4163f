/**
 * Cutouts and augmentations as differentiable graph fragments whose random parameters are drawn on
 * the host from the run's seeded generator (built in the pipeline issue).
 */
package ai.vqclip.augment;
