package ai.vqclip.core;

/** A model file or byte array could not be read: malformed, truncated, too big, or unsupported. */
public class ModelLoadException extends VqclipException {
  /**
   * With a message.
   *
   * @param message what is wrong with the model file, naming it
   */
  public ModelLoadException(String message) {
    super(message);
  }

  /**
   * With a message and cause.
   *
   * @param message what is wrong with the model file, naming it
   * @param cause the underlying exception (I/O, parse)
   */
  public ModelLoadException(String message, Throwable cause) {
    super(message, cause);
  }
}
