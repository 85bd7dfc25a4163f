package ai.vqclip.cli;

import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import javax.imageio.ImageIO;

/**
 * A contact sheet: pictures in a grid, each scaled to a common cell size (small pictures are
 * enlarged by whole pixels, so a 32x32 picture stays crisp) with its caption underneath. Public
 * for vqclip-spark's per-prompt sheets.
 */
public final class ContactSheet {
  /** Longest side of a cell's picture in pixels. */
  static final int CELL = 192;

  /** Most cells in one sheet (a 100x100 grid of 192 px cells is already about 400 MB of pixels). */
  public static final int MAX_CELLS = 2_500;

  private static final int PAD = 8;
  private static final int CAPTION_LINES = 3;
  private static final Color PAPER = new Color(250, 250, 250);
  private static final Color INK = new Color(30, 30, 30);

  private ContactSheet() {}

  /**
   * One picture and its caption.
   *
   * @param image the picture, or null when it could not be read (the cell says "missing")
   * @param caption the text under it
   */
  public record Cell(BufferedImage image, String caption) {
    /**
     * Validates.
     *
     * @param image the picture, or null
     * @param caption the text under it
     */
    public Cell {
      Objects.requireNonNull(caption, "caption");
    }
  }

  /**
   * The sheet of {@code cells}, row by row, {@code columns} per row.
   *
   * @throws IllegalArgumentException for no cells, too many, or columns outside [1, cells]
   */
  public static BufferedImage compose(List<Cell> cells, int columns) {
    if (cells.isEmpty() || cells.size() > MAX_CELLS) {
      throw new IllegalArgumentException("a contact sheet holds 1 to " + MAX_CELLS + " pictures, got " + cells.size());
    }
    if (columns < 1 || columns > cells.size()) {
      throw new IllegalArgumentException("columns must be in [1, " + cells.size() + "], got " + columns);
    }
    int rows = (cells.size() + columns - 1) / columns;
    Font font = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
    BufferedImage probe = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
    Graphics2D pg = probe.createGraphics();
    FontMetrics fm = pg.getFontMetrics(font);
    pg.dispose();
    int lineH = fm.getHeight();
    int cellW = CELL + 2 * PAD;
    int cellH = CELL + PAD + CAPTION_LINES * lineH + PAD;
    BufferedImage sheet = new BufferedImage(columns * cellW, rows * cellH, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = sheet.createGraphics();
    try {
      g.setColor(PAPER);
      g.fillRect(0, 0, sheet.getWidth(), sheet.getHeight());
      g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
      g.setFont(font);
      for (int k = 0; k < cells.size(); k++) {
        Cell c = cells.get(k);
        int x0 = (k % columns) * cellW + PAD;
        int y0 = (k / columns) * cellH + PAD;
        List<String> caption = new ArrayList<>(wrap(c.caption(), fm, CELL));
        if (c.image() != null) {
          BufferedImage im = c.image();
          int side = Math.max(im.getWidth(), im.getHeight());
          // Whole-pixel enlargement (nearest neighbour) keeps small pictures crisp; large ones are reduced smoothly.
          double scale = side <= CELL ? Math.floor(CELL / (double) side) : CELL / (double) side;
          int w = (int) Math.round(im.getWidth() * scale);
          int h = (int) Math.round(im.getHeight() * scale);
          g.setRenderingHint(RenderingHints.KEY_INTERPOLATION,
              scale >= 1 ? RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR : RenderingHints.VALUE_INTERPOLATION_BILINEAR);
          g.drawImage(im, x0 + (CELL - w) / 2, y0 + (CELL - h) / 2, w, h, null);
        } else {
          g.setColor(INK);
          g.drawRect(x0, y0, CELL - 1, CELL - 1);
          g.drawString("missing", x0 + PAD, y0 + CELL / 2);
        }
        g.setColor(INK);
        for (int l = 0; l < Math.min(CAPTION_LINES, caption.size()); l++) {
          g.drawString(caption.get(l), x0, y0 + CELL + PAD / 2 + fm.getAscent() + l * lineH);
        }
      }
    } finally {
      g.dispose();
    }
    return sheet;
  }

  /** The caption in lines of at most {@code width} pixels (a last line that does not fit ends in "..."). */
  static List<String> wrap(String text, FontMetrics fm, int width) {
    List<String> lines = new ArrayList<>();
    StringBuilder line = new StringBuilder();
    for (String word : text.strip().split("\\s+")) {
      String next = line.length() == 0 ? word : line + " " + word;
      if (fm.stringWidth(next) <= width || line.length() == 0) {
        line.setLength(0);
        line.append(next);
      } else {
        lines.add(line.toString());
        line.setLength(0);
        line.append(word);
      }
    }
    if (line.length() > 0) {
      lines.add(line.toString());
    }
    if (lines.size() > CAPTION_LINES) {
      List<String> cut = new ArrayList<>(lines.subList(0, CAPTION_LINES));
      String last = cut.get(CAPTION_LINES - 1);
      while (!last.isEmpty() && fm.stringWidth(last + "...") > width) {
        last = last.substring(0, last.length() - 1);
      }
      cut.set(CAPTION_LINES - 1, last + "...");
      return cut;
    }
    for (int i = 0; i < lines.size(); i++) {
      String l = lines.get(i);
      while (l.length() > 1 && fm.stringWidth(l) > width) {
        l = l.substring(0, l.length() - 1);
      }
      lines.set(i, l);
    }
    return lines;
  }

  /** Reads a PNG for a cell, or null when it is missing or unreadable (a failed run). */
  static BufferedImage readOrNull(Path file) {
    try {
      return Files.isRegularFile(file) ? ImageIO.read(file.toFile()) : null;
    } catch (IOException e) {
      return null;
    }
  }

  /** Writes a sheet as PNG. */
  static void write(BufferedImage sheet, Path file) {
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      if (!ImageIO.write(sheet, "png", file.toFile())) {
        throw new UsageException("--contact-sheet " + file + ": no PNG writer");
      }
    } catch (IOException e) {
      throw new UsageException("--contact-sheet " + file + ": cannot write: " + e.getMessage(), e);
    }
  }
}
