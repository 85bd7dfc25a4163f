package ai.vqclip.core.image;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageOutputStream;

/**
 * An animated GIF written frame by frame with the JDK's GIF writer (no ffmpeg): each frame is
 * quantized to its own palette, shown for a fixed delay, and the animation loops forever. The file
 * appears only when {@link #close()} completes. Shared by the command line's {@code video} and the
 * studio's run animations.
 */
public final class GifSequence implements AutoCloseable {
  private static final String FORMAT = "javax_imageio_gif_image_1.0";

  private final Path target;
  private final Path tmp;
  private final ImageWriter writer;
  private final ImageOutputStream stream;
  private final int delayCentis;
  private int frames;

  /**
   * Opens a temporary file beside {@code target} for the frames.
   *
   * @param target the GIF file
   * @param fps frames per second, in [1, 100]
   * @throws UncheckedIOException when the file cannot be created
   * @throws IllegalArgumentException for fps out of range
   */
  public GifSequence(Path target, int fps) {
    if (fps < 1 || fps > 100) {
      throw new IllegalArgumentException("fps must be in [1, 100], got " + fps);
    }
    this.target = target.toAbsolutePath();
    this.delayCentis = Math.max(1, Math.round(100f / fps));
    this.writer = ImageIO.getImageWritersByFormatName("gif").next();
    try {
      Files.createDirectories(this.target.getParent());
      this.tmp = Files.createTempFile(this.target.getParent(), this.target.getFileName().toString(), ".tmp");
      this.stream = ImageIO.createImageOutputStream(tmp.toFile());
      writer.setOutput(stream);
      writer.prepareWriteSequence(null);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write GIF " + target + ": " + e.getMessage(), e);
    }
  }

  /**
   * Appends a frame.
   *
   * @param image the frame
   * @throws UncheckedIOException when it cannot be written
   */
  public void add(BufferedImage image) {
    try {
      ImageWriteParam param = writer.getDefaultWriteParam();
      IIOMetadata meta = writer.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(image), param);
      IIOMetadataNode root = (IIOMetadataNode) meta.getAsTree(FORMAT);
      IIOMetadataNode gce = child(root, "GraphicControlExtension");
      gce.setAttribute("disposalMethod", "none");
      gce.setAttribute("userInputFlag", "FALSE");
      gce.setAttribute("transparentColorFlag", "FALSE");
      gce.setAttribute("delayTime", Integer.toString(delayCentis));
      gce.setAttribute("transparentColorIndex", "0");
      if (frames == 0) {
        // The NETSCAPE2.0 extension with a loop count of 0: repeat forever.
        IIOMetadataNode app = new IIOMetadataNode("ApplicationExtension");
        app.setAttribute("applicationID", "NETSCAPE");
        app.setAttribute("authenticationCode", "2.0");
        app.setUserObject(new byte[] {1, 0, 0});
        child(root, "ApplicationExtensions").appendChild(app);
      }
      meta.setFromTree(FORMAT, root);
      writer.writeToSequence(new IIOImage(image, null, meta), param);
      frames++;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write GIF frame " + frames + " to " + target + ": " + e.getMessage(), e);
    }
  }

  /**
   * Frames written so far.
   *
   * @return the count
   */
  public int frames() {
    return frames;
  }

  private static IIOMetadataNode child(IIOMetadataNode root, String name) {
    for (int i = 0; i < root.getLength(); i++) {
      if (root.item(i).getNodeName().equalsIgnoreCase(name)) {
        return (IIOMetadataNode) root.item(i);
      }
    }
    IIOMetadataNode n = new IIOMetadataNode(name);
    root.appendChild(n);
    return n;
  }

  /**
   * Finishes the file and moves it into place (nothing appears without frames).
   *
   * @throws UncheckedIOException when it cannot be finished
   */
  @Override
  public void close() {
    try {
      if (frames > 0) {
        writer.endWriteSequence();
      }
      stream.close();
      if (frames > 0) {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Images.makeReadable(target);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot finish GIF " + target + ": " + e.getMessage(), e);
    } finally {
      writer.dispose();
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException ignored) {
        // a leftover temporary file is harmless
      }
    }
  }
}
