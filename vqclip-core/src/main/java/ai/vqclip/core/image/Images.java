package ai.vqclip.core.image;

import ai.vqclip.core.ModelLoadException;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.DType;
import java.awt.Graphics2D;
import java.awt.Image;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Iterator;
import java.util.Map;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.ImageOutputStream;

/**
 * Image files to and from tensors [1, C, H, W] with values in [0, 1], through the JDK's ImageIO.
 * Files are untrusted: before any pixel is decoded, the header's size is checked against {@link
 * #MAX_SIDE} and {@link #MAX_PIXELS}, and the memory the read will allocate (the decoded raster, the
 * resized image and the tensor) against {@link #MAX_DECODE_BYTES}. A read to a target size decodes
 * a large image subsampled, at most about twice the target per side, so its cost follows the
 * target, not the file. The limits are listed in docs/limits.md.
 */
public final class Images {
  /** Largest side accepted when reading. */
  public static final int MAX_SIDE = 16384;

  /** Largest pixel count accepted when reading. */
  public static final long MAX_PIXELS = 64L << 20;

  /**
   * Most heap bytes one read may allocate: the decoded raster plus the resized image and the
   * tensor. 256 MiB lets a 4096x4096 RGB image be read at its own size and any image within the
   * pixel limit be read at 4096x4096, in a 1 GB heap.
   */
  public static final long MAX_DECODE_BYTES = 256L << 20;

  /** Most bytes of PNG text (all tEXt chunks together) {@link #readPngText} reads. */
  public static final int MAX_PNG_TEXT_BYTES = 16 << 20;

  private Images() {}

  /**
   * Reads an image at its own size as [1, 3, H, W] (alpha is dropped).
   *
   * @param path an image file (PNG, JPEG, GIF or BMP)
   * @return the pixels, float32 [1, 3, H, W] in [0, 1]
   * @throws ai.vqclip.core.ModelLoadException when the file is missing, not an image ImageIO reads,
   *     or declares too many pixels
   */
  public static Tensor read(Path path) {
    return toTensor(decode(path, 0, 0, 3 * Float.BYTES), 3);
  }

  /**
   * Reads an image and resizes it to {@code width} x {@code height} (area averaging down, bicubic
   * up).
   *
   * @param path an image file (PNG, JPEG, GIF or BMP)
   * @param width target width in pixels
   * @param height target height in pixels
   * @return the pixels, float32 [1, 3, height, width] in [0, 1]
   * @throws ai.vqclip.core.ModelLoadException when the file is missing, not an image ImageIO reads,
   *     or declares too many pixels
   * @throws IllegalArgumentException for a target size out of range
   */
  public static Tensor read(Path path, int width, int height) {
    checkTarget(width, height);
    return toTensor(resize(decode(path, width, height, 3 * Float.BYTES), width, height), 3);
  }

  /**
   * Reads a mask as [1, 1, H, W] at {@code width} x {@code height}: the alpha channel when the image
   * has one, else the luminance; 1 marks the editable region.
   *
   * @param path an image file (PNG, JPEG, GIF or BMP)
   * @param width target width in pixels
   * @param height target height in pixels
   * @return the mask, float32 [1, 1, height, width] in [0, 1]
   * @throws ai.vqclip.core.ModelLoadException when the file is missing, not an image ImageIO reads,
   *     or declares too many pixels
   * @throws IllegalArgumentException for a target size out of range
   */
  public static Tensor readMask(Path path, int width, int height) {
    checkTarget(width, height);
    BufferedImage img = decode(path, width, height, Double.BYTES + Float.BYTES);
    boolean alpha = img.getColorModel().hasAlpha();
    BufferedImage r = resize(img, width, height);
    double[] v = new double[width * height];
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        int argb = r.getRGB(x, y);
        v[y * width + x] = alpha
            ? ((argb >>> 24) & 0xff) / 255.0
            : (0.299 * ((argb >> 16) & 0xff) + 0.587 * ((argb >> 8) & 0xff) + 0.114 * (argb & 0xff)) / 255.0;
      }
    }
    return Tensor.fromDoubles(DType.FLOAT, new long[] {1, 1, height, width}, v);
  }

  private static void checkTarget(int width, int height) {
    if (width < 1 || height < 1 || width > MAX_SIDE || height > MAX_SIDE) {
      throw new IllegalArgumentException("target size must be in [1, " + MAX_SIDE + "] per side, got " + width + "x" + height);
    }
  }

  /**
   * Decodes {@code path}, checking its header first. With a target ({@code width, height > 0}) a
   * larger image is decoded subsampled to at most about twice the target per side; {@code
   * bytesPerTargetPixel} is what the caller allocates per result pixel, counted in the budget.
   */
  private static BufferedImage decode(Path path, int width, int height, int bytesPerTargetPixel) {
    if (!Files.isRegularFile(path)) {
      throw new ModelLoadException("image file " + path + " does not exist or is not a file");
    }
    try (ImageInputStream in = ImageIO.createImageInputStream(path.toFile())) {
      Iterator<ImageReader> readers = in == null ? null : ImageIO.getImageReaders(in);
      if (readers == null || !readers.hasNext()) {
        throw new ModelLoadException(path + " is not an image ImageIO can read (PNG, JPEG, GIF, BMP)");
      }
      ImageReader reader = readers.next();
      try {
        reader.setInput(in, true, true);
        int w = reader.getWidth(0);
        int h = reader.getHeight(0);
        if (w < 1 || h < 1 || w > MAX_SIDE || h > MAX_SIDE || (long) w * h > MAX_PIXELS) {
          throw new ModelLoadException(path + " declares " + w + "x" + h + " pixels; at most " + MAX_SIDE + " per side and " + MAX_PIXELS
              + " in all are read");
        }
        ImageReadParam param = reader.getDefaultReadParam();
        int sx = width > 0 ? Math.max(1, w / (2 * width)) : 1;
        int sy = height > 0 ? Math.max(1, h / (2 * height)) : 1;
        if (sx > 1 || sy > 1) {
          param.setSourceSubsampling(sx, sy, 0, 0);
        }
        long dw = (w + sx - 1) / sx;
        long dh = (h + sy - 1) / sy;
        long outPixels = width > 0 ? (long) width * height : dw * dh;
        // The resized image (4 bytes a pixel) exists only when the decoded size differs from the target.
        long resized = width > 0 && (dw != width || dh != height) ? 4L * width * height : 0;
        long cost = dw * dh * rasterBytesPerPixel(reader) + resized + outPixels * bytesPerTargetPixel;
        if (cost > MAX_DECODE_BYTES) {
          throw new ModelLoadException(path + " declares " + w + "x" + h + " pixels; reading it" + (width > 0 ? " at " + width + "x" + height : "")
              + " would allocate " + (cost >> 20) + " MiB, more than the " + (MAX_DECODE_BYTES >> 20) + " MiB limit for one image");
        }
        return reader.read(0, param);
      } finally {
        reader.dispose();
      }
    } catch (IOException | RuntimeException e) {
      if (e instanceof ModelLoadException m) {
        throw m;
      }
      throw new ModelLoadException("cannot read image " + path + ": " + e.getMessage(), e);
    }
  }

  /** Bytes per pixel of the raster the reader will decode into (its first destination type; 4 when unknown). */
  private static long rasterBytesPerPixel(ImageReader reader) throws IOException {
    Iterator<ImageTypeSpecifier> types = reader.getImageTypes(0);
    if (types == null || !types.hasNext()) {
      return 4;
    }
    java.awt.image.SampleModel sm = types.next().getSampleModel(1, 1);
    int bits = java.awt.image.DataBuffer.getDataTypeSize(sm.getDataType());
    return Math.max(1, (long) sm.getNumDataElements() * bits / 8);
  }

  /**
   * Resizes with area averaging when shrinking and bicubic interpolation when enlarging.
   *
   * @param img the image
   * @param width target width in pixels, at least 1
   * @param height target height in pixels, at least 1
   * @return a new image of that size (or {@code img} when it already has it)
   * @throws IllegalArgumentException for a size below 1
   */
  public static BufferedImage resize(BufferedImage img, int width, int height) {
    if (width < 1 || height < 1) {
      throw new IllegalArgumentException("target size must be positive, got " + width + "x" + height);
    }
    if (img.getWidth() == width && img.getHeight() == height) {
      return img;
    }
    BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_ARGB);
    Graphics2D g = out.createGraphics();
    try {
      if (width <= img.getWidth() && height <= img.getHeight()) {
        g.drawImage(img.getScaledInstance(width, height, Image.SCALE_AREA_AVERAGING), 0, 0, null);
      } else {
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BICUBIC);
        g.drawImage(img, 0, 0, width, height, null);
      }
    } finally {
      g.dispose();
    }
    return out;
  }

  /**
   * A tensor [1, 3, H, W] (or [1, 1, H, W] for gray) in [0, 1] from an image.
   *
   * @param img the image
   * @param channels 3 for RGB, 1 for gray (luminance)
   * @return the pixels, float32 [1, channels, H, W] in [0, 1]
   */
  public static Tensor toTensor(BufferedImage img, int channels) {
    int w = img.getWidth();
    int h = img.getHeight();
    float[] v = new float[channels * w * h];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int rgb = img.getRGB(x, y);
        for (int c = 0; c < channels; c++) {
          v[(c * h + y) * w + x] = ((rgb >> (16 - 8 * c)) & 0xff) / 255f;
        }
      }
    }
    return Tensor.ofFloats(new long[] {1, channels, h, w}, v);
  }

  /**
   * An 8-bit RGB image from [1, 3, H, W] in [0, 1] (values outside are clamped; NaN is rejected).
   *
   * @param t the image, [1, 3, H, W] in [0, 1]
   * @return a new 8-bit RGB image
   * @throws IllegalArgumentException for another shape or a NaN value
   */
  public static BufferedImage toImage(Tensor t) {
    long[] s = t.shape();
    if (s.length != 4 || s[0] != 1 || s[1] != 3) {
      throw new IllegalArgumentException("image tensor must be [1,3,H,W], got " + java.util.Arrays.toString(s));
    }
    int h = (int) s[2];
    int w = (int) s[3];
    double[] v = t.toDoubles();
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int rgb = 0;
        for (int c = 0; c < 3; c++) {
          double p = v[(c * h + y) * w + x];
          if (Double.isNaN(p)) {
            throw new IllegalArgumentException("image has NaN at channel " + c + ", pixel (" + x + ", " + y + ")");
          }
          rgb = (rgb << 8) | (int) Math.round(Math.min(1, Math.max(0, p)) * 255);
        }
        img.setRGB(x, y, rgb);
      }
    }
    return img;
  }

  /**
   * Writes a PNG with tEXt chunks (e.g. the run manifest), atomically (temporary file, then rename),
   * so a reader never sees a half-written image.
   *
   * @param image the image, [1, 3, H, W] in [0, 1]
   * @param path the PNG file to write; replaced if present
   * @param text tEXt keyword to value (Latin-1), written in iteration order
   * @throws IllegalArgumentException for an image of another shape or with a NaN value
   * @throws java.io.UncheckedIOException when the file cannot be written
   */
  public static void writePng(Tensor image, Path path, Map<String, String> text) {
    BufferedImage img = toImage(image);
    ImageWriter writer = ImageIO.getImageWritersByFormatName("png").next();
    Path abs = path.toAbsolutePath();
    try {
      Files.createDirectories(abs.getParent());
      Path tmp = Files.createTempFile(abs.getParent(), abs.getFileName().toString(), ".tmp");
      try {
        ImageWriteParam param = writer.getDefaultWriteParam();
        IIOMetadata meta = writer.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(img), param);
        if (!text.isEmpty()) {
          IIOMetadataNode textNode = new IIOMetadataNode("tEXt");
          for (Map.Entry<String, String> e : text.entrySet()) {
            IIOMetadataNode entry = new IIOMetadataNode("tEXtEntry");
            entry.setAttribute("keyword", e.getKey());
            entry.setAttribute("value", e.getValue());
            textNode.appendChild(entry);
          }
          IIOMetadataNode root = new IIOMetadataNode("javax_imageio_png_1.0");
          root.appendChild(textNode);
          meta.mergeTree("javax_imageio_png_1.0", root);
        }
        try (OutputStream os = ai.vqclip.core.FaultPoints.partial("png.partial", Files.newOutputStream(tmp));
            ImageOutputStream ios = ImageIO.createImageOutputStream(os)) {
          writer.setOutput(ios);
          writer.write(null, new IIOImage(img, null, meta), param);
        }
        makeReadable(tmp);
        ai.vqclip.core.FaultPoints.reach("png.written");
        Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } finally {
        Files.deleteIfExists(tmp);
      }
    } catch (IOException e) {
      // ImageIO wraps the file system's error ("I/O error writing PNG file!"): name the cause too.
      String why = e.getMessage();
      for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
        if (c.getMessage() != null && (why == null || !why.contains(c.getMessage()))) {
          why = why == null ? c.getMessage() : why + " (" + c.getMessage() + ")";
        }
      }
      throw new java.io.UncheckedIOException("cannot write PNG " + path + ": " + why, e);
    } finally {
      writer.dispose();
    }
  }

  /**
   * The tEXt entries of a PNG (keyword to value, Latin-1), in file order. The file's chunks are
   * walked by their headers: other chunks (pixels, zTXt, iTXt) are skipped unread, so nothing is
   * inflated, and the tEXt chunks together may hold at most {@link #MAX_PNG_TEXT_BYTES}.
   *
   * @param path a PNG file
   * @return keyword to value, in file order
   * @throws ModelLoadException when the file is missing, not a PNG, truncated, or its text is over the limit
   */
  public static Map<String, String> readPngText(Path path) {
    Map<String, String> out = new java.util.LinkedHashMap<>();
    try (java.nio.channels.SeekableByteChannel ch = Files.newByteChannel(path)) {
      java.io.DataInputStream in = new java.io.DataInputStream(new java.io.BufferedInputStream(java.nio.channels.Channels.newInputStream(ch)));
      byte[] sig = new byte[8];
      in.readFully(sig);
      if (!java.util.Arrays.equals(sig, new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'})) {
        throw new ModelLoadException(path + " is not a PNG file (no PNG signature)");
      }
      long textBytes = 0;
      while (true) {
        long length = in.readInt() & 0xffffffffL;
        byte[] type = new byte[4];
        in.readFully(type);
        String name = new String(type, java.nio.charset.StandardCharsets.ISO_8859_1);
        if (length > Integer.MAX_VALUE) {
          throw new ModelLoadException(path + ": PNG chunk " + name + " declares " + length + " bytes; the PNG format allows at most 2^31-1");
        }
        if (name.equals("tEXt")) {
          textBytes += length;
          if (textBytes > MAX_PNG_TEXT_BYTES) {
            throw new ModelLoadException(path + " has more than " + MAX_PNG_TEXT_BYTES + " bytes of PNG text (tEXt chunks); that is the limit read");
          }
          byte[] data = new byte[(int) length];
          in.readFully(data);
          int zero = 0;
          while (zero < data.length && data[zero] != 0) {
            zero++;
          }
          if (zero == 0 || zero == data.length) {
            throw new ModelLoadException(path + ": a tEXt chunk has no keyword or no separator");
          }
          out.put(new String(data, 0, zero, java.nio.charset.StandardCharsets.ISO_8859_1),
              new String(data, zero + 1, data.length - zero - 1, java.nio.charset.StandardCharsets.ISO_8859_1));
        } else {
          skipFully(in, length);
        }
        in.readInt(); // CRC: ImageIO checks it when the pixels are read; text is taken as stored.
        if (name.equals("IEND")) {
          return out;
        }
      }
    } catch (java.io.EOFException e) {
      throw new ModelLoadException("PNG " + path + " is truncated (no IEND chunk)", e);
    } catch (IOException e) {
      throw new ModelLoadException("cannot read PNG metadata of " + path + ": " + e.getMessage(), e);
    }
  }

  private static void skipFully(java.io.DataInputStream in, long n) throws IOException {
    while (n > 0) {
      long k = in.skip(n);
      if (k <= 0) {
        if (in.read() < 0) {
          throw new java.io.EOFException();
        }
        k = 1;
      }
      n -= k;
    }
  }

  /**
   * Gives a file the usual 0644 permissions where the file system is POSIX (temp files start as
   * 0600).
   *
   * @param p the file; left as it is where permissions cannot be set
   */
  public static void makeReadable(Path p) {
    try {
      java.nio.file.Files.setPosixFilePermissions(p, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
    } catch (UnsupportedOperationException | java.io.IOException e) {
      // not a POSIX file system, or not ours to change: keep what the system gave
    }
  }
}
