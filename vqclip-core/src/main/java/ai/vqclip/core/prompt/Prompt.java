package ai.vqclip.core.prompt;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One prompt: a text (or an image path/URL, or a noise seed, depending on where it is used), its
 * weight and its stop value (METHOD.md B.6). A negative weight pushes away from the prompt; a
 * positive prompt stops pulling once its distance falls below {@code stop}.
 *
 * @param text the prompt text, not blank
 * @param weight finite, non-zero
 * @param stop the stop value; {@code Double.NEGATIVE_INFINITY} means never stop
 */
public record Prompt(String text, double weight, double stop) {
  /**
   * Checks the values.
   *
   * @param text the prompt text, not blank
   * @param weight finite, non-zero
   * @param stop the stop value: a number or {@code Double.NEGATIVE_INFINITY}
   * @throws IllegalArgumentException naming the prompt when a value is out of range
   */
  public Prompt {
    Objects.requireNonNull(text, "text");
    if (text.isBlank()) {
      throw new IllegalArgumentException("prompt text must not be blank");
    }
    if (!Double.isFinite(weight) || weight == 0) {
      throw new IllegalArgumentException("prompt weight must be a finite non-zero number, got " + weight + " for '" + text + "'");
    }
    if (Double.isNaN(stop) || stop == Double.POSITIVE_INFINITY) {
      throw new IllegalArgumentException("prompt stop must be a number or -inf, got " + stop + " for '" + text + "'");
    }
  }

  /**
   * A prompt with weight 1 and no stop.
   *
   * @param text the prompt text, not blank
   * @return the prompt
   * @throws IllegalArgumentException when the text is blank
   */
  public static Prompt of(String text) {
    return new Prompt(text, 1, Double.NEGATIVE_INFINITY);
  }

  /**
   * Parses {@code text[:weight[:stop]]}. Colons inside the text are kept when the trailing fields
   * are not numbers only for http(s) URLs (so {@code https://host:8080/a.png:2} is a URL with weight
   * 2); anywhere else, a field after the last colon that is not a number is an error.
   *
   * @param spec {@code text[:weight[:stop]]}
   * @return the prompt
   * @throws IllegalArgumentException quoting the prompt and saying which field is malformed
   */
  public static Prompt parse(String spec) {
    Objects.requireNonNull(spec, "prompt");
    String s = spec.strip();
    if (s.isEmpty()) {
      throw new IllegalArgumentException("prompt must not be empty");
    }
    List<String> parts = new ArrayList<>(List.of(s.split(":", -1)));
    boolean url = s.matches("(?i)^https?://.*");
    // How many trailing fields are numbers (at most two: weight, stop).
    List<Double> numbers = new ArrayList<>();
    while (numbers.size() < 2 && parts.size() > 1) {
      String last = parts.get(parts.size() - 1).strip();
      Double v = number(last);
      if (v == null) {
        if (numbers.isEmpty() && !url && !last.startsWith("//")) {
          throw new IllegalArgumentException("malformed prompt '" + spec + "': '" + last
              + "' after the last ':' is not a number; use text:weight:stop, e.g. 'a red circle:1.5:-inf'");
        }
        break;
      }
      numbers.add(0, v);
      parts.remove(parts.size() - 1);
    }
    // "https://host:8080" has a port, not a weight: while the text is a bare scheme://host, the
    // first number taken belongs to it.
    while (url && !numbers.isEmpty() && String.join(":", parts).matches("(?i)^https?://[^/:]*$")) {
      parts.add(formatBack(numbers.remove(0)));
    }
    String text = String.join(":", parts).strip();
    if (text.isEmpty()) {
      throw new IllegalArgumentException("malformed prompt '" + spec + "': the text before the first ':' is empty");
    }
    double weight = numbers.isEmpty() ? 1 : numbers.get(0);
    double stop = numbers.size() < 2 ? Double.NEGATIVE_INFINITY : numbers.get(1);
    try {
      return new Prompt(text, weight, stop);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("malformed prompt '" + spec + "': " + e.getMessage(), e);
    }
  }

  private static String formatBack(double v) {
    return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
  }

  private static Double number(String s) {
    if (s.isEmpty()) {
      return null;
    }
    String l = s.toLowerCase(java.util.Locale.ROOT);
    if (l.equals("-inf") || l.equals("-infinity")) {
      return Double.NEGATIVE_INFINITY;
    }
    if (!s.matches("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?")) {
      return null;
    }
    return Double.parseDouble(s);
  }

  /**
   * Parses {@code |}-separated prompts (prompt addition), e.g. {@code "a cat:1|blurry:-0.5"}.
   *
   * @param specs prompts separated by {@code |}
   * @return the prompts, in order
   * @throws IllegalArgumentException for an empty list or any malformed prompt
   */
  public static List<Prompt> parseAll(String specs) {
    Objects.requireNonNull(specs, "prompts");
    List<Prompt> out = new ArrayList<>();
    for (String p : specs.split("\\|", -1)) {
      if (p.isBlank()) {
        throw new IllegalArgumentException("malformed prompt list '" + specs + "': an entry between '|' is empty");
      }
      out.add(parse(p));
    }
    return List.copyOf(out);
  }

  @Override
  public String toString() {
    return text + ":" + weight + ":" + (stop == Double.NEGATIVE_INFINITY ? "-inf" : Double.toString(stop));
  }
}
