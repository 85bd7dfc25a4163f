package ai.vqclip.onnx.weights;

import ai.vqclip.core.ModelLoadException;
import ai.vqclip.core.Tensor;
import ai.vqclip.onnx.weights.Pickle.Global;
import ai.vqclip.onnx.weights.Pickle.Obj;
import ai.vqclip.onnx.weights.Pickle.StorageRef;
import ai.vqclip.onnx.weights.Pickle.TensorRef;
import ai.vqclip.onnx.weights.Pickle.Tuple;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A PyTorch checkpoint written by {@code torch.save} (the ZIP container of torch 1.6 and later, or the
 * legacy stream before it) or {@code torch.jit.save} (a TorchScript archive such as OpenAI's CLIP
 * {@code .pt} files).
 *
 * <p>Opening reads the object pickle with a restricted unpickler that executes nothing: unknown
 * classes (Lightning callbacks, optimizer classes, TorchScript modules) become inert placeholders.
 * Storages are located but not read; a tensor's bytes are read (mapped, for ZIP) only when {@link
 * StateDict#tensor} asks for it, so a Lightning checkpoint's optimizer state is never touched.
 */
public final class TorchCheckpoint implements AutoCloseable {
  /** The container kind. */
  public enum Kind {
    /** {@code torch.save} ZIP archive (torch 1.6+). */
    ZIP,
    /** {@code torch.jit.save} archive: the pickle holds a module tree. */
    TORCHSCRIPT,
    /** Legacy {@code torch.save} stream (torch before 1.6, or {@code _use_new_zipfile_serialization=False}). */
    LEGACY
  }

  /** Upper bound on a pickle record read into memory (data.pkl of the largest checkpoints is a few MB). */
  static final long MAX_PICKLE_BYTES = 1L << 30;
  /** Bounds on flattening nested containers into dotted names (guards shared-subtree explosions). */
  static final int MAX_DEPTH = 64;
  static final long MAX_VISITS = 10_000_000;

  private static final BigInteger LEGACY_MAGIC = new BigInteger("1950a86a20f9469cfc6c", 16);
  private static final long LEGACY_PROTOCOL = 1001;

  private final Path file;
  private final FileChannel channel;
  private final Kind kind;
  private final Object root;
  private final Map<String, TensorRef> constants;
  private final StorageSource source;
  private final AtomicLong storageReads = new AtomicLong();

  /** Where storage bytes come from. */
  private interface StorageSource {
    /**
     * Checks that bytes [byteOffset, byteOffset + length) of storage {@code s} exist in the file,
     * reading no tensor data (the ZIP entry's header or the legacy section's counts).
     */
    void check(StorageRef s, long byteOffset, long length, String what);

    /** Little-endian bytes [byteOffset, byteOffset + length) of storage {@code s}. */
    ByteBuffer read(StorageRef s, long byteOffset, long length, String what);
  }

  private TorchCheckpoint(Path file, FileChannel channel, Kind kind, Object root, Map<String, TensorRef> constants,
      StorageSource source) {
    this.file = file;
    this.channel = channel;
    this.kind = kind;
    this.root = root;
    this.constants = constants;
    this.source = source;
  }

  /**
   * Opens a checkpoint, detecting ZIP, TorchScript or legacy format.
   *
   * @param file a {@code .pt}/{@code .ckpt}/{@code .pth} file
   * @return the open checkpoint; close it to release the file
   * @throws ModelLoadException if the file cannot be read or is not a supported torch checkpoint
   */
  public static TorchCheckpoint open(Path file) {
    return ChannelOpener.open(file, "checkpoint", ch -> {
      ByteBuffer head = ByteBuffer.allocate(4);
      while (head.hasRemaining() && ch.read(head, head.position()) > 0) {
        // read up to 4 bytes
      }
      byte[] h = head.array();
      if (head.position() == 4 && h[0] == 'P' && h[1] == 'K' && h[2] == 3 && h[3] == 4) {
        return openZip(file, ch);
      }
      if (head.position() >= 2 && (h[0] & 0xff) == 0x80 && h[1] >= 2 && h[1] <= 5) {
        return openLegacy(file, ch);
      }
      throw new ModelLoadException("checkpoint " + file + ": not a torch ZIP archive or legacy stream (first bytes "
          + hex(h, head.position()) + ")");
    });
  }

  static String hex(byte[] b, int n) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < n; i++) {
      s.append(String.format("%02x", b[i] & 0xff));
    }
    return s.toString();
  }

  // ---- ZIP -----------------------------------------------------------------------------------

  /** Parses a storage persistent id {@code ('storage', torch.XStorage, key, location, numel, ...)}. */
  private static final class StorageIds implements Unpickler.PersistentLoader {
    final String source;
    final Map<String, StorageRef> byKey = new LinkedHashMap<>();
    final Map<String, Long> rootNumel = new HashMap<>();
    final boolean legacy;
    final java.util.function.Function<String, String> keyToName;

    StorageIds(String source, boolean legacy, java.util.function.Function<String, String> keyToName) {
      this.source = source;
      this.legacy = legacy;
      this.keyToName = keyToName;
    }

    @Override
    public Object load(Object pid) {
      if (!(pid instanceof Tuple t) || t.size() < 5 || !"storage".equals(t.get(0))) {
        throw new ModelLoadException(source + ": unsupported persistent id " + Pickle.describe(pid)
            + "; expected ('storage', type, key, location, numel)");
      }
      StoredType type = null;
      if (t.get(1) instanceof Global g && g.module().startsWith("torch")) {
        type = StoredType.fromTorchStorage(g.name());
      }
      if (type == null) {
        throw new ModelLoadException(source + ": unsupported storage type " + Pickle.describe(t.get(1)));
      }
      if (!(t.get(2) instanceof String key) || key.isEmpty() || key.contains("/") || key.contains("..")) {
        throw new ModelLoadException(source + ": storage key must be a plain string, got " + Pickle.describe(t.get(2)));
      }
      if (!(t.get(4) instanceof Long numel) || numel < 0) {
        throw new ModelLoadException(source + ": storage '" + key + "' numel must be a non-negative int, got "
            + Pickle.describe(t.get(4)));
      }
      String location = t.get(3) instanceof String l ? l : "";
      Long prev = rootNumel.putIfAbsent(key, numel);
      if (prev != null && prev.longValue() != numel) {
        throw new ModelLoadException(source + ": storage '" + key + "' referenced with numel " + prev + " and " + numel);
      }
      StorageRef known = byKey.get(key);
      if (known != null && known.type() != type) {
        throw new ModelLoadException(source + ": storage '" + key + "' referenced as " + known.type() + " and " + type);
      }
      StorageRef rootRef = known;
      if (rootRef == null) {
        rootRef = new StorageRef(keyToName.apply(key), type, numel, location, 0);
        byKey.put(key, rootRef);
      }
      if (legacy && t.size() >= 6 && t.get(5) instanceof Tuple view) {
        // (view_key, offset, view_size): a view into the root storage, offsets in elements.
        if (view.size() != 3 || !(view.get(1) instanceof Long off) || !(view.get(2) instanceof Long vsize)
            || off < 0 || vsize < 0 || off > numel || vsize > numel - off) {
          throw new ModelLoadException(source + ": storage '" + key + "' has invalid view metadata "
              + Pickle.describe(view) + " for a root of " + numel + " elements");
        }
        return new StorageRef(rootRef.key(), type, vsize, location, off);
      }
      return rootRef;
    }
  }

  private static TorchCheckpoint openZip(Path file, FileChannel ch) throws IOException {
    ZipArchive zip = ZipArchive.open(file, ch);
    String rootDir = null;
    for (String n : zip.names()) {
      int slash = n.indexOf('/');
      if (slash > 0 && n.substring(slash + 1).equals("data.pkl")) {
        rootDir = n.substring(0, slash + 1);
        break;
      }
    }
    if (rootDir == null) {
      throw new ModelLoadException("checkpoint " + file + ": zip archive has no <root>/data.pkl entry; entries: "
          + preview(zip.names()));
    }
    final String prefix = rootDir;
    ZipArchive.Entry bo = zip.entry(prefix + "byteorder");
    if (bo != null) {
      String order = new String(zip.readAll(bo, 16), StandardCharsets.US_ASCII).trim();
      if (!order.equals("little")) {
        throw new ModelLoadException("checkpoint " + file + ": byteorder '" + order
            + "' is not supported; only little-endian checkpoints can be read");
      }
    }
    byte[] pkl = zip.readAll(zip.entry(prefix + "data.pkl"), MAX_PICKLE_BYTES);
    StorageIds ids = new StorageIds(file + " (" + prefix + "data.pkl)", false, k -> "data/" + k);
    Object root = Unpickler.load(PickleInput.of(pkl, file + " (" + prefix + "data.pkl)"), ids);
    boolean script = isModule(root) || zip.entry(prefix + "constants.pkl") != null;
    Map<String, TensorRef> constants = new LinkedHashMap<>();
    ZipArchive.Entry cpkl = zip.entry(prefix + "constants.pkl");
    if (cpkl != null) {
      String src = file + " (" + prefix + "constants.pkl)";
      StorageIds cids = new StorageIds(src, false,
          k -> zip.entry(prefix + "constants/" + k) != null ? "constants/" + k : "data/" + k);
      Object c = Unpickler.load(PickleInput.of(zip.readAll(cpkl, MAX_PICKLE_BYTES), src), cids);
      if (c instanceof Tuple t) {
        for (int i = 0; i < t.size(); i++) {
          if (t.get(i) instanceof TensorRef r) {
            constants.put("__constants__." + i, r);
          }
        }
      }
    }
    StorageSource source = new StorageSource() {
      @Override
      public void check(StorageRef s, long off, long len, String what) {
        entry(s, what);
      }

      @Override
      public ByteBuffer read(StorageRef s, long off, long len, String what) {
        return zip.map(entry(s, what), off, len);
      }

      private ZipArchive.Entry entry(StorageRef s, String what) {
        String name = prefix + s.key();
        ZipArchive.Entry e = zip.entry(name);
        if (e == null) {
          throw new ModelLoadException("checkpoint " + file + ": " + what + " refers to storage '" + s.key()
              + "' but the archive has no entry '" + name + "'");
        }
        long expected = Math.multiplyExact(s.numel(), s.type().byteSize);
        if (e.size() != expected) {
          throw new ModelLoadException("checkpoint " + file + ": storage entry '" + name + "' has " + e.size()
              + " bytes but its persistent id says " + s.numel() + " elements of " + s.type() + " = " + expected
              + " bytes (read for " + what + ")");
        }
        return e;
      }
    };
    return new TorchCheckpoint(file, ch, script ? Kind.TORCHSCRIPT : Kind.ZIP, root, constants, source);
  }

  private static String preview(List<String> names) {
    return names.size() <= 8 ? names.toString() : names.subList(0, 8) + " and " + (names.size() - 8) + " more";
  }

  private static boolean isModule(Object root) {
    return root instanceof Obj o && o.global() != null && o.global().module().startsWith("__torch__");
  }

  // ---- legacy stream -------------------------------------------------------------------------

  private static TorchCheckpoint openLegacy(Path file, FileChannel ch) throws IOException {
    long size = ch.size();
    PickleInput.OfChannel in = new PickleInput.OfChannel(ch, 0, size, "checkpoint " + file);
    Unpickler.PersistentLoader none = pid -> {
      throw new ModelLoadException("checkpoint " + file + ": unexpected persistent id in a header pickle");
    };
    Object magic = Unpickler.load(in, none);
    if (!(magic instanceof BigInteger m) || !m.equals(LEGACY_MAGIC)) {
      throw new ModelLoadException("checkpoint " + file + ": not a torch legacy stream (magic number "
          + Pickle.describe(magic) + ")");
    }
    Object protocol = Unpickler.load(in, none);
    if (!(protocol instanceof Long p) || p != LEGACY_PROTOCOL) {
      throw new ModelLoadException("checkpoint " + file + ": unsupported legacy protocol version "
          + Pickle.describe(protocol) + " (expected " + LEGACY_PROTOCOL + ")");
    }
    Object sysInfo = Unpickler.load(in, none);
    if (sysInfo instanceof Map<?, ?> info && Boolean.FALSE.equals(info.get("little_endian"))) {
      throw new ModelLoadException("checkpoint " + file + ": written on a big-endian machine; not supported");
    }
    StorageIds ids = new StorageIds("checkpoint " + file, true, k -> k);
    Object root = Unpickler.load(in, ids);
    Object keys = Unpickler.load(in, none);
    if (!(keys instanceof List<?> keyList)) {
      throw new ModelLoadException("checkpoint " + file + ": storage key list missing after the object pickle, got "
          + Pickle.describe(keys));
    }
    // Storages follow in key-list order, each an int64 element count and the raw elements. Only
    // the counts are read here, to find where each storage's bytes start.
    Map<String, long[]> dataAt = new HashMap<>();
    long pos = in.position();
    for (Object k : keyList) {
      if (!(k instanceof String key)) {
        throw new ModelLoadException("checkpoint " + file + ": storage key list holds " + Pickle.describe(k));
      }
      Long numel = ids.rootNumel.get(key);
      StorageRef s = ids.byKey.get(key);
      StoredType type = s != null ? s.type() : null;
      if (numel == null || type == null) {
        throw new ModelLoadException("checkpoint " + file + ": storage '" + key
            + "' in the data section is not referenced by the pickle");
      }
      if (pos + 8 > size) {
        throw new ModelLoadException("checkpoint " + file + ": truncated before storage '" + key + "' at byte " + pos);
      }
      ByteBuffer cnt = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      while (cnt.hasRemaining()) {
        if (ch.read(cnt, pos + cnt.position()) < 0) {
          throw new ModelLoadException("checkpoint " + file + ": truncated at byte " + pos);
        }
      }
      long count = cnt.getLong(0);
      if (count != numel) {
        throw new ModelLoadException("checkpoint " + file + ": storage '" + key + "' has " + count
            + " elements in the data section but the pickle says " + numel);
      }
      long bytes = Math.multiplyExact(count, type.byteSize);
      if (bytes > size - pos - 8) {
        throw new ModelLoadException("checkpoint " + file + ": storage '" + key + "' needs " + bytes
            + " bytes at byte " + (pos + 8) + " but the file ends at " + size + " (truncated?)");
      }
      if (dataAt.put(key, new long[] {pos + 8, bytes}) != null) {
        throw new ModelLoadException("checkpoint " + file + ": storage '" + key + "' listed twice");
      }
      pos += 8 + bytes;
    }
    StorageSource source = new StorageSource() {
      @Override
      public void check(StorageRef s, long off, long len, String what) {
        start(s, off, len, what);
      }

      @Override
      public ByteBuffer read(StorageRef s, long off, long len, String what) {
        long start = start(s, off, len, what);
        if (len == 0) {
          return ByteBuffer.allocate(0).order(ByteOrder.LITTLE_ENDIAN);
        }
        try {
          return ch.map(FileChannel.MapMode.READ_ONLY, dataAt.get(s.key())[0] + start, len).order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
          throw new ModelLoadException("cannot map " + what + " in " + file + ": " + e.getMessage(), e);
        }
      }

      private long start(StorageRef s, long off, long len, String what) {
        long[] at = dataAt.get(s.key());
        if (at == null) {
          throw new ModelLoadException("checkpoint " + file + ": " + what + " refers to storage '" + s.key()
              + "' which the data section does not hold");
        }
        long start = Math.addExact(Math.multiplyExact(s.viewOffset(), s.type().byteSize), off);
        if (start > at[1] || len > at[1] - start) {
          throw new ModelLoadException("checkpoint " + file + ": " + what + " reads bytes [" + start + ", +" + len
              + ") of storage '" + s.key() + "' which has " + at[1]);
        }
        return start;
      }
    };
    return new TorchCheckpoint(file, ch, Kind.LEGACY, root, Map.of(), source);
  }

  // ---- selection -----------------------------------------------------------------------------

  /**
   * The container kind.
   *
   * @return the container format the file was detected as
   */
  public Kind kind() {
    return kind;
  }

  /**
   * The string keys of the top-level dict (for a Lightning checkpoint: epoch, state_dict, ...);
   * empty otherwise.
   *
   * @return the top-level string keys, in file order
   */
  public Set<String> topLevelKeys() {
    Set<String> out = new LinkedHashSet<>();
    if (root instanceof Map<?, ?> m) {
      for (Object k : m.keySet()) {
        if (k instanceof String s) {
          out.add(s);
        }
      }
    }
    return out;
  }

  /**
   * The model weights: for a TorchScript archive the module tree flattened to dotted names
   * (parameters, buffers and tensor attributes; {@code training} flags and other non-tensors
   * skipped; the code constants of {@code constants.pkl} are not weights and are left out, see
   * {@link #constantCount()}); for a dict with a {@code state_dict} entry
   * (a Lightning checkpoint) that entry; otherwise the top-level dict's tensors (nested dicts joined
   * with dots). Closing the result closes this checkpoint.
   *
   * @return the model weights as a lazy state dict
   * @throws ModelLoadException if there are no tensors to return
   */
  public StateDict stateDict() {
    Map<String, TensorRef> out = new LinkedHashMap<>();
    if (root instanceof Map<?, ?> m && m.get("state_dict") instanceof Map<?, ?> sd) {
      flatten("", sd, out);
    } else {
      // Only the module tree (or dict): constants.pkl holds the code's constants (a traced model's
      // attention masks, QuickGELU factors, ...), which are not weights and never named as such.
      flatten("", root, out);
    }
    if (out.isEmpty()) {
      throw new ModelLoadException("checkpoint " + file + " holds no tensors at the top level"
          + (topLevelKeys().isEmpty() ? "" : "; top-level keys: " + topLevelKeys()
              + " (pick one with stateDict(key))"));
    }
    return new TorchStateDict(out);
  }

  /**
   * The tensors under one top-level dict entry (for example {@code "model"} or {@code "state_dict"}),
   * flattened to dotted names. Closing the result closes this checkpoint.
   *
   * @param entry a top-level key of the checkpoint's dict
   * @return the tensors under it as a lazy state dict
   * @throws ModelLoadException if the entry is missing or holds no tensors
   */
  public StateDict stateDict(String entry) {
    if (!(root instanceof Map<?, ?> m) || !m.containsKey(entry)) {
      throw new ModelLoadException("checkpoint " + file + " has no top-level entry '" + entry + "'; top-level keys: "
          + topLevelKeys());
    }
    Map<String, TensorRef> out = new LinkedHashMap<>();
    flatten("", m.get(entry), out);
    if (out.isEmpty()) {
      throw new ModelLoadException("checkpoint " + file + ": entry '" + entry + "' holds no tensors");
    }
    return new TorchStateDict(out);
  }

  private void flatten(String prefix, Object v, Map<String, TensorRef> out) {
    long[] visits = {0};
    walk(prefix, v, out, 0, Collections.newSetFromMap(new IdentityHashMap<>()), visits);
  }

  private void walk(String prefix, Object v, Map<String, TensorRef> out, int depth, Set<Object> path, long[] visits) {
    if (++visits[0] > MAX_VISITS) {
      throw new ModelLoadException("checkpoint " + file + ": object tree has more than " + MAX_VISITS
          + " nodes to walk");
    }
    if (v instanceof TensorRef t) {
      out.putIfAbsent(prefix, t);
      return;
    }
    boolean container = v instanceof Map<?, ?> || v instanceof Obj || v instanceof List<?> || v instanceof Tuple;
    if (!container) {
      return; // ints, strings, flags, placeholders' scalars: not weights
    }
    if (depth >= MAX_DEPTH) {
      throw new ModelLoadException("checkpoint " + file + ": objects nested more than " + MAX_DEPTH
          + " deep at '" + prefix + "'");
    }
    if (!path.add(v)) {
      return; // a cycle: already being walked above
    }
    try {
      if (v instanceof Map<?, ?> m) {
        for (Map.Entry<?, ?> e : m.entrySet()) {
          Object k = e.getKey();
          if (k instanceof String || k instanceof Long) {
            walk(join(prefix, k.toString()), e.getValue(), out, depth + 1, path, visits);
          }
        }
      } else if (v instanceof Obj o) {
        if (o.state instanceof Map<?, ?> attrs) {
          for (Map.Entry<?, ?> e : attrs.entrySet()) {
            if (e.getKey() instanceof String k && !k.equals("training")) {
              walk(join(prefix, k), e.getValue(), out, depth + 1, path, visits);
            }
          }
        }
        if (!o.dictItems.isEmpty()) {
          walk(prefix, o.dictItems, out, depth + 1, path, visits);
        }
      } else {
        List<?> items = v instanceof Tuple t ? t.items() : (List<?>) v;
        for (int i = 0; i < items.size(); i++) {
          walk(join(prefix, Integer.toString(i)), items.get(i), out, depth + 1, path, visits);
        }
      }
    } finally {
      path.remove(v);
    }
  }

  private static String join(String prefix, String k) {
    return prefix.isEmpty() ? k : prefix + "." + k;
  }

  /**
   * Tensors among a TorchScript archive's code constants ({@code constants.pkl}: for a traced model
   * the tensors its code captured, such as attention masks); 0 for other containers. They are
   * validated on open but never part of {@link #stateDict()}.
   *
   * @return the number of constant tensors
   */
  public int constantCount() {
    return constants.size();
  }

  /** Storage byte reads so far (tests assert that unwanted storages are never read). */
  long storageReads() {
    return storageReads.get();
  }

  /**
   * The file.
   *
   * @return the path this checkpoint was opened from
   */
  public Path file() {
    return file;
  }

  @Override
  public void close() {
    try {
      channel.close();
    } catch (IOException e) {
      throw new ModelLoadException("cannot close " + file + ": " + e.getMessage(), e);
    }
  }

  // ---- tensors -------------------------------------------------------------------------------

  /**
   * Checks tensor {@code name}'s view against its storage and that the storage's bytes exist in the
   * file (entry present, size as declared), without reading them.
   */
  private void checkStorage(String name, TensorRef t) {
    materialize(name, t, false);
  }

  private Tensor materialize(String name, TensorRef t) {
    return materialize(name, t, true);
  }

  private Tensor materialize(String name, TensorRef t, boolean read) {
    String what = "tensor '" + name + "' in " + file;
    StoredType st = t.type();
    st.targetOrThrow(what);
    StorageRef s = t.storage();
    int es = st.byteSize;
    long[] size = t.size();
    long[] stride = t.stride();
    long n = 1;
    long extent = 1;
    try {
      for (int i = 0; i < size.length; i++) {
        n = Math.multiplyExact(n, size[i]);
        if (size[i] > 0) {
          extent = Math.addExact(extent, Math.multiplyExact(size[i] - 1, stride[i]));
        }
      }
    } catch (ArithmeticException e) {
      throw new ModelLoadException(what + ": size " + java.util.Arrays.toString(size) + " with stride "
          + java.util.Arrays.toString(stride) + " overflows");
    }
    if (n > Tensor.MAX_ELEMENTS) {
      throw new ModelLoadException(what + " has " + n + " elements, more than " + Tensor.MAX_ELEMENTS);
    }
    long capacity = Math.multiplyExact(s.numel(), s.type().byteSize) / es;
    if (n == 0) {
      if (t.offset() > capacity) {
        throw new ModelLoadException(what + ": storage offset " + t.offset() + " beyond storage '" + s.key()
            + "' of " + capacity + " elements");
      }
      return read ? st.decode(ByteBuffer.allocate(0), size, what) : null;
    }
    if (t.offset() > capacity || extent > capacity - t.offset()) {
      throw new ModelLoadException(what + ": the view (size " + java.util.Arrays.toString(size) + ", stride "
          + java.util.Arrays.toString(stride) + ", offset " + t.offset() + ") needs " + (t.offset() + extent)
          + " elements but storage '" + s.key() + "' holds " + capacity);
    }
    long byteStart = t.offset() * es;
    if (!read) {
      source.check(s, byteStart, Math.multiplyExact(extent, es), what);
      return null;
    }
    storageReads.incrementAndGet();
    if (isContiguous(size, stride)) {
      ByteBuffer b = source.read(s, byteStart, n * es, what);
      return st.decode(b, size, what);
    }
    long span = Math.multiplyExact(extent, es);
    ByteBuffer src = source.read(s, byteStart, span, what);
    byte[] dst = new byte[Math.toIntExact(n * es)];
    gather(src, dst, size, stride, es);
    return st.decode(ByteBuffer.wrap(dst).order(ByteOrder.LITTLE_ENDIAN), size, what);
  }

  static boolean isContiguous(long[] size, long[] stride) {
    long expected = 1;
    for (int i = size.length - 1; i >= 0; i--) {
      if (size[i] != 1 && stride[i] != expected) {
        return false;
      }
      expected *= size[i];
    }
    return true;
  }

  /** Copies a strided view into row-major order. */
  private static void gather(ByteBuffer src, byte[] dst, long[] size, long[] stride, int es) {
    int rank = size.length;
    long[] idx = new long[rank];
    long off = 0;
    int out = 0;
    while (out < dst.length) {
      src.get((int) (off * es), dst, out, es);
      out += es;
      for (int d = rank - 1; d >= 0; d--) {
        idx[d]++;
        off += stride[d];
        if (idx[d] < size[d]) {
          break;
        }
        off -= stride[d] * idx[d];
        idx[d] = 0;
      }
    }
  }

  private final class TorchStateDict implements StateDict {
    private final Map<String, TensorRef> refs;

    TorchStateDict(Map<String, TensorRef> refs) {
      this.refs = Collections.unmodifiableMap(refs);
    }

    private TensorRef ref(String key) {
      TensorRef r = refs.get(key);
      if (r == null) {
        throw new IllegalArgumentException("no tensor named '" + key + "' in " + file);
      }
      return r;
    }

    @Override
    public Set<String> keys() {
      return refs.keySet();
    }

    @Override
    public TensorSpec spec(String key) {
      TensorRef r = ref(key);
      return new TensorSpec(r.type().targetOrThrow("tensor '" + key + "' in " + file), r.size());
    }

    @Override
    public Tensor tensor(String key) {
      return materialize(key, ref(key));
    }

    @Override
    public void checkStorage(String key) {
      TorchCheckpoint.this.checkStorage(key, ref(key));
    }

    @Override
    public void close() {
      TorchCheckpoint.this.close();
    }

    @Override
    public String toString() {
      return "StateDict(" + file + ", " + refs.size() + " tensors)";
    }
  }

  /** For messages and debugging. */
  @Override
  public String toString() {
    return "TorchCheckpoint(" + file + ", " + kind + ")";
  }

  /** Placeholder class names found in the pickle (diagnostics for unsupported content). */
  List<String> placeholderClasses() {
    List<String> out = new ArrayList<>();
    collect(root, out, Collections.newSetFromMap(new IdentityHashMap<>()), 0);
    return out;
  }

  private static void collect(Object v, List<String> out, Set<Object> seen, int depth) {
    if (depth > MAX_DEPTH || v == null || !seen.add(v) || out.size() > 1000) {
      return;
    }
    if (v instanceof Obj o) {
      if (o.global() != null && !out.contains(o.global().qualified())) {
        out.add(o.global().qualified());
      }
      collect(o.state, out, seen, depth + 1);
      collect(o.args, out, seen, depth + 1);
    } else if (v instanceof Map<?, ?> m) {
      for (Map.Entry<?, ?> e : m.entrySet()) {
        collect(e.getKey(), out, seen, depth + 1);
        collect(e.getValue(), out, seen, depth + 1);
      }
    } else if (v instanceof Tuple t) {
      for (Object o : t.items()) {
        collect(o, out, seen, depth + 1);
      }
    } else if (v instanceof List<?> l) {
      for (Object o : l) {
        collect(o, out, seen, depth + 1);
      }
    } else if (v instanceof Global g && !out.contains(g.qualified())) {
      out.add(g.qualified());
    }
  }
}
