package ai.vqclip.studio;

/** A request the studio refuses, with the HTTP status to answer and a message for the page. */
final class StudioException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int status;

  StudioException(int status, String message) {
    super(message);
    this.status = status;
  }

  int status() {
    return status;
  }

  static StudioException badRequest(String message) {
    return new StudioException(400, message);
  }

  static StudioException notFound(String message) {
    return new StudioException(404, message);
  }

  static StudioException conflict(String message) {
    return new StudioException(409, message);
  }

  static StudioException tooLarge(String message) {
    return new StudioException(413, message);
  }
}
