/**
 * The procedural world of coloured shapes the demo models learn from: scenes, captions and the
 * pictures drawn from them.
 */
package ai.vqclip.demo.data;
