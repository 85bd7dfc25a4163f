package ai.vqclip.onnx.clip;

/**
 * Turns a text into the fixed-length token ids a CLIP text encoder takes. The CLIP BPE tokenizer
 * implements it; tests use small fakes.
 */
public interface TextTokenizer {
  /**
   * The token ids of {@code text}: exactly the model's context length (77 for OpenAI CLIP), the
   * start token first, the end token last before the padding, padded with 0. The text encoder reads
   * its features at the position of the largest id, so the end token must be the largest id in the
   * vocabulary (as {@code <|endoftext|>} = 49407 is).
   *
   * @param text the prompt text (not null)
   * @return exactly context-length token ids, padded with 0
   * @throws IllegalArgumentException when the text does not fit the context
   */
  int[] tokenize(String text);
}
