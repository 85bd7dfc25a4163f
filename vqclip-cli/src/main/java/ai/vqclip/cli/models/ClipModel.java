package ai.vqclip.cli.models;

import ai.vqclip.onnx.clip.ClipEncoder;
import ai.vqclip.onnx.clip.TextTokenizer;
import java.util.Objects;

/**
 * A CLIP encoder with the tokenizer it embeds texts with (kept so prompts can be checked before a
 * run starts).
 *
 * @param encoder the encoder
 * @param tokenizer its tokenizer
 * @param description where it came from, for logs
 */
public record ClipModel(ClipEncoder encoder, TextTokenizer tokenizer, String description) {
  public ClipModel {
    Objects.requireNonNull(encoder, "encoder");
    Objects.requireNonNull(tokenizer, "tokenizer");
    Objects.requireNonNull(description, "description");
  }
}
