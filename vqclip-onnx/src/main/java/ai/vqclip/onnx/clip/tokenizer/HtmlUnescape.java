package ai.vqclip.onnx.clip.tokenizer;

import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.commons.text.translate.EntityArrays;

/**
 * HTML character-reference decoding that follows the rules of Python's {@code html.unescape}, which
 * CLIP's text cleaning calls (twice).
 *
 * <p>Numeric references ({@code &#39;}, {@code &#x27;}, the semicolon optional) follow the HTML5
 * rules: the Windows-1252 replacements for 0x80..0x9F, U+FFFD for 0, surrogates and values past
 * U+10FFFF, removal of other control and noncharacter code points. Named references use the HTML
 * 4.0 set plus {@code &apos;} (Apache commons-text's tables); the Latin-1 names and {@code amp lt gt
 * quot} also match without a semicolon, as HTML5's legacy names do. HTML5's other ~2000 names (for
 * example {@code &NewLine;} or {@code &excl;}) are left as they are: rare in prompts.
 */
final class HtmlUnescape {
  // The shape of a reference as Python's html module matches it: a name is up to 32 characters.
  private static final Pattern REFERENCE =
      Pattern.compile("&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\\t\\n\\f <&#;]{1,32};?)");

  /** Names with their semicolon ("amp;") and legacy names without ("amp"). */
  private static final Map<String, String> NAMED = new HashMap<>();

  private static final Set<Integer> REMOVED_CODE_POINTS = new HashSet<>();

  private static final Charset WINDOWS_1252 = Charset.forName("windows-1252");

  static {
    addNamed(EntityArrays.HTML40_EXTENDED_UNESCAPE, false);
    addNamed(EntityArrays.APOS_UNESCAPE, false);
    addNamed(EntityArrays.ISO8859_1_UNESCAPE, true);
    addNamed(EntityArrays.BASIC_UNESCAPE, true);
    // HTML5 also knows these upper-case spellings, with and without the semicolon.
    for (String[] upper :
        new String[][] {{"AMP", "&"}, {"LT", "<"}, {"GT", ">"}, {"QUOT", "\""}, {"COPY", "\u00a9"},
          {"REG", "\u00ae"}}) {
      NAMED.put(upper[0] + ";", upper[1]);
      NAMED.put(upper[0], upper[1]);
    }
    for (int cp = 0x1; cp <= 0x8; cp++) {
      REMOVED_CODE_POINTS.add(cp);
    }
    REMOVED_CODE_POINTS.add(0xB);
    for (int cp = 0xE; cp <= 0x1F; cp++) {
      REMOVED_CODE_POINTS.add(cp);
    }
    for (int cp = 0x7F; cp <= 0x9F; cp++) {
      REMOVED_CODE_POINTS.add(cp);
    }
    for (int cp = 0xFDD0; cp <= 0xFDEF; cp++) {
      REMOVED_CODE_POINTS.add(cp);
    }
    for (int plane = 0; plane <= 0x10; plane++) {
      REMOVED_CODE_POINTS.add(plane * 0x10000 + 0xFFFE);
      REMOVED_CODE_POINTS.add(plane * 0x10000 + 0xFFFF);
    }
  }

  private HtmlUnescape() {}

  private static void addNamed(Map<CharSequence, CharSequence> table, boolean legacy) {
    for (Map.Entry<CharSequence, CharSequence> e : table.entrySet()) {
      String key = e.getKey().toString(); // "&amp;"
      String name = key.substring(1);
      NAMED.put(name, e.getValue().toString());
      if (legacy) {
        NAMED.put(name.substring(0, name.length() - 1), e.getValue().toString());
      }
    }
  }

  /** Decodes the character references in {@code s}, one pass. */
  static String unescape(String s) {
    if (s.indexOf('&') < 0) {
      return s;
    }
    Matcher m = REFERENCE.matcher(s);
    StringBuilder out = new StringBuilder(s.length());
    while (m.find()) {
      m.appendReplacement(out, Matcher.quoteReplacement(replace(m.group(1))));
    }
    m.appendTail(out);
    return out.toString();
  }

  private static String replace(String ref) {
    if (ref.charAt(0) == '#') {
      boolean hex = ref.charAt(1) == 'x' || ref.charAt(1) == 'X';
      String digits = ref.substring(hex ? 2 : 1);
      if (digits.endsWith(";")) {
        digits = digits.substring(0, digits.length() - 1);
      }
      return numeric(digits, hex ? 16 : 10);
    }
    String value = NAMED.get(ref);
    if (value != null) {
      return value;
    }
    // The longest known name that prefixes the reference, the rest kept ("&ampx" -> "&x").
    for (int len = ref.length() - 1; len > 1; len--) {
      value = NAMED.get(ref.substring(0, len));
      if (value != null) {
        return value + ref.substring(len);
      }
    }
    return "&" + ref;
  }

  private static String numeric(String digits, int radix) {
    long value = 0;
    for (int i = 0; i < digits.length(); i++) {
      value = value * radix + Character.digit(digits.charAt(i), radix);
      if (value > Character.MAX_CODE_POINT) {
        return "\ufffd"; // any number of digits: stop before the long overflows
      }
    }
    int cp = (int) value;
    if (cp == 0) {
      return "\ufffd";
    }
    if (cp == 0x0D) {
      return "\r";
    }
    if (cp >= 0x80 && cp <= 0x9F) {
      // HTML5 reads these as Windows-1252 bytes; the five bytes it leaves undefined stay as they are.
      String w = WINDOWS_1252.decode(ByteBuffer.wrap(new byte[] {(byte) cp})).toString();
      return w.equals("\ufffd") ? String.valueOf((char) cp) : w;
    }
    if (cp >= 0xD800 && cp <= 0xDFFF) {
      return "\ufffd";
    }
    if (REMOVED_CODE_POINTS.contains(cp)) {
      return "";
    }
    return new String(Character.toChars(cp));
  }
}
