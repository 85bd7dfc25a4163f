package ai.vqclip.onnx.clip.tokenizer;

import ai.vqclip.onnx.clip.TextTokenizer;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * CLIP's text tokenizer: cleaning, the word-splitting regex, byte-level BPE, start/end tokens and
 * zero padding to the context length — the pipeline of OpenAI's {@code clip.tokenize}.
 *
 * <p>Steps: {@link #clean} the text (NFC, curly quotes straightened, HTML references decoded
 * twice, whitespace collapsed, lower case; ftfy's mojibake repair is not done); split it with
 * CLIP's regex (letter runs, single digits, runs of other non-space characters, English
 * contractions, and the two special tokens); encode each piece as UTF-8 bytes mapped to byte
 * symbols, {@code </w>} on the last; merge by BPE rank; map to ids.
 *
 * <p>As in OpenAI's tokenizer, the literal text {@code <|startoftext|>} or {@code <|endoftext|>} in
 * a prompt becomes the special token's id.
 *
 * <p>Thread-safe: the vocabulary is immutable and the per-word cache (a bounded LRU map) is
 * synchronized.
 */
public final class ClipTokenizer implements TextTokenizer {
  /** The context length of every released CLIP text encoder. */
  public static final int CONTEXT_LENGTH = 77;

  /** Words longer than this (in UTF-8 bytes) are not cached, so the cache stays small. */
  static final int MAX_CACHED_WORD_BYTES = 64;

  // CLIP's split regex. UNICODE_CHARACTER_CLASS makes \s Unicode-aware as in Python.
  private static final Pattern SPLIT =
      Pattern.compile(
          "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]"
              + "|[^\\s\\p{L}\\p{N}]+",
          Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE | Pattern.UNICODE_CHARACTER_CLASS);

  /** What {@link #tokenize} does with a prompt longer than the context length. */
  public enum Overflow {
    /** Throw a {@link PromptTooLongException} (OpenAI's default). */
    FAIL,
    /** Keep the first tokens and put the end token last (OpenAI's {@code truncate=True}). */
    TRUNCATE
  }

  /**
   * Tokenizer settings.
   *
   * @param contextLength the length of {@link #tokenize}'s result, 2..65536 (CLIP: 77)
   * @param overflow what to do with a longer prompt
   * @param cacheCapacity how many words the BPE cache keeps, 0 (no cache)..1,000,000
   */
  public record Options(int contextLength, Overflow overflow, int cacheCapacity) {
    /**
     * Validates.
     *
     * @param contextLength the length of {@link #tokenize}'s result, 2..65536
     * @param overflow what to do with a longer prompt (not null)
     * @param cacheCapacity how many words the BPE cache keeps, 0..1,000,000
     * @throws IllegalArgumentException for a context length or cache capacity out of range
     * @throws NullPointerException when {@code overflow} is null
     */
    public Options {
      if (contextLength < 2 || contextLength > 65536) {
        throw new IllegalArgumentException(
            "contextLength is " + contextLength + "; it must be 2..65536 (CLIP uses 77)");
      }
      Objects.requireNonNull(overflow, "overflow");
      if (cacheCapacity < 0 || cacheCapacity > 1_000_000) {
        throw new IllegalArgumentException(
            "cacheCapacity is " + cacheCapacity + "; it must be 0..1000000");
      }
    }

    /**
     * Context length 77, fail on overflow, a 10,000-word cache.
     *
     * @return the default options (OpenAI CLIP's behaviour)
     */
    public static Options defaults() {
      return new Options(CONTEXT_LENGTH, Overflow.FAIL, 10_000);
    }

    /**
     * These options with another overflow policy.
     *
     * @param overflow what to do with a longer prompt (not null)
     * @return a copy with this overflow policy
     */
    public Options withOverflow(Overflow overflow) {
      return new Options(contextLength, overflow, cacheCapacity);
    }
  }

  private final BpeVocabulary vocab;
  private final Options options;
  private final Map<String, int[]> cache;

  /**
   * A tokenizer with {@link Options#defaults()}.
   *
   * @param vocab the BPE vocabulary (not null)
   */
  public ClipTokenizer(BpeVocabulary vocab) {
    this(vocab, Options.defaults());
  }

  /**
   * A tokenizer over a vocabulary.
   *
   * @param vocab the BPE vocabulary (not null)
   * @param options context length, overflow policy and cache size (not null)
   * @throws NullPointerException when either is null
   */
  public ClipTokenizer(BpeVocabulary vocab, Options options) {
    this.vocab = Objects.requireNonNull(vocab, "vocab");
    this.options = Objects.requireNonNull(options, "options");
    int capacity = options.cacheCapacity();
    this.cache =
        Collections.synchronizedMap(
            new LinkedHashMap<>(16, 0.75f, true) {
              private static final long serialVersionUID = 1L;

              @Override
              protected boolean removeEldestEntry(Map.Entry<String, int[]> eldest) {
                return size() > capacity;
              }
            });
  }

  /**
   * A tokenizer with default options over OpenAI's {@code bpe_simple_vocab_16e6.txt.gz}.
   *
   * @param mergesFile path of {@code bpe_simple_vocab_16e6.txt.gz} (gzip or plain text)
   * @return the tokenizer
   * @throws ai.vqclip.core.ModelLoadException when the file cannot be read or is not a merges file
   */
  public static ClipTokenizer openAi(Path mergesFile) {
    return new ClipTokenizer(BpeVocabulary.readOpenAi(mergesFile));
  }

  /**
   * A tokenizer with default options over Hugging Face {@code vocab.json} + {@code merges.txt}.
   *
   * @param vocabJson path of {@code vocab.json}
   * @param mergesTxt path of {@code merges.txt}
   * @return the tokenizer
   * @throws ai.vqclip.core.ModelLoadException when a file cannot be read or is malformed
   */
  public static ClipTokenizer huggingFace(Path vocabJson, Path mergesTxt) {
    return new ClipTokenizer(BpeVocabulary.readHuggingFace(vocabJson, mergesTxt));
  }

  /**
   * A tokenizer over the same vocabulary with other options (and its own cache).
   *
   * @param options the new options (not null)
   * @return a new tokenizer sharing this one's vocabulary
   */
  public ClipTokenizer withOptions(Options options) {
    return new ClipTokenizer(vocab, options);
  }

  /**
   * The vocabulary.
   *
   * @return the vocabulary tokens come from
   */
  public BpeVocabulary vocabulary() {
    return vocab;
  }

  /**
   * The options.
   *
   * @return this tokenizer's options
   */
  public Options options() {
    return options;
  }

  /**
   * CLIP's text cleaning, as applied before splitting: lone surrogates to U+FFFD, typographic
   * quotes to ASCII ones, NFC, HTML character references decoded twice, whitespace runs to one
   * space and stripped, lower case ({@link java.util.Locale#ROOT}).
   *
   * @param text any text (not null)
   * @return the cleaned text
   */
  public static String clean(String text) {
    return ClipTextCleaner.clean(Objects.requireNonNull(text, "text"));
  }

  /**
   * The context-length ids of a prompt: start token, its tokens, end token, zero padding.
   *
   * @throws PromptTooLongException when the prompt does not fit and the overflow policy is FAIL
   */
  @Override
  public int[] tokenize(String text) {
    List<Integer> ids = encode(text);
    int length = options.contextLength();
    int[] out = new int[length];
    out[0] = vocab.startTokenId();
    if (ids.size() + 2 > length) {
      if (options.overflow() == Overflow.FAIL) {
        throw new PromptTooLongException(ids.size() + 2, length, text);
      }
      for (int i = 0; i < length - 2; i++) {
        out[i + 1] = ids.get(i);
      }
      out[length - 1] = vocab.endTokenId();
      return out;
    }
    for (int i = 0; i < ids.size(); i++) {
      out[i + 1] = ids.get(i);
    }
    out[ids.size() + 1] = vocab.endTokenId();
    return out;
  }

  /**
   * The number of tokens of a prompt, start and end tokens included (compare with 77).
   *
   * @param text the prompt (not null)
   * @return its token count including start and end tokens, whatever the overflow policy
   */
  public int countTokens(String text) {
    return encode(text).size() + 2;
  }

  /**
   * The token ids of a text, without start and end tokens or padding.
   *
   * @param text the text (not null); {@code <|startoftext|>} and {@code <|endoftext|>} in it become
   *     the special tokens
   * @return the ids in text order
   */
  public List<Integer> encode(String text) {
    String cleaned = clean(text);
    List<Integer> ids = new ArrayList<>();
    Matcher m = SPLIT.matcher(cleaned);
    while (m.find()) {
      String piece = m.group();
      if (piece.equals(BpeVocabulary.START_TOKEN)) {
        ids.add(vocab.startTokenId());
      } else if (piece.equals(BpeVocabulary.END_TOKEN)) {
        ids.add(vocab.endTokenId());
      } else {
        for (int id : bpe(piece)) {
          ids.add(id);
        }
      }
    }
    return ids;
  }

  private int[] bpe(String piece) {
    byte[] bytes = piece.getBytes(StandardCharsets.UTF_8);
    boolean cacheable = options.cacheCapacity() > 0 && bytes.length <= MAX_CACHED_WORD_BYTES;
    if (cacheable) {
      int[] hit = cache.get(piece);
      if (hit != null) {
        return hit;
      }
    }
    // Computed outside the lock: two threads may both compute a word, with the same result.
    int[] ids = BytePairEncoder.encode(vocab, bytes);
    if (cacheable) {
      cache.put(piece, ids);
    }
    return ids;
  }

  /**
   * The text of token ids: each word-end token is followed by a space, the final space dropped.
   * The start token is skipped and decoding stops at the first end token, so {@link #tokenize}'s
   * padded output decodes to its text. Byte sequences that are not valid UTF-8 (a multi-byte
   * character cut by truncation) become U+FFFD.
   *
   * @param ids token ids
   * @return the decoded text
   * @throws IllegalArgumentException for an id outside the vocabulary
   */
  public String decode(int[] ids) {
    Objects.requireNonNull(ids, "ids");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(ids.length * 4);
    for (int id : ids) {
      if (id == vocab.endTokenId()) {
        break;
      }
      if (id == vocab.startTokenId()) {
        continue;
      }
      String token = vocab.token(id);
      boolean wordEnd = token.endsWith(BpeVocabulary.WORD_END);
      int symbols = wordEnd ? token.length() - BpeVocabulary.WORD_END.length() : token.length();
      for (int i = 0; i < symbols; i++) {
        bytes.write(ByteUnicode.byteOf(token.charAt(i)));
      }
      if (wordEnd) {
        bytes.write(' ');
      }
    }
    String text = bytes.toString(StandardCharsets.UTF_8);
    return text.endsWith(" ") ? text.substring(0, text.length() - 1) : text;
  }

  /**
   * The text of token ids, see {@link #decode(int[])}.
   *
   * @param ids token ids (no nulls)
   * @return the decoded text
   * @throws IllegalArgumentException for an id outside the vocabulary
   */
  public String decode(List<Integer> ids) {
    return decode(ids.stream().mapToInt(Integer::intValue).toArray());
  }

  /** The number of words now in the BPE cache. */
  int cachedWords() {
    return cache.size();
  }

  @Override
  public String toString() {
    return "ClipTokenizer[" + vocab + ", " + options + "]";
  }
}
