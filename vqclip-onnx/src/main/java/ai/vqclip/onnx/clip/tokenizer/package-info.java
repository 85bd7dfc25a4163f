/**
 * CLIP's byte-level BPE tokenizer: {@link ai.vqclip.onnx.clip.tokenizer.ClipTokenizer} over a
 * {@link ai.vqclip.onnx.clip.tokenizer.BpeVocabulary} read from OpenAI's
 * {@code bpe_simple_vocab_16e6.txt.gz} or from a Hugging Face {@code vocab.json} + {@code
 * merges.txt} pair.
 */
package ai.vqclip.onnx.clip.tokenizer;
