package ai.vqclip.core.backend;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.Graph;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Compiled graphs shared between concurrent users of identical graphs: the step graphs of runs with
 * the same models, size, cutouts, augmentations and losses (only their inputs differ per run), so
 * that N concurrent runs hold one runtime session, and its copy of the weights, instead of N.
 *
 * <p>Graphs are compared by structure: name, opset, inputs, outputs, nodes (with attributes) and
 * initializers; an initializer matches when it is the same tensor object (the models' shared weights)
 * or has equal contents. Entries are reference counted: the last {@link Lease#close()} closes the
 * executable, so nothing lingers once no run uses it. An executable that is not {@link
 * Executable#threadSafe()} is never shared (each lease then gets its own).
 */
public final class SharedExecutables {
  /** The process-wide instance that {@link ai.vqclip.core.pipeline.Pipeline} uses. */
  public static final SharedExecutables GLOBAL = new SharedExecutables();

  private final Map<Key, Entry> entries = new HashMap<>(); // guarded by this

  /** A user's claim on a compiled graph; close it when done (idempotent). */
  public final class Lease implements AutoCloseable {
    private final Entry entry;
    private final Executable own;
    private boolean closed;

    private Lease(Entry entry, Executable own) {
      this.entry = entry;
      this.own = own;
    }

    /**
     * The compiled graph.
     *
     * @return the executable this lease uses
     */
    public Executable executable() {
      return own != null ? own : entry.exe;
    }

    /**
     * Whether this lease shares its executable with other current leases.
     *
     * @return true when other current leases use the same executable
     */
    public boolean shared() {
      synchronized (SharedExecutables.this) {
        return own == null && entry.users > 1;
      }
    }

    @Override
    public void close() {
      if (own != null) {
        synchronized (this) {
          if (closed) {
            return;
          }
          closed = true;
        }
        own.close();
        return;
      }
      Executable toClose = null;
      synchronized (SharedExecutables.this) {
        if (closed) {
          return;
        }
        closed = true;
        if (--entry.users == 0) {
          entries.remove(entry.key, entry);
          toClose = entry.exe;
        }
      }
      if (toClose != null) {
        toClose.close();
      }
    }
  }

  private static final class Entry {
    final Key key;
    int users; // guarded by the owning SharedExecutables
    volatile Executable exe;

    Entry(Key key) {
      this.key = key;
    }
  }

  /**
   * A lease on {@code graph} compiled by {@code backend} with {@code options}: the executable of a
   * current lease on an identical graph (same backend class and options), or a fresh compile.
   *
   * @param backend the backend to compile with (not null)
   * @param graph the graph (not null)
   * @param options the execution options (not null)
   * @return a lease; close it when the runs are done
   */
  public Lease acquire(Backend backend, Graph graph, ExecutionOptions options) {
    Objects.requireNonNull(backend, "backend");
    Objects.requireNonNull(graph, "graph");
    Objects.requireNonNull(options, "options");
    Key key = new Key(backend.getClass().getName() + "/" + backend.name(), options, graph);
    Entry entry;
    synchronized (this) {
      entry = entries.computeIfAbsent(key, Entry::new);
      entry.users++;
    }
    // Compile once per entry; concurrent acquirers of the same graph wait for that compile.
    synchronized (entry) {
      if (entry.exe == null) {
        try {
          entry.exe = backend.compile(graph, options);
        } catch (RuntimeException e) {
          synchronized (this) {
            entry.users--;
            if (entry.users == 0) {
              entries.remove(key, entry);
            }
          }
          throw e;
        }
      }
    }
    if (!entry.exe.threadSafe()) {
      // Not shareable: give this user its own, and leave the entry (if others hold it) to them.
      Executable first = null;
      synchronized (this) {
        entry.users--;
        if (entry.users == 0) {
          entries.remove(key, entry);
          first = entry.exe;
        }
      }
      return new Lease(entry, first != null ? first : backend.compile(graph, options));
    }
    return new Lease(entry, null);
  }

  /**
   * How many distinct compiled graphs are held now.
   *
   * @return the number of compiled graphs held
   */
  public synchronized int size() {
    return entries.size();
  }

  /** A graph's identity for sharing; the hash skips tensor contents (weights can be gigabytes). */
  private static final class Key {
    final String backend;
    final ExecutionOptions options;
    final Graph graph;
    final int hash;

    Key(String backend, ExecutionOptions options, Graph graph) {
      this.backend = backend;
      this.options = options;
      this.graph = graph;
      List<Object> meta = new ArrayList<>();
      for (Map.Entry<String, Tensor> e : graph.initializers().entrySet()) {
        meta.add(e.getKey());
        meta.add(e.getValue().dtype());
        meta.add(java.util.Arrays.hashCode(e.getValue().shape()));
      }
      this.hash = Objects.hash(backend, options, graph.name(), graph.opset(), graph.inputs(), graph.outputs(), graph.nodes(), meta);
    }

    @Override
    public int hashCode() {
      return hash;
    }

    @Override
    public boolean equals(Object o) {
      if (this == o) {
        return true;
      }
      if (!(o instanceof Key k) || k.hash != hash || !k.backend.equals(backend) || !k.options.equals(options)) {
        return false;
      }
      Graph a = graph;
      Graph b = k.graph;
      if (a == b) {
        return true;
      }
      if (!a.name().equals(b.name()) || a.opset() != b.opset() || !a.inputs().equals(b.inputs()) || !a.outputs().equals(b.outputs())
          || !a.initializers().keySet().equals(b.initializers().keySet()) || !a.nodes().equals(b.nodes())) {
        return false;
      }
      for (Map.Entry<String, Tensor> e : a.initializers().entrySet()) {
        Tensor x = e.getValue();
        Tensor y = b.initializers().get(e.getKey());
        if (x != y && !x.equals(y)) {
          return false;
        }
      }
      return true;
    }
  }
}
