/**
 * The {@code vqclip} command line tool: {@link ai.vqclip.cli.Main} and its subcommands ({@code demo}
 * optimizes a network input by gradient descent through an autodiff graph run by ONNX Runtime;
 * {@code selftest} checks that graph's gradient against finite differences).
 */
package ai.vqclip.cli;
