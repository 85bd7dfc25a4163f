package ai.vqclip.onnx.clip.tokenizer;

/**
 * GPT-2/CLIP's reversible map from the 256 byte values to printable characters, so that BPE works
 * on strings without whitespace or control characters in them.
 *
 * <p>The 188 printable bytes ({@code !}..{@code ~}, {@code ¡}..{@code ¬}, {@code ®}..{@code ÿ})
 * map to the character of the same code; the other 68 map to U+0100 + n, n counting them in byte
 * order. The symbols' vocabulary order (ids 0..255) is the printable ones first, then the others —
 * which is the same as ascending character code.
 */
final class ByteUnicode {
  /** The largest symbol character: U+0100 + 67. */
  static final int MAX_SYMBOL = 0x100 + 67;

  private static final char[] BYTE_TO_CHAR = new char[256];
  /** Indexed by character, -1 where the character is not a byte symbol. */
  private static final int[] CHAR_TO_BYTE = new int[MAX_SYMBOL + 1];
  private static final char[] INDEX_TO_CHAR = new char[256];

  static {
    java.util.Arrays.fill(CHAR_TO_BYTE, -1);
    int n = 0;
    for (int b = 0; b < 256; b++) {
      char c = printable(b) ? (char) b : (char) (0x100 + n++);
      BYTE_TO_CHAR[b] = c;
      CHAR_TO_BYTE[c] = b;
    }
    int index = 0;
    for (char c = 0; c <= MAX_SYMBOL; c++) {
      if (CHAR_TO_BYTE[c] >= 0) {
        INDEX_TO_CHAR[index++] = c;
      }
    }
  }

  private ByteUnicode() {}

  private static boolean printable(int b) {
    return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
  }

  /** The symbol of a byte (0..255 or a signed byte). */
  static char symbol(int b) {
    return BYTE_TO_CHAR[b & 0xFF];
  }

  /** The byte of a symbol, or -1 where the character is not one. */
  static int byteOf(char c) {
    return c <= MAX_SYMBOL ? CHAR_TO_BYTE[c] : -1;
  }

  /** The symbol with vocabulary id {@code index} (0..255). */
  static char symbolAt(int index) {
    return INDEX_TO_CHAR[index];
  }

  /** A string of byte symbols for the given bytes. */
  static String encode(byte[] bytes) {
    char[] out = new char[bytes.length];
    for (int i = 0; i < bytes.length; i++) {
      out[i] = symbol(bytes[i]);
    }
    return new String(out);
  }

  /** Whether every character of {@code s} is a byte symbol. */
  static boolean allSymbols(CharSequence s) {
    for (int i = 0; i < s.length(); i++) {
      if (byteOf(s.charAt(i)) < 0) {
        return false;
      }
    }
    return true;
  }
}
