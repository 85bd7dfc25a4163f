package ai.vqclip.onnx;

import ai.vqclip.core.autodiff.GradientOverrides;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.Node;
import ai.vqclip.core.graph.Value;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Checks, without a GPU, whether every node of a graph would run on ONNX Runtime's CUDA execution
 * provider, using ORT's published kernel table ({@code docs/OperatorKernels.md}, CUDA section) and
 * ONNX's op version history. A node of op {@code X} in a model of opset {@code N} uses the latest
 * version of {@code X} that is at most {@code N}; it is covered when a CUDA kernel row's opset
 * range contains that version and the node's input and output types satisfy the row's type
 * constraints. ConvTranspose with asymmetric pads is reported too: ORT registers it, but its CUDA
 * kernel hands such nodes back to the CPU (onnxruntime issue #11312).
 *
 * <p>The table is a tab-separated file (format in its header). vqclip-onnx keeps it as the test
 * resource {@value #RESOURCE}; {@link #check(Graph)} reads it from the class path (tests of this
 * module, or other modules with vqclip-onnx's test-jar), {@link #load(Path)} from anywhere.
 * Instances are immutable and thread-safe.
 */
public final class CudaCoverage {
  /** Class path location of the table used by {@link #check(Graph)}. */
  public static final String RESOURCE = "/ort-cuda-kernels.tsv";

  /**
   * Ops that need no kernel: ONNX Runtime folds Constant nodes into initializers when it loads
   * the model, so they never reach an execution provider.
   */
  private static final Set<String> LOAD_TIME_OPS = Set.of("Constant");

  private static volatile CudaCoverage classpathTable;

  /**
   * One node that would not run on CUDA.
   *
   * @param node the node name
   * @param opType the op type (with its domain when not ONNX)
   * @param version the resolved op version (since-version), or -1 when unknown
   * @param inputTypes the node's input types ({@code null} for omitted optional inputs)
   * @param outputTypes the node's output types
   * @param reason what is missing
   */
  public record Violation(String node, String opType, int version, List<DType> inputTypes, List<DType> outputTypes, String reason) {
    /**
     * Copies the type lists ({@code inputTypes} may hold nulls, so it is wrapped, not {@code
     * List.copyOf}).
     *
     * @param node the node name
     * @param opType the op type (with its domain when not ONNX)
     * @param version the resolved op version (since-version), or -1 when unknown
     * @param inputTypes the node's input types ({@code null} for omitted optional inputs)
     * @param outputTypes the node's output types
     * @param reason what is missing
     */
    public Violation {
      inputTypes = java.util.Collections.unmodifiableList(new ArrayList<>(inputTypes));
      outputTypes = List.copyOf(outputTypes);
    }

    @Override
    public String toString() {
      return opType + (version < 0 ? "" : "-" + version) + " node '" + node + "' " + inputTypes + " -> " + outputTypes + ": " + reason;
    }
  }

  /** A parameter of a kernel signature: a type variable (e.g. T) or a fixed type (tensor(int64)). */
  private record Param(String name, String type) {}

  /** One published row: an opset range, alternative signatures, and type constraints. */
  private record Kernel(String op, String range, int from, int to, List<List<Param>> ins, List<List<Param>> outs, Map<String, Set<String>> constraints) {
    boolean covers(int version) {
      return version >= from && version <= to;
    }
  }

  private final Map<String, List<Kernel>> kernels;
  private final Map<String, int[]> sinceVersions;
  private final int maxOpset;
  private final String source;

  private CudaCoverage(Map<String, List<Kernel>> kernels, Map<String, int[]> sinceVersions, int maxOpset, String source) {
    this.kernels = kernels;
    this.sinceVersions = sinceVersions;
    this.maxOpset = maxOpset;
    this.source = source;
  }

  /**
   * The violations of a graph against the class path table {@value #RESOURCE}.
   *
   * @param graph the graph to check (not null)
   * @return the nodes ONNX Runtime would not run on CUDA, in node order; empty when all are covered
   * @throws IllegalStateException when the table is not on the class path
   * @throws IllegalArgumentException when the graph's opset is newer than the table knows
   */
  public static List<Violation> check(Graph graph) {
    return fromClasspath().violations(graph);
  }

  /**
   * The table on the class path, read once.
   *
   * @return the table shipped as the class path resource {@value #RESOURCE}, parsed on first use
   * @throws IllegalStateException when the resource is not on the class path
   * @throws java.io.UncheckedIOException when the resource cannot be read
   * @throws IllegalArgumentException naming the line when the table is malformed
   */
  public static CudaCoverage fromClasspath() {
    CudaCoverage t = classpathTable;
    if (t == null) {
      try (InputStream in = CudaCoverage.class.getResourceAsStream(RESOURCE)) {
        if (in == null) {
          throw new IllegalStateException("CUDA kernel table " + RESOURCE + " is not on the class path; it ships in vqclip-onnx's "
              + "test resources (add the vqclip-onnx test-jar) or load a copy with CudaCoverage.load(Path)");
        }
        t = load(in, "classpath:" + RESOURCE);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + RESOURCE, e);
      }
      classpathTable = t;
    }
    return t;
  }

  /**
   * Reads a table file.
   *
   * @param tsv path of a table file in the format of {@value #RESOURCE}
   * @return the parsed table
   * @throws java.io.UncheckedIOException when the file cannot be read
   * @throws IllegalArgumentException naming the line when the table is malformed
   */
  public static CudaCoverage load(Path tsv) {
    try (InputStream in = Files.newInputStream(tsv)) {
      return load(in, tsv.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read CUDA kernel table " + tsv, e);
    }
  }

  /**
   * Reads a table.
   *
   * @param in the table text, UTF-8; read to the end but not closed
   * @param source where the table came from, for error messages
   * @return the parsed table
   * @throws IllegalArgumentException naming the line when the table is malformed
   * @throws IOException when reading {@code in} fails
   */
  public static CudaCoverage load(InputStream in, String source) throws IOException {
    Map<String, List<Kernel>> kernels = new HashMap<>();
    Map<String, int[]> versions = new HashMap<>();
    int maxOpset = -1;
    BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
    String line;
    int lineNo = 0;
    while ((line = r.readLine()) != null) {
      lineNo++;
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      String[] f = line.split("\t", -1);
      String where = source + ":" + lineNo;
      try {
        switch (f[0]) {
          case "meta" -> {
            requireColumns(f, 3, where);
            if (f[1].equals("max_opset")) {
              maxOpset = Integer.parseInt(f[2].trim());
            }
          }
          case "onnx" -> {
            requireColumns(f, 3, where);
            int[] v = Arrays.stream(f[2].split(",")).map(String::trim).mapToInt(Integer::parseInt).sorted().toArray();
            versions.put(f[1], v);
          }
          case "kernel" -> {
            requireColumns(f, 5, where);
            Kernel k = kernel(f[1], f[2].trim(), f[3], f[4]);
            kernels.computeIfAbsent(k.op(), x -> new ArrayList<>()).add(k);
          }
          default -> throw new IllegalArgumentException("unknown record kind '" + f[0] + "'; expected kernel, onnx or meta");
        }
      } catch (RuntimeException e) {
        throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
      }
    }
    if (maxOpset < 0) {
      throw new IllegalArgumentException(source + ": missing 'meta<TAB>max_opset<TAB>N' line");
    }
    Map<String, List<Kernel>> frozen = new HashMap<>();
    kernels.forEach((k, v) -> frozen.put(k, List.copyOf(v)));
    return new CudaCoverage(Map.copyOf(frozen), Map.copyOf(versions), maxOpset, source);
  }

  private static void requireColumns(String[] f, int n, String where) {
    if (f.length < n) {
      throw new IllegalArgumentException("expected " + n + " tab-separated columns, found " + f.length);
    }
  }

  private static Kernel kernel(String op, String range, String signature, String constraints) {
    int from;
    int to;
    if (range.endsWith("+")) {
      from = Integer.parseInt(range.substring(0, range.length() - 1));
      to = Integer.MAX_VALUE; // ORT matches an open-ended kernel to every later op version
    } else if (range.startsWith("[") && range.endsWith("]")) {
      String[] p = range.substring(1, range.length() - 1).split(",");
      from = Integer.parseInt(p[0].trim());
      to = Integer.parseInt(p[1].trim());
    } else {
      from = Integer.parseInt(range);
      to = from;
    }
    List<List<Param>> ins = new ArrayList<>();
    List<List<Param>> outs = new ArrayList<>();
    for (String alt : signature.split("\\|\\|")) {
      List<Param> in = new ArrayList<>();
      List<Param> out = new ArrayList<>();
      for (String p : alt.split(",")) {
        String s = p.trim();
        if (s.isEmpty()) {
          continue;
        }
        String[] io = s.split("\\s+", 2);
        String[] nameType = io[1].split(":", 2);
        Param param = new Param(nameType[0].trim(), nameType[1].trim());
        switch (io[0]) {
          case "in" -> in.add(param);
          case "out" -> out.add(param);
          default -> throw new IllegalArgumentException("signature entry '" + s + "' must start with 'in' or 'out'");
        }
      }
      ins.add(in);
      outs.add(out);
    }
    Map<String, Set<String>> cons = new LinkedHashMap<>();
    for (String c : constraints.split(";")) {
      if (c.isBlank()) {
        continue;
      }
      String[] kv = c.split("=", 2);
      Set<String> types = new LinkedHashSet<>();
      for (String ty : kv[1].split(",")) {
        types.add(ty.trim());
      }
      cons.put(kv[0].trim(), types);
    }
    return new Kernel(op, range, from, to, ins, outs, cons);
  }

  /**
   * The highest opset whose op versions the table knows.
   *
   * @return the highest opset the table covers; graphs of newer opsets are refused
   */
  public int maxOpset() {
    return maxOpset;
  }

  /**
   * The version (since-version) of {@code op} that a model of {@code opset} uses: the latest one
   * at most {@code opset}, or -1 when the table does not know the op or it is newer than the opset.
   *
   * @param op the ONNX op type, e.g. {@code "Conv"}
   * @param opset the model's default-domain opset
   * @return the since-version of the op in effect at {@code opset}, or -1
   */
  public int resolveVersion(String op, int opset) {
    int[] v = sinceVersions.get(op);
    if (v == null) {
      return -1;
    }
    int best = -1;
    for (int x : v) {
      if (x <= opset) {
        best = x;
      }
    }
    return best;
  }

  /**
   * Every node of {@code graph} (after lowering vqclip's gradient-override ops) that ONNX Runtime
   * would not run on CUDA, in node order; empty when the whole graph is covered.
   *
   * @param graph the graph to check (not null)
   * @return the uncovered nodes with the reason for each, in node order; empty when all are covered
   * @throws IllegalArgumentException when the graph's opset is newer than the table knows
   * @throws NullPointerException when {@code graph} is null
   */
  public List<Violation> violations(Graph graph) {
    Objects.requireNonNull(graph, "graph");
    if (graph.opset() > maxOpset) {
      throw new IllegalArgumentException("graph '" + graph.name() + "' uses opset " + graph.opset() + "; the CUDA kernel table "
          + source + " knows op versions up to opset " + maxOpset);
    }
    Graph g = GradientOverrides.lower(graph);
    List<Violation> out = new ArrayList<>();
    for (Node n : g.nodes()) {
      check(g, n, out);
    }
    return out;
  }

  private void check(Graph g, Node n, List<Violation> out) {
    List<DType> inTypes = new ArrayList<>();
    for (String in : n.inputs()) {
      inTypes.add(in.isEmpty() ? null : g.value(in).dtype());
    }
    List<DType> outTypes = new ArrayList<>();
    for (String o : n.outputs()) {
      if (!o.isEmpty()) {
        outTypes.add(g.value(o).dtype());
      }
    }
    String op = n.domain().isEmpty() ? n.opType() : n.domain() + "." + n.opType();
    if (!n.domain().isEmpty()) {
      out.add(new Violation(n.name(), op, -1, inTypes, outTypes, "op of domain '" + n.domain() + "' has no CUDA kernel"));
      return;
    }
    if (LOAD_TIME_OPS.contains(op)) {
      return;
    }
    int version = resolveVersion(op, g.opset());
    List<Kernel> rows = kernels.getOrDefault(op, List.of());
    if (rows.isEmpty()) {
      out.add(new Violation(n.name(), op, version, inTypes, outTypes, "ONNX Runtime registers no CUDA kernel for " + op + " (it runs on CPU)"));
      return;
    }
    if (version < 0) {
      out.add(new Violation(n.name(), op, version, inTypes, outTypes,
          "the ONNX version history of " + op + " is not in the table, so the version used at opset " + g.opset() + " is unknown"));
      return;
    }
    Kernel k = rows.stream().filter(r -> r.covers(version)).findFirst().orElse(null);
    if (k == null) {
      List<String> ranges = rows.stream().map(Kernel::range).toList();
      out.add(new Violation(n.name(), op, version, inTypes, outTypes,
          "CUDA registers " + op + " for opset ranges " + ranges + ", which do not include version " + version));
      return;
    }
    List<String> best = null;
    for (int alt = 0; alt < k.ins().size(); alt++) {
      List<String> problems = new ArrayList<>();
      match("input", k.ins().get(alt), n.inputs(), inTypes, k.constraints(), problems);
      List<String> outNames = n.outputs().stream().filter(o -> !o.isEmpty()).toList();
      match("output", k.outs().get(alt), outNames, outTypes, k.constraints(), problems);
      if (problems.isEmpty()) {
        best = null;
        break;
      }
      if (best == null || problems.size() < best.size()) {
        best = problems;
      }
    }
    if (best != null) {
      out.add(new Violation(n.name(), op, version, inTypes, outTypes,
          "CUDA kernel " + op + " " + k.range() + " does not take these types: " + String.join("; ", best)));
    }
    if (op.equals("ConvTranspose")) {
      long[] pads = n.attrInts("pads", null);
      if (pads != null && pads.length % 2 == 0) {
        int sr = pads.length / 2;
        for (int i = 0; i < sr; i++) {
          if (pads[i] != pads[i + sr]) {
            out.add(new Violation(n.name(), op, version, inTypes, outTypes, "asymmetric pads " + Arrays.toString(pads)
                + " (begin != end on spatial axis " + i + "); ORT's CUDA ConvTranspose runs such nodes on CPU (onnxruntime issue #11312)"));
            break;
          }
        }
      }
    }
  }

  /** Matches node slots against one signature alternative; extra slots take the last (variadic) parameter. */
  private static void match(String kind, List<Param> params, List<String> names, List<DType> types, Map<String, Set<String>> cons,
      List<String> problems) {
    if (params.isEmpty()) {
      if (!types.isEmpty()) {
        problems.add("the signature has no " + kind + "s");
      }
      return;
    }
    for (int i = 0; i < types.size(); i++) {
      DType t = types.get(i);
      if (t == null) {
        continue;
      }
      Param p = params.get(Math.min(i, params.size() - 1));
      String have = onnxTypeName(t);
      Set<String> allowed;
      if (p.type().startsWith("tensor(")) {
        allowed = Set.of(p.type());
      } else {
        allowed = cons.get(p.type());
        if (allowed == null) {
          continue; // the kernel does not constrain this type variable
        }
      }
      if (!allowed.contains(have)) {
        problems.add(kind + " " + i + " '" + names.get(i) + "' is " + have + ", " + p.name() + ":" + p.type() + " allows " + allowed);
      }
    }
  }

  /** The table's spelling of a type, e.g. {@code tensor(float)}. */
  static String onnxTypeName(DType t) {
    return "tensor(" + switch (t) {
      case FLOAT -> "float";
      case DOUBLE -> "double";
      case FLOAT16 -> "float16";
      case BFLOAT16 -> "bfloat16";
      case INT64 -> "int64";
      case INT32 -> "int32";
      case INT8 -> "int8";
      case UINT8 -> "uint8";
      case BOOL -> "bool";
    } + ")";
  }
}
