/**
 * The {@code vqclip} command line tool: {@link ai.vqclip.cli.Main} and its subcommands. {@code
 * generate}, {@code edit}, {@code video} and {@code resume} run VQGAN-CLIP (progress bar, PNG with
 * the run manifest in its text chunks, checkpoints, Ctrl-C stops cleanly); {@code tokenize} and
 * {@code inspect} look at vocabularies and model files; {@code train-demo} retrains the demo models;
 * {@code demo} and {@code selftest} exercise the engine on a small network. Usage errors (a bad
 * option, file, size or prompt) print one line and exit with code 2.
 */
package ai.vqclip.cli;
