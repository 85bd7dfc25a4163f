package ai.vqclip.onnx.clip;

/**
 * Turns a text prompt into the fixed-length token ids a CLIP text encoder reads.
 *
 * <p>The result has the encoder's context length (77 for every released CLIP): the start token
 * first, then the text's tokens, then the end token, then zero padding. The encoder pools its
 * features at the end token, the highest id in the sequence.
 */
public interface TextTokenizer {
  /**
   * The context-length token ids of a text: start token, text tokens, end token, zeros.
   *
   * @throws IllegalArgumentException when the text does not fit and the tokenizer does not truncate
   */
  int[] tokenize(String text);
}
