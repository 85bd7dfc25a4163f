package ai.vqclip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/** {@code vqclip generate --contact-sheet}: the batch's pictures in one captioned grid. */
class ContactSheetTest extends WithTinyModelFiles {

  @Test
  void generateWritesAGridWithARowPerPromptAndAColumnPerSeed() throws Exception {
    Path out = dir.resolve("runs");
    Path sheet = dir.resolve("sheets/sheet.png");
    Cli.Run r = Cli.run(files.args("generate", "-p", "a red circle", "-p", "a cat", "--seeds", "1-3", "-i", "2", "-o", out.toString(),
        "--contact-sheet", sheet.toString()));
    assertEquals(0, r.exit(), r.toString());
    assertTrue(Files.isRegularFile(sheet), r.toString());
    BufferedImage s = ImageIO.read(sheet.toFile());
    int cellW = ContactSheet.CELL + 16;
    assertEquals(3 * cellW, s.getWidth());
    assertEquals(0, s.getHeight() % 2);
    // Each cell shows its run's picture enlarged by whole pixels: the top-left pixel of run (prompt 2, seed 3)
    // fills a block of the sheet.
    BufferedImage pic = ImageIO.read(out.resolve("a-cat-3.png").toFile());
    int scale = ContactSheet.CELL / Math.max(pic.getWidth(), pic.getHeight());
    assertTrue(scale >= 1);
    int x0 = 2 * cellW + 8 + (ContactSheet.CELL - pic.getWidth() * scale) / 2;
    int y0 = s.getHeight() / 2 + 8 + (ContactSheet.CELL - pic.getHeight() * scale) / 2;
    for (int dy = 0; dy < scale; dy++) {
      for (int dx = 0; dx < scale; dx++) {
        assertEquals(pic.getRGB(0, 0) & 0xFFFFFF, s.getRGB(x0 + dx, y0 + dy) & 0xFFFFFF, "pixel " + dx + "," + dy);
      }
    }
    // The caption area under a cell has ink (text), the paper elsewhere is plain.
    boolean ink = false;
    for (int y = 8 + ContactSheet.CELL + 2; y < s.getHeight() / 2 - 4; y++) {
      for (int x = 8; x < cellW - 8; x++) {
        ink |= (s.getRGB(x, y) & 0xFF) < 128;
      }
    }
    assertTrue(ink, "no caption text under the first cell");
  }

  @Test
  void oneRunOrBadLayoutIsRefused() {
    Cli.Run r = Cli.run(files.args("generate", "a cat", "-i", "1", "-o", dir.resolve("a.png").toString(), "--contact-sheet",
        dir.resolve("s.png").toString()));
    assertEquals(2, r.exit(), r.toString());
    assertTrue(r.err().contains("--contact-sheet"), r.err());
    BufferedImage one = new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB);
    assertThrows(IllegalArgumentException.class, () -> ContactSheet.compose(List.of(), 1));
    assertThrows(IllegalArgumentException.class, () -> ContactSheet.compose(List.of(new ContactSheet.Cell(one, "x")), 2));
    // A missing picture (a failed run) still gets its cell.
    BufferedImage s = ContactSheet.compose(List.of(new ContactSheet.Cell(one, "x"), new ContactSheet.Cell(null, "failed")), 2);
    assertEquals(2 * (ContactSheet.CELL + 16), s.getWidth());
  }

  @Test
  void longCaptionsWrapAndAreCut() {
    BufferedImage probe = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
    var fm = probe.createGraphics().getFontMetrics(new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.PLAIN, 12));
    List<String> lines = ContactSheet.wrap("word ".repeat(200), fm, 100);
    assertEquals(3, lines.size());
    assertTrue(lines.get(2).endsWith("..."));
    lines.forEach(l -> assertTrue(fm.stringWidth(l) <= 100, l));
  }
}
