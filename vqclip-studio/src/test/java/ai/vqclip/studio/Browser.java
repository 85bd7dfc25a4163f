package ai.vqclip.studio;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * Headless Chromium for the browser tests, from Debian's {@code chromium} and {@code
 * chromium-driver} packages ({@code .ci/run} installs them). Both paths are given to Selenium, so it
 * never looks for or downloads a browser or driver. Without them the tests fail with a message
 * naming the packages; {@code -Dvqclip.studio.skipBrowserTests=true} skips them instead.
 */
final class Browser {
  /** Set to true to skip the browser tests where Chromium is missing. */
  static final String SKIP = "vqclip.studio.skipBrowserTests";

  private Browser() {}

  static ChromeDriver open(Path profile) throws IOException {
    Path chromium = Path.of(System.getProperty("vqclip.studio.chromium", "/usr/bin/chromium"));
    Path driver = Path.of(System.getProperty("vqclip.studio.chromedriver", "/usr/bin/chromedriver"));
    if (!Files.isExecutable(chromium) || !Files.isExecutable(driver)) {
      String msg = "the studio's browser tests need headless Chromium: " + chromium + " and " + driver + " (Debian: apt-get install -y "
          + "chromium chromium-driver; .ci/run installs them), or other paths in -Dvqclip.studio.chromium / -Dvqclip.studio.chromedriver; "
          + "-D" + SKIP + "=true skips these tests";
      if (Boolean.getBoolean(SKIP)) {
        Assumptions.abort(msg);
      }
      Assertions.fail(msg);
    }
    ChromeOptions o = new ChromeOptions();
    o.setBinary(chromium.toFile());
    o.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-extensions",
        "--window-size=1200,1250", "--force-device-scale-factor=1", "--user-data-dir=" + Files.createDirectories(profile));
    ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(driver.toFile()).usingAnyFreePort().build();
    return new ChromeDriver(service, o);
  }

  /** Saves a screenshot of the page and checks that it is not blank (many colours, real contrast). */
  static BufferedImage screenshot(ChromeDriver d, Path file) throws IOException {
    byte[] png = ((TakesScreenshot) d).getScreenshotAs(OutputType.BYTES);
    Files.createDirectories(file.getParent());
    Files.write(file, png);
    BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
    assertNotBlank(img, file.toString());
    return img;
  }

  /** At least 32 distinct colours and a luminance spread (standard deviation) of at least 10 out of 255. */
  static void assertNotBlank(BufferedImage img, String what) {
    Set<Integer> colours = new HashSet<>();
    double sum = 0;
    double sq = 0;
    int n = 0;
    for (int y = 0; y < img.getHeight(); y += 2) {
      for (int x = 0; x < img.getWidth(); x += 2) {
        int rgb = img.getRGB(x, y) & 0xffffff;
        colours.add(rgb);
        double l = 0.299 * (rgb >> 16) + 0.587 * ((rgb >> 8) & 255) + 0.114 * (rgb & 255);
        sum += l;
        sq += l * l;
        n++;
      }
    }
    double sd = Math.sqrt(Math.max(0, sq / n - (sum / n) * (sum / n)));
    assertTrue(colours.size() >= 32 && sd >= 10, what + " looks blank: " + colours.size() + " colours, luminance sd " + sd);
  }
}
