/**
 * A byte-pair-encoding learner for the demo CLIP's small vocabulary.
 */
package ai.vqclip.demo.text;
