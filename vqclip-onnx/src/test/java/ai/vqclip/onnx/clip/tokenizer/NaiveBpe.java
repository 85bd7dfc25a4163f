package ai.vqclip.onnx.clip.tokenizer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * A deliberately simple, independent reference for tests: its own byte-to-symbol table, its own
 * vocabulary construction from a merges list, and the textbook BPE loop (scan every adjacent pair
 * for the lowest rank, merge all its occurrences left to right, repeat) on strings.
 */
final class NaiveBpe {
  final List<String> vocab = new ArrayList<>();
  final Map<String, Integer> ids = new HashMap<>();
  final Map<String, Integer> ranks = new HashMap<>();
  final char[] byteSymbol = new char[256];

  NaiveBpe(List<String[]> merges) {
    // Printable bytes keep their code point; the others get 256, 257, ... in byte order.
    List<Integer> printable = new ArrayList<>();
    for (int b = 0; b < 256; b++) {
      boolean p = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
      if (p) {
        printable.add(b);
      }
    }
    int extra = 0;
    List<Character> order = new ArrayList<>();
    for (int b : printable) {
      byteSymbol[b] = (char) b;
      order.add((char) b);
    }
    for (int b = 0; b < 256; b++) {
      if (!printable.contains(b)) {
        byteSymbol[b] = (char) (256 + extra++);
        order.add(byteSymbol[b]);
      }
    }
    for (char c : order) {
      vocab.add(String.valueOf(c));
    }
    for (char c : order) {
      vocab.add(c + "</w>");
    }
    for (int r = 0; r < merges.size(); r++) {
      vocab.add(merges.get(r)[0] + merges.get(r)[1]);
      ranks.put(merges.get(r)[0] + " " + merges.get(r)[1], r);
    }
    vocab.add("<|startoftext|>");
    vocab.add("<|endoftext|>");
    for (int i = 0; i < vocab.size(); i++) {
      ids.put(vocab.get(i), i);
    }
  }

  /** The first {@code max} merges of a gzip merges file (line 1 is a header). */
  static List<String[]> readMerges(Path gz, int max) throws IOException {
    try (InputStream in = new GZIPInputStream(Files.newInputStream(gz))) {
      ByteArrayOutputStream buf = new ByteArrayOutputStream();
      in.transferTo(buf);
      String[] lines = buf.toString(StandardCharsets.UTF_8).split("\n");
      List<String[]> merges = new ArrayList<>();
      for (int i = 1; i < lines.length && merges.size() < max; i++) {
        merges.add(lines[i].split(" "));
      }
      return merges;
    }
  }

  /** The symbols of one word after BPE. */
  List<String> bpeSymbols(String word) {
    byte[] bytes = word.getBytes(StandardCharsets.UTF_8);
    List<String> symbols = new ArrayList<>();
    for (int i = 0; i < bytes.length; i++) {
      String s = String.valueOf(byteSymbol[bytes[i] & 0xFF]);
      symbols.add(i == bytes.length - 1 ? s + "</w>" : s);
    }
    while (symbols.size() > 1) {
      String best = null;
      int bestRank = Integer.MAX_VALUE;
      for (int i = 0; i + 1 < symbols.size(); i++) {
        Integer r = ranks.get(symbols.get(i) + " " + symbols.get(i + 1));
        if (r != null && r < bestRank) {
          bestRank = r;
          best = symbols.get(i) + " " + symbols.get(i + 1);
        }
      }
      if (best == null) {
        break;
      }
      String first = best.substring(0, best.indexOf(' '));
      String second = best.substring(best.indexOf(' ') + 1);
      List<String> merged = new ArrayList<>();
      for (int i = 0; i < symbols.size(); i++) {
        if (i + 1 < symbols.size() && symbols.get(i).equals(first) && symbols.get(i + 1).equals(second)) {
          merged.add(first + second);
          i++;
        } else {
          merged.add(symbols.get(i));
        }
      }
      symbols = merged;
    }
    return symbols;
  }

  /** The ids of one word after BPE. */
  List<Integer> encodeWord(String word) {
    List<Integer> out = new ArrayList<>();
    for (String s : bpeSymbols(word)) {
      out.add(ids.get(s));
    }
    return out;
  }
}
