package ai.vqclip.bench;

import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.Node;
import ai.vqclip.core.graph.Value;
import ai.vqclip.core.pipeline.Pipeline;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A diagnostic that runs nothing: builds the full step graph and simulates its activation memory
 * (every value allocated when its node runs, freed after its last reader; weights and inputs not
 * counted) in the order the nodes were emitted. It prints the peak, when it falls (node index, name)
 * and the largest values alive then, grouped by name scope. ONNX Runtime fuses and reorders, so the
 * figure is the graph's, not the runtime's; it shows which activations a memory change must target.
 *
 * <pre>
 * java -cp vqclip-bench/target/benchmarks.jar ai.vqclip.bench.StepLiveness [--size 400] [--cutouts 32] [--memory-saving auto|on|max|off]
 * </pre>
 */
public final class StepLiveness {
  private StepLiveness() {}

  /** Entry point; see the class comment. */
  public static void main(String[] args) {
    int size = 400;
    int cutouts = 32;
    Pipeline.MemorySaving ms = Pipeline.MemorySaving.AUTO;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--size" -> size = Integer.parseInt(args[++i]);
        case "--cutouts" -> cutouts = Integer.parseInt(args[++i]);
        case "--memory-saving" -> ms = Pipeline.MemorySaving.valueOf(args[++i].toUpperCase(java.util.Locale.ROOT));
        default -> throw new IllegalArgumentException("unknown argument '" + args[i] + "'; allowed: --size N, --cutouts N, --memory-saving auto|on|max|off");
      }
    }
    FullModels m = FullModels.get(1);
    Graph g = m.step(m.pipeline(ms), size, cutouts).graph();
    report(g);
  }

  /**
   * Simulates the graph's activation memory in node order and prints the peak and what is alive
   * there.
   *
   * @param g a graph with static shapes
   */
  static void report(Graph g) {
    List<Node> nodes = g.nodes();
    Map<String, Integer> lastUse = new HashMap<>();
    for (int i = 0; i < nodes.size(); i++) {
      for (String in : nodes.get(i).inputs()) {
        if (!in.isEmpty()) {
          lastUse.put(in, i);
        }
      }
    }
    Set<String> outputs = new HashSet<>();
    g.outputs().forEach(v -> outputs.add(v.name()));
    Map<String, Long> live = new LinkedHashMap<>();
    Map<String, Integer> bornAt = new HashMap<>();
    long cur = 0;
    long peak = 0;
    int peakAt = -1;
    Map<String, Long> atPeak = Map.of();
    for (int i = 0; i < nodes.size(); i++) {
      Node n = nodes.get(i);
      for (String o : n.outputs()) {
        if (o.isEmpty()) {
          continue;
        }
        long bytes = bytes(g.value(o));
        live.put(o, bytes);
        bornAt.put(o, i);
        cur += bytes;
      }
      if (cur > peak) {
        peak = cur;
        peakAt = i;
        atPeak = new LinkedHashMap<>(live);
      }
      for (String in : n.inputs()) {
        if (!in.isEmpty() && lastUse.get(in) == i && live.containsKey(in) && !outputs.contains(in)) {
          cur -= live.remove(in);
        }
      }
      for (String o : n.outputs()) {
        if (!o.isEmpty() && !lastUse.containsKey(o) && !outputs.contains(o) && live.containsKey(o)) {
          cur -= live.remove(o);
        }
      }
      if (i % 100 == 0) {
        System.out.printf("  node %5d %-60.60s live %7.0f MB%n", i, n.name(), cur / 1e6);
      }
    }
    System.out.printf("peak %.0f MB at node %d of %d: %s%n", peak / 1e6, peakAt, nodes.size(), nodes.get(peakAt).name());
    Map<String, long[]> byScope = new TreeMap<>();
    for (Map.Entry<String, Long> e : atPeak.entrySet()) {
      String scope = scope(e.getKey());
      long[] a = byScope.computeIfAbsent(scope, k -> new long[2]);
      a[0] += e.getValue();
      a[1]++;
    }
    List<Map.Entry<String, long[]>> sorted = new ArrayList<>(byScope.entrySet());
    sorted.sort((a, b) -> Long.compare(b.getValue()[0], a.getValue()[0]));
    System.out.println("alive at the peak, by scope (MB, values):");
    for (Map.Entry<String, long[]> e : sorted.subList(0, Math.min(40, sorted.size()))) {
      System.out.printf("  %8.1f MB %4d  %s%n", e.getValue()[0] / 1e6, e.getValue()[1], e.getKey());
    }
    System.out.println("largest values alive at the peak:");
    atPeak.entrySet().stream().sorted((a, b) -> Long.compare(b.getValue(), a.getValue())).limit(40).forEach(e -> System.out.printf(
        "  %8.1f MB  born at %5d, last read %5d  %s%n", e.getValue() / 1e6, bornAt.get(e.getKey()), lastUse.getOrDefault(e.getKey(), -1), e.getKey()));
  }

  private static String scope(String name) {
    String[] parts = name.split("/");
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < Math.min(parts.length - 1, 4); i++) {
      b.append(parts[i]).append('/');
    }
    return b.length() == 0 ? "(top)" : b.toString();
  }

  private static long bytes(Value v) {
    if (!v.shape().hasRank() || !v.shape().isStatic()) {
      return 0;
    }
    return v.shape().elementCount() * v.dtype().byteSize();
  }
}
