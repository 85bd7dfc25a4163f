package ai.vqclip.onnx.weights;

import ai.vqclip.core.Tensor;
import ai.vqclip.onnx.weights.Pickle.Global;
import ai.vqclip.onnx.weights.Pickle.Tuple;
import ai.vqclip.onnx.weights.PickleWriter.OrderedDict;
import ai.vqclip.onnx.weights.PickleWriter.Persistent;
import ai.vqclip.onnx.weights.PickleWriter.Reduce;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * Test writers for torch's containers, laid out as torch writes them: {@code torch.save} ZIP archives
 * (the record order of torch 1.6/1.7 or of torch 2.x), the legacy stream, and a small TorchScript
 * archive. Object trees use {@link PickleWriter} values with {@link TorchTensor} leaves.
 */
final class TorchWriters {
  private TorchWriters() {}

  /** A storage: a dtype and its raw little-endian bytes; tensors sharing one are views. */
  static final class Storage {
    final StoredType type;
    final byte[] bytes;

    Storage(StoredType type, byte[] bytes) {
      this.type = type;
      this.bytes = bytes;
    }

    long numel() {
      return bytes.length / type.byteSize;
    }
  }

  /** A tensor: a strided view of a storage (identity semantics, like a Python object). */
  static final class TorchTensor {
    final Storage storage;
    final long offset;
    final long[] size;
    final long[] stride;

    TorchTensor(Storage storage, long offset, long[] size, long[] stride) {
      this.storage = storage;
      this.offset = offset;
      this.size = size;
      this.stride = stride;
    }

    /** A contiguous tensor with its own storage holding {@code t}'s bytes. */
    static TorchTensor of(Tensor t) {
      ByteBuffer d = t.data();
      byte[] b = new byte[d.remaining()];
      d.get(b);
      long[] shape = t.shape();
      return new TorchTensor(new Storage(StoredType.of(t.dtype()), b), 0, shape, contiguousStrides(shape));
    }

    static long[] contiguousStrides(long[] shape) {
      long[] s = new long[shape.length];
      long acc = 1;
      for (int i = shape.length - 1; i >= 0; i--) {
        s[i] = acc;
        acc *= shape[i];
      }
      return s;
    }
  }

  /** Pickles trees with tensors the way torch's persistent_id and Tensor.__reduce_ex__ do. */
  static final class TorchPickler {
    static final String STORAGE = "storage";
    static final String CPU = "cpu";
    final boolean legacy;
    final Map<String, Global> globals = new HashMap<>();
    final IdentityHashMap<Storage, String> keys = new IdentityHashMap<>();
    final List<Storage> order = new ArrayList<>();

    TorchPickler(boolean legacy) {
      this.legacy = legacy;
    }

    Global global(String module, String name) {
      return globals.computeIfAbsent(module + "." + name, k -> new Global(module, name));
    }

    String key(Storage s) {
      return keys.computeIfAbsent(s, k -> {
        order.add(k);
        return String.valueOf(order.size() - 1);
      });
    }

    Object reduce(Object o) {
      if (!(o instanceof TorchTensor t)) {
        return null;
      }
      Storage s = t.storage;
      Global type = global("torch", s.type.torchStorageName());
      Tuple pid = legacy
          ? Tuple.of(STORAGE, type, key(s), CPU, s.numel(), null)
          : Tuple.of(STORAGE, type, key(s), CPU, s.numel());
      List<Object> size = new ArrayList<>();
      List<Object> stride = new ArrayList<>();
      for (int i = 0; i < t.size.length; i++) {
        size.add(t.size[i]);
        stride.add(t.stride[i]);
      }
      Tuple args = Tuple.of(new Persistent(pid), t.offset, new Tuple(size), new Tuple(stride), false,
          new OrderedDict(new LinkedHashMap<>()));
      return new Reduce(global("torch._utils", "_rebuild_tensor_v2"), args);
    }

    byte[] dump(Object obj) {
      return PickleWriter.dump(obj, this::reduce, globals);
    }
  }

  /** A state dict as torch.save pickles {@code model.state_dict()}: an OrderedDict of tensors. */
  static OrderedDict stateDict(Map<String, ?> tensors) {
    Map<Object, Object> m = new LinkedHashMap<>();
    tensors.forEach((k, v) -> m.put(k, v instanceof Tensor t ? TorchTensor.of(t) : v));
    return new OrderedDict(m);
  }

  // ---- ZIP (miniz as torch drives it) ----------------------------------------------------------

  /**
   * Writes a ZIP the way PyTorchStreamWriter does through miniz: stored entries whose local header
   * carries an "FB" extra field padding the data to a 64-byte boundary, zero CRC and sizes in the
   * local header followed by a data descriptor, DOS time and date zero, and a ZIP64 end record and
   * locator before the classic end record.
   */
  static final class ZipWriter {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream cd = new ByteArrayOutputStream();
    private int count;

    private static void le(ByteArrayOutputStream o, long v, int n) {
      for (int i = 0; i < n; i++) {
        o.write((int) (v >>> (8 * i)) & 0xff);
      }
    }

    void add(String name, byte[] data) {
      byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
      long cursor = out.size();
      long start = cursor + 30 + nameBytes.length + 4;
      int mod = (int) (start % 64);
      int padding = mod == 0 ? 0 : 64 - mod;
      CRC32 crc = new CRC32();
      crc.update(data);
      int flags = data.length > 0 ? 0x0808 : 0x0800;
      le(out, 0x04034b50, 4);
      le(out, 0, 2); // version needed: stored
      le(out, flags, 2);
      le(out, 0, 2); // method: stored
      le(out, 0, 2); // time
      le(out, 0, 2); // date
      le(out, 0, 4); // crc (in the data descriptor)
      le(out, 0, 4);
      le(out, 0, 4);
      le(out, nameBytes.length, 2);
      le(out, padding + 4, 2);
      out.writeBytes(nameBytes);
      out.write('F');
      out.write('B');
      le(out, padding, 2);
      for (int i = 0; i < padding; i++) {
        out.write('Z');
      }
      out.writeBytes(data);
      if (data.length > 0) {
        le(out, 0x08074b50, 4);
        le(out, crc.getValue(), 4);
        le(out, data.length, 4);
        le(out, data.length, 4);
      }
      le(cd, 0x02014b50, 4);
      le(cd, 0, 2); // version made by
      le(cd, 0, 2); // version needed
      le(cd, flags, 2);
      le(cd, 0, 2);
      le(cd, 0, 2);
      le(cd, 0, 2);
      le(cd, crc.getValue(), 4);
      le(cd, data.length, 4);
      le(cd, data.length, 4);
      le(cd, nameBytes.length, 2);
      le(cd, 0, 2); // extra
      le(cd, 0, 2); // comment
      le(cd, 0, 2); // disk
      le(cd, 0, 2); // internal attributes
      le(cd, 0, 4); // external attributes
      le(cd, cursor, 4);
      cd.writeBytes(nameBytes);
      count++;
    }

    byte[] finish() {
      long cdOffset = out.size();
      long cdSize = cd.size();
      out.writeBytes(cd.toByteArray());
      long z64 = out.size();
      le(out, 0x06064b50, 4);
      le(out, 44, 8);
      le(out, 0x031E, 2);
      le(out, 0x002D, 2);
      le(out, 0, 4);
      le(out, 0, 4);
      le(out, count, 8);
      le(out, count, 8);
      le(out, cdSize, 8);
      le(out, cdOffset, 8);
      le(out, 0x07064b50, 4);
      le(out, 0, 4);
      le(out, z64, 8);
      le(out, 1, 4);
      le(out, 0x06054b50, 4);
      le(out, 0, 2);
      le(out, 0, 2);
      le(out, count, 2);
      le(out, count, 2);
      le(out, cdSize, 4);
      le(out, cdOffset, 4);
      le(out, 0, 2);
      return out.toByteArray();
    }
  }

  /** Record order of a torch.save ZIP. */
  enum Layout {
    /** torch 1.6/1.7 (the taming-transformers checkpoints): version, data.pkl, data/* in string order. */
    TORCH_1_6,
    /** torch 2.x: data.pkl, .format_version, .storage_alignment, byteorder, data/* in key order, version, serialization id. */
    TORCH_2
  }

  /** Writes {@code obj} as {@code torch.save} would (root folder {@code archive/}). */
  static void writeZip(Path file, Object obj, Layout layout) {
    writeZip(file, obj, layout, "archive", Map.of());
  }

  /**
   * Writes {@code obj} as a torch ZIP with root folder {@code root}; {@code replace} overrides the
   * bytes of named records (a null value drops the record) to build corrupt files.
   */
  static void writeZip(Path file, Object obj, Layout layout, String root, Map<String, byte[]> replace) {
    TorchPickler p = new TorchPickler(false);
    byte[] pkl = p.dump(obj);
    Map<String, byte[]> records = new LinkedHashMap<>();
    List<String> keys = new ArrayList<>();
    for (Storage s : p.order) {
      keys.add(p.keys.get(s));
    }
    if (layout == Layout.TORCH_1_6) {
      records.put("version", "3\n".getBytes(StandardCharsets.US_ASCII));
      records.put("data.pkl", pkl);
      List<String> sorted = new ArrayList<>(keys);
      sorted.sort(null);
      for (String k : sorted) {
        records.put("data/" + k, p.order.get(Integer.parseInt(k)).bytes);
      }
    } else {
      records.put("data.pkl", pkl);
      records.put(".format_version", "1".getBytes(StandardCharsets.US_ASCII));
      records.put(".storage_alignment", "64".getBytes(StandardCharsets.US_ASCII));
      records.put("byteorder", "little".getBytes(StandardCharsets.US_ASCII));
      for (String k : keys) {
        records.put("data/" + k, p.order.get(Integer.parseInt(k)).bytes);
      }
      records.put("version", "3\n".getBytes(StandardCharsets.US_ASCII));
      records.put(".data/serialization_id", "1234567890123456789012345678901234567890".getBytes(StandardCharsets.US_ASCII));
    }
    writeRecords(file, root, records, replace);
  }

  static void writeRecords(Path file, String root, Map<String, byte[]> records, Map<String, byte[]> replace) {
    ZipWriter z = new ZipWriter();
    for (Map.Entry<String, byte[]> e : records.entrySet()) {
      byte[] data = replace.containsKey(e.getKey()) ? replace.get(e.getKey()) : e.getValue();
      if (data != null) {
        z.add(root + "/" + e.getKey(), data);
      }
    }
    try {
      Files.write(file, z.finish());
    } catch (IOException ex) {
      throw new UncheckedIOException(ex);
    }
  }

  // ---- legacy stream ---------------------------------------------------------------------------

  /** Writes {@code obj} as torch's legacy (non-zip) serialization. */
  static void writeLegacy(Path file, Object obj) {
    TorchPickler p = new TorchPickler(true);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(PickleWriter.dump(new java.math.BigInteger("1950a86a20f9469cfc6c", 16)));
    out.writeBytes(PickleWriter.dump(1001L));
    Map<String, Object> sizes = new LinkedHashMap<>();
    sizes.put("short", 2L);
    sizes.put("int", 4L);
    sizes.put("long", 4L);
    Map<String, Object> sysInfo = new LinkedHashMap<>();
    sysInfo.put("protocol_version", 1001L);
    sysInfo.put("little_endian", true);
    sysInfo.put("type_sizes", sizes);
    out.writeBytes(PickleWriter.dump(sysInfo));
    out.writeBytes(p.dump(obj));
    List<Object> keys = new ArrayList<>();
    for (Storage s : p.order) {
      keys.add(p.keys.get(s));
    }
    keys.sort(null);
    out.writeBytes(PickleWriter.dump(keys));
    for (Object k : keys) {
      Storage s = p.order.get(Integer.parseInt((String) k));
      out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(s.numel()).array());
      out.writeBytes(s.bytes);
    }
    try {
      Files.write(file, out.toByteArray());
    } catch (IOException ex) {
      throw new UncheckedIOException(ex);
    }
  }

  // ---- TorchScript -----------------------------------------------------------------------------

  /** A TorchScript module: class name and attributes (tensors, submodules, scalars). */
  record Module(String qualifiedClass, Map<String, Object> attributes) {}

  /**
   * Writes a small TorchScript archive like {@code torch.jit.save}: data.pkl pickles the module tree
   * (each module GLOBAL {@code __torch__.X}, EMPTY_TUPLE, NEWOBJ, attribute dict, BUILD), plus
   * constants.pkl, a code file, the storages and the version record.
   */
  static void writeTorchScript(Path file, String root, Module module, List<Tensor> constants) {
    TorchPickler p = new TorchPickler(false);
    byte[] pkl = p.dump(toPickle(p, module));
    int dataStorages = p.order.size();
    List<Object> consts = new ArrayList<>();
    for (Tensor t : constants) {
      consts.add(TorchTensor.of(t));
    }
    // constants.pkl pickles separately with its own memo; its storages go under constants/.
    TorchPickler cp = new TorchPickler(false);
    byte[] cpkl = cp.dump(new Tuple(consts));
    Map<String, byte[]> records = new LinkedHashMap<>();
    records.put("data.pkl", pkl);
    records.put("code/__torch__/model.py", ("class " + module.qualifiedClass() + "(Module):\n  pass\n")
        .getBytes(StandardCharsets.UTF_8));
    for (int i = 0; i < dataStorages; i++) {
      records.put("data/" + i, p.order.get(i).bytes);
    }
    records.put("constants.pkl", cpkl);
    for (int i = 0; i < cp.order.size(); i++) {
      records.put("constants/" + i, cp.order.get(i).bytes);
    }
    records.put("version", "3\n".getBytes(StandardCharsets.US_ASCII));
    writeRecords(file, root, records, Map.of());
  }

  private static Object toPickle(TorchPickler p, Object v) {
    if (v instanceof Module m) {
      int dot = m.qualifiedClass().lastIndexOf('.');
      Global cls = p.global(m.qualifiedClass().substring(0, dot), m.qualifiedClass().substring(dot + 1));
      Map<Object, Object> attrs = new LinkedHashMap<>();
      m.attributes().forEach((k, a) -> attrs.put(k, toPickle(p, a)));
      return new PickleWriter.NewObj(cls, Tuple.EMPTY, attrs);
    }
    if (v instanceof Tensor t) {
      return TorchTensor.of(t);
    }
    return v;
  }
}
