package ai.vqclip.onnx.clip.tokenizer;

/** A prompt has more tokens than the context length and the tokenizer was told not to truncate. */
public class PromptTooLongException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  /**
   * The prompt's token count, start and end tokens included.
   */
  private final int tokenCount;
  /**
   * The context length the prompt exceeds.
   */
  private final int contextLength;

  /**
   * @param tokenCount the prompt's tokens, start and end tokens included
   * @param contextLength the limit
   * @param text the prompt, abbreviated in the message
   */
  public PromptTooLongException(int tokenCount, int contextLength, String text) {
    super(
        "the prompt has " + tokenCount + " tokens (start and end tokens included), more than the"
            + " context length " + contextLength + "; shorten it or use Overflow.TRUNCATE: "
            + BpeVocabulary.quote(text));
    this.tokenCount = tokenCount;
    this.contextLength = contextLength;
  }

  /**
   * The prompt's tokens, start and end tokens included.
   *
   * @return the prompt's token count, start and end tokens included
   */
  public int tokenCount() {
    return tokenCount;
  }

  /**
   * The context length it exceeds.
   *
   * @return the context length it exceeds (77 for OpenAI CLIP)
   */
  public int contextLength() {
    return contextLength;
  }
}
