/** Benchmarks. */
package ai.vqclip.bench;
