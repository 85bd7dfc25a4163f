package ai.vqclip.studio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The studio's defences, over raw HTTP: cross-site requests, DNS rebinding, upload limits, traversal, the session token. */
class StudioSecurityTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long MAX_BYTES = 64 << 10;
  private static final long MAX_PIXELS = 256 * 256;
  private static final String START = "{\"prompts\":[{\"text\":\"a red circle\",\"weight\":1}],\"iterations\":3,\"seed\":1}";

  @TempDir static Path data;
  static StudioModels models;
  static Studio studio;
  static int port;
  /** A finished run, made once for the tests that need one. */
  static String finished;

  @BeforeAll
  static void start() throws Exception {
    models = SharedModels.get();
    studio = Studio.start(StudioConfig.defaults(data).withPort(0).withUploadLimits(MAX_BYTES, MAX_PIXELS), models.models());
    port = studio.port();
    finished = finishedRun();
  }

  @AfterAll
  static void stop() {
    if (studio != null) {
      studio.close();
    }
  }

  /** Starts a 3-iteration run from this studio's own origin and waits until it has finished. */
  private static String finishedRun() throws Exception {
    Http.Response r = Http.postJson(port, "/api/runs", START);
    assertEquals(201, r.status(), r.text());
    String id = JSON.readTree(r.body()).get("id").asText();
    long deadline = System.currentTimeMillis() + StudioBrowserTest.WAIT_MS;
    while (System.currentTimeMillis() < deadline) {
      JsonNode s = JSON.readTree(Http.get(port, "/api/runs/" + id).body());
      if (s.get("state").asText().equals("finished")) {
        return id;
      }
      if (s.get("state").asText().equals("failed")) {
        throw new AssertionError("run " + id + " failed: " + s.get("error"));
      }
      Thread.sleep(50);
    }
    throw new AssertionError("run " + id + " did not finish in " + StudioBrowserTest.WAIT_MS / 1000 + " s");
  }

  @Test
  void sameOriginPostStartsARunAndCrossOriginPostIsRefused() throws Exception {
    String id = finished; // made by the same request from the studio's own origin
    int before = JSON.readTree(Http.get(port, "/api/gallery").body()).size();

    Http.Response evil = Http.send(port, "POST", "/api/runs", Map.of("Content-Type", "application/json", "Origin", "http://evil.example"),
        START.getBytes(StandardCharsets.UTF_8));
    assertEquals(403, evil.status(), evil.text());
    assertTrue(evil.text().contains("cross-origin request from 'http://evil.example' refused"), evil.text());
    // A browser's cross-site request without Origin (Sec-Fetch-Site says where it came from) is refused as well.
    Http.Response noOrigin = Http.send(port, "POST", "/api/runs/" + id + "/pause",
        Map.of("Content-Type", "application/json", "Sec-Fetch-Site", "cross-site"), "{}".getBytes(StandardCharsets.UTF_8));
    assertEquals(403, noOrigin.status(), noOrigin.text());
    // A form post (text/plain, no preflight) cannot start a run either.
    Http.Response form = Http.send(port, "POST", "/api/runs", Map.of("Content-Type", "text/plain", "Origin", "http://127.0.0.1:" + port),
        START.getBytes(StandardCharsets.UTF_8));
    assertEquals(415, form.status(), form.text());

    Thread.sleep(200);
    assertEquals(before, JSON.readTree(Http.get(port, "/api/gallery").body()).size(), "a refused request must not start a run");
  }

  @Test
  void dnsRebindingHostIsRefused() throws Exception {
    Http.Response ok = Http.get(port, "/api/models");
    assertEquals(200, ok.status());
    for (String host : List.of("evil.example:" + port, "evil.example", "127.0.0.1:" + (port == 1 ? 2 : port - 1))) {
      Http.Response r = Http.send(port, "GET", "/api/models", Map.of("Host", host), null);
      assertEquals(403, r.status(), host + ": " + r.text());
      assertTrue(r.text().contains("DNS rebinding"), r.text());
    }
    assertEquals(200, Http.send(port, "GET", "/", Map.of("Host", "localhost:" + port), null).status());
  }

  @Test
  void oversizedUploadsGet413() throws Exception {
    String id = finished;
    // Bytes: a body over the limit, refused from its Content-Length.
    String big = "{\"iterations\":1,\"image\":\"data:image/png;base64," + "A".repeat((int) MAX_BYTES) + "\"}";
    Http.Response r = Http.postJson(port, "/api/runs/" + id + "/resume", big);
    assertEquals(413, r.status(), r.text());
    assertTrue(r.text().contains("at most " + MAX_BYTES + " bytes"), r.text());
    // The same body without a length (chunked) is cut off while it is read.
    Http.Response chunked = Http.send(port, "POST", "/api/runs/" + id + "/resume", Map.of("Content-Type", "application/json", "Origin",
        "http://127.0.0.1:" + port, "Transfer-Encoding", "chunked"), chunk(big.getBytes(StandardCharsets.UTF_8)));
    assertEquals(413, chunked.status(), chunked.text());
    // Pixels: a small file (a few kB, under the byte limit) that declares 1024x1024 pixels.
    String bomb = "data:image/png;base64," + Base64.getEncoder().encodeToString(png(new BufferedImage(1024, 1024, BufferedImage.TYPE_BYTE_BINARY)));
    assertTrue(bomb.length() < MAX_BYTES, "the pixel test's file must pass the byte limit");
    Http.Response p = Http.postJson(port, "/api/runs/" + id + "/resume", "{\"iterations\":1,\"image\":\"" + bomb + "\"}");
    assertEquals(413, p.status(), p.text());
    assertTrue(p.text().contains("1024x1024 = 1048576 pixels; at most " + MAX_PIXELS), p.text());
    // A right-sized painted image is accepted (the limits are not refusing everything).
    String fine = "data:image/png;base64," + Base64.getEncoder().encodeToString(png(new BufferedImage(32, 32, BufferedImage.TYPE_INT_RGB)));
    Http.Response okr = Http.postJson(port, "/api/runs/" + id + "/resume", "{\"iterations\":1,\"image\":\"" + fine + "\"}");
    assertEquals(200, okr.status(), okr.text());
  }

  @Test
  void traversalPathsGet404() throws Exception {
    String id = finished;
    assertEquals(200, Http.get(port, "/api/runs/" + id + "/image.png").status()); // the file exists under the run's folder
    assertEquals(200, Http.get(port, "/static/studio.js").status());
    List<String> wrong = new java.util.ArrayList<>();
    // Paths that reach the studio name nothing it serves: 404.
    for (String path : List.of("/static/..%2f..%2fpom.xml", "/static/..%5c..%5cpom.xml", "/api/runs/" + id + "/..%2f..%2f..%2fpom.xml",
        "/api/runs/" + id + "/%2e%2e", "/api/runs/..%2f" + id + "/image.png", "/api/runs/" + id + "/run.ckpt/../../../../etc/passwd",
        "/api/runs/" + id + "/../../../pom.xml", "/static/index.html", "/static/Studio.class", "/static/./studio.js/..%2f..%2fpom.xml")) {
      check(path, 404, wrong);
    }
    // Paths that climb above the root, or carry encoded dot segments or a NUL, Jetty refuses itself before any route runs: 400.
    for (String path : List.of("/static/../../pom.xml", "/static/%2e%2e/%2e%2e/pom.xml", "/static/studio.js%00.png")) {
      check(path, 400, wrong);
    }
    assertTrue(wrong.isEmpty(), "traversal paths answered otherwise: " + wrong);
  }

  private static void check(String path, int status, List<String> wrong) throws Exception {
    Http.Response r = Http.get(port, path);
    if (r.status() != status) {
      wrong.add(path + " -> " + r.status() + " (expected " + status + ")");
    }
    assertFalse(r.text().contains("<project") || r.text().contains("root:") || r.text().contains("vqclip studio"), path + " leaked a file");
  }

  @Test
  void beyondLoopbackEveryRequestNeedsTheToken() throws Exception {
    try (Studio open = Studio.start(StudioConfig.defaults(data.resolve("open")).withHost("0.0.0.0").withPort(0), models.models())) {
      int p = open.port();
      String token = open.token();
      assertNotNull(token, "a studio bound beyond loopback makes a token");
      assertTrue(open.url().endsWith("/?token=" + token), open.url());
      assertEquals(401, Http.get(p, "/").status());
      assertEquals(401, Http.get(p, "/api/models").status());
      assertEquals(401, Http.get(p, "/?token=" + "0".repeat(token.length())).status());
      Http.Response login = Http.get(p, "/?token=" + token);
      assertEquals(302, login.status(), login.text());
      String cookie = login.headers().get("set-cookie");
      assertTrue(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), cookie);
      String pair = cookie.split(";")[0];
      assertEquals(200, Http.send(p, "GET", "/api/models", Map.of("Cookie", pair), null).status());
      assertEquals(200, Http.send(p, "GET", "/api/models", Map.of(Guard.HEADER, token), null).status());
    }
    assertEquals(null, studio.token(), "no token on loopback");
  }

  private static byte[] png(BufferedImage img) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(img, "png", out);
    return out.toByteArray();
  }

  private static byte[] chunk(byte[] body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i = 0; i < body.length; i += 8192) {
      int n = Math.min(8192, body.length - i);
      out.writeBytes((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
      out.write(body, i, n);
      out.writeBytes("\r\n".getBytes(StandardCharsets.ISO_8859_1));
    }
    out.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
    return out.toByteArray();
  }
}
