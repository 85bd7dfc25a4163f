package ai.vqclip.studio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.function.BooleanSupplier;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.interactions.Actions;

/**
 * The studio in a real browser (headless Chromium driven by Selenium), with the demo models:
 * start a run, see the preview change, pause, paint a stroke, resume, and find the stroke's
 * influence in the final PNG; two browser sessions at once. Screenshots of each state go to
 * {@code target/studio-screenshots/} and are checked to be non-blank; the latency from a step to
 * its preview on the page goes to {@code target/studio-latency.txt}.
 */
class StudioBrowserTest {
  /** Longest wait for a state: generous, as CI machines may be slow and busy. */
  static final long WAIT_MS = 300_000;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path SHOTS = Path.of("target", "studio-screenshots");

  @TempDir static Path tmp;
  static StudioModels models;
  static Studio studio;
  static String base;

  @BeforeAll
  static void start() {
    models = SharedModels.get();
    studio = Studio.start(StudioConfig.defaults(tmp.resolve("data")).withPort(0).withMaxConcurrent(2), models.models());
    base = "http://127.0.0.1:" + studio.port() + "/";
  }

  @AfterAll
  static void stop() {
    if (studio != null) {
      studio.close();
    }
  }

  @Test
  void startPreviewPausePaintResume() throws Exception {
    ChromeDriver d = Browser.open(tmp.resolve("profile-paint"));
    try {
      d.get(base);
      waitFor("the model list", () -> !d.findElements(By.cssSelector("#model option")).isEmpty());
      setPrompt(d, "#prompt-rows", "a red circle on a blue background");
      set(d, "iterations", "1000");
      set(d, "seed", "3");
      set(d, "preview-every", "2");
      d.findElement(By.id("start")).click();

      waitFor("a first preview", () -> previews(d) >= 1);
      String first = canvas(d);
      long firstIteration = number(d, "return window.studio.lastPreviewIteration");
      waitFor("three more previews", () -> previews(d) >= 4);
      Browser.screenshot(d, SHOTS.resolve("1-running.png"));
      assertNotEquals(first, canvas(d), "the preview must change as the run goes on");
      assertTrue(number(d, "return window.studio.lastPreviewIteration") > firstIteration);

      d.findElement(By.id("pause")).click();
      waitFor("the paused state", () -> "paused".equals(d.findElement(By.tagName("body")).getAttribute("data-state")));
      String id = (String) d.executeScript("return window.studio.runId");
      BufferedImage paused = png(Http.get(studio.port(), "/api/runs/" + id + "/image.png").body());
      Browser.screenshot(d, SHOTS.resolve("2-paused.png"));
      assertEquals(paused.getWidth(), 32);

      // A yellow stroke, 4 pixels wide, across the middle row, drawn with the mouse (the stage shows 32 pixels as 384).
      d.executeScript("document.getElementById('colour').value = '#ffff00'; document.getElementById('brush').value = '4';");
      WebElement stage = d.findElement(By.id("mask-layer"));
      new Actions(d).moveToElement(stage, -114, 6).clickAndHold().moveByOffset(60, 0).moveByOffset(60, 0).moveByOffset(60, 0)
          .moveByOffset(48, 0).release().perform();
      long yellow = number(d, "const p = document.getElementById('image').getContext('2d').getImageData(16, 16, 1, 1).data;"
          + "return p[0] * 65536 + p[1] * 256 + p[2];");
      assertEquals(0xffff00, yellow, "the stroke must be on the picture canvas");
      Browser.screenshot(d, SHOTS.resolve("3-painted.png"));

      set(d, "more", "12");
      d.findElement(By.id("resume")).click();
      waitFor("the resumed run to finish", () -> "finished".equals(d.findElement(By.tagName("body")).getAttribute("data-state")));
      Browser.screenshot(d, SHOTS.resolve("4-finished.png"));
      BufferedImage last = png(Http.get(studio.port(), "/api/runs/" + id + "/image.png").body());

      // The stroke's band (rows 15 to 17, columns 8 to 23) against the rest: the final picture is much nearer to yellow there than
      // the paused one was, and the rest did not move toward yellow by anything alike.
      double bandBefore = yellowDistance(paused, true);
      double bandAfter = yellowDistance(last, true);
      double restBefore = yellowDistance(paused, false);
      double restAfter = yellowDistance(last, false);
      String figures = String.format(Locale.ROOT, "distance to yellow (0..441): band %.1f -> %.1f, rest %.1f -> %.1f", bandBefore, bandAfter,
          restBefore, restAfter);
      System.out.println("stroke influence: " + figures);
      // Measured: 291 -> 152-156 with the second-stage demo CLIP, 331 -> 208 with the third (which pulls harder towards the
      // prompt's colours in 12 iterations); the rest moved by 30 and 12. Since the demo starts from its caption sketch (issue 15,
      // round 12) the paused picture is a clean red disc on blue and the run is pulled towards its start, which after a painting
      // is the painting (Checkpoint.withEditedLatent): 230 -> 170-178, the rest unmoved; with the pull towards the sketch
      // instead, the stroke was undone (230 -> 218), which this bound refuses.
      assertTrue(bandAfter < 0.85 * bandBefore, "the final PNG must keep the stroke: " + figures);
      assertTrue(bandBefore - bandAfter > 3 * Math.abs(restBefore - restAfter), "the change must be the stroke's: " + figures);

      // The gallery shows the finished run with its manifest, and its downloads are there.
      waitFor("the gallery entry", () -> !d.findElements(By.cssSelector(".gallery-item[data-id='" + id + "']")).isEmpty());
      JsonNode manifest = JSON.readTree(Http.get(studio.port(), "/api/runs/" + id + "/manifest.json").body());
      assertEquals(3, manifest.get("seed").asInt(), manifest.toString());
      for (String f : List.of("run.ckpt", "animation.gif")) {
        Http.Response r = Http.get(studio.port(), "/api/runs/" + id + "/" + f);
        assertEquals(200, r.status(), f);
        assertTrue(r.body().length > 100, f + " is too small");
      }
      assertTrue(png(Http.get(studio.port(), "/api/runs/" + id + "/animation.gif").body()).getWidth() == 32);

      reportLatency(d);
    } finally {
      d.quit();
    }
  }

  @Test
  void twoSessionsAtOnce() throws Exception {
    ChromeDriver a = Browser.open(tmp.resolve("profile-a"));
    ChromeDriver b = Browser.open(tmp.resolve("profile-b"));
    try {
      String[][] runs = {{"a red circle on a blue background", "1"}, {"a green square on a yellow background", "2"}};
      ChromeDriver[] tabs = {a, b};
      for (int i = 0; i < 2; i++) {
        ChromeDriver d = tabs[i];
        d.get(base);
        waitFor("the model list", () -> !d.findElements(By.cssSelector("#model option")).isEmpty());
        setPrompt(d, "#prompt-rows", runs[i][0]);
        set(d, "iterations", "24");
        set(d, "seed", runs[i][1]);
        set(d, "preview-every", "3");
      }
      a.findElement(By.id("start")).click();
      b.findElement(By.id("start")).click();
      boolean[] together = {false};
      waitFor("both runs to finish", () -> {
        String sa = a.findElement(By.tagName("body")).getAttribute("data-state");
        String sb = b.findElement(By.tagName("body")).getAttribute("data-state");
        together[0] |= "running".equals(sa) && "running".equals(sb);
        return "finished".equals(sa) && "finished".equals(sb);
      });
      assertTrue(together[0], "the two sessions' runs must have run at the same time (seen running together)");
      Browser.screenshot(a, SHOTS.resolve("5-session-a.png"));
      Browser.screenshot(b, SHOTS.resolve("6-session-b.png"));
      String ida = (String) a.executeScript("return window.studio.runId");
      String idb = (String) b.executeScript("return window.studio.runId");
      assertNotEquals(ida, idb);
      assertTrue(previews(a) >= 2 && previews(b) >= 2, "each session sees its own previews");
      // Each run is its own: its own prompt and seed in its manifest, its own picture.
      for (int i = 0; i < 2; i++) {
        JsonNode m = JSON.readTree(Http.get(studio.port(), "/api/runs/" + (i == 0 ? ida : idb) + "/manifest.json").body());
        assertTrue(m.toString().contains(runs[i][0]), m.toString());
        assertEquals(Integer.parseInt(runs[i][1]), m.get("seed").asInt());
      }
      BufferedImage pa = png(Http.get(studio.port(), "/api/runs/" + ida + "/image.png").body());
      BufferedImage pb = png(Http.get(studio.port(), "/api/runs/" + idb + "/image.png").body());
      assertTrue(yellowDistanceAll(pa) != yellowDistanceAll(pb), "two different runs made the same picture");
      // Both appear in each session's gallery.
      a.navigate().refresh();
      waitFor("both runs in the gallery", () -> a.findElements(By.cssSelector(".gallery-item[data-id='" + ida + "'], .gallery-item[data-id='"
          + idb + "']")).size() == 2);
    } finally {
      a.quit();
      b.quit();
    }
  }

  // ------------------------------------------------------------------ helpers

  private static void reportLatency(ChromeDriver d) throws Exception {
    @SuppressWarnings("unchecked")
    List<Object> raw = (List<Object>) d.executeScript("return window.studio.latencies");
    List<Long> ms = new ArrayList<>();
    for (Object o : raw) {
      ms.add(((Number) o).longValue());
    }
    Collections.sort(ms);
    assertTrue(ms.size() >= 4, "previews measured: " + ms.size());
    String line = String.format(Locale.ROOT, "step -> preview drawn on the page: %d previews, median %d ms, p90 %d ms, max %d ms%n", ms.size(),
        ms.get(ms.size() / 2), ms.get((int) Math.min(ms.size() - 1, Math.round(ms.size() * 0.9))), ms.get(ms.size() - 1));
    System.out.print(line);
    Files.writeString(Path.of("target", "studio-latency.txt"), line);
  }

  /** Mean RGB distance to pure yellow over the stroke's band, or over the pixels at least 3 rows away from it. */
  private static double yellowDistance(BufferedImage img, boolean band) {
    double sum = 0;
    int n = 0;
    for (int y = 0; y < img.getHeight(); y++) {
      for (int x = 0; x < img.getWidth(); x++) {
        boolean in = y >= 15 && y <= 17 && x >= 8 && x <= 23;
        boolean away = y <= 12 || y >= 20;
        if (band ? in : away) {
          sum += yellowDistance(img.getRGB(x, y));
          n++;
        }
      }
    }
    return sum / n;
  }

  private static double yellowDistanceAll(BufferedImage img) {
    double sum = 0;
    for (int y = 0; y < img.getHeight(); y++) {
      for (int x = 0; x < img.getWidth(); x++) {
        sum += yellowDistance(img.getRGB(x, y));
      }
    }
    return sum;
  }

  private static double yellowDistance(int rgb) {
    int r = (rgb >> 16) & 255;
    int g = (rgb >> 8) & 255;
    int b = rgb & 255;
    return Math.sqrt((255 - r) * (255 - r) + (255 - g) * (255 - g) + b * b);
  }

  private static BufferedImage png(byte[] bytes) throws Exception {
    BufferedImage img = ImageIO.read(new ByteArrayInputStream(bytes));
    assertTrue(img != null, "not an image: " + bytes.length + " bytes");
    return img;
  }

  private static void setPrompt(ChromeDriver d, String rows, String text) {
    WebElement t = d.findElement(By.cssSelector(rows + " .prompt-text"));
    t.clear();
    t.sendKeys(text);
  }

  private static void set(ChromeDriver d, String id, String value) {
    WebElement e = d.findElement(By.id(id));
    e.clear();
    e.sendKeys(value);
  }

  private static long previews(ChromeDriver d) {
    return number(d, "return window.studio.previews");
  }

  private static long number(ChromeDriver d, String script) {
    return ((Number) d.executeScript(script)).longValue();
  }

  private static String canvas(ChromeDriver d) {
    return (String) d.executeScript("return document.getElementById('image').toDataURL()");
  }

  static void waitFor(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.currentTimeMillis() + WAIT_MS;
    while (!condition.getAsBoolean()) {
      if (System.currentTimeMillis() > deadline) {
        throw new AssertionError("waited " + Duration.ofMillis(WAIT_MS).toSeconds() + " s for " + what);
      }
      Thread.sleep(50);
    }
  }
}
