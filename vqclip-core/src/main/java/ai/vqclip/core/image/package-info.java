/**
 * Reading and writing images as tensors, with bounded decoding of untrusted files and PNG text
 * chunks.
 */
package ai.vqclip.core.image;
