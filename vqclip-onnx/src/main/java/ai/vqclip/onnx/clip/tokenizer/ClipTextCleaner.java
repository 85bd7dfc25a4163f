package ai.vqclip.onnx.clip.tokenizer;

import java.text.Normalizer;
import java.util.Locale;

/**
 * CLIP's text cleaning before BPE: OpenAI's {@code basic_clean} + {@code whitespace_clean} + {@code
 * lower()}.
 *
 * <p>OpenAI runs {@code ftfy.fix_text} first. Its mojibake repair (text decoded with the wrong
 * charset) is out of scope here; of its default steps this class does the two that change common
 * prompts: NFC normalization and "uncurling" typographic quotes ({@code ’} to {@code '}, so that
 * {@code don’t} splits like {@code don't}). Its ligature and character-width fixes are not done.
 */
final class ClipTextCleaner {
  private ClipTextCleaner() {}

  /**
   * Cleans a prompt: lone surrogates to U+FFFD, curly quotes to straight ones, NFC, HTML references
   * decoded twice, whitespace runs to one space, stripped, lower-cased. (OpenAI strips once more
   * between unescaping and collapsing; stripping after the collapse gives the same text.)
   */
  static String clean(String text) {
    String s = replaceLoneSurrogates(text);
    s = uncurlQuotes(s);
    s = Normalizer.normalize(s, Normalizer.Form.NFC);
    s = HtmlUnescape.unescape(HtmlUnescape.unescape(s));
    s = collapseWhitespace(s);
    return s.toLowerCase(Locale.ROOT);
  }

  /** Java strings can hold unpaired surrogates, which have no UTF-8 form; Python would refuse them. */
  private static String replaceLoneSurrogates(String s) {
    StringBuilder out = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean lone;
      if (Character.isHighSurrogate(c)) {
        lone = i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1));
        if (!lone) {
          if (out != null) {
            out.append(c).append(s.charAt(i + 1));
          }
          i++;
          continue;
        }
      } else {
        lone = Character.isLowSurrogate(c);
      }
      if (lone && out == null) {
        out = new StringBuilder(s.length()).append(s, 0, i);
      }
      if (out != null) {
        out.append(lone ? '\ufffd' : c);
      }
    }
    return out == null ? s : out.toString();
  }

  /** ftfy's uncurl_quotes: U+02BC and U+2018..U+201B to ', U+201C..U+201F to ". */
  private static String uncurlQuotes(String s) {
    char[] chars = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      char r = c == '\u02bc' || (c >= '\u2018' && c <= '\u201b') ? '\''
          : c >= '\u201c' && c <= '\u201f' ? '"' : c;
      if (r != c) {
        if (chars == null) {
          chars = s.toCharArray();
        }
        chars[i] = r;
      }
    }
    return chars == null ? s : new String(chars);
  }

  /**
   * Turns each whitespace run into one space and strips, as CLIP's {@code whitespace_clean} does:
   * runs are matched by the {@code regex} module's {@code \s} (Unicode White_Space), the ends
   * stripped by {@code str.strip()} ({@code str.isspace}, which adds U+001C..U+001F).
   */
  static String collapseWhitespace(String s) {
    StringBuilder out = new StringBuilder(s.length());
    boolean inRun = false;
    for (int i = 0; i < s.length(); ) {
      int cp = s.codePointAt(i);
      i += Character.charCount(cp);
      if (isWhiteSpaceProperty(cp)) {
        if (!inRun) {
          out.append(' ');
          inRun = true;
        }
      } else {
        out.appendCodePoint(cp);
        inRun = false;
      }
    }
    int start = 0;
    int end = out.length();
    while (start < end && isPythonSpace(out.charAt(start))) {
      start++;
    }
    while (end > start && isPythonSpace(out.charAt(end - 1))) {
      end--;
    }
    return out.substring(start, end);
  }

  /** Unicode's White_Space property, the {@code \s} of Python's {@code regex} module and of Java's. */
  static boolean isWhiteSpaceProperty(int cp) {
    return isPythonSpace(cp) && !(cp >= 0x1C && cp <= 0x1F);
  }

  /** Python's {@code str.isspace} for one code point. */
  static boolean isPythonSpace(int cp) {
    return Character.isWhitespace(cp) || Character.isSpaceChar(cp) || cp == 0x85;
  }
}
