package ai.vqclip.core.graph;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * An Einsum equation with every operand's axes spelled out as one letter each: ellipses are
 * replaced by letters unused in the equation (right-aligned across operands, as broadcasting
 * aligns them) and an implicit output ({@code "ij,jk"}) is made explicit (ellipsis axes, then the
 * letters used once, in alphabetical order). Shared by shape inference, the FLOP count and the
 * gradient rule.
 *
 * @param inputs one string per operand, one letter per axis
 * @param output the output's letters
 */
public record EinsumEquation(List<String> inputs, String output) {
  /**
   * Copies the operand list.
   *
   * @param inputs one string per operand, one letter per axis
   * @param output the output's letters
   */
  public EinsumEquation {
    inputs = List.copyOf(inputs);
  }

  /**
   * Parses {@code equation} for operands of the given ranks.
   *
   * @param equation an einsum equation, explicit ({@code "ij,jk->ik"}) or implicit ({@code
   *     "ij,jk"})
   * @param ranks the rank of each operand
   * @return the parsed equation in explicit form
   * @throws IllegalArgumentException naming the equation when it is malformed or does not fit the ranks
   */
  public static EinsumEquation parse(String equation, int[] ranks) {
    String eq = equation.replace(" ", "");
    String lhs = eq;
    String rhs = null;
    int arrow = eq.indexOf("->");
    if (arrow >= 0) {
      lhs = eq.substring(0, arrow);
      rhs = eq.substring(arrow + 2);
    }
    String[] terms = lhs.split(",", -1);
    if (terms.length != ranks.length) {
      throw new IllegalArgumentException(
          "Einsum equation '" + equation + "' has " + terms.length + " operand(s) but the node has " + ranks.length + " input(s)");
    }
    TreeSet<Character> used = new TreeSet<>();
    for (char ch : eq.toCharArray()) {
      if (Character.isLetter(ch)) {
        used.add(ch);
      } else if (ch != '.' && ch != ',' && ch != '-' && ch != '>') {
        throw new IllegalArgumentException("Einsum equation '" + equation + "' has an invalid character '" + ch + "'");
      }
    }
    // Letters for ellipsis axes: unused ones, the same for all operands, right-aligned.
    int maxEll = 0;
    int[] ell = new int[terms.length];
    for (int k = 0; k < terms.length; k++) {
      String t = terms[k];
      int letters = countLetters(t, equation);
      if (t.contains("...")) {
        ell[k] = ranks[k] - letters;
        if (ell[k] < 0) {
          throw new IllegalArgumentException(
              "Einsum equation '" + equation + "': operand " + k + " term '" + t + "' names more axes than its rank " + ranks[k]);
        }
      } else if (letters != ranks[k]) {
        throw new IllegalArgumentException(
            "Einsum equation '" + equation + "': operand " + k + " term '" + t + "' names " + letters + " axes but its rank is " + ranks[k]);
      }
      maxEll = Math.max(maxEll, ell[k]);
    }
    StringBuilder free = new StringBuilder();
    for (char ch = 'A'; free.length() < maxEll && ch <= 'z'; ch++) {
      if (Character.isLetter(ch) && !used.contains(ch)) {
        free.append(ch);
      }
    }
    if (free.length() < maxEll) {
      throw new IllegalArgumentException("Einsum equation '" + equation + "' has too many axes");
    }
    String ellAll = free.toString();
    List<String> ins = new ArrayList<>();
    for (int k = 0; k < terms.length; k++) {
      ins.add(terms[k].replace("...", ellAll.substring(maxEll - ell[k])));
    }
    String out;
    if (rhs != null) {
      countLetters(rhs, equation);
      out = rhs.replace("...", ellAll);
      for (char ch : out.toCharArray()) {
        if (ins.stream().noneMatch(s -> s.indexOf(ch) >= 0)) {
          throw new IllegalArgumentException("Einsum equation '" + equation + "': output letter '" + ch + "' is in no operand");
        }
        if (out.indexOf(ch) != out.lastIndexOf(ch)) {
          throw new IllegalArgumentException("Einsum equation '" + equation + "': output letter '" + ch + "' is repeated");
        }
      }
    } else {
      Map<Character, Integer> counts = new LinkedHashMap<>();
      for (String s : ins) {
        for (char ch : s.toCharArray()) {
          counts.merge(ch, 1, Integer::sum);
        }
      }
      StringBuilder sb = new StringBuilder(ellAll);
      new TreeSet<>(counts.keySet()).stream()
          .filter(ch -> counts.get(ch) == 1 && ellAll.indexOf(ch) < 0)
          .forEach(sb::append);
      out = sb.toString();
    }
    return new EinsumEquation(ins, out);
  }

  private static int countLetters(String term, String equation) {
    int dots = term.length() - term.replace(".", "").length();
    if (dots != 0 && (dots != 3 || !term.contains("..."))) {
      throw new IllegalArgumentException("Einsum equation '" + equation + "': term '" + term + "' has a malformed ellipsis");
    }
    return term.length() - dots;
  }

  /**
   * The explicit equation string, e.g. {@code "bij,bjk->bik"}.
   *
   * @return the equation with its output made explicit
   */
  public String equation() {
    return String.join(",", inputs) + "->" + output;
  }

  /**
   * The size of each letter from the operands' shapes (a static size wins over a symbolic one, and
   * a size other than 1 over 1, as broadcasting does).
   *
   * @param shapes the operands' shapes, one per input
   * @return letter to its size, in order of first appearance
   * @throws IllegalArgumentException when two static sizes of a letter differ and neither is 1
   */
  public Map<Character, Dim> sizes(List<Shape> shapes) {
    Map<Character, Dim> m = new LinkedHashMap<>();
    for (int k = 0; k < inputs.size(); k++) {
      String s = inputs.get(k);
      for (int i = 0; i < s.length(); i++) {
        Dim d = shapes.get(k).dim(i);
        Dim prev = m.get(s.charAt(i));
        if (prev == null || (!prev.isStatic() && d.isStatic()) || (prev.isStatic() && prev.size() == 1)) {
          m.put(s.charAt(i), d);
        } else if (prev.isStatic() && d.isStatic() && d.size() != 1 && d.size() != prev.size()) {
          throw new IllegalArgumentException(
              "Einsum '" + equation() + "': axis '" + s.charAt(i) + "' has sizes " + prev.size() + " and " + d.size());
        }
      }
    }
    return m;
  }

  /**
   * The output shape for operands of these shapes.
   *
   * @param shapes the operands' shapes, one per input
   * @return the output shape
   * @throws IllegalArgumentException when two static sizes of a letter differ and neither is 1
   */
  public Shape outputShape(List<Shape> shapes) {
    Map<Character, Dim> m = sizes(shapes);
    List<Dim> d = new ArrayList<>();
    for (char ch : output.toCharArray()) {
      d.add(m.get(ch));
    }
    return Shape.of(d);
  }
}
