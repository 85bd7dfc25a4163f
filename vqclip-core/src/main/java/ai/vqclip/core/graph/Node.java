package ai.vqclip.core.graph;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A graph node: an ONNX op type (in {@code domain}, "" for the default ONNX domain) with named inputs,
 * outputs and attributes. An empty input name marks an omitted optional input, as in ONNX.
 *
 * @param name unique node name
 * @param opType the op type, for example {@code "Conv"}
 * @param domain the op domain; "" is the ONNX domain, {@link Graph#VQCLIP_DOMAIN} holds gradient overrides
 * @param inputs input value names
 * @param outputs output value names
 * @param attributes attributes by name
 */
public record Node(
    String name,
    String opType,
    String domain,
    List<String> inputs,
    List<String> outputs,
    Map<String, Attribute> attributes) {
  /**
   * Checks the names and copies the lists and attributes; a null domain becomes "".
   *
   * @param name unique node name (not null)
   * @param opType the op type (not null)
   * @param domain the op domain; null or "" for ONNX
   * @param inputs input value names ("" for an omitted optional input)
   * @param outputs output value names
   * @param attributes attributes by name
   * @throws NullPointerException when {@code name} or {@code opType} is null
   */
  public Node {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(opType, "opType");
    domain = domain == null ? "" : domain;
    inputs = List.copyOf(inputs);
    outputs = List.copyOf(outputs);
    attributes = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(attributes));
  }

  /**
   * Input {@code i}, or "" when absent (including past the end).
   *
   * @param i the input index, from 0
   * @return the input name, or ""
   */
  public String input(int i) {
    return i < inputs.size() ? inputs.get(i) : "";
  }

  /**
   * Whether optional input {@code i} is present.
   *
   * @param i the input index, from 0
   * @return true when the input is given
   */
  public boolean hasInput(int i) {
    return !input(i).isEmpty();
  }

  /**
   * INT attribute or default.
   *
   * @param key attribute name
   * @param dflt the value when the attribute is absent
   * @return the attribute's value or {@code dflt}
   * @throws IllegalStateException when the attribute has another kind
   */
  public long attrInt(String key, long dflt) {
    Attribute a = attributes.get(key);
    return a == null ? dflt : a.asInt();
  }

  /**
   * FLOAT attribute or default.
   *
   * @param key attribute name
   * @param dflt the value when the attribute is absent
   * @return the attribute's value or {@code dflt}
   * @throws IllegalStateException when the attribute has another kind
   */
  public float attrFloat(String key, float dflt) {
    Attribute a = attributes.get(key);
    return a == null ? dflt : a.asFloat();
  }

  /**
   * STRING attribute or default.
   *
   * @param key attribute name
   * @param dflt the value when the attribute is absent
   * @return the attribute's value or {@code dflt}
   * @throws IllegalStateException when the attribute has another kind
   */
  public String attrString(String key, String dflt) {
    Attribute a = attributes.get(key);
    return a == null ? dflt : a.asString();
  }

  /**
   * INTS attribute or default (may be null).
   *
   * @param key attribute name
   * @param dflt the value when the attribute is absent (may be null)
   * @return a copy of the attribute's values, or {@code dflt}
   * @throws IllegalStateException when the attribute has another kind
   */
  public long[] attrInts(String key, long[] dflt) {
    Attribute a = attributes.get(key);
    return a == null ? dflt : a.asInts();
  }

  /**
   * A description for error messages: op type and node name.
   *
   * @return e.g. {@code Conv node 'conv_3'}
   */
  public String describe() {
    return (domain.isEmpty() ? "" : domain + ".") + opType + " node '" + name + "'";
  }
}
