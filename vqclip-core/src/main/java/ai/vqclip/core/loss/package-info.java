/**
 * The built-in loss terms, each a {@link ai.vqclip.core.Loss} (prompt slots, lockstep image prompts,
 * the edit terms, latent regularization, total variation), and the graph fragments they are made
 * of: spherical and cosine distance between embeddings, total variation, latent regularization.
 */
package ai.vqclip.core.loss;
