package ai.vqclip.onnx.clip.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Whole prompts against ids computed outside Java: a separate, throwaway re-implementation in
 * Python of the pipeline in MODELS.md section 3 (its {@code regex} module for the split pattern and
 * whitespace, {@code html.unescape} twice, {@code unicodedata.normalize("NFC")}, {@code str.lower},
 * the textbook BPE loop on the real merges file; no ftfy, so the prompts have no curly quotes).
 * It shares no code with the Java tokenizer, so agreement checks the cleaning, the regex and the
 * merges together on accents, CJK, Devanagari (combining marks split words), emoji with ZWJ,
 * contractions, digits, superscripts and entities.
 */
class ReferenceIdsTest {
  private static final String[][] CASES = {
      {"a photo of a cat", "320 1125 539 320 2368"},
      {"A beautiful painting of a lighthouse in a storm, by Ivan Aivazovsky | trending on ArtStation", "320 1215 3086 539 320 13717 530 320 2819 267 638 15689 2014 38142 6420 2390 347 6087 525 1486 2631"},
      {"Cr\u00e8me br\u00fbl\u00e9e \u00e0 la carte &amp; caf\u00e9 au lait", "1075 12138 614 711 127 119 75 13489 21259 1210 44949 261 15304 2566 572 585"},
      {"\u6771\u4eac\u30bf\u30ef\u30fc\u306e\u591c\u666f, 4k HDR", "48338 21078 105 34941 2429 107 13457 21575 23170 250 48132 363 267 275 330 28065"},
      {"\ud83d\udc31 + \ud83d\udc36 = \u2764\ufe0f \ud83d\udc69\u200d\ud83d\ude80", "22979 266 10631 284 1752 26304 13542"},
      {"don't stop: it's 3.14159!!! we'll see, they've gone, I'm here, you're there, he'd go", "847 713 1691 281 585 568 274 269 272 275 272 276 280 995 649 1342 862 267 889 1200 3601 267 328 880 763 267 592 982 997 267 797 1896 861"},
      {"\u0928\u092e\u0938\u094d\u0924\u0947 \u0926\u0941\u0928\u093f\u092f\u093e \u2014 \u043f\u0440\u0438\u0432\u0435\u0442 \u043c\u0438\u0440 \u2014 \u03b3\u03b5\u03b9\u03ac \u03c3\u03bf\u03c5 \u03ba\u03cc\u03c3\u03bc\u03b5", "3124 101 48254 28505 19389 27263 25130 29552 39653 26090 26721 37299 13343 2005 26302 16370 29503 110 22176 141 480 38018 16701 141 478 2005 138 111 138 113 138 117 138 361 139 225 138 123 139 483 138 118 139 234 139 225 138 120 138 369"},
      {"&lt;b&gt;bold&lt;/b&gt; &#39;quoted&#39; &amp;amp; &hellip;", "283 321 285 8911 34308 321 285 262 27706 262 261 959"},
      {"supercalifragilisticexpialidocious antidisestablishmentarianism", "1642 2857 13093 2076 5868 26850 835 639 38466 3120 4262 7726 12658 1585 44351"},
      {"x\u00b2+y\u00b3=z \u00bd \u2462 \u0663 \u3007 \u01c5 \ufb01ne", "343 41175 266 344 126 367 284 345 33613 158 239 351 149 352 4092 485 131 484 171 105 223 1422"},
      {"   lots     of\twhitespace", "2958 539 4699 2138"},
      {" ", ""},
  };

  @Test
  void promptsMatchIndependentlyComputedIds() {
    Path file = RealVocab.find();
    Assumptions.assumeTrue(file != null, RealVocab.SKIP_MESSAGE);
    ClipTokenizer tokenizer = ClipTokenizer.openAi(file);
    for (String[] c : CASES) {
      List<Integer> expected =
          c[1].isEmpty() ? List.of() : Arrays.stream(c[1].split(" ")).map(Integer::valueOf).toList();
      assertEquals(expected, tokenizer.encode(c[0]), c[0]);
      int[] padded = new int[77];
      padded[0] = 49406;
      for (int i = 0; i < expected.size(); i++) {
        padded[i + 1] = expected.get(i);
      }
      padded[expected.size() + 1] = 49407;
      assertArrayEquals(padded, tokenizer.tokenize(c[0]), c[0]);
    }
  }
}
