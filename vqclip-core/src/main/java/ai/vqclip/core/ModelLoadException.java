package ai.vqclip.core;

/** A model file or byte array could not be read: malformed, truncated, too big, or unsupported. */
public class ModelLoadException extends VqclipException {
  /** With a message. */
  public ModelLoadException(String message) {
    super(message);
  }

  /** With a message and cause. */
  public ModelLoadException(String message, Throwable cause) {
    super(message, cause);
  }
}
