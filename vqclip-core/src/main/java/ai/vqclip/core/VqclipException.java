package ai.vqclip.core;

/** Root of vqclip's unchecked exceptions for failures that are not the caller's mistake. */
public class VqclipException extends RuntimeException {
  /**
   * With a message.
   *
   * @param message what went wrong, for the user
   */
  public VqclipException(String message) {
    super(message);
  }

  /**
   * With a message and cause.
   *
   * @param message what went wrong, for the user
   * @param cause the underlying exception
   */
  public VqclipException(String message, Throwable cause) {
    super(message, cause);
  }
}
