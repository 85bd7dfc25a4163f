package ai.vqclip.onnx.clip.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.onnx.clip.TextTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The tokenizer on OpenAI's real merges file; skipped when the file is not around. */
class ClipTokenizerRealVocabTest {
  private static ClipTokenizer tokenizer;
  private static NaiveBpe naive;

  @BeforeAll
  static void load() throws Exception {
    Path file = RealVocab.find();
    if (file == null) {
      return; // each test then reports itself skipped, with the reason
    }
    long t0 = System.nanoTime();
    tokenizer = ClipTokenizer.openAi(file);
    long t1 = System.nanoTime();
    System.out.printf("loaded %s in %.1f ms%n", tokenizer.vocabulary(), (t1 - t0) / 1e6);
    naive = new NaiveBpe(NaiveBpe.readMerges(file, BpeVocabulary.CLIP_MERGES));
  }

  @BeforeEach
  void requireVocabulary() {
    Assumptions.assumeTrue(tokenizer != null, RealVocab.SKIP_MESSAGE);
  }

  private static int[] padded(int... ids) {
    return Arrays.copyOf(ids, 77);
  }

  private static List<Integer> list(int... ids) {
    List<Integer> out = new ArrayList<>();
    for (int id : ids) {
      out.add(id);
    }
    return out;
  }

  @Test
  void aPhotoOfACat() {
    TextTokenizer asInterface = tokenizer;
    assertArrayEquals(
        padded(49406, 320, 1125, 539, 320, 2368, 49407), asInterface.tokenize("a photo of a cat"));
    assertEquals(list(320, 1125, 539, 320, 2368), tokenizer.encode("a photo of a cat"));
    assertEquals("a photo of a cat", tokenizer.decode(tokenizer.tokenize("a photo of a cat")));
  }

  @Test
  void vocabularyLayoutMatchesClip() {
    BpeVocabulary v = tokenizer.vocabulary();
    assertEquals(49408, v.size());
    assertEquals(48894, v.mergeCount());
    assertEquals(49406, v.startTokenId());
    assertEquals(49407, v.endTokenId());
    assertEquals("!", v.token(0));
    assertEquals("!</w>", v.token(256));
    assertEquals("in", v.token(512));
    assertEquals("jekyll</w>", v.token(49405));
    assertEquals(2368, v.id("cat</w>"));
    assertEquals(1125, v.id("photo</w>"));
    assertEquals(-1, v.id("no such token"));
    // The naive reference builds the same vocabulary independently.
    for (int id = 0; id < v.size(); id++) {
      assertEquals(naive.vocab.get(id), v.token(id), "token " + id);
    }
  }

  @Test
  void digitsAreOneTokenEach() {
    // '0' is byte 0x30, the 16th printable byte after '!' (id 15); with </w> 256 + 15.
    assertEquals(list(273, 271, 273, 275), tokenizer.encode("2024"));
    assertEquals(list(tokenizer.vocabulary().id("x</w>"), 273), tokenizer.encode("x2"));
  }

  @Test
  void contractionsSplitOff() {
    BpeVocabulary v = tokenizer.vocabulary();
    List<Integer> dont = tokenizer.encode("don't");
    List<Integer> expected = new ArrayList<>(naive.encodeWord("don"));
    expected.addAll(naive.encodeWord("'t"));
    assertEquals(expected, dont);
    assertEquals(list(v.id("don</w>"), v.id("'t</w>")), dont);
    assertEquals(list(v.id("it</w>"), v.id("'s</w>")), tokenizer.encode("it's"));
    // A typographic apostrophe becomes ASCII (ftfy's uncurl_quotes), then splits the same way.
    assertEquals(dont, tokenizer.encode("don\u2019t"));
    assertEquals(dont, tokenizer.encode("DON'T"));
  }

  @Test
  void casingWhitespaceAndHtmlEntitiesDoNotChangeTokens() {
    int[] cat = tokenizer.tokenize("a photo of a cat");
    assertArrayEquals(cat, tokenizer.tokenize("A PHOTO OF A CAT"));
    assertArrayEquals(cat, tokenizer.tokenize("  a\tphoto\n\nof \u00a0 a\u3000cat  "));
    assertArrayEquals(tokenizer.tokenize("cats & dogs"), tokenizer.tokenize("cats &amp; dogs"));
    assertArrayEquals(tokenizer.tokenize("cats & dogs"), tokenizer.tokenize("cats &amp;amp; dogs"));
    assertArrayEquals(tokenizer.tokenize("don't"), tokenizer.tokenize("don&#39;t"));
    assertEquals(tokenizer.encode("<3"), tokenizer.encode("&lt;3"));
  }

  @Test
  void punctuationRunsAreOnePiece() {
    for (String run : List.of("!!!", "...", "?!", "--", ":)", "(*&^%$#@)")) {
      assertEquals(naive.encodeWord(run), tokenizer.encode(run), run);
    }
    // "wow!!!" splits into the letters and the run.
    List<Integer> expected = new ArrayList<>(naive.encodeWord("wow"));
    expected.addAll(naive.encodeWord("!!!"));
    assertEquals(expected, tokenizer.encode("wow!!!"));
    assertEquals(expected, tokenizer.encode("wow !!!"));
  }

  @Test
  void unicodeWordsMatchTheNaiveReference() {
    List<String> words =
        List.of(
            "photograph", "tokenization", "supercalifragilisticexpialidocious", "naïve", "café",
            "über", "ñandú", "東京", "猫", "こんにちは", "привет", "ελληνικά", "שלום", "مرحبا", "🐱",
            "🤖🎨", "👩‍🚀", "™", "ǆ", "a");
    for (String w : words) {
      String piece = ClipTokenizer.clean(w);
      List<Integer> expected = new ArrayList<>();
      // Letter runs are one piece; emoji and symbols a run of "other" characters.
      expected.addAll(naive.encodeWord(piece));
      assertEquals(expected, tokenizer.encode(w), w);
    }
  }

  @Test
  void randomWordsMatchTheNaiveReference() {
    Random random = new Random(20240601L);
    String letters = "abcdefghijklmnopqrstuvwxyzéü";
    for (int trial = 0; trial < 300; trial++) {
      StringBuilder w = new StringBuilder();
      int n = 1 + random.nextInt(trial < 290 ? 20 : 3000);
      for (int i = 0; i < n; i++) {
        w.append(letters.charAt(random.nextInt(letters.length())));
      }
      assertEquals(naive.encodeWord(w.toString()), tokenizer.encode(w.toString()), w.toString());
    }
  }

  @Test
  void decodeInvertsEncodeUpToSpacesAndIdsStayInRange() {
    List<String> texts =
        List.of(
            "A photo of a cat", "Crème brûlée à la carte", "東京タワーの夜景, 4k", "🐱 + 🐶 = ❤️",
            "don't stop: it's 3.14!!!", "cats &amp; dogs", "Ünïcödé ТЕКСТ", "x   y\tz");
    for (String text : texts) {
      List<Integer> ids = tokenizer.encode(text);
      for (int id : ids) {
        assertTrue(id >= 0 && id < 49406, text + ": id " + id);
      }
      String decoded = tokenizer.decode(ids);
      assertEquals(
          ClipTokenizer.clean(text).replace(" ", ""), decoded.replace(" ", ""), text);
    }
    // Where pieces are whole words, the round trip is exact.
    assertEquals("crème brûlée à la carte", tokenizer.decode(tokenizer.encode("Crème brûlée à la carte")));
  }

  @Test
  void longPromptsFailOrTruncate() {
    String text = "cat ".repeat(100).trim();
    PromptTooLongException e =
        assertThrows(PromptTooLongException.class, () -> tokenizer.tokenize(text));
    assertEquals(102, e.tokenCount());
    assertEquals(77, e.contextLength());
    assertTrue(e.getMessage().contains("102") && e.getMessage().contains("77"), e.getMessage());
    assertEquals(102, tokenizer.countTokens(text));

    ClipTokenizer truncating =
        tokenizer.withOptions(ClipTokenizer.Options.defaults().withOverflow(ClipTokenizer.Overflow.TRUNCATE));
    int[] ids = truncating.tokenize(text);
    assertEquals(77, ids.length);
    assertEquals(49406, ids[0]);
    for (int i = 1; i < 76; i++) {
      assertEquals(2368, ids[i], "position " + i);
    }
    assertEquals(49407, ids[76]);

    // Exactly 77 tokens fit either way: 75 words.
    String fits = "cat ".repeat(75).trim();
    assertArrayEquals(truncating.tokenize(fits), tokenizer.tokenize(fits));
    assertEquals(49407, tokenizer.tokenize(fits)[76]);
  }

  @Test
  void specialTokenTextBecomesTheSpecialId() {
    // OpenAI's tokenizer does the same (its BPE cache maps the literal strings to the specials).
    assertEquals(list(320, 49407, 320), tokenizer.encode("a <|endoftext|> a"));
    assertEquals(list(49406), tokenizer.encode("<|StartOfText|>"));
  }

  @Test
  void emptyAndBlankTextGiveStartAndEndOnly() {
    assertArrayEquals(padded(49406, 49407), tokenizer.tokenize(""));
    assertArrayEquals(padded(49406, 49407), tokenizer.tokenize(" \n\t "));
    assertEquals("", tokenizer.decode(tokenizer.tokenize("")));
  }

  @Test
  void cacheIsBoundedAndConsistent() {
    ClipTokenizer small = tokenizer.withOptions(new ClipTokenizer.Options(77, ClipTokenizer.Overflow.FAIL, 4));
    ClipTokenizer none = tokenizer.withOptions(new ClipTokenizer.Options(77, ClipTokenizer.Overflow.FAIL, 0));
    String text = "one two three four five six seven one two three";
    assertEquals(none.encode(text), small.encode(text));
    assertEquals(small.encode(text), small.encode(text));
    assertTrue(small.cachedWords() <= 4, "cache size " + small.cachedWords());
    assertEquals(0, none.cachedWords());
  }

  @Test
  void decodeRejectsUnknownIds() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> tokenizer.decode(new int[] {5, 49408}));
    assertTrue(e.getMessage().contains("49408"), e.getMessage());
  }

  @Test
  void concurrentUseGivesTheSameIds() throws Exception {
    List<String> texts = new ArrayList<>();
    Random random = new Random(7L);
    for (int i = 0; i < 200; i++) {
      texts.add("prompt " + random.nextInt(1000) + " of a " + (random.nextBoolean() ? "dog" : "painting"));
    }
    ClipTokenizer shared = tokenizer.withOptions(new ClipTokenizer.Options(77, ClipTokenizer.Overflow.FAIL, 16));
    List<int[]> expected = new ArrayList<>();
    for (String t : texts) {
      expected.add(tokenizer.tokenize(t));
    }
    Thread[] threads = new Thread[4];
    List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    for (int k = 0; k < threads.length; k++) {
      threads[k] =
          new Thread(
              () -> {
                for (int i = 0; i < texts.size(); i++) {
                  if (!Arrays.equals(expected.get(i), shared.tokenize(texts.get(i)))) {
                    failures.add(new AssertionError("mismatch for " + texts.get(i)));
                  }
                }
              });
      threads[k].start();
    }
    for (Thread t : threads) {
      t.join();
    }
    assertTrue(failures.isEmpty(), failures.toString());
  }

  @Test
  void throughput() {
    String prompt = "a beautiful painting of a lighthouse in a storm, by Ivan Aivazovsky, trending on artstation";
    ClipTokenizer cold = tokenizer.withOptions(new ClipTokenizer.Options(77, ClipTokenizer.Overflow.FAIL, 0));
    int n = 2000;
    long t0 = System.nanoTime();
    int sum = 0;
    for (int i = 0; i < n; i++) {
      sum += cold.tokenize(prompt)[1];
    }
    long t1 = System.nanoTime();
    for (int i = 0; i < n; i++) {
      sum += tokenizer.tokenize(prompt)[1];
    }
    long t2 = System.nanoTime();
    // A 200,000-letter word: the merge loop is O(n log n), so this stays fast.
    String longWord = "abcdefghij".repeat(20_000);
    long t3 = System.nanoTime();
    int longCount = tokenizer.encode(longWord).size();
    long t4 = System.nanoTime();
    System.out.printf(
        "tokenize: %.1f us/prompt uncached, %.1f us/prompt cached; 200k-letter word %.0f ms (%d tokens)%n",
        (t1 - t0) / 1e3 / n, (t2 - t1) / 1e3 / n, (t4 - t3) / 1e6, longCount);
    assertEquals(2 * n * tokenizer.tokenize(prompt)[1], sum);
    assertTrue(longCount > 0 && longCount < 200_000);
  }
}
