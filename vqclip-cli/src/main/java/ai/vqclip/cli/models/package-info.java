/**
 * Opening the models a command runs: model files named on the command line ({@link
 * ai.vqclip.cli.models.ModelFiles}), the bundled or retrained demo models, ONNX graphs, and their
 * provenance for manifests.
 */
package ai.vqclip.cli.models;
