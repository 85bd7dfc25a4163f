package ai.vqclip.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.image.Images;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.junit.jupiter.api.Test;

/** {@code vqclip edit} and {@code vqclip video} end to end on tiny model files. */
class EditAndVideoCommandTest extends WithTinyModelFiles {

  @Test
  void editKeepsTheImagesSizeRoundedToTheFactorAndHonoursTheMask() throws IOException {
    Path img = dir.resolve("photo.png");
    Images.writePng(GenerateCommandTest.gradient(35, 29), img, Map.of());
    Path mask = dir.resolve("mask.png");
    BufferedImage m = new BufferedImage(35, 29, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 29; y++) {
      for (int x = 18; x < 35; x++) {
        m.setRGB(x, y, 0xffffff); // right half editable
      }
    }
    ImageIO.write(m, "png", mask.toFile());
    Path out = dir.resolve("edited.png");
    Cli.Run r = Cli.run(files.args("edit", img.toString(), "a red circle", "--mask", mask.toString(), "-o", out.toString(), "-i", "4",
        "--seed", "1", "--manifest", dir.resolve("edit.json").toString()));
    assertEquals(0, r.exit(), r.toString());
    BufferedImage res = ImageIO.read(out.toFile());
    assertEquals(34, res.getWidth());
    assertEquals(28, res.getHeight());
    String request = Images.readPngText(out).get(Runner.MANIFEST_KEY);
    assertTrue(request.contains("init=FromImage") && request.contains("mask=true"), request);
    assertTrue(Files.readString(dir.resolve("edit.json")).contains("\"width\" : 34"));
  }

  @Test
  void fromToEditWithTheClipSelfMaskResumesLikeAnUninterruptedRun() throws IOException {
    Path img = dir.resolve("shapes.png");
    Images.writePng(GenerateCommandTest.gradient(32, 32), img, Map.of());
    Path whole = dir.resolve("whole.png");
    String[] common = {"--from", "a red circle", "--to", "a blue star", "--mask-samples", "16", "-i", "4", "--seed", "2"};
    Cli.Run r = Cli.run(files.args(concat(new String[] {"edit", img.toString(), "-o", whole.toString()}, common)));
    assertEquals(0, r.exit(), r.toString());
    com.fasterxml.jackson.databind.JsonNode settings = new com.fasterxml.jackson.databind.ObjectMapper()
        .readTree(Images.readPngText(whole).get(Runner.SETTINGS_KEY));
    assertEquals("a blue star", settings.get("edit").get("to").asText());
    assertEquals("a blue star", settings.get("prompts").asText(), "without PROMPTS the --to text is the prompt");

    Path part = dir.resolve("part.png");
    Cli.Run stopped = Cli.run(cl -> {
      EditCommand e = Cli.command(cl, "edit");
      e.listeners.add(ev -> {
        if (ev.iteration() == 1) {
          e.stop.request();
        }
        return true;
      });
    }, files.args(concat(new String[] {"edit", img.toString(), "-o", part.toString()}, common)));
    assertEquals(Runner.EXIT_INTERRUPTED, stopped.exit(), stopped.toString());
    Cli.Run resumed = Cli.run("resume", dir.resolve("part.ckpt").toString(), "-q");
    assertEquals(0, resumed.exit(), resumed.toString());
    assertEquals(Images.read(whole), Images.read(part));
  }

  static String[] concat(String[] a, String[] b) {
    return Stream.concat(java.util.Arrays.stream(a), java.util.Arrays.stream(b)).toArray(String[]::new);
  }

  static int gifFrames(Path gif) throws IOException {
    try (ImageInputStream in = ImageIO.createImageInputStream(gif.toFile())) {
      ImageReader reader = ImageIO.getImageReadersByFormatName("gif").next();
      try {
        reader.setInput(in);
        return reader.getNumImages(true);
      } finally {
        reader.dispose();
      }
    }
  }

  static long pngs(Path d) throws IOException {
    try (Stream<Path> s = Files.list(d)) {
      return s.filter(p -> p.toString().endsWith(".png")).count();
    }
  }

  @Test
  void plainVideoHasAFrameEveryNIterationsPlusTheLastAndAGif() throws IOException {
    Path out = dir.resolve("clip.png");
    Cli.Run r = Cli.run(files.args("video", "a red circle", "-o", out.toString(), "-i", "6", "--frame-every", "2", "--seed", "1"));
    assertEquals(0, r.exit(), r.toString());
    Path frames = dir.resolve("clip-frames");
    assertEquals(4, pngs(frames)); // iterations 0, 2, 4, then the final image
    assertTrue(Files.exists(frames.resolve("00003.png")));
    assertEquals(4, gifFrames(dir.resolve("clip.gif")));
    assertEquals(Images.read(out), Images.read(frames.resolve("00003.png")));
    assertTrue(Images.readPngText(out).containsKey(Runner.MANIFEST_KEY));
  }

  @Test
  void zoomVideoHasAFramePerZoomStepWhereverAsked() throws IOException {
    Path out = dir.resolve("zoom.png");
    Path frames = dir.resolve("zf");
    Path gif = dir.resolve("anim/zoom.gif");
    Cli.Run r = Cli.run(files.args("video", "a red circle", "-o", out.toString(), "-i", "7", "--zoom-every", "3", "--zoom-scale", "1.1",
        "--zoom-shift-x", "2", "--frames-dir", frames.toString(), "--gif", gif.toString(), "--fps", "5", "--seed", "1"));
    assertEquals(0, r.exit(), r.toString());
    assertEquals(3, pngs(frames)); // 3 + 3 + 1 steps
    assertEquals(3, gifFrames(gif));
    assertArrayEquals(new long[] {1, 3, 32, 32}, Images.read(frames.resolve("00002.png")).shape());
  }

  @Test
  void videoStopsOnTheSignalWithTheFramesSoFar() throws IOException {
    Path out = dir.resolve("stop.png");
    Cli.Run r = Cli.run(cl -> {
      VideoCommand v = Cli.command(cl, "video");
      v.listeners.add(e -> {
        if (e.iteration() == 2) {
          v.stop.request();
        }
        return true;
      });
    }, files.args("video", "a red circle", "-o", out.toString(), "-i", "20", "--frame-every", "2", "--seed", "1"));
    assertEquals(Runner.EXIT_INTERRUPTED, r.exit(), r.toString());
    assertEquals(3, pngs(dir.resolve("stop-frames"))); // iterations 0 and 2, then the image at the stop
    assertEquals(3, gifFrames(dir.resolve("stop.gif")));
  }

  @Test
  void zoomMagnifiesAboutTheCentreAndShiftsWithWrap() {
    float[] v = new float[3 * 4 * 4];
    for (int i = 0; i < v.length; i++) {
      v[i] = (i % 16) / 16f;
    }
    Tensor img = Tensor.ofFloats(new long[] {1, 3, 4, 4}, v);
    assertEquals(img, Zoom.apply(img, 1.0, 0, 0));
    float[] shifted = Zoom.apply(img, 1.0, 1, 0).toFloats();
    assertEquals(v[3], shifted[0]); // the last column wrapped to the first
    assertEquals(v[0], shifted[1]);
    float[] zoomed = Zoom.apply(img, 2.0, 0, 0).toFloats();
    // At 2x the corner pixel samples halfway between the centre and the corner: (0.75, 0.75).
    double expected = v[0] * 0.0625 + (v[1] + v[4]) * 0.1875 + v[5] * 0.5625;
    assertEquals(expected, zoomed[0], 1e-6);
  }
}
