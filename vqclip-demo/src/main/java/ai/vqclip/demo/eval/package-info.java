/**
 * The demo generation settings and the checkers that judge whether a generated picture agrees with
 * its caption.
 */
package ai.vqclip.demo.eval;
