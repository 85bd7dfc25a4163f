/**
 * Training the demo models with vqclip's own autodiff (gradients with respect to the weights),
 * reproducibly from committed seeds.
 */
package ai.vqclip.demo.train;
