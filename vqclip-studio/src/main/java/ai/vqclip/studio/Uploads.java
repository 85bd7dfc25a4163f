package ai.vqclip.studio;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Base64;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Decodes images the page uploads (PNG data URLs from its canvases) without trusting them: the
 * pixel count declared in the header is checked before any pixel is decoded, so a small file that
 * declares a huge picture gets a 413, never an out-of-memory error.
 */
final class Uploads {
  private static final String PREFIX = "data:image/png;base64,";

  private Uploads() {}

  /**
   * Decodes a PNG data URL.
   *
   * @param field the JSON field it came in (named in messages)
   * @param dataUrl {@code data:image/png;base64,...}
   * @param maxPixels the most pixels the header may declare
   * @return the image
   * @throws StudioException 400 for something that is not a PNG data URL, 413 for too many pixels
   */
  static BufferedImage png(String field, String dataUrl, long maxPixels) {
    if (!dataUrl.startsWith(PREFIX)) {
      throw StudioException.badRequest(field + ": expected a PNG data URL (data:image/png;base64,...), got '" + abbreviate(dataUrl) + "'");
    }
    byte[] bytes;
    try {
      bytes = Base64.getDecoder().decode(dataUrl.substring(PREFIX.length()));
    } catch (IllegalArgumentException e) {
      throw StudioException.badRequest(field + ": the data URL is not valid base64: " + e.getMessage());
    }
    try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
      Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName("png");
      ImageReader reader = readers.next();
      try {
        reader.setInput(in, true, true);
        long w = reader.getWidth(0);
        long h = reader.getHeight(0);
        if (w * h > maxPixels) {
          throw StudioException.tooLarge(field + ": the image declares " + w + "x" + h + " = " + w * h + " pixels; at most " + maxPixels
              + " are accepted");
        }
        return reader.read(0);
      } finally {
        reader.dispose();
      }
    } catch (IOException e) {
      throw StudioException.badRequest(field + ": not a PNG image ImageIO can read: " + e.getMessage());
    }
  }

  private static String abbreviate(String s) {
    return s.length() <= 40 ? s : s.substring(0, 40) + "...";
  }
}
