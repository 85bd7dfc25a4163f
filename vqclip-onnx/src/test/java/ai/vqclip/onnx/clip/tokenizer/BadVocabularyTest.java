package ai.vqclip.onnx.clip.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.ModelLoadException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Files that are not vocabularies fail with a message that says what is wrong and where. */
class BadVocabularyTest {
  @TempDir Path dir;

  private static byte[] gzip(byte[] data) throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    try (OutputStream gz = new GZIPOutputStream(buf)) {
      gz.write(data);
    }
    return buf.toByteArray();
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String openAiError(byte[] file) {
    ModelLoadException e =
        assertThrows(
            ModelLoadException.class,
            () -> BpeVocabulary.readOpenAi(new ByteArrayInputStream(file), "merges.gz"));
    assertTrue(e.getMessage().startsWith("merges.gz"), e.getMessage());
    return e.getMessage();
  }

  private static void assertContains(String message, String part) {
    assertTrue(message.contains(part), "expected '" + part + "' in: " + message);
  }

  private static final String HEADER = "\"bpe_simple_vocab_16e6.txt#version: 0.2\n";

  @Test
  void emptyAndBinaryFiles() throws IOException {
    assertContains(openAiError(new byte[0]), "is empty");
    assertContains(openAiError(gzip(new byte[0])), "is empty");
    byte[] random = new byte[4096];
    new Random(1L).nextBytes(random);
    assertContains(openAiError(random), "not UTF-8 text");
    assertContains(openAiError(gzip(random)), "not UTF-8 text");
    byte[] gz = gzip(utf8(HEADER + "l o\n"));
    assertContains(openAiError(Arrays.copyOf(gz, 14)), "corrupt or truncated gzip");
  }

  @Test
  void missingHeader() {
    assertContains(openAiError(utf8("l o\nlo w\n")), "line 1 is not a merges-file header");
    assertContains(openAiError(utf8(HEADER)), "holds no merges");
  }

  @Test
  void malformedMergeLines() throws IOException {
    assertContains(openAiError(utf8(HEADER + "l o\nl o w\n")), "line 3");
    assertContains(openAiError(utf8(HEADER + "l o\nl o w\n")), "expected two tokens");
    assertContains(openAiError(utf8(HEADER + "lonely\n")), "line 2");
    assertContains(
        openAiError(gzip(utf8(HEADER + "l o\nzz q\n"))),
        "line 3 merges 'zz', which is neither a byte symbol nor the result of an earlier merge");
    assertContains(openAiError(utf8(HEADER + "l o\n\nlo w\n")), "line 3 is empty");
    assertContains(openAiError(utf8(HEADER + "a</w> b\n")), "ends a word");
    assertContains(
        openAiError(utf8(HEADER + "a b\nb c\nab c\na bc\n")),
        "line 5 makes 'abc', which an earlier merge or byte symbol already is");
    // A symbol outside the byte alphabet (a space-like or an arbitrary letter).
    assertContains(openAiError(utf8(HEADER + "\u4e00 a\n")), "neither a byte symbol");
  }

  @Test
  void trailingEmptyLinesAndCrlfAreAccepted() {
    BpeVocabulary v =
        BpeVocabulary.readOpenAi(
            new ByteArrayInputStream(utf8(HEADER + "l o\r\nlo w\r\n\n\n")), "crlf.txt");
    assertEquals(2, v.mergeCount());
    assertEquals("low", v.token(513));
  }

  @Test
  void hugeLinesAndHugeStreamsAreCut() throws IOException {
    // A 2 MB line without a newline compresses to a few kB.
    assertContains(openAiError(gzip(utf8(HEADER + "a".repeat(2 << 20)))), "line 2 is longer than 1024");
    // The byte cap, on a smaller limit than the real one.
    InputStream limited = BoundedText.limit(new ByteArrayInputStream(new byte[300]), 100, "big.gz");
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> limited.readAllBytes());
    assertContains(e.getMessage(), "big.gz is larger than 100 bytes");
  }

  @Test
  void missingFile() {
    Path missing = dir.resolve("nope.txt.gz");
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> BpeVocabulary.readOpenAi(missing));
    assertContains(e.getMessage(), "not found");
    assertContains(e.getMessage(), "nope.txt.gz");
    e = assertThrows(ModelLoadException.class, () -> ClipTokenizer.huggingFace(missing, missing));
    assertContains(e.getMessage(), "not found");
  }

  // ---- Hugging Face format ----

  private static String hfError(byte[] vocab, byte[] merges) {
    ModelLoadException e =
        assertThrows(
            ModelLoadException.class,
            () ->
                BpeVocabulary.readHuggingFace(
                    new ByteArrayInputStream(vocab), "vocab.json", new ByteArrayInputStream(merges),
                    "merges.txt"));
    return e.getMessage();
  }

  private static Map<String, Integer> tinyVocab() {
    NaiveBpe reference = new NaiveBpe(TinyVocabularyTest.merges());
    Map<String, Integer> vocab = new LinkedHashMap<>();
    for (int i = 0; i < reference.vocab.size(); i++) {
      vocab.put(reference.vocab.get(i), i);
    }
    return vocab;
  }

  private static byte[] json(Object value) throws IOException {
    return new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsBytes(value);
  }

  @Test
  void malformedVocabJson() throws IOException {
    byte[] merges = TinyVocabularyTest.mergesTxt(TinyVocabularyTest.merges());
    assertContains(hfError(utf8("hello"), merges), "vocab.json is not a valid vocab.json");
    assertContains(hfError(new byte[0], merges), "does not hold a JSON object");
    assertContains(hfError(utf8("[1, 2]"), merges), "does not hold a JSON object");
    assertContains(hfError(utf8("{\"a\": \"x\"}"), merges), "the id of token 'a' is x, not an integer id");
    assertContains(hfError(utf8("{\"a\": 1.5}"), merges), "not an integer id");
    assertContains(hfError(utf8("{\"a\": 0, \"a\": 1}"), merges), "not a valid vocab.json");
    assertContains(hfError(utf8("{\"a\": 0} {}"), merges), "unexpected content");
    assertContains(hfError(utf8("{}"), merges), "holds no tokens");
    byte[] random = new byte[2048];
    new Random(2L).nextBytes(random);
    assertContains(hfError(random, merges), "vocab.json");
  }

  @Test
  void inconsistentVocabJson() throws IOException {
    byte[] merges = TinyVocabularyTest.mergesTxt(TinyVocabularyTest.merges());
    Map<String, Integer> v = tinyVocab();
    v.remove("a</w>");
    v.put("zzz", 78); // same count, so ids stay in range, but 78 is taken
    assertContains(hfError(json(v), merges), "share id");

    v = tinyVocab();
    v.put("a b", v.remove("newe"));
    assertContains(hfError(json(v), merges), "token 'a b' (id 519) is neither a string of byte symbols");

    v = tinyVocab();
    v.put("<|endoftext|>", 9999);
    assertContains(hfError(json(v), merges), "has id 9999; ids must be 0..524");

    v = tinyVocab();
    v.remove("<|endoftext|>");
    assertContains(hfError(json(v), merges), "lacks the token '<|endoftext|>'");

    v = tinyVocab();
    v.remove("a</w>");
    v.put("<|endoftext|>", 320); // dense again, but a byte symbol is missing
    assertContains(hfError(json(v), merges), "lacks the token 'a</w>'");
  }

  @Test
  void mergesTxtInconsistentWithVocab() throws IOException {
    byte[] vocab = json(tinyVocab());
    assertContains(hfError(vocab, utf8("#version: 0.2\nq z\n")), "merge 1 ('q z') makes 'qz', which is not in the vocabulary");
    assertContains(hfError(vocab, utf8("#version: 0.2\nl o\nl o\n")), "merge 2 ('l o') repeats merge 1");
    assertContains(hfError(vocab, utf8("#version: 0.2\nl\n")), "merges.txt: line 2");
    assertContains(hfError(vocab, utf8("#version: 0.2\n")), "merges.txt holds no merges");
    assertContains(hfError(vocab, utf8("#version: 0.2\nlow xyzzy\n")), "'xyzzy', which is not in the vocabulary");
  }
}
