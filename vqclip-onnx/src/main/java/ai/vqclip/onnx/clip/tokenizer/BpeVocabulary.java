package ai.vqclip.onnx.clip.tokenizer;

import ai.vqclip.core.ModelLoadException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An immutable byte-level BPE vocabulary in CLIP's layout: tokens with ids, and merges with ranks.
 *
 * <p>A token is a string of byte symbols (see the GPT-2 byte-to-unicode map), optionally ending in
 * {@code </w>}, which marks the last symbol of a word; plus the two special tokens {@value
 * #START_TOKEN} and {@value #END_TOKEN}. A merge joins two adjacent tokens; a lower rank merges
 * first.
 *
 * <p>Two file formats are read, both untrusted: sizes are capped and any line that is not a merge
 * of known tokens fails with a {@link ModelLoadException} naming the file and line.
 *
 * <ul>
 *   <li>OpenAI's {@code bpe_simple_vocab_16e6.txt.gz} ({@link #readOpenAi}): a header line, then
 *       merges; CLIP uses the first {@value #CLIP_MERGES}. Ids are implied: the 256 byte symbols,
 *       the same with {@code </w>}, the merge results in rank order, then the start and end tokens
 *       (49406 and 49407 for the real file).
 *   <li>Hugging Face's {@code vocab.json} (token to id) + {@code merges.txt} ({@link
 *       #readHuggingFace}).
 * </ul>
 */
public final class BpeVocabulary {
  /** The start-of-text special token. */
  public static final String START_TOKEN = "<|startoftext|>";

  /** The end-of-text special token. */
  public static final String END_TOKEN = "<|endoftext|>";

  /** The word-end marker on a token's last symbol. */
  public static final String WORD_END = "</w>";

  /** The number of merges CLIP takes from its merges file: 49152 - 256 - 2. */
  public static final int CLIP_MERGES = 49152 - 256 - 2;

  /** Cap on the decompressed bytes read from a merges file (the real one needs about 1 MB). */
  static final long MAX_MERGES_BYTES = 64L << 20;

  /** Cap on the bytes of a {@code vocab.json} (the real one is under 1 MB). */
  static final long MAX_VOCAB_JSON_BYTES = 64L << 20;

  /** Cap on the number of merges of a Hugging Face {@code merges.txt}. */
  static final int MAX_HF_MERGES = 1 << 20;

  /** Cap on the number of tokens of a {@code vocab.json}. */
  static final int MAX_TOKENS = MAX_HF_MERGES + 1024;

  /** Cap on a line (a merge) and a token, in characters; real tokens are under 70. */
  static final int MAX_LINE_CHARS = 1024;

  private final String[] tokens;
  private final Map<String, Integer> ids;
  /** Pair (left id << 32 | right id) to rank. */
  private final Map<Long, Integer> ranks;
  /** Rank to the id of the merged token. */
  private final int[] mergeResults;
  private final int[] symbolIds = new int[256];
  private final int[] symbolEndIds = new int[256];
  private final int startId;
  private final int endId;

  private BpeVocabulary(String[] tokens, Map<String, Integer> ids, List<String[]> merges, String source) {
    this.tokens = tokens;
    this.ids = ids;
    for (int b = 0; b < 256; b++) {
      String symbol = String.valueOf(ByteUnicode.symbol(b));
      symbolIds[b] = require(symbol, source);
      symbolEndIds[b] = require(symbol + WORD_END, source);
    }
    this.startId = require(START_TOKEN, source);
    this.endId = require(END_TOKEN, source);
    for (int id = 0; id < tokens.length; id++) {
      String t = tokens[id];
      if (id != startId && id != endId && !isSymbolToken(t)) {
        throw new ModelLoadException(
            source + ": token " + quote(t) + " (id " + id
                + ") is neither a string of byte symbols (optionally ending in " + WORD_END
                + ") nor a special token");
      }
    }
    this.ranks = new HashMap<>(merges.size() * 2);
    this.mergeResults = new int[merges.size()];
    for (int rank = 0; rank < merges.size(); rank++) {
      String[] m = merges.get(rank);
      Integer result = ids.get(m[0] + m[1]);
      if (result == null) {
        throw new ModelLoadException(
            source + ": merge " + (rank + 1) + " (" + quote(m[0] + " " + m[1]) + ") makes "
                + quote(m[0] + m[1]) + ", which is not in the vocabulary");
      }
      Integer previous = ranks.putIfAbsent(pairKey(ids.get(m[0]), ids.get(m[1])), rank);
      if (previous != null) {
        throw new ModelLoadException(
            source + ": merge " + (rank + 1) + " (" + quote(m[0] + " " + m[1])
                + ") repeats merge " + (previous + 1));
      }
      mergeResults[rank] = result;
    }
  }

  private int require(String token, String source) {
    Integer id = ids.get(token);
    if (id == null) {
      throw new ModelLoadException(source + ": the vocabulary lacks the token " + quote(token));
    }
    return id;
  }

  private static boolean isSymbolToken(String t) {
    String body = t.endsWith(WORD_END) ? t.substring(0, t.length() - WORD_END.length()) : t;
    return !body.isEmpty() && ByteUnicode.allSymbols(body);
  }

  /**
   * Reads OpenAI's merges file ({@code bpe_simple_vocab_16e6.txt.gz}, gzip or plain text) and
   * builds CLIP's vocabulary from its first {@value #CLIP_MERGES} merges (fewer if the file has
   * fewer).
   *
   * @param mergesFile path of the merges file (not null)
   * @return the vocabulary: 256 byte tokens, their word-end forms, the merges' tokens and the two
   *     special tokens
   * @throws ModelLoadException when the file cannot be read or is not a merges file
   */
  public static BpeVocabulary readOpenAi(Path mergesFile) {
    Objects.requireNonNull(mergesFile, "mergesFile");
    try (InputStream in = Files.newInputStream(mergesFile)) {
      return readOpenAi(in, mergesFile.toString());
    } catch (NoSuchFileException e) {
      throw new ModelLoadException("CLIP merges file not found: " + mergesFile, e);
    } catch (IOException e) {
      throw new ModelLoadException("cannot read CLIP merges file " + mergesFile + ": " + e, e);
    }
  }

  /**
   * Reads an OpenAI merges file from a stream (gzip or plain text), see {@link #readOpenAi(Path)}.
   * The stream is not closed.
   *
   * @param in the merges file content, gzip or plain UTF-8 text (not null; not closed)
   * @param source a name for the stream in error messages
   * @return the vocabulary built from the first merges
   * @throws ModelLoadException when the stream cannot be read, is too large or is not a merges file
   */
  public static BpeVocabulary readOpenAi(InputStream in, String source) {
    Objects.requireNonNull(in, "in");
    Objects.requireNonNull(source, "source");
    List<String[]> merges = new ArrayList<>();
    try {
      BoundedText.LineReader lines =
          new BoundedText.LineReader(
              BoundedText.strictUtf8(BoundedText.maybeGunzip(in, MAX_MERGES_BYTES, source)),
              MAX_LINE_CHARS,
              source);
      String header = lines.next();
      if (header == null || header.isEmpty()) {
        throw new ModelLoadException(source + " is empty; expected a BPE merges file");
      }
      if (!header.contains("#version")) {
        throw new ModelLoadException(
            source + ": line 1 is not a merges-file header (one containing '#version', like "
                + "'\"bpe_simple_vocab_16e6.txt#version: 0.2'); not a BPE merges file");
      }
      Map<String, Integer> known = baseTokens();
      readMerges(lines, CLIP_MERGES, known, true, merges, source);
    } catch (IOException e) {
      throw new ModelLoadException(describe(e, source), e);
    }
    // Ids: byte symbols, the same with </w>, merge results in rank order, start, end.
    List<String> tokens = new ArrayList<>(baseTokenList());
    for (String[] m : merges) {
      tokens.add(m[0] + m[1]);
    }
    tokens.add(START_TOKEN);
    tokens.add(END_TOKEN);
    Map<String, Integer> ids = new HashMap<>(tokens.size() * 2);
    for (int i = 0; i < tokens.size(); i++) {
      ids.put(tokens.get(i), i);
    }
    return new BpeVocabulary(tokens.toArray(new String[0]), ids, merges, source);
  }

  /**
   * Reads a Hugging Face tokenizer's {@code vocab.json} (a JSON object from token to id, ids
   * 0..n-1) and {@code merges.txt} (an optional {@code #version} header, then one merge per line).
   *
   * @param vocabJson path of {@code vocab.json}
   * @param mergesTxt path of {@code merges.txt}
   * @return the vocabulary with the files' ids
   * @throws ModelLoadException when a file cannot be read or is not such a file
   */
  public static BpeVocabulary readHuggingFace(Path vocabJson, Path mergesTxt) {
    Objects.requireNonNull(vocabJson, "vocabJson");
    Objects.requireNonNull(mergesTxt, "mergesTxt");
    try (InputStream v = Files.newInputStream(vocabJson);
        InputStream m = Files.newInputStream(mergesTxt)) {
      return readHuggingFace(v, vocabJson.toString(), m, mergesTxt.toString());
    } catch (NoSuchFileException e) {
      throw new ModelLoadException("tokenizer file not found: " + e.getFile(), e);
    } catch (IOException e) {
      throw new ModelLoadException(
          "cannot read tokenizer files " + vocabJson + ", " + mergesTxt + ": " + e, e);
    }
  }

  /**
   * Reads Hugging Face {@code vocab.json} and {@code merges.txt} streams, see {@link
   * #readHuggingFace(Path, Path)}. The streams are not closed.
   *
   * @param vocabJson the {@code vocab.json} content, UTF-8 (not null; not closed)
   * @param vocabSource a name for the vocab.json stream in error messages
   * @param mergesTxt the {@code merges.txt} content, UTF-8 (not null; not closed)
   * @param mergesSource a name for the merges.txt stream in error messages
   * @return the vocabulary with the files' ids
   * @throws ModelLoadException when a stream cannot be read, is too large or malformed, or the two
   *     do not agree
   */
  public static BpeVocabulary readHuggingFace(
      InputStream vocabJson, String vocabSource, InputStream mergesTxt, String mergesSource) {
    Objects.requireNonNull(vocabJson, "vocabJson");
    Objects.requireNonNull(mergesTxt, "mergesTxt");
    Objects.requireNonNull(vocabSource, "vocabSource");
    Objects.requireNonNull(mergesSource, "mergesSource");
    Map<String, Integer> ids = readVocabJson(vocabJson, vocabSource);
    String[] tokens = new String[ids.size()];
    for (Map.Entry<String, Integer> e : ids.entrySet()) {
      int id = e.getValue();
      if (id < 0 || id >= tokens.length) {
        throw new ModelLoadException(
            vocabSource + ": token " + quote(e.getKey()) + " has id " + id + "; ids must be 0.."
                + (tokens.length - 1) + " for " + tokens.length + " tokens");
      }
      if (tokens[id] != null) {
        throw new ModelLoadException(
            vocabSource + ": tokens " + quote(tokens[id]) + " and " + quote(e.getKey())
                + " share id " + id);
      }
      tokens[id] = e.getKey();
    }
    List<String[]> merges = new ArrayList<>();
    try {
      BoundedText.LineReader lines =
          new BoundedText.LineReader(
              BoundedText.strictUtf8(BoundedText.limit(mergesTxt, MAX_MERGES_BYTES, mergesSource)),
              MAX_LINE_CHARS,
              mergesSource);
      readMerges(lines, MAX_HF_MERGES, ids, false, merges, mergesSource);
    } catch (IOException e) {
      throw new ModelLoadException(describe(e, mergesSource), e);
    }
    return new BpeVocabulary(tokens, ids, merges, vocabSource + " + " + mergesSource);
  }

  private static Map<String, Integer> readVocabJson(InputStream in, String source) {
    JsonFactory factory =
        JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .streamReadConstraints(
                StreamReadConstraints.builder()
                    .maxNameLength(MAX_LINE_CHARS)
                    .maxStringLength(MAX_LINE_CHARS)
                    .maxNestingDepth(4)
                    .maxNumberLength(12)
                    .build())
            .build();
    Map<String, Integer> ids = new HashMap<>();
    try (JsonParser p = factory.createParser(BoundedText.limit(in, MAX_VOCAB_JSON_BYTES, source))) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new ModelLoadException(
            source + " does not hold a JSON object (token to id); not a vocab.json");
      }
      JsonToken t;
      while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
        String token = p.currentName();
        if (p.nextToken() != JsonToken.VALUE_NUMBER_INT
            || p.getNumberType() != JsonParser.NumberType.INT) {
          throw new ModelLoadException(
              source + ": the id of token " + quote(token) + " is " + p.getText()
                  + ", not an integer id");
        }
        ids.put(token, p.getIntValue());
        if (ids.size() > MAX_TOKENS) {
          throw new ModelLoadException(source + " has more than " + MAX_TOKENS + " tokens, the limit");
        }
      }
      if (t != JsonToken.END_OBJECT) {
        throw new ModelLoadException(source + ": expected a token name or '}', found " + t);
      }
      if (p.nextToken() != null) {
        throw new ModelLoadException(source + ": unexpected content after the JSON object");
      }
    } catch (JsonParseException e) {
      throw new ModelLoadException(
          source + " is not a valid vocab.json (a JSON object from token to id): "
              + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new ModelLoadException(describe(e, source), e);
    }
    if (ids.isEmpty()) {
      throw new ModelLoadException(source + " holds no tokens; expected a vocab.json");
    }
    return ids;
  }

  /**
   * Reads merge lines into {@code merges} (at most max). With {@code grow}, each merge result is
   * added to {@code known} (OpenAI's implied vocabulary); without, results are checked later.
   */
  private static void readMerges(
      BoundedText.LineReader lines, int max, Map<String, Integer> known, boolean grow,
      List<String[]> merges, String source) throws IOException {
    String line;
    int emptyLine = -1;
    while (merges.size() < max && (line = lines.next()) != null) {
      if (lines.lineNumber() == 1 && line.startsWith("#version")) {
        continue; // Hugging Face header
      }
      String[] parts = splitPythonWhitespace(line);
      if (parts.length == 0) {
        emptyLine = emptyLine < 0 ? lines.lineNumber() : emptyLine;
        continue; // allowed at the end only
      }
      if (emptyLine >= 0) {
        throw new ModelLoadException(source + ": line " + emptyLine + " is empty; expected a merge");
      }
      if (parts.length != 2) {
        throw new ModelLoadException(
            source + ": line " + lines.lineNumber() + " (" + quote(abbreviate(line))
                + ") is not a merge: expected two tokens separated by a space, found "
                + parts.length);
      }
      for (String part : parts) {
        if (!known.containsKey(part)) {
          throw new ModelLoadException(
              source + ": line " + lines.lineNumber() + " merges " + quote(part) + ", which is "
                  + (grow ? "neither a byte symbol nor the result of an earlier merge"
                      : "not in the vocabulary"));
        }
      }
      if (parts[0].endsWith(WORD_END)) {
        throw new ModelLoadException(
            source + ": line " + lines.lineNumber() + ": the left token " + quote(parts[0])
                + " ends a word, so nothing can follow it");
      }
      if (grow) {
        String result = parts[0] + parts[1];
        if (known.putIfAbsent(result, known.size()) != null) {
          throw new ModelLoadException(
              source + ": line " + lines.lineNumber() + " makes " + quote(result)
                  + ", which an earlier merge or byte symbol already is");
        }
      }
      merges.add(parts);
    }
    if (merges.isEmpty()) {
      throw new ModelLoadException(source + " holds no merges; expected a BPE merges file");
    }
  }

  private static String[] splitPythonWhitespace(String line) {
    List<String> parts = new ArrayList<>(2);
    int i = 0;
    while (i < line.length()) {
      while (i < line.length() && ClipTextCleaner.isPythonSpace(line.charAt(i))) {
        i++;
      }
      int start = i;
      while (i < line.length() && !ClipTextCleaner.isPythonSpace(line.charAt(i))) {
        i++;
      }
      if (i > start) {
        parts.add(line.substring(start, i));
        if (parts.size() > 3) {
          break; // enough to reject the line
        }
      }
    }
    return parts.toArray(new String[0]);
  }

  /** The 512 base tokens in id order: byte symbols, then the same with {@code </w>}. */
  private static List<String> baseTokenList() {
    List<String> base = new ArrayList<>(512);
    for (int i = 0; i < 256; i++) {
      base.add(String.valueOf(ByteUnicode.symbolAt(i)));
    }
    for (int i = 0; i < 256; i++) {
      base.add(ByteUnicode.symbolAt(i) + WORD_END);
    }
    return base;
  }

  private static Map<String, Integer> baseTokens() {
    Map<String, Integer> known = new HashMap<>(CLIP_MERGES * 3);
    for (String t : baseTokenList()) {
      known.put(t, known.size());
    }
    return known;
  }

  private static String describe(IOException e, String source) {
    if (e instanceof java.nio.charset.CharacterCodingException) {
      return source + " is not UTF-8 text (a binary file?); expected a BPE vocabulary file";
    }
    if (e instanceof java.util.zip.ZipException || e instanceof java.io.EOFException) {
      return source + " is a corrupt or truncated gzip file: " + e.getMessage();
    }
    return "cannot read " + source + ": " + e;
  }

  private static String abbreviate(String s) {
    return s.length() <= 60 ? s : s.substring(0, 57) + "...";
  }

  static String quote(String s) {
    return "'" + abbreviate(s) + "'";
  }

  static long pairKey(int left, int right) {
    return ((long) left << 32) | (right & 0xFFFFFFFFL);
  }

  /**
   * The number of tokens, special ones included (49408 for CLIP).
   *
   * @return the vocabulary size
   */
  public int size() {
    return tokens.length;
  }

  /**
   * The number of merges (48894 for CLIP).
   *
   * @return the merge count
   */
  public int mergeCount() {
    return mergeResults.length;
  }

  /**
   * The id of {@value #START_TOKEN} (49406 for CLIP).
   *
   * @return the start token's id
   */
  public int startTokenId() {
    return startId;
  }

  /**
   * The id of {@value #END_TOKEN} (49407 for CLIP).
   *
   * @return the end token's id
   */
  public int endTokenId() {
    return endId;
  }

  /**
   * The id of a token, or -1 where it is not in the vocabulary.
   *
   * @param token a token string in the vocabulary's byte-level form (e.g. {@code "a</w>"})
   * @return its id, or -1
   */
  public int id(String token) {
    Integer id = ids.get(token);
    return id == null ? -1 : id;
  }

  /**
   * The token of an id.
   *
   * @param id a token id, in 0..size()-1
   * @return the token string in the vocabulary's byte-level form
   * @throws IllegalArgumentException when id is not in 0..size()-1
   */
  public String token(int id) {
    if (id < 0 || id >= tokens.length) {
      throw new IllegalArgumentException(
          "token id " + id + " is out of range; ids are 0.." + (tokens.length - 1));
    }
    return tokens[id];
  }

  /** The merge rank of two adjacent tokens, or -1 where they do not merge. */
  int rank(int left, int right) {
    Integer r = ranks.get(pairKey(left, right));
    return r == null ? -1 : r;
  }

  /** The id of the token that merge {@code rank} makes. */
  int mergeResult(int rank) {
    return mergeResults[rank];
  }

  /** The id of a byte's symbol inside a word. */
  int symbolId(int b) {
    return symbolIds[b & 0xFF];
  }

  /** The id of a byte's symbol ending a word ({@code </w>}). */
  int symbolEndId(int b) {
    return symbolEndIds[b & 0xFF];
  }

  @Override
  public String toString() {
    return "BpeVocabulary[" + tokens.length + " tokens, " + mergeResults.length + " merges]";
  }
}
