package ai.vqclip.cli.models;

import ai.vqclip.core.Encoder;
import ai.vqclip.onnx.clip.TextTokenizer;
import java.util.Objects;

/**
 * An encoder (a CLIP, or an ONNX graph adapted by {@link ai.vqclip.onnx.adapt.OnnxEncoder}) with
 * the tokenizer it embeds texts with (kept so prompts can be checked before a run starts: for fixed
 * text embeddings it throws for a text that has none).
 *
 * @param encoder the encoder
 * @param tokenizer its tokenizer
 * @param description where it came from, for logs
 */
public record ClipModel(Encoder encoder, TextTokenizer tokenizer, String description) {
  public ClipModel {
    Objects.requireNonNull(encoder, "encoder");
    Objects.requireNonNull(tokenizer, "tokenizer");
    Objects.requireNonNull(description, "description");
  }
}
