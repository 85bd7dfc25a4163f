package ai.vqclip.onnx.clip.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A vocabulary of a few merges written by the test, in both file formats. */
class TinyVocabularyTest {
  static final String[][] MERGES = {
    {"l", "o"}, // 0 -> id 512
    {"lo", "w</w>"}, // 1
    {"e", "r</w>"}, // 2
    {"lo", "w"}, // 3
    {"low", "er</w>"}, // 4
    {"n", "e"}, // 5
    {"ne", "w"}, // 6
    {"new", "e"}, // 7
    {"s", "t</w>"}, // 8
    {"e", "s"}, // 9
    {"es", "t</w>"}, // 10
  };

  @TempDir Path dir;

  static List<String[]> merges() {
    return List.of(MERGES);
  }

  static byte[] openAiGz(List<String[]> merges) throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    try (OutputStream gz = new GZIPOutputStream(buf)) {
      StringBuilder text = new StringBuilder("\"bpe_simple_vocab_16e6.txt#version: 0.2\n");
      for (String[] m : merges) {
        text.append(m[0]).append(' ').append(m[1]).append('\n');
      }
      gz.write(text.toString().getBytes(StandardCharsets.UTF_8));
    }
    return buf.toByteArray();
  }

  /** vocab.json with the same ids as the OpenAI layout, written in a shuffled key order. */
  static byte[] vocabJson(NaiveBpe reference, long seed) throws IOException {
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < reference.vocab.size(); i++) {
      order.add(i);
    }
    Collections.shuffle(order, new Random(seed));
    Map<String, Integer> json = new LinkedHashMap<>();
    for (int id : order) {
      json.put(reference.vocab.get(id), id);
    }
    return new ObjectMapper().writeValueAsBytes(json);
  }

  static byte[] mergesTxt(List<String[]> merges) {
    StringBuilder text = new StringBuilder("#version: 0.2\n");
    for (String[] m : merges) {
      text.append(m[0]).append(' ').append(m[1]).append('\n');
    }
    return text.toString().getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void bothFormatsGiveIdenticalTokenizations() throws IOException {
    NaiveBpe reference = new NaiveBpe(merges());
    Path gz = dir.resolve("tiny.txt.gz");
    Files.write(gz, openAiGz(merges()));
    Path vocab = dir.resolve("vocab.json");
    Files.write(vocab, vocabJson(reference, 11L));
    Path mergesTxt = dir.resolve("merges.txt");
    Files.write(mergesTxt, mergesTxt(merges()));

    ClipTokenizer openAi = ClipTokenizer.openAi(gz);
    ClipTokenizer hf = ClipTokenizer.huggingFace(vocab, mergesTxt);
    assertEquals(512 + MERGES.length + 2, openAi.vocabulary().size());
    assertEquals(523, openAi.vocabulary().startTokenId());
    assertEquals(524, hf.vocabulary().endTokenId());

    for (String text :
        List.of("lower newest", "Low LOWER lowest slow", "newer & newest!", "widest 123", "ünï 🐱",
            "", "<|endoftext|> low")) {
      assertArrayEquals(openAi.tokenize(text), hf.tokenize(text), text);
      assertEquals(openAi.encode(text), hf.encode(text), text);
    }
    // Hand-derived: "lower" merges l-o, lo-w, e-r</w>, low-er</w>; "newest" stops at newe + st</w>,
    // since "s t</w>" (rank 8) outranks "e s" (rank 9) and takes the s first.
    assertEquals(List.of(516), openAi.encode("lower"));
    assertEquals(List.of(513), openAi.encode("low"));
    assertEquals(List.of(519, 520), openAi.encode("newest"));
    assertEquals("newe", openAi.vocabulary().token(519));
    assertEquals("st</w>", openAi.vocabulary().token(520));
    assertEquals("lower newest", openAi.decode(openAi.tokenize("lower newest")));
  }

  @Test
  void plainTextMergesFileIsReadToo() {
    BpeVocabulary gz = BpeVocabulary.readOpenAi(new ByteArrayInputStream(gzUnchecked()), "tiny.gz");
    BpeVocabulary plain =
        BpeVocabulary.readOpenAi(
            new ByteArrayInputStream(
                ("#version: 0.2\n" + String.join("\n", lines()) + "\n").getBytes(StandardCharsets.UTF_8)),
            "tiny.txt");
    for (int id = 0; id < gz.size(); id++) {
      assertEquals(gz.token(id), plain.token(id));
    }
    assertEquals(gz.size(), plain.size());
  }

  @Test
  void randomVocabulariesAgreeWithTheNaiveLoop() {
    // Random merges over a 3-letter alphabet: many repeated and overlapping pairs ("a a a"), and
    // merges whose results are also parts of later, lower-priority merges.
    Random random = new Random(42L);
    for (int trial = 0; trial < 20; trial++) {
      List<String> known = new ArrayList<>(List.of("a", "b", "c", "a</w>", "b</w>", "c</w>"));
      List<String[]> merges = new ArrayList<>();
      java.util.Set<String> made = new java.util.HashSet<>(known);
      while (merges.size() < 40) {
        String left = known.get(random.nextInt(known.size()));
        String right = known.get(random.nextInt(known.size()));
        if (left.endsWith("</w>") || made.contains(left + right)) {
          continue;
        }
        merges.add(new String[] {left, right});
        made.add(left + right);
        known.add(left + right);
      }
      NaiveBpe reference = new NaiveBpe(merges);
      ClipTokenizer tokenizer =
          new ClipTokenizer(BpeVocabulary.readOpenAi(new ByteArrayInputStream(gz(merges)), "random"));
      for (int w = 0; w < 50; w++) {
        StringBuilder word = new StringBuilder();
        int n = 1 + random.nextInt(w < 45 ? 12 : 400);
        for (int i = 0; i < n; i++) {
          word.append("abc".charAt(random.nextInt(3)));
        }
        assertEquals(reference.encodeWord(word.toString()), tokenizer.encode(word.toString()),
            "trial " + trial + " word " + word);
      }
    }
  }

  @Test
  void mergeOrderThatContradictsTrainingStillFollowsTheReferenceLoop() throws IOException {
    // vocab.json + merges.txt may rank "ab a" before "a b", which no BPE training produces (the
    // OpenAI reader rejects it: "ab" is not made yet). The reference loop merges every "a b" of a
    // word before it looks at "ab a": "ababx" -> ab ab x</w>, not aba b x</w>.
    List<String[]> merges = List.of(new String[] {"ab", "a"}, new String[] {"a", "b"});
    NaiveBpe reference = new NaiveBpe(merges);
    BpeVocabulary v =
        BpeVocabulary.readHuggingFace(
            new ByteArrayInputStream(vocabJson(reference, 3L)), "vocab.json",
            new ByteArrayInputStream(mergesTxt(merges)), "merges.txt");
    ClipTokenizer tokenizer = new ClipTokenizer(v);
    assertEquals(List.of("ab", "ab", "x</w>"), reference.bpeSymbols("ababx"));
    for (String word : List.of("ababx", "abab", "aababab", "abaab", "ba", "abababababa")) {
      assertEquals(reference.encodeWord(word), tokenizer.encode(word), word);
    }
  }

  private static byte[] gz(List<String[]> merges) {
    try {
      return openAiGz(merges);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  private static byte[] gzUnchecked() {
    return gz(merges());
  }

  private static List<String> lines() {
    List<String> out = new ArrayList<>();
    for (String[] m : MERGES) {
      out.add(m[0] + " " + m[1]);
    }
    return out;
  }
}
