package ai.vqclip.demo.text;

import ai.vqclip.onnx.clip.tokenizer.BpeVocabulary;
import ai.vqclip.onnx.clip.tokenizer.ClipTokenizer;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Learns byte-pair-encoding merges from texts (Sennrich et al. 2016, as CLIP's vocabulary was
 * made): words are CLIP-cleaned and split on spaces, spelled as symbols with {@code </w>} on the
 * last, and the most frequent adjacent pair is merged until no pair occurs {@code minCount} times
 * or {@code maxMerges} are learned. Ties go to the lexicographically smallest pair, so the result
 * is deterministic. The output is an OpenAI-style merges file that {@link
 * BpeVocabulary#readOpenAi} reads: token ids are the 512 base tokens, the merges in order, then
 * start and end tokens.
 *
 * <p>Only printable ASCII words are learned (the demo grammar); their byte symbols are the
 * characters themselves.
 */
public final class BpeLearner {
  private BpeLearner() {}

  /** The merges file text: a header line, then one "left right" merge per line. */
  public static String learn(Collection<String> texts, int maxMerges, int minCount) {
    if (maxMerges < 0 || minCount < 1) {
      throw new IllegalArgumentException("maxMerges must be >= 0 and minCount >= 1, got " + maxMerges + ", " + minCount);
    }
    Map<String, Integer> freq = new TreeMap<>();
    for (String t : texts) {
      for (String w : ClipTokenizer.clean(t).split(" ")) {
        if (w.isEmpty()) {
          continue;
        }
        for (char ch : w.toCharArray()) {
          if (ch < 0x21 || ch > 0x7e) {
            throw new IllegalArgumentException("only printable ASCII words are learned, got '" + w + "'");
          }
        }
        freq.merge(w, 1, Integer::sum);
      }
    }
    Map<List<String>, Integer> words = new LinkedHashMap<>();
    for (Map.Entry<String, Integer> e : freq.entrySet()) {
      List<String> sym = new ArrayList<>();
      String w = e.getKey();
      for (int i = 0; i < w.length(); i++) {
        sym.add(w.charAt(i) + (i == w.length() - 1 ? BpeVocabulary.WORD_END : ""));
      }
      words.put(sym, e.getValue());
    }
    StringBuilder out = new StringBuilder("\"vqclip demo bpe#version: 0.2\n");
    for (int m = 0; m < maxMerges; m++) {
      Map<String, Integer> pairs = new TreeMap<>();
      for (Map.Entry<List<String>, Integer> e : words.entrySet()) {
        List<String> s = e.getKey();
        for (int i = 0; i + 1 < s.size(); i++) {
          pairs.merge(s.get(i) + " " + s.get(i + 1), e.getValue(), Integer::sum);
        }
      }
      String best = null;
      int bestCount = 0;
      for (Map.Entry<String, Integer> p : pairs.entrySet()) {
        if (p.getValue() > bestCount) {
          best = p.getKey();
          bestCount = p.getValue();
        }
      }
      if (best == null || bestCount < minCount) {
        break;
      }
      out.append(best).append('\n');
      String[] lr = best.split(" ");
      Map<List<String>, Integer> next = new LinkedHashMap<>();
      for (Map.Entry<List<String>, Integer> e : words.entrySet()) {
        List<String> s = e.getKey();
        List<String> r = new ArrayList<>();
        for (int i = 0; i < s.size(); i++) {
          if (i + 1 < s.size() && s.get(i).equals(lr[0]) && s.get(i + 1).equals(lr[1])) {
            r.add(lr[0] + lr[1]);
            i++;
          } else {
            r.add(s.get(i));
          }
        }
        next.merge(r, e.getValue(), Integer::sum);
      }
      words = next;
    }
    return out.toString();
  }

  /** The vocabulary of a merges text from {@link #learn}. */
  public static BpeVocabulary vocabulary(String mergesText) {
    return BpeVocabulary.readOpenAi(new ByteArrayInputStream(mergesText.getBytes(StandardCharsets.UTF_8)), "learned merges");
  }
}
