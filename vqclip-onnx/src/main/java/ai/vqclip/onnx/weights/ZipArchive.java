package ai.vqclip.onnx.weights;

import ai.vqclip.core.ModelLoadException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * A minimal ZIP reader over a {@link FileChannel}: it parses the central directory (ZIP64 included),
 * and hands out stored entries as memory mappings of the file, so storages are neither copied nor
 * read until a tensor asks for them. Deflated entries (not written by torch, accepted for small
 * records) are inflated with their size bounded by the deflate ratio limit.
 */
final class ZipArchive {
  private static final int EOCD_SIG = 0x06054b50;
  private static final int ZIP64_LOCATOR_SIG = 0x07064b50;
  private static final int ZIP64_EOCD_SIG = 0x06064b50;
  private static final int CEN_SIG = 0x02014b50;
  private static final int LOC_SIG = 0x04034b50;
  /** Deflate cannot expand data by more than about 1032:1; larger claims are corrupt. */
  private static final long MAX_DEFLATE_RATIO = 1100;

  /** One central directory entry. */
  record Entry(String name, int flags, int method, long crc, long compressedSize, long size, long localHeaderOffset) {}

  private final Path file;
  private final FileChannel ch;
  private final long fileSize;
  private final long centralDirOffset;
  private final Map<String, Entry> entries;

  private ZipArchive(Path file, FileChannel ch, long fileSize, long centralDirOffset, Map<String, Entry> entries) {
    this.file = file;
    this.ch = ch;
    this.fileSize = fileSize;
    this.centralDirOffset = centralDirOffset;
    this.entries = entries;
  }

  private static ModelLoadException bad(Path file, String msg) {
    return new ModelLoadException("zip archive " + file + ": " + msg);
  }

  static ZipArchive open(Path file, FileChannel ch) throws IOException {
    long size = ch.size();
    int tailLen = (int) Math.min(size, 22 + 65535);
    if (tailLen < 22) {
      throw bad(file, "file has " + size + " bytes, too short for a zip end-of-central-directory record "
          + "(truncated?)");
    }
    ByteBuffer tail = read(ch, size - tailLen, tailLen);
    int eocd = -1;
    for (int i = tailLen - 22; i >= 0; i--) {
      if (tail.getInt(i) == EOCD_SIG && i + 22 + (tail.getShort(i + 20) & 0xffff) == tailLen) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) {
      throw bad(file, "no end-of-central-directory record found (file truncated or not a zip)");
    }
    long eocdPos = size - tailLen + eocd;
    int disk = tail.getShort(eocd + 4) & 0xffff;
    int cdDisk = tail.getShort(eocd + 6) & 0xffff;
    long count = tail.getShort(eocd + 10) & 0xffff;
    long cdSize = tail.getInt(eocd + 12) & 0xffffffffL;
    long cdOffset = tail.getInt(eocd + 16) & 0xffffffffL;
    long cdEnd = eocdPos;
    if (eocdPos >= 20) {
      ByteBuffer loc = read(ch, eocdPos - 20, 20);
      if (loc.getInt(0) == ZIP64_LOCATOR_SIG) {
        long z64 = loc.getLong(8);
        if (z64 < 0 || z64 > eocdPos - 20 - 56) {
          throw bad(file, "ZIP64 end-of-central-directory offset " + z64 + " is out of range");
        }
        ByteBuffer r = read(ch, z64, 56);
        if (r.getInt(0) != ZIP64_EOCD_SIG) {
          throw bad(file, "ZIP64 end-of-central-directory record missing at offset " + z64);
        }
        disk = r.getInt(16);
        cdDisk = r.getInt(20);
        count = r.getLong(32);
        cdSize = r.getLong(40);
        cdOffset = r.getLong(48);
        cdEnd = z64;
      }
    }
    if (disk != 0 || cdDisk != 0) {
      throw bad(file, "multi-disk archives are not supported (disk " + disk + ")");
    }
    if (cdOffset < 0 || cdSize < 0 || cdOffset > cdEnd || cdSize > cdEnd - cdOffset) {
      throw bad(file, "central directory [" + cdOffset + ", +" + cdSize + ") lies outside the file before "
          + "byte " + cdEnd + " (truncated?)");
    }
    if (count < 0 || count > cdSize / 46) {
      throw bad(file, "central directory claims " + count + " entries in " + cdSize + " bytes");
    }
    if (cdSize > Integer.MAX_VALUE - 8) {
      throw bad(file, "central directory of " + cdSize + " bytes is too large");
    }
    ByteBuffer cd = read(ch, cdOffset, (int) cdSize);
    Map<String, Entry> entries = new LinkedHashMap<>();
    int p = 0;
    for (long i = 0; i < count; i++) {
      if (p + 46 > cd.limit() || cd.getInt(p) != CEN_SIG) {
        throw bad(file, "central directory entry " + i + " is malformed at offset " + (cdOffset + p));
      }
      int flags = cd.getShort(p + 8) & 0xffff;
      int method = cd.getShort(p + 10) & 0xffff;
      long crc = cd.getInt(p + 16) & 0xffffffffL;
      long csize = cd.getInt(p + 20) & 0xffffffffL;
      long usize = cd.getInt(p + 24) & 0xffffffffL;
      int nameLen = cd.getShort(p + 28) & 0xffff;
      int extraLen = cd.getShort(p + 30) & 0xffff;
      int commentLen = cd.getShort(p + 32) & 0xffff;
      long lho = cd.getInt(p + 42) & 0xffffffffL;
      if (p + 46 + nameLen + extraLen + commentLen > cd.limit()) {
        throw bad(file, "central directory entry " + i + " runs past the directory");
      }
      byte[] nameBytes = new byte[nameLen];
      cd.get(p + 46, nameBytes);
      String name = new String(nameBytes, StandardCharsets.UTF_8);
      // ZIP64 extended information: present fields follow the order usize, csize, offset.
      int x = p + 46 + nameLen;
      int xEnd = x + extraLen;
      while (x + 4 <= xEnd) {
        int id = cd.getShort(x) & 0xffff;
        int len = cd.getShort(x + 2) & 0xffff;
        if (x + 4 + len > xEnd) {
          break;
        }
        if (id == 0x0001) {
          int q = x + 4;
          if (usize == 0xffffffffL && q + 8 <= x + 4 + len) {
            usize = cd.getLong(q);
            q += 8;
          }
          if (csize == 0xffffffffL && q + 8 <= x + 4 + len) {
            csize = cd.getLong(q);
            q += 8;
          }
          if (lho == 0xffffffffL && q + 8 <= x + 4 + len) {
            lho = cd.getLong(q);
          }
        }
        x += 4 + len;
      }
      if (usize < 0 || csize < 0 || lho < 0 || lho > cdOffset) {
        throw bad(file, "entry '" + name + "' has an invalid size or offset");
      }
      if (entries.put(name, new Entry(name, flags, method, crc, csize, usize, lho)) != null) {
        throw bad(file, "duplicate entry '" + name + "'");
      }
      p += 46 + nameLen + extraLen + commentLen;
    }
    return new ZipArchive(file, ch, size, cdOffset, Collections.unmodifiableMap(entries));
  }

  private static ByteBuffer read(FileChannel ch, long pos, int len) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(len).order(ByteOrder.LITTLE_ENDIAN);
    while (b.hasRemaining()) {
      int r = ch.read(b, pos + b.position());
      if (r < 0) {
        throw new IOException("unexpected end of file at byte " + (pos + b.position()));
      }
    }
    b.flip();
    return b.order(ByteOrder.LITTLE_ENDIAN);
  }

  Path file() {
    return file;
  }

  /** Entries by name, in central directory order. */
  Map<String, Entry> entries() {
    return entries;
  }

  List<String> names() {
    return new ArrayList<>(entries.keySet());
  }

  Entry entry(String name) {
    return entries.get(name);
  }

  /** Offset of an entry's data, from its local header; checks the data lies before the directory. */
  long dataOffset(Entry e) {
    try {
      if (e.localHeaderOffset() + 30 > centralDirOffset) {
        throw bad(file, "entry '" + e.name() + "' local header at " + e.localHeaderOffset() + " is out of range");
      }
      ByteBuffer h = read(ch, e.localHeaderOffset(), 30);
      if (h.getInt(0) != LOC_SIG) {
        throw bad(file, "entry '" + e.name() + "' has no local header at offset " + e.localHeaderOffset());
      }
      long start = e.localHeaderOffset() + 30 + (h.getShort(26) & 0xffff) + (h.getShort(28) & 0xffff);
      if (start > centralDirOffset || e.compressedSize() > centralDirOffset - start) {
        throw bad(file, "entry '" + e.name() + "' data [" + start + ", +" + e.compressedSize()
            + ") runs past the end of the entries at " + centralDirOffset + " (truncated?)");
      }
      return start;
    } catch (IOException ex) {
      throw new ModelLoadException("cannot read " + file + ": " + ex.getMessage(), ex);
    }
  }

  private void checkReadable(Entry e) {
    if ((e.flags() & 1) != 0) {
      throw bad(file, "entry '" + e.name() + "' is encrypted");
    }
    if (e.method() != 0 && e.method() != 8) {
      throw bad(file, "entry '" + e.name() + "' uses compression method " + e.method()
          + "; only stored (0) and deflated (8) are supported");
    }
  }

  /**
   * Maps {@code length} bytes at {@code offset} inside a stored entry (read-only, little-endian).
   *
   * @throws ModelLoadException if the entry is compressed or the range exceeds it
   */
  ByteBuffer map(Entry e, long offset, long length) {
    checkReadable(e);
    if (e.method() != 0) {
      // A compressed storage cannot be mapped: inflate it (bounded) and slice.
      byte[] all = readAll(e, Integer.MAX_VALUE - 8);
      if (offset > all.length || length > all.length - offset) {
        throw bad(file, "range [" + offset + ", +" + length + ") exceeds entry '" + e.name() + "' of "
            + all.length + " bytes");
      }
      return ByteBuffer.wrap(all, (int) offset, (int) length).slice().order(ByteOrder.LITTLE_ENDIAN);
    }
    if (offset < 0 || length < 0 || offset > e.size() || length > e.size() - offset) {
      throw bad(file, "range [" + offset + ", +" + length + ") exceeds entry '" + e.name() + "' of "
          + e.size() + " bytes");
    }
    if (length > Integer.MAX_VALUE - 8) {
      throw bad(file, "a " + length + "-byte range of entry '" + e.name() + "' is too large for one buffer");
    }
    long start = dataOffset(e);
    if (length == 0) {
      return ByteBuffer.allocate(0).order(ByteOrder.LITTLE_ENDIAN);
    }
    try {
      return ch.map(FileChannel.MapMode.READ_ONLY, start + offset, length).order(ByteOrder.LITTLE_ENDIAN);
    } catch (IOException ex) {
      throw new ModelLoadException("cannot map entry '" + e.name() + "' of " + file + ": " + ex.getMessage(), ex);
    }
  }

  /** The whole (uncompressed) content of an entry, at most {@code maxBytes}. */
  byte[] readAll(Entry e, long maxBytes) {
    checkReadable(e);
    if (e.size() > maxBytes || e.size() > Integer.MAX_VALUE - 8) {
      throw bad(file, "entry '" + e.name() + "' has " + e.size() + " bytes, more than the " + maxBytes + " allowed");
    }
    long start = dataOffset(e);
    try {
      if (e.method() == 0) {
        if (e.compressedSize() != e.size()) {
          throw bad(file, "stored entry '" + e.name() + "' has compressed size " + e.compressedSize()
              + " but size " + e.size());
        }
        byte[] out = new byte[(int) e.size()];
        ByteBuffer b = ByteBuffer.wrap(out);
        while (b.hasRemaining()) {
          if (ch.read(b, start + b.position()) < 0) {
            throw bad(file, "entry '" + e.name() + "' is truncated");
          }
        }
        return out;
      }
      if (e.size() > Math.multiplyExact(Math.max(e.compressedSize(), 1), MAX_DEFLATE_RATIO)) {
        throw bad(file, "entry '" + e.name() + "' claims " + e.size() + " bytes from " + e.compressedSize()
            + " compressed, beyond what deflate can produce (at most " + MAX_DEFLATE_RATIO + " times the compressed size)");
      }
      if (e.compressedSize() > Integer.MAX_VALUE - 8) {
        throw bad(file, "entry '" + e.name() + "' is too large to inflate");
      }
      byte[] comp = new byte[(int) e.compressedSize()];
      ByteBuffer b = ByteBuffer.wrap(comp);
      while (b.hasRemaining()) {
        if (ch.read(b, start + b.position()) < 0) {
          throw bad(file, "entry '" + e.name() + "' is truncated");
        }
      }
      Inflater inf = new Inflater(true);
      try {
        inf.setInput(comp);
        byte[] out = new byte[(int) e.size()];
        int n = 0;
        while (n < out.length && !inf.finished()) {
          int r = inf.inflate(out, n, out.length - n);
          if (r == 0 && (inf.needsInput() || inf.needsDictionary())) {
            break;
          }
          n += r;
        }
        if (n != out.length) {
          throw bad(file, "entry '" + e.name() + "' inflates to " + n + " bytes, directory says " + e.size());
        }
        return out;
      } finally {
        inf.end();
      }
    } catch (IOException | DataFormatException ex) {
      throw new ModelLoadException("cannot read entry '" + e.name() + "' of " + file + ": " + ex.getMessage(), ex);
    }
  }

  long fileSize() {
    return fileSize;
  }
}
