/** vqclip studio: a local web page over the generation service. */
package ai.vqclip.studio;
