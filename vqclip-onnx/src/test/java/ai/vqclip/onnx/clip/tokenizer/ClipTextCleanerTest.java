package ai.vqclip.onnx.clip.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Text cleaning. Expected strings for HTML references are what Python's {@code html.unescape}
 * returns (one pass), checked by hand against CPython 3.
 */
class ClipTextCleanerTest {
  @Test
  void htmlReferencesFollowPythonsRules() {
    String[][] cases = {
      {"&amp;amp;", "&amp;"},
      {"&lt;3 &#39; &#x27; &quot;", "<3 ' ' \""},
      {"&ampx", "&x"},
      {"&#128;", "\u20ac"},
      {"&#129;", "\u0081"},
      {"&#0;", "\ufffd"},
      {"&#xD800;", "\ufffd"},
      {"&#1;", ""},
      {"&#99999999999;", "\ufffd"},
      {"&unknown;", "&unknown;"},
      {"&eacute;", "\u00e9"},
      {"&hellip;", "\u2026"},
      {"&apos;", "'"},
      {"&#39", "'"},
      {"&eacutex", "\u00e9x"},
      {"&Eacute", "\u00c9"},
      {"&AMP;", "&"},
      {"&notit;", "\u00acit;"},
      {"&hellipx", "&hellipx"},
      {"&#x1F431;", "\ud83d\udc31"},
      {"&#13;", "\r"},
      {"&#65534;", ""},
      {"no references", "no references"},
      {"a & b", "a & b"},
    };
    for (String[] c : cases) {
      assertEquals(c[1], HtmlUnescape.unescape(c[0]), c[0]);
    }
  }

  @Test
  void cleaningUnescapesTwiceCollapsesWhitespaceAndLowerCases() {
    assertEquals("&", ClipTokenizer.clean("&amp;amp;"));
    assertEquals("hello world", ClipTokenizer.clean("  Hello\t\n  World  "));
    assertEquals("a b c d e", ClipTokenizer.clean("\u00a0A\u3000B\u0085C\u2029D\u2028E\u202f"));
    // U+001C..U+001F: str.strip() removes them at the ends, but regex's \s does not collapse them.
    assertEquals("a\u001fb", ClipTokenizer.clean("\u001c a\u001fb \u001f"));
    assertEquals("a \u001e b", ClipTokenizer.clean("a \u001e  b"));
    assertEquals("\u00e0\u00e9\u00ee", ClipTokenizer.clean("\u00c0\u00c9\u00ce"));
    assertEquals("i\u0307", ClipTokenizer.clean("\u0130"));
    assertEquals("\u03c3\u03b1\u03c2", ClipTokenizer.clean("\u03a3\u0391\u03a3"));
    // Whitespace produced by unescaping collapses too (Python unescapes before the collapse).
    assertEquals("a b", ClipTokenizer.clean("a&#10;&#9; b"));
    assertEquals("", ClipTokenizer.clean(" \t\n"));
  }

  @Test
  void nfcQuotesAndSurrogates() {
    assertEquals("caf\u00e9", ClipTokenizer.clean("cafe\u0301"));
    assertEquals("don't \"x\"", ClipTokenizer.clean("don\u2019t \u201cx\u201d"));
    assertEquals("a\ufffdb\ufffd", ClipTokenizer.clean("a\ud800b\udc00"));
    assertEquals("\ud83d\udc31", ClipTokenizer.clean("\ud83d\udc31"));
  }

  @Test
  void pythonWhitespaceSet() {
    // The code points for which CPython's str.isspace() is true.
    int[] spaces = {
      0x9, 0xa, 0xb, 0xc, 0xd, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001,
      0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029,
      0x202f, 0x205f, 0x3000
    };
    int count = 0;
    for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
      if (ClipTextCleaner.isPythonSpace(cp)) {
        assertEquals(spaces[count], cp);
        count++;
      }
    }
    assertEquals(spaces.length, count);
    assertFalse(ClipTextCleaner.isPythonSpace(0x200b));
    assertFalse(ClipTextCleaner.isWhiteSpaceProperty(0x1c));
    assertTrue(ClipTextCleaner.isWhiteSpaceProperty(0x85));
    assertTrue(ClipTextCleaner.isPythonSpace(' '));
  }
}
