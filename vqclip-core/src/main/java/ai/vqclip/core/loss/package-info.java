/**
 * Graph fragments of the built-in loss terms: spherical distance between embeddings, total
 * variation and latent regularization.
 */
package ai.vqclip.core.loss;
