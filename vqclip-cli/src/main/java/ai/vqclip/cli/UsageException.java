package ai.vqclip.cli;

/**
 * A problem with what the user asked for (a missing or unreadable file, an invalid size, a
 * malformed prompt): reported on one line with exit code 2, like a bad option.
 */
final class UsageException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  UsageException(String message) {
    super(message);
  }

  UsageException(String message, Throwable cause) {
    super(message, cause);
  }
}
