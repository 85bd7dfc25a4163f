package ai.vqclip.demo.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.demo.data.Captions;
import ai.vqclip.onnx.clip.tokenizer.BpeVocabulary;
import ai.vqclip.onnx.clip.tokenizer.ClipTokenizer;
import java.util.List;
import org.junit.jupiter.api.Test;

class BpeLearnerTest {
  @Test
  void learnsMergesInFrequencyOrderWithDeterministicTies() {
    String m = BpeLearner.learn(List.of("low lower lowest", "low low"), 3, 1);
    // pairs: l-o and o-w both occur 5 times; the smaller pair "l o" merges first, then "lo w".
    assertEquals("\"vqclip demo bpe#version: 0.2\nl o\nlo w</w>\nlo w\n", m);
    assertEquals(m, BpeLearner.learn(List.of("low lower lowest", "low low"), 3, 1));
  }

  @Test
  void everyGrammarWordBecomesOneTokenOfTheClipTokenizer() {
    String merges = BpeLearner.learn(Captions.vocabulary(), 1000, 1);
    BpeVocabulary v = BpeLearner.vocabulary(merges);
    assertEquals(v.size() - 1, v.endTokenId(), "end token is the largest id, as the text graph needs");
    assertEquals(v.size() - 2, v.startTokenId());
    ClipTokenizer tok = new ClipTokenizer(v, new ClipTokenizer.Options(20, ClipTokenizer.Overflow.TRUNCATE, 100));
    for (String w : Captions.vocabulary()) {
      assertEquals(1, tok.encode(w).size(), w + " -> " + tok.encode(w));
    }
    int[] ids = tok.tokenize("a green square and a purple circle on a black and purple background");
    assertEquals(20, ids.length);
    assertEquals(v.startTokenId(), ids[0]);
    assertEquals(v.endTokenId(), ids[14]);
    assertEquals("a red star", tok.decode(tok.encode("A  Red STAR")));
    // Unknown words still tokenize (to byte-level pieces).
    assertTrue(tok.encode("an orange hexagon").size() > 3);
    assertThrows(IllegalArgumentException.class, () -> BpeLearner.learn(List.of("caf\u00e9"), 10, 1));
  }
}
