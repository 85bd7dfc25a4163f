/**
 * The bundled demo models (a tiny VQGAN and CLIP trained by vqclip on drawn shapes) and {@link
 * ai.vqclip.demo.DemoModels} to load them.
 */
package ai.vqclip.demo;
