package ai.vqclip.onnx;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Compiled executables by key, safe to use from many threads: the models' host-side caches (VQGAN
 * encode/decode per size, CLIP text and image graphs).
 *
 * <p>A caller takes a {@link OrtExecutable.Lease} with {@link #acquire} and closes it when its call
 * returns. A key is compiled once even when several threads ask for it at the same time (the others
 * wait for that compile). {@link #clear()} and eviction only drop the cache's own reference: an
 * executable that a running call still leases is freed by that call's lease, never under it.
 *
 * @param <K> the key (an immutable value: sizes, a batch count)
 */
public final class ExecutableCache<K> implements AutoCloseable {
  private final String owner;
  private final int capacity;
  /** Access-ordered for LRU eviction; guarded by {@code this}. */
  private final LinkedHashMap<K, Slot> slots = new LinkedHashMap<>(8, 0.75f, true);
  private boolean closed;

  /**
   * @param owner names the model in messages ("VQGAN generator")
   * @param capacity the most executables kept (least recently used dropped first); 0 for no limit
   */
  public ExecutableCache(String owner, int capacity) {
    if (capacity < 0) {
      throw new IllegalArgumentException("capacity must be >= 0 (0 = unbounded), got " + capacity);
    }
    this.owner = owner;
    this.capacity = capacity;
  }

  /** One key's executable, compiled on first use under the slot's own lock. */
  private static final class Slot {
    private OrtExecutable exe;
    private boolean dropped;

    synchronized OrtExecutable.Lease lease(Supplier<OrtExecutable> compile) {
      if (dropped) {
        return null;
      }
      if (exe == null) {
        exe = compile.get();
      }
      return exe.tryLease(); // non-null: only drop() closes exe, and it holds this lock
    }

    synchronized void drop() {
      dropped = true;
      if (exe != null) {
        exe.close(); // deferred by OrtExecutable while leases are out
        exe = null;
      }
    }
  }

  /**
   * A lease on the executable for {@code key}, compiled by {@code compile} when not cached. Close
   * the lease when the call returns (try-with-resources).
   *
   * @param key what identifies the executable (e.g. its shapes and options)
   * @param compile builds the executable on a miss; called under that key's own lock, not the whole cache's
   * @return an open lease on the cached or newly compiled executable
   * @throws IllegalStateException when the cache (its model) is closed
   */
  public OrtExecutable.Lease acquire(K key, Supplier<OrtExecutable> compile) {
    while (true) {
      Slot slot;
      List<Slot> evicted = new ArrayList<>();
      synchronized (this) {
        if (closed) {
          throw new IllegalStateException(owner + " is closed");
        }
        slot = slots.get(key);
        if (slot == null) {
          slot = new Slot();
          slots.put(key, slot);
        }
        Iterator<Map.Entry<K, Slot>> it = slots.entrySet().iterator();
        while (capacity > 0 && slots.size() > capacity) {
          Map.Entry<K, Slot> e = it.next();
          if (e.getValue() != slot) {
            evicted.add(e.getValue());
            it.remove();
          }
        }
      }
      evicted.forEach(Slot::drop);
      OrtExecutable.Lease lease = slot.lease(compile);
      if (lease != null) {
        return lease;
      }
      // Dropped between our lookup and our lease (by clear or eviction on another thread): retry.
      synchronized (this) {
        slots.remove(key, slot);
      }
    }
  }

  /**
   * How many executables are cached now.
   *
   * @return the number of cached executables, leased or not
   */
  public synchronized int size() {
    return slots.size();
  }

  /**
   * Drops every cached executable. Those leased by running calls are freed when those calls return;
   * the next {@link #acquire} compiles afresh.
   */
  public void clear() {
    List<Slot> all;
    synchronized (this) {
      all = new ArrayList<>(slots.values());
      slots.clear();
    }
    all.forEach(Slot::drop);
  }

  /** Clears the cache and refuses further use. Idempotent; never throws. */
  @Override
  public void close() {
    synchronized (this) {
      closed = true;
    }
    clear();
  }
}
