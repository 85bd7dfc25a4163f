package ai.vqclip.core.testing;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import javax.imageio.ImageIO;

/**
 * Generators of the hostile image files of issue 16 (decompression bombs and lying headers), written
 * byte by byte so each test builds its reproducer in milliseconds.
 */
public final class CraftedImages {
  private CraftedImages() {}

  /**
   * A valid 8-bit gray PNG of {@code width} x {@code height} black pixels: tiny on disk (an
   * 8192x8192 one is about 64 kB), large when decoded. Extra chunks go before IEND.
   */
  public static byte[] blackPng(int width, int height, byte[]... extraChunks) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      out.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
      ByteArrayOutputStream ihdr = new ByteArrayOutputStream();
      DataOutputStream d = new DataOutputStream(ihdr);
      d.writeInt(width);
      d.writeInt(height);
      d.write(new byte[] {8, 0, 0, 0, 0}); // 8 bits, gray, deflate, adaptive filter, no interlace
      out.write(chunk("IHDR", ihdr.toByteArray()));
      ByteArrayOutputStream idat = new ByteArrayOutputStream();
      try (DeflaterOutputStream z = new DeflaterOutputStream(idat, new Deflater(Deflater.BEST_SPEED))) {
        byte[] row = new byte[width + 1]; // filter byte 0, then zeros
        for (int y = 0; y < height; y++) {
          z.write(row);
        }
      }
      out.write(chunk("IDAT", idat.toByteArray()));
      for (byte[] c : extraChunks) {
        out.write(c);
      }
      out.write(chunk("IEND", new byte[0]));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** A PNG chunk: length, type, data, CRC. */
  public static byte[] chunk(String type, byte[] data) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    DataOutputStream d = new DataOutputStream(out);
    try {
      d.writeInt(data.length);
      byte[] t = type.getBytes(StandardCharsets.ISO_8859_1);
      d.write(t);
      d.write(data);
      CRC32 crc = new CRC32();
      crc.update(t);
      crc.update(data);
      d.writeInt((int) crc.getValue());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** A tEXt chunk. */
  public static byte[] text(String keyword, String value) {
    return chunk("tEXt", (keyword + "\0" + value).getBytes(StandardCharsets.ISO_8859_1));
  }

  /** A zTXt chunk whose text is {@code inflatedBytes} spaces: a bomb of about inflatedBytes/1000 bytes on disk. */
  public static byte[] zTxtBomb(String keyword, long inflatedBytes) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      out.write((keyword + "\0").getBytes(StandardCharsets.ISO_8859_1));
      out.write(0); // compression method: deflate
      try (DeflaterOutputStream z = new DeflaterOutputStream(out, new Deflater(Deflater.BEST_COMPRESSION))) {
        byte[] block = new byte[1 << 20];
        java.util.Arrays.fill(block, (byte) ' ');
        for (long left = inflatedBytes; left > 0; left -= block.length) {
          z.write(block, 0, (int) Math.min(left, block.length));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return chunk("zTXt", out.toByteArray());
  }

  /**
   * A baseline JPEG whose frame header declares {@code width} x {@code height} but whose data is that
   * of an 8x8 image: a few hundred bytes that a decoder sizes as the declared image (issue 16's
   * 303-byte 2056x15624 file).
   */
  public static byte[] lyingJpeg(int width, int height) {
    BufferedImage small = new BufferedImage(8, 8, BufferedImage.TYPE_3BYTE_BGR);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      ImageIO.write(small, "jpg", out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    byte[] b = out.toByteArray();
    for (int i = 2; i + 9 < b.length; i++) {
      // SOF0 (FF C0): length (2), precision (1), height (2), width (2).
      if ((b[i] & 0xff) == 0xff && (b[i + 1] & 0xff) == 0xc0) {
        b[i + 5] = (byte) (height >> 8);
        b[i + 6] = (byte) height;
        b[i + 7] = (byte) (width >> 8);
        b[i + 8] = (byte) width;
        return b;
      }
    }
    throw new IllegalStateException("ImageIO wrote a JPEG without an SOF0 marker");
  }
}
