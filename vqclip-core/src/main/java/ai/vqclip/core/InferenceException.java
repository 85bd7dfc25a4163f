package ai.vqclip.core;

/** The runtime failed while compiling or running a graph; the cause is kept. */
public class InferenceException extends VqclipException {
  /**
   * With a message and cause.
   *
   * @param message what failed, naming the graph
   * @param cause the runtime's exception
   */
  public InferenceException(String message, Throwable cause) {
    super(message, cause);
  }
}
