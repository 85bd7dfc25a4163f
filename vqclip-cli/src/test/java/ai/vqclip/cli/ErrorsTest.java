package ai.vqclip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.image.Images;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Every usage error: exit code 2, one line on stderr naming the problem, no stack trace (unless --verbose). */
class ErrorsTest extends WithTinyModelFiles {
  /** Exit 2, exactly one line on stderr containing {@code expected}, nothing on stdout, no stack trace. */
  static void assertUsageError(Cli.Run r, String expected) {
    assertEquals(2, r.exit(), r.toString());
    assertEquals(1, r.err().lines().count(), r.toString());
    assertTrue(r.err().contains(expected), "expected '" + expected + "' in: " + r.err());
    assertFalse(r.err().contains("\tat "), r.err());
    assertEquals("", r.out(), r.toString());
  }

  private String[] gen(String... args) {
    List<String> all = new ArrayList<>(List.of("generate"));
    all.addAll(List.of(args));
    return files.args(all.toArray(new String[0]));
  }

  @Test
  void unknownOptionsAndBadValues() {
    assertUsageError(Cli.run("generate", "a cat", "--no-such-option"), "--no-such-option");
    assertUsageError(Cli.run("edit", "x.png", "a", "--bogus"), "--bogus");
    assertUsageError(Cli.run("video", "a", "--iterations", "many"), "many");
    assertUsageError(Cli.run("inspect"), "FILE");
    assertUsageError(Cli.run("tokenize", "a photo of a cat"), "--vocab");
    assertUsageError(Cli.run("generate"), "PROMPTS");
    assertUsageError(Cli.run(gen("a cat", "-i", "0")), "--iterations must be in [1, 1000000], got 0");
    assertUsageError(Cli.run(gen("a cat", "--lr", "-1")), "--lr");
    assertUsageError(Cli.run(gen("a cat", "--cutouts", "0")), "--cutouts");
    assertUsageError(Cli.run(gen("a cat", "--cut-pow", "0")), "--cut-pow");
    assertUsageError(Cli.run(gen("a cat", "--optimizer", "momentum")), "optimizer must be one of");
    assertUsageError(Cli.run(gen("a cat", "--augments", "Ji,Zz")), "unknown augment code 'Zz'");
    assertUsageError(Cli.run(gen("a cat", "--noise-prompts", "seven")), "--noise-prompts");
    assertUsageError(Cli.run(gen("a cat", "--noise-prompts", "7:0")), "non-zero");
    assertUsageError(Cli.run(gen("a cat", "--init-decay", "sometimes")), "--init-decay");
    assertUsageError(Cli.run(gen("a cat", "--init-target", "one")), "--init-target must be zero or init");
    assertUsageError(Cli.run(gen("a cat", "--init-noise", "perlin")), "perlin");
    assertUsageError(Cli.run(gen("a cat", "--device", "tpu")), "--device must be cpu, cuda or cuda:N (N a GPU index in [0, 63]), got 'tpu'");
    assertUsageError(Cli.run(gen("a cat", "--memory-saving", "maybe")), "--memory-saving must be auto, on, max or off, got 'maybe'");
    assertUsageError(Cli.run(gen("a cat", "--threads", "-1")), "--threads");
    assertUsageError(Cli.run(gen("a cat", "--save-every", "-2")), "--save-every");
    assertUsageError(Cli.run(gen("a cat", "--vqgan-groups", "0")), "--vqgan-groups");
    assertUsageError(Cli.run("video", "a", "--frame-every", "0"), "--frame-every");
    assertUsageError(Cli.run("video", "a", "--fps", "1000"), "--fps");
    assertUsageError(Cli.run("video", "a", "--zoom-scale", "9"), "--zoom-scale");
    assertUsageError(Cli.run("video", "a", "--save-every", "3"), "--save-every does not apply to video");
    assertUsageError(Cli.run("video", "a", "--checkpoint"), "--checkpoint does not apply to video");
  }

  @Test
  void invalidSizes() {
    assertUsageError(Cli.run(gen("a cat", "-s", "33", "32")), "not a multiple of the VQGAN downsampling factor 2; nearest valid widths: 32 or 34");
    assertUsageError(Cli.run(gen("a cat", "-s", "0", "32")), "--size must be two numbers in [1, 8192]");
    assertUsageError(Cli.run(gen("a cat", "-s", "32", "9000")), "--size must be two numbers in [1, 8192]");
    assertUsageError(Cli.run(gen("a cat", "-s", "32", "tall")), "tall");
    assertUsageError(Cli.run("generate", "a cat", "-s", "32"), "--size");
  }

  @Test
  void badPromptSyntax() {
    assertUsageError(Cli.run(gen("a cat:heavy")), "malformed prompt 'a cat:heavy'");
    assertUsageError(Cli.run(gen("a cat||a dog")), "an entry between '|' is empty");
    assertUsageError(Cli.run(gen(":2")), "the text before the first ':' is empty");
    assertUsageError(Cli.run(gen("a cat:1:inf")), "'inf' after the last ':' is not a number");
    assertUsageError(Cli.run(gen("a cat^a dog")), "give --change-prompts-every N");
    assertUsageError(Cli.run(gen("a cat^")), "empty");
    assertUsageError(Cli.run(gen("word ".repeat(80))), "prompt 'word word");
    assertUsageError(Cli.run(gen("a cat", "--image-prompts", "x.png:much")), "--image-prompts: malformed prompt");
  }

  @Test
  void missingAndUnreadableFiles() throws IOException {
    String missing = dir.resolve("missing.bin").toString();
    assertUsageError(Cli.run("generate", "a cat", "--vqgan", missing), "--vqgan: file not found: " + missing);
    assertUsageError(Cli.run("generate", "a cat", "--clip", missing, "--vocab", files.vocab.toString()), "--clip: file not found");
    assertUsageError(Cli.run("generate", "a cat", "--clip", files.clip.toString(), "--vocab", missing), "--vocab: file not found");
    assertUsageError(Cli.run("generate", "a cat", "--clip", files.clip.toString()), "--clip needs --vocab FILE");
    assertUsageError(Cli.run("generate", "a cat", "--vqgan-config", files.vqganYaml.toString()), "give --vqgan FILE too");
    assertUsageError(Cli.run(gen("a cat", "--init-image", missing)), "--init-image: file not found");
    assertUsageError(Cli.run(gen("a cat", "--image-prompts", missing)), "--image-prompts: file not found");
    assertUsageError(Cli.run("edit", missing, "a cat"), "IMAGE: file not found");
    assertUsageError(Cli.run("edit", files.vocab.toString(), "a cat", "--mask", missing), "--mask: file not found");
    assertUsageError(Cli.run("inspect", missing), "FILE: file not found");
    assertUsageError(Cli.run("tokenize", "a", "--vocab", missing), "--vocab: file not found");
    assertUsageError(Cli.run("inspect", dir.toString()), "not a regular file");
    // Outputs that cannot be written are found before the run, not at its end.
    assertUsageError(Cli.run(gen("a cat", "-o", "/dev/null/x.png")), "--output: cannot create the folder /dev/null");
    assertUsageError(Cli.run(gen("a cat", "-o", dir.toString())), "is a folder");
    assertUsageError(Cli.run(gen("a cat", "--manifest", "/dev/null/m.json")), "--manifest: cannot create the folder");
    // Files that exist but are not what they should be.
    Path text = dir.resolve("notes.txt");
    Files.writeString(text, "not a model\n");
    assertUsageError(Cli.run("generate", "a cat", "--vqgan", text.toString()), "is not safetensors, a torch ZIP archive or a legacy torch stream");
    assertUsageError(Cli.run("inspect", text.toString()), "is not safetensors");
    assertUsageError(Cli.run("tokenize", "a", "--vocab", text.toString()), "not a merges-file header");
    assertUsageError(Cli.run(gen("a cat", "--init-image", text.toString())), "is not an image");
    assertUsageError(Cli.run("generate", "a cat", "--vqgan", files.clip.toString()), "cannot infer the VQGAN config");
    assertUsageError(Cli.run("generate", "a cat", "--clip", files.vqgan.toString(), "--vocab", files.vocab.toString()), "not CLIP weights");
    // A VQGAN whose group count is neither in its metadata nor given: taming's 32 cannot divide its 8 channels.
    assertUsageError(Cli.run("generate", "a cat", "--vqgan", files.vqganNoMetadata.toString()), "numGroups 32");
  }

  @Test
  void aVocabularyLargerThanTheModelsTokenTable() {
    Path real = RealVocabulary.find();
    Assumptions.assumeTrue(real != null, "CLIP vocabulary " + RealVocabulary.RELATIVE + " not found in or above the working directory");
    assertUsageError(Cli.run("generate", "a cat", "--clip", files.clip.toString(), "--vocab", real.toString()),
        "has 530 token embeddings; use the vocabulary the model was trained with");
  }

  @Test
  void editErrors() throws IOException {
    Path img = dir.resolve("img.png");
    Images.writePng(GenerateCommandTest.gradient(32, 32), img, Map.of());
    assertUsageError(Cli.run("edit", img.toString(), "--from", "a cat"), "--from and --to go together");
    assertUsageError(Cli.run("edit", img.toString(), "--to", "a dog"), "--from and --to go together");
    assertUsageError(Cli.run("edit", img.toString(), "--from", "a cat", "--to", "a dog", "--mask-samples", "3"), "--mask-samples");
    assertUsageError(Cli.run("edit", img.toString(), "--from", "a cat", "--to", "a dog", "--edit-scale", "0"), "--edit-scale");
    assertUsageError(Cli.run("edit", img.toString(), "--from", "a cat", "--to", "a dog", "--content-weight", "-1"), "--content-weight");
    assertUsageError(Cli.run("edit", img.toString(), "--from", " ", "--to", "a dog"), "must not be blank");
    assertUsageError(Cli.run("edit", img.toString()), "edit needs PROMPTS");
    assertUsageError(Cli.run(files.args("edit", img.toString(), "a cat", "--init-image", img.toString())), "--init-image cannot be used with edit");
    assertUsageError(Cli.run(gen("a cat", "--init-image", img.toString(), "--init-noise", "pixels")), "exclude each other");
  }

  @Test
  void verboseAddsTheStackTrace() {
    Cli.Run r = Cli.run("generate", "a cat:heavy", "--verbose");
    assertEquals(2, r.exit());
    assertTrue(r.err().contains("malformed prompt") && r.err().contains("\tat "), r.err());
  }
}
