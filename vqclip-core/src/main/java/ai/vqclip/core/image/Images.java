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
 * Files are untrusted: their declared size is checked before any pixel is decoded.
 */
public final class Images {
  /** Largest side accepted when reading. */
  public static final int MAX_SIDE = 16384;

  /** Largest pixel count accepted when reading. */
  public static final long MAX_PIXELS = 64L << 20;

  private Images() {}

  /** Reads an image at its own size as [1, 3, H, W] (alpha is dropped). */
  public static Tensor read(Path path) {
    return toTensor(decode(path), 3);
  }

  /** Reads an image and resizes it to {@code width} x {@code height} (area averaging down, bicubic up). */
  public static Tensor read(Path path, int width, int height) {
    return toTensor(resize(decode(path), width, height), 3);
  }

  /**
   * Reads a mask as [1, 1, H, W] at {@code width} x {@code height}: the alpha channel when the image
   * has one, else the luminance; 1 marks the editable region.
   */
  public static Tensor readMask(Path path, int width, int height) {
    BufferedImage img = decode(path);
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

  private static BufferedImage decode(Path path) {
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
        return reader.read(0);
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

  /** Resizes with area averaging when shrinking and bicubic interpolation when enlarging. */
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

  /** A tensor [1, 3, H, W] (or [1, 1, H, W] for gray) in [0, 1] from an image. */
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
        try (OutputStream os = Files.newOutputStream(tmp); ImageOutputStream ios = ImageIO.createImageOutputStream(os)) {
          writer.setOutput(ios);
          writer.write(null, new IIOImage(img, null, meta), param);
        }
        makeReadable(tmp);
        Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } finally {
        Files.deleteIfExists(tmp);
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot write PNG " + path + ": " + e.getMessage(), e);
    } finally {
      writer.dispose();
    }
  }

  /** The tEXt entries of a PNG. */
  public static Map<String, String> readPngText(Path path) {
    Map<String, String> out = new java.util.LinkedHashMap<>();
    try (ImageInputStream in = ImageIO.createImageInputStream(path.toFile())) {
      ImageReader reader = ImageIO.getImageReadersByFormatName("png").next();
      try {
        reader.setInput(in, true, false);
        IIOMetadata meta = reader.getImageMetadata(0);
        org.w3c.dom.Node root = meta.getAsTree("javax_imageio_png_1.0");
        for (org.w3c.dom.Node n = root.getFirstChild(); n != null; n = n.getNextSibling()) {
          if (n.getNodeName().equals("tEXt")) {
            for (org.w3c.dom.Node e = n.getFirstChild(); e != null; e = e.getNextSibling()) {
              org.w3c.dom.NamedNodeMap a = e.getAttributes();
              out.put(a.getNamedItem("keyword").getNodeValue(), a.getNamedItem("value").getNodeValue());
            }
          }
        }
      } finally {
        reader.dispose();
      }
    } catch (IOException e) {
      throw new ModelLoadException("cannot read PNG metadata of " + path + ": " + e.getMessage(), e);
    }
    return out;
  }

  /** Gives a file the usual 0644 permissions where the file system is POSIX (temp files start as 0600). */
  public static void makeReadable(Path p) {
    try {
      java.nio.file.Files.setPosixFilePermissions(p, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
    } catch (UnsupportedOperationException | java.io.IOException e) {
      // not a POSIX file system, or not ours to change: keep what the system gave
    }
  }
}
