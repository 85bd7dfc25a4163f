package ai.vqclip.onnx.weights;

import ai.vqclip.core.ModelLoadException;
import ai.vqclip.core.Tensor;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A safetensors file, memory-mapped and read lazily: opening parses and validates the header only;
 * each {@link #tensor} maps its own byte range (no copy for types vqclip represents directly).
 *
 * <p>Validation follows the format's rules: an 8-byte little-endian header length no larger than the
 * file (and at most {@value #MAX_HEADER_BYTES} bytes), a UTF-8 JSON object header without duplicate
 * names, known dtypes, shapes whose byte counts equal their {@code data_offsets} ranges, and ranges
 * that tile the data section exactly (no gaps, no overlaps, nothing left over). Every violation is a
 * {@link ModelLoadException} naming the file, the tensor and the offending values.
 */
public final class SafetensorsFile implements StateDict {
  /** Largest header accepted (the reference implementation's limit). */
  public static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

  private static final ObjectMapper JSON =
      new ObjectMapper(JsonFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build());

  private record Entry(String name, StoredType type, long[] shape, long begin, long end) {}

  private final Path file;
  private final FileChannel channel;
  private final long dataStart;
  private final Map<String, Entry> entries;
  private final Map<String, String> metadata;

  private SafetensorsFile(Path file, FileChannel channel, long dataStart, Map<String, Entry> entries,
      Map<String, String> metadata) {
    this.file = file;
    this.channel = channel;
    this.dataStart = dataStart;
    this.entries = entries;
    this.metadata = metadata;
  }

  /**
   * Opens and validates a safetensors file. The file stays open (mapped on demand) until {@link
   * #close}.
   *
   * @param file path of a {@code .safetensors} file
   * @return the open file; close it to release the channel and the mapped memory
   * @throws ModelLoadException if the file cannot be read or is not a valid safetensors file
   */
  public static SafetensorsFile open(Path file) {
    return ChannelOpener.open(file, "safetensors file", ch -> parse(file, ch));
  }

  private static ModelLoadException bad(Path file, String msg) {
    return new ModelLoadException("safetensors file " + file + ": " + msg);
  }

  private static SafetensorsFile parse(Path file, FileChannel ch) throws IOException {
    long size = ch.size();
    if (size < 8) {
      throw bad(file, "file has " + size + " bytes, shorter than the 8-byte header length");
    }
    ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    readFully(ch, lenBuf, 0);
    long n = lenBuf.getLong(0);
    // n is unsigned on disk; a negative long is a length of 2^63 or more.
    if (n < 0 || n > size - 8) {
      throw bad(file, "header length " + Long.toUnsignedString(n) + " exceeds the " + (size - 8)
          + " bytes that follow it");
    }
    if (n > MAX_HEADER_BYTES) {
      throw bad(file, "header length " + n + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes");
    }
    if (n < 2) {
      throw bad(file, "header length " + n + " is too short for a JSON object");
    }
    ByteBuffer headerBytes = ByteBuffer.allocate((int) n);
    readFully(ch, headerBytes, 8);
    headerBytes.flip();
    String header;
    try {
      header = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(headerBytes)
          .toString();
    } catch (CharacterCodingException e) {
      throw bad(file, "header is not valid UTF-8 (" + e.getMessage() + ")");
    }
    JsonNode root;
    try {
      root = JSON.readTree(header);
    } catch (JsonProcessingException e) {
      throw bad(file, "header is not valid JSON: " + e.getOriginalMessage());
    }
    if (root == null || !root.isObject()) {
      throw bad(file, "header is not a JSON object");
    }
    long dataSize = size - 8 - n;
    Map<String, Entry> entries = new LinkedHashMap<>();
    Map<String, String> metadata = Map.of();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> f = it.next();
      String name = f.getKey();
      if (name.equals("__metadata__")) {
        metadata = parseMetadata(file, f.getValue());
        continue;
      }
      entries.put(name, parseEntry(file, name, f.getValue(), dataSize));
    }
    checkTiling(file, entries, dataSize);
    return new SafetensorsFile(file, ch, 8 + n, Collections.unmodifiableMap(entries), metadata);
  }

  private static Map<String, String> parseMetadata(Path file, JsonNode node) {
    if (!node.isObject()) {
      throw bad(file, "__metadata__ must be an object of strings, got " + node.getNodeType());
    }
    Map<String, String> m = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!e.getValue().isTextual()) {
        throw bad(file, "__metadata__ value for '" + e.getKey() + "' must be a string, got "
            + e.getValue().getNodeType());
      }
      m.put(e.getKey(), e.getValue().textValue());
    }
    return Collections.unmodifiableMap(m);
  }

  private static long nonNegativeLong(Path file, String name, String field, JsonNode v) {
    if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
      throw bad(file, "tensor '" + name + "': " + field + " must hold non-negative integers, got " + v);
    }
    return v.longValue();
  }

  private static Entry parseEntry(Path file, String name, JsonNode node, long dataSize) {
    if (!node.isObject()) {
      throw bad(file, "tensor '" + name + "': entry must be an object, got " + node.getNodeType());
    }
    JsonNode dt = node.get("dtype");
    if (dt == null || !dt.isTextual()) {
      throw bad(file, "tensor '" + name + "': missing or non-string dtype " + dt);
    }
    StoredType type = StoredType.fromSafetensors(dt.textValue());
    if (type == null) {
      throw bad(file, "tensor '" + name + "': unknown dtype '" + dt.textValue() + "'; known: "
          + Arrays.toString(StoredType.values()));
    }
    JsonNode sh = node.get("shape");
    if (sh == null || !sh.isArray()) {
      throw bad(file, "tensor '" + name + "': missing or non-array shape " + sh);
    }
    long[] shape = new long[sh.size()];
    long count = 1;
    for (int i = 0; i < shape.length; i++) {
      shape[i] = nonNegativeLong(file, name, "shape", sh.get(i));
      try {
        count = Math.multiplyExact(count, shape[i]);
      } catch (ArithmeticException e) {
        throw bad(file, "tensor '" + name + "': shape " + sh + " overflows");
      }
    }
    JsonNode off = node.get("data_offsets");
    if (off == null || !off.isArray() || off.size() != 2) {
      throw bad(file, "tensor '" + name + "': data_offsets must be [begin, end], got " + off);
    }
    long begin = nonNegativeLong(file, name, "data_offsets", off.get(0));
    long end = nonNegativeLong(file, name, "data_offsets", off.get(1));
    if (begin > end || end > dataSize) {
      throw bad(file, "tensor '" + name + "': data_offsets [" + begin + ", " + end
          + "] out of range of the " + dataSize + "-byte data section");
    }
    long bytes;
    try {
      bytes = Math.multiplyExact(count, type.byteSize);
    } catch (ArithmeticException e) {
      throw bad(file, "tensor '" + name + "': shape " + sh + " overflows");
    }
    if (bytes != end - begin) {
      throw bad(file, "tensor '" + name + "': shape " + sh + " of " + type + " needs " + bytes
          + " bytes but data_offsets [" + begin + ", " + end + "] hold " + (end - begin));
    }
    return new Entry(name, type, shape, begin, end);
  }

  /** The data ranges must tile [0, dataSize): sorted by start, each begins where the last ended. */
  private static void checkTiling(Path file, Map<String, Entry> entries, long dataSize) {
    List<Entry> sorted = new ArrayList<>(entries.values());
    sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
    long pos = 0;
    Entry last = null;
    for (Entry e : sorted) {
      if (e.begin < pos) {
        throw bad(file, "tensor '" + e.name + "' data_offsets [" + e.begin + ", " + e.end
            + "] overlap tensor '" + last.name + "' [" + last.begin + ", " + last.end + "]");
      }
      if (e.begin > pos) {
        throw bad(file, "gap in the data section: bytes [" + pos + ", " + e.begin + ") before tensor '"
            + e.name + "' belong to no tensor");
      }
      pos = e.end;
      last = e;
    }
    if (pos != dataSize) {
      throw bad(file, "data section has " + dataSize + " bytes but the tensors cover only " + pos
          + " (trailing bytes belong to no tensor)");
    }
  }

  private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
    while (buf.hasRemaining()) {
      int r = ch.read(buf, pos);
      if (r < 0) {
        throw new IOException("unexpected end of file at byte " + pos);
      }
      pos += r;
    }
  }

  private Entry entry(String key) {
    Entry e = entries.get(key);
    if (e == null) {
      throw new IllegalArgumentException("no tensor named '" + key + "' in " + file);
    }
    return e;
  }

  @Override
  public Set<String> keys() {
    return entries.keySet();
  }

  @Override
  public TensorSpec spec(String key) {
    Entry e = entry(key);
    return new TensorSpec(e.type.targetOrThrow("tensor '" + key + "' in " + file), e.shape);
  }

  /**
   * The element type as the file names it ({@code F16}, {@code I16}, ...), before any widening.
   *
   * @param key a tensor name in the file
   * @return the file's dtype string for it, e.g. {@code F16}
   * @throws IllegalArgumentException when the file has no such tensor
   */
  public String storedDtype(String key) {
    return entry(key).type.name();
  }

  @Override
  public Tensor tensor(String key) {
    Entry e = entry(key);
    String what = "tensor '" + key + "' in " + file;
    e.type.targetOrThrow(what);
    long len = e.end - e.begin;
    if (len > Integer.MAX_VALUE - 8) {
      throw new ModelLoadException(what + " has " + len + " bytes, more than one buffer can hold");
    }
    ByteBuffer data;
    try {
      data = len == 0 ? ByteBuffer.allocate(0) : channel.map(FileChannel.MapMode.READ_ONLY, dataStart + e.begin, len);
    } catch (IOException ex) {
      throw new ModelLoadException("cannot map " + what + ": " + ex.getMessage(), ex);
    }
    try {
      return e.type.decode(data.order(ByteOrder.LITTLE_ENDIAN), e.shape, what);
    } catch (IllegalArgumentException ex) {
      throw new ModelLoadException(what + ": " + ex.getMessage(), ex);
    }
  }

  @Override
  public Tensor floatTensor(String key) {
    return FloatConversion.toFloat(tensor(key), key);
  }

  @Override
  public Map<String, String> metadata() {
    return metadata;
  }

  /**
   * The file this reads.
   *
   * @return the path this file was opened from
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
}
