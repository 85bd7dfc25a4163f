package ai.vqclip.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What vqclip writes into files others may see (PNG text chunks, {@code --manifest} files) names
 * the user's files by file name and sha256, never by absolute path: a path tells strangers the
 * user's name and folder layout, while the name and digest still identify the model exactly. The
 * settings file kept next to a checkpoint for {@code resume} keeps full paths: it is a local
 * working file that must find the models again.
 */
final class PublicPaths {
  /** Digests by path, size and modification time: a model file is hashed once per process. */
  private static final Map<String, String> DIGESTS = new ConcurrentHashMap<>();

  private PublicPaths() {}

  /**
   * A copy of {@code json} where every string that is an absolute path becomes {@code "NAME
   * sha256:HEX"} (a file) or {@code "NAME"} (anything else), also where such a path appears inside a
   * longer string (e.g. "demo models from /home/me/models").
   */
  static JsonNode redact(JsonNode json) {
    JsonNode copy = json.deepCopy();
    Map<String, String> replacements = new LinkedHashMap<>();
    collect(copy, replacements);
    // Longest first, so a file inside a replaced folder is replaced as a whole.
    List<Map.Entry<String, String>> order = new ArrayList<>(replacements.entrySet());
    order.sort((a, b) -> Integer.compare(b.getKey().length(), a.getKey().length()));
    return rewrite(copy, order);
  }

  private static void collect(JsonNode n, Map<String, String> out) {
    if (n.isTextual()) {
      String s = n.textValue();
      if (!out.containsKey(s) && isAbsolutePath(s)) {
        out.put(s, publicName(Path.of(s)));
      }
    } else {
      for (JsonNode c : n) {
        collect(c, out);
      }
    }
  }

  private static JsonNode rewrite(JsonNode n, List<Map.Entry<String, String>> order) {
    if (n.isTextual()) {
      String s = n.textValue();
      for (Map.Entry<String, String> e : order) {
        s = s.replace(e.getKey(), e.getValue());
      }
      return TextNode.valueOf(embedded(s));
    }
    if (n instanceof ObjectNode o) {
      for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> f = it.next();
        f.setValue(rewrite(f.getValue(), order));
      }
    } else if (n instanceof ArrayNode a) {
      for (int i = 0; i < a.size(); i++) {
        a.set(i, rewrite(a.get(i), order));
      }
    }
    return n;
  }

  /** A word of a longer text that is an absolute path of this machine (Unix or Windows form). */
  private static final java.util.regex.Pattern EMBEDDED = java.util.regex.Pattern.compile("(?<=^|[\\s(\\[=:'\"])(/[^\\s'\",)\\]]+|[A-Za-z]:\\\\[^\\s'\",)\\]]+)");

  /**
   * {@code s} with each word that names an existing file or folder by absolute path replaced by its
   * public name (a description such as "demo models from /home/me/models"). Only existing paths: a
   * prompt like "a /r/pics photo" is text, not a path, and stays as written.
   */
  private static String embedded(String s) {
    if (s.indexOf('/') < 0 && s.indexOf('\\') < 0) {
      return s;
    }
    java.util.regex.Matcher m = EMBEDDED.matcher(s);
    StringBuilder b = new StringBuilder();
    while (m.find()) {
      String word = m.group(1);
      String with = word;
      if (isAbsolutePath(word) && Files.exists(Path.of(word))) {
        with = publicName(Path.of(word));
      }
      m.appendReplacement(b, java.util.regex.Matcher.quoteReplacement(with));
    }
    m.appendTail(b);
    return b.toString();
  }

  private static boolean isAbsolutePath(String s) {
    if (s.isEmpty() || s.length() > 4096 || s.indexOf('\n') >= 0) {
      return false;
    }
    try {
      Path p = Path.of(s);
      return p.isAbsolute() && p.getFileName() != null;
    } catch (InvalidPathException e) {
      return false;
    }
  }

  /** {@code NAME sha256:HEX} for a readable regular file, else the bare name. */
  static String publicName(Path p) {
    String name = p.getFileName().toString();
    if (!Files.isRegularFile(p) || !Files.isReadable(p)) {
      return name;
    }
    try {
      String key = p + "|" + Files.size(p) + "|" + Files.getLastModifiedTime(p).toMillis();
      String hex = DIGESTS.get(key);
      if (hex == null) {
        hex = sha256(p);
        DIGESTS.put(key, hex);
      }
      return name + " sha256:" + hex;
    } catch (IOException e) {
      return name;
    }
  }

  private static String sha256(Path p) throws IOException {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this Java has no SHA-256", e);
    }
    try (InputStream in = new DigestInputStream(Files.newInputStream(p), md)) {
      in.transferTo(java.io.OutputStream.nullOutputStream());
    }
    return HexFormat.of().formatHex(md.digest());
  }
}
