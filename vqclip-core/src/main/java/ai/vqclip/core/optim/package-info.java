/**
 * The host-side optimizers that update the latent between steps (ND4J updaters) and their
 * configuration.
 */
package ai.vqclip.core.optim;
