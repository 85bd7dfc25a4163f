package ai.vqclip.studio;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.image.Images;
import ai.vqclip.core.pipeline.Checkpoint;
import ai.vqclip.core.pipeline.EditDirection;
import ai.vqclip.core.pipeline.GenerationRequest;
import ai.vqclip.core.pipeline.GenerationService;
import ai.vqclip.core.pipeline.Init;
import ai.vqclip.core.pipeline.RunResult;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * vqclip studio: an embedded web server (Javalin on Jetty) with one page to start generations,
 * watch them form (a preview every N iterations and the loss curve over server-sent events),
 * pause, paint on the image and its mask, edit the prompt and resume, edit from/to with CLIP
 * self-masking, and browse and download finished runs. Every run of a model shares that model's
 * {@link GenerationService}, so many tabs and users share one copy of the weights; each run has its
 * own random id, state and files.
 *
 * <pre>{@code
 * try (StudioModels models = StudioModels.demo(ExecutionOptions.cpu());
 *      Studio studio = Studio.start(StudioConfig.defaults(Path.of("studio-runs")), models.models())) {
 *   System.out.println(studio.url());
 *   studio.awaitClose();
 * }
 * }</pre>
 *
 * <p>Security ({@link Guard}): bound to 127.0.0.1 by default, Host and Origin checks on every
 * request, a random session token when bound beyond loopback, upload limits in bytes and pixels,
 * and no request path ever names a file: runs are found by id in memory and their files by a fixed
 * list of names. The page is plain HTML, JavaScript and CSS from the jar, with no network access.
 *
 * <p>The file is over 400 lines: the routes and the request forms they read belong together.
 */
public final class Studio implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Studio.class);
  private static final String WEB = "/ai/vqclip/studio/web/";
  /** The page's files: the only static names served. */
  private static final Map<String, String> STATIC = Map.of("studio.js", "text/javascript; charset=utf-8", "studio.css",
      "text/css; charset=utf-8");
  private static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
      + "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
  /** The preview interval when the page asks for none. */
  static final int DEFAULT_PREVIEW_EVERY = 5;
  /** The longest prompt text accepted. */
  static final int MAX_PROMPT_CHARS = 300;
  /** The most prompts one run may have. */
  static final int MAX_PROMPTS = 16;

  private final StudioConfig config;
  private final Map<String, StudioModel> models = new LinkedHashMap<>();
  private final Map<String, GenerationService> services = new LinkedHashMap<>();
  private final Map<String, StudioRun> runs = new ConcurrentHashMap<>();
  private final ObjectMapper json = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
  private final SecureRandom random = new SecureRandom();
  private final Javalin app;
  private final Guard guard;
  private final Object closeLock = new Object();
  private boolean closed;

  private Studio(StudioConfig config, List<StudioModel> modelList) {
    this.config = config;
    for (StudioModel m : modelList) {
      if (models.put(m.name(), m) != null) {
        throw new IllegalArgumentException("model names must differ: '" + m.name() + "' comes twice");
      }
    }
    if (models.isEmpty()) {
      throw new IllegalArgumentException("the studio needs at least one model");
    }
    try {
      Files.createDirectories(config.dataDir());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the studio's data folder " + config.dataDir() + ": " + e.getMessage(), e);
    }
    for (StudioModel m : modelList) {
      services.put(m.name(), GenerationService.builder(m.pipeline()).maxConcurrent(config.maxConcurrent())
          .queueCapacity(config.queueCapacity()).build());
    }
    String token = config.token() != null ? config.token() : config.loopback() ? null : HexFormat.of().formatHex(randomBytes(24));
    Guard[] g = new Guard[1];
    this.app = Javalin.create(c -> {
      c.jetty.host = config.host();
      c.jetty.port = config.port();
      c.http.maxRequestSize = config.maxUploadBytes();
      c.startup.showJavalinBanner = false;
      c.routes.before(ctx -> {
        securityHeaders(ctx);
        g[0].check(ctx);
      });
      routes(c.routes);
      c.routes.exception(StudioException.class, (e, ctx) -> error(ctx, e.status(), e.getMessage()));
      c.routes.exception(IllegalArgumentException.class, (e, ctx) -> error(ctx, 400, e.getMessage()));
      c.routes.exception(JsonProcessingException.class, (e, ctx) -> error(ctx, 400, "malformed request: " + e.getOriginalMessage()));
      c.routes.exception(RejectedExecutionException.class, (e, ctx) -> error(ctx, 503, e.getMessage()));
      c.routes.exception(HttpResponseException.class, (e, ctx) -> error(ctx, e.getStatus(), e.getMessage()));
      c.routes.exception(Exception.class, (e, ctx) -> {
        LOG.warn("studio: {} {} failed", ctx.method(), ctx.path(), e);
        error(ctx, 500, "internal error: " + e);
      });
    });
    app.start();
    this.guard = new Guard(config, app.port(), token);
    g[0] = guard;
  }

  /**
   * Starts the studio over loaded models (they stay the caller's: close them after the studio).
   *
   * @param config where and how to serve
   * @param models the model choices, the page's default first
   * @return the running studio
   * @throws IllegalArgumentException for no models or two with one name
   * @throws UncheckedIOException when the data folder cannot be created
   * @throws RuntimeException from Jetty when the port cannot be bound
   */
  public static Studio start(StudioConfig config, List<StudioModel> models) {
    return new Studio(config, models);
  }

  /** @return the port the server listens on */
  public int port() {
    return app.port();
  }

  /** @return the session token, or null when none is needed (loopback without a configured token) */
  public String token() {
    return guard.token();
  }

  /**
   * The address to open in a browser: with the token when one is needed.
   *
   * @return the URL
   */
  public String url() {
    String host = config.host();
    if (host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]")) {
      try {
        host = InetAddress.getLocalHost().getHostName();
      } catch (UnknownHostException e) {
        host = "localhost";
      }
    } else if (host.contains(":") && !host.startsWith("[")) {
      host = "[" + host + "]";
    }
    return "http://" + host + ":" + port() + "/" + (token() == null ? "" : "?token=" + token());
  }

  private void routes(io.javalin.config.RoutesConfig r) {
    r.get("/", this::page);
    r.get("/static/{name}", this::staticFile);
    r.get("/api/models", ctx -> json(ctx, modelList()));
    r.get("/api/gallery", ctx -> json(ctx, gallery()));
    r.post("/api/runs", this::startRun);
    r.get("/api/runs/{id}", ctx -> json(ctx, run(ctx).snapshot(true)));
    r.sse("/api/runs/{id}/events", client -> {
      StudioRun run = run(client.ctx());
      client.keepAlive();
      run.watch(client);
    });
    r.post("/api/runs/{id}/pause", ctx -> {
      StudioRun run = run(ctx);
      run.pause();
      json(ctx, run.snapshot(false));
    });
    r.post("/api/runs/{id}/resume", this::resume);
    r.post("/api/runs/{id}/edit", this::edit);
    r.get("/api/runs/{id}/{file}", this::download);
  }

  // ------------------------------------------------------------------ page and files

  private void page(Context ctx) {
    String t = ctx.queryParam("token");
    if (t != null && token() != null && guard.same(t)) {
      // The printed URL: keep the token in a cookie that no script and no other site can use, and drop it from the address bar.
      ctx.header("Set-Cookie", Guard.COOKIE + "=" + t + "; Path=/; HttpOnly; SameSite=Strict");
      ctx.redirect("/");
      return;
    }
    ctx.contentType("text/html; charset=utf-8").result(resource("index.html"));
  }

  private void staticFile(Context ctx) {
    String name = ctx.pathParam("name");
    String type = STATIC.get(name);
    if (type == null) {
      throw StudioException.notFound("no such file: " + name);
    }
    ctx.contentType(type).result(resource(name));
  }

  private static byte[] resource(String name) {
    try (InputStream in = Studio.class.getResourceAsStream(WEB + name)) {
      if (in == null) {
        throw new IllegalStateException("the studio's " + name + " is missing from the jar");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void download(Context ctx) {
    StudioRun run = run(ctx);
    StudioRun.Download d = StudioRun.Download.of(ctx.pathParam("file"));
    if (d == null) {
      throw StudioException.notFound("run " + run.id() + " has no file '" + ctx.pathParam("file") + "'");
    }
    byte[] bytes = run.read(d);
    ctx.contentType(d.contentType);
    if (d != StudioRun.Download.PNG && d != StudioRun.Download.ANIMATION) {
      ctx.header("Content-Disposition", "attachment; filename=\"vqclip-" + run.id().substring(0, 8) + "-" + d.file + "\"");
    }
    ctx.result(bytes);
  }

  private static void securityHeaders(Context ctx) {
    ctx.header("Content-Security-Policy", CSP);
    ctx.header("X-Content-Type-Options", "nosniff");
    ctx.header("X-Frame-Options", "DENY");
    ctx.header("Referrer-Policy", "no-referrer");
    ctx.header("Cache-Control", "no-store");
  }

  private void json(Context ctx, Object body) throws JsonProcessingException {
    ctx.contentType("application/json").result(json.writeValueAsString(body));
  }

  private void error(Context ctx, int status, String message) {
    ObjectNode o = json.createObjectNode();
    o.put("error", message);
    ctx.status(status).contentType("application/json").result(o.toString());
  }

  // ------------------------------------------------------------------ models, runs, gallery

  private ArrayNode modelList() {
    ArrayNode a = json.createArrayNode();
    for (StudioModel m : models.values()) {
      a.addObject().put("name", m.name()).put("description", m.description()).put("defaultSize", m.defaultSize())
          .put("sizeStep", m.sizeStep()).put("maxSize", m.maxSize()).put("maxIterations", config.maxIterations())
          .put("maxUploadBytes", config.maxUploadBytes()).put("maxUploadPixels", config.maxUploadPixels());
    }
    return a;
  }

  private ArrayNode gallery() {
    List<StudioRun> done = new ArrayList<>();
    for (StudioRun r : runs.values()) {
      if (r.state() == StudioRun.State.FINISHED) {
        done.add(r);
      }
    }
    done.sort(Comparator.comparing((StudioRun r) -> r.snapshot(false).get("created").asLong()).reversed());
    ArrayNode a = json.createArrayNode();
    for (StudioRun r : done) {
      ObjectNode s = r.snapshot(false);
      s.remove("image"); // the gallery shows image.png
      a.add(s);
    }
    return a;
  }

  private StudioRun run(Context ctx) {
    String id = ctx.pathParam("id");
    StudioRun run = id.matches("[0-9a-f]{32}") ? runs.get(id) : null;
    if (run == null) {
      throw StudioException.notFound("no run '" + id + "'");
    }
    return run;
  }

  private StudioRun newRun(StudioModel model, int previewEvery) {
    String id = HexFormat.of().formatHex(randomBytes(16));
    StudioRun run = new StudioRun(id, model, services.get(model.name()), config.dataDir().resolve(id), previewEvery, json);
    runs.put(id, run);
    return run;
  }

  /** The page's prompt rows. */
  record PromptRow(String text, Double weight) {}

  /** Body of {@code POST /api/runs}. */
  record StartForm(String model, List<PromptRow> prompts, Integer width, Integer height, Integer iterations, Long seed, Integer previewEvery) {}

  /** Body of {@code POST /api/runs/{id}/resume}: each field optional. */
  record ResumeForm(List<PromptRow> prompts, Integer iterations, String image, String mask) {}

  /** Body of {@code POST /api/runs/{id}/edit}: a from/to edit of a run's image, as a new run. */
  record EditForm(String from, String to, Integer iterations, Long seed, Integer previewEvery, String mask) {}

  private void startRun(Context ctx) throws IOException {
    StartForm f = json.readValue(ctx.bodyAsBytes(), StartForm.class);
    StudioModel model = model(f.model());
    int w = side("width", f.width(), model);
    int h = side("height", f.height(), model);
    int iterations = range("iterations", f.iterations(), 1, config.maxIterations(), null);
    int every = range("previewEvery", f.previewEvery(), 1, 1000, DEFAULT_PREVIEW_EVERY);
    long seed = f.seed() == null ? 0 : f.seed();
    String prompts = prompts(f.prompts(), true);
    GenerationRequest req = model.requests().request(prompts, w, h, iterations, seed).saveEvery(every).build();
    StudioRun run = newRun(model, every);
    submit(run, req, prompts, null, null);
    ctx.status(201);
    json(ctx, run.snapshot(false));
  }

  private void resume(Context ctx) throws IOException {
    StudioRun run = run(ctx);
    ResumeForm f = json.readValue(ctx.bodyAsBytes(), ResumeForm.class);
    StudioRun.State s = run.state();
    if (s != StudioRun.State.PAUSED && s != StudioRun.State.FINISHED) {
      throw StudioException.conflict("run " + run.id() + " is " + s.name().toLowerCase() + "; only a paused or finished run can resume");
    }
    RunResult last = run.result();
    GenerationRequest before = run.request();
    Checkpoint ck = last.checkpoint();
    int more = range("iterations", f.iterations(), 1, Math.max(1, config.maxIterations() - ck.iteration()), null);
    if (ck.iteration() + more > config.maxIterations()) {
      throw StudioException.badRequest("iterations: the run is at " + ck.iteration() + " and may run at most " + config.maxIterations()
          + " in all; got " + more + " more");
    }
    String prompts = f.prompts() == null ? run.snapshot(false).get("prompts").asText() : prompts(f.prompts(), true);
    int w = before.width();
    int h = before.height();
    GenerationRequest.Builder b = run.model().requests().request(prompts, w, h, ck.iteration() + more, before.seed())
        .saveEvery(run.previewEvery());
    if (f.mask() != null) {
      b.mask(mask(f.mask(), w, h));
    }
    if (f.image() != null) {
      // The painted picture, encoded back into the VQGAN's latent: the run continues from what the person sees, and a
      // pull towards the start (the demo's sketch start) pulls towards the painting, not back to the sketch.
      Tensor painted = Images.toTensor(sized("image", Uploads.png("image", f.image(), config.maxUploadPixels()), w, h), 3);
      ck = ck.withEditedLatent(run.model().generator().encode(painted).toFloats());
    }
    submit(run, b.build(), prompts, null, ck);
    json(ctx, run.snapshot(false));
  }

  private void edit(Context ctx) throws IOException {
    StudioRun source = run(ctx);
    EditForm f = json.readValue(ctx.bodyAsBytes(), EditForm.class);
    String from = text("from", f.from());
    String to = text("to", f.to());
    Tensor image = source.image();
    GenerationRequest before = source.request();
    int w = before.width();
    int h = before.height();
    int iterations = range("iterations", f.iterations(), 1, config.maxIterations(), null);
    int every = range("previewEvery", f.previewEvery(), 1, 1000, source.previewEvery());
    long seed = f.seed() == null ? before.seed() : f.seed();
    GenerationRequest.Builder b = source.model().requests().request(to, w, h, iterations, seed).saveEvery(every)
        .init(new Init.FromImage(image)).edit(EditDirection.of(from, to));
    if (f.mask() != null) {
      b.mask(mask(f.mask(), w, h));
    }
    StudioRun run = newRun(source.model(), every);
    submit(run, b.build(), to, "from \"" + from + "\" to \"" + to + "\"" + (f.mask() == null ? " (CLIP self-masked)" : " (painted mask)"),
        null);
    ctx.status(201);
    json(ctx, run.snapshot(false));
  }

  private void submit(StudioRun run, GenerationRequest req, String prompts, String edit, Checkpoint from) {
    synchronized (closeLock) {
      if (closed) {
        throw new RejectedExecutionException("the studio is shutting down");
      }
      run.submit(req, prompts, edit, from);
    }
  }

  // ------------------------------------------------------------------ form checks

  private StudioModel model(String name) {
    if (name == null) {
      return models.values().iterator().next();
    }
    StudioModel m = models.get(name);
    if (m == null) {
      throw StudioException.badRequest("model: no model '" + name + "'; choose one of " + models.keySet());
    }
    return m;
  }

  private static int side(String field, Integer v, StudioModel m) {
    int s = v == null ? m.defaultSize() : v;
    if (s < m.sizeStep() || s > m.maxSize() || s % m.sizeStep() != 0) {
      throw StudioException.badRequest(field + ": " + s + " is not a size model " + m.name() + " can make; use a multiple of " + m.sizeStep()
          + " from " + m.sizeStep() + " to " + m.maxSize());
    }
    return s;
  }

  private static int range(String field, Integer v, int lo, int hi, Integer dflt) {
    if (v == null) {
      if (dflt == null) {
        throw StudioException.badRequest(field + " is required (" + lo + " to " + hi + ")");
      }
      return dflt;
    }
    if (v < lo || v > hi) {
      throw StudioException.badRequest(field + " must be in [" + lo + ", " + hi + "], got " + v);
    }
    return v;
  }

  /** The rows in generate.py's syntax, {@code text:weight|text:weight}, each text checked so that it cannot change the syntax. */
  static String prompts(List<PromptRow> rows, boolean required) {
    if (rows == null || rows.isEmpty()) {
      if (required) {
        throw StudioException.badRequest("prompts: give at least one prompt");
      }
      return null;
    }
    if (rows.size() > MAX_PROMPTS) {
      throw StudioException.badRequest("prompts: at most " + MAX_PROMPTS + " prompts, got " + rows.size());
    }
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < rows.size(); i++) {
      PromptRow r = rows.get(i);
      String t = text("prompts[" + i + "].text", r == null ? null : r.text());
      double wgt = r.weight() == null ? 1.0 : r.weight();
      if (!Double.isFinite(wgt) || wgt == 0 || Math.abs(wgt) > 100) {
        throw StudioException.badRequest("prompts[" + i + "].weight must be non-zero and in [-100, 100], got " + wgt);
      }
      if (i > 0) {
        sb.append('|');
      }
      sb.append(t).append(':').append(wgt);
    }
    return sb.toString();
  }

  private static String text(String field, String t) {
    if (t == null || t.isBlank()) {
      throw StudioException.badRequest(field + ": must not be empty");
    }
    String s = t.strip();
    if (s.length() > MAX_PROMPT_CHARS) {
      throw StudioException.badRequest(field + ": at most " + MAX_PROMPT_CHARS + " characters, got " + s.length());
    }
    for (char c : new char[] {'|', ':', '^'}) {
      if (s.indexOf(c) >= 0) {
        throw StudioException.badRequest(field + ": '" + c + "' is not allowed in a prompt's text (it is prompt syntax); got '" + s + "'");
      }
    }
    for (int i = 0; i < s.length(); i++) {
      if (Character.isISOControl(s.charAt(i))) {
        throw StudioException.badRequest(field + ": control characters are not allowed in a prompt");
      }
    }
    return s;
  }

  private static BufferedImage sized(String field, BufferedImage img, int w, int h) {
    if (img.getWidth() != w || img.getHeight() != h) {
      throw StudioException.badRequest(field + ": expected a " + w + "x" + h + " image (the run's size), got " + img.getWidth() + "x"
          + img.getHeight());
    }
    return img;
  }

  /** A painted mask: opaque pixels (alpha at least half) may change. */
  private Tensor mask(String dataUrl, int w, int h) {
    BufferedImage img = sized("mask", Uploads.png("mask", dataUrl, config.maxUploadPixels()), w, h);
    float[] m = new float[w * h];
    int painted = 0;
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int alpha = img.getRGB(x, y) >>> 24;
        if (alpha >= 128) {
          m[y * w + x] = 1f;
          painted++;
        }
      }
    }
    if (painted == 0) {
      throw StudioException.badRequest("mask: nothing is painted; paint the region to change, or send no mask to change everything");
    }
    return Tensor.ofFloats(new long[] {1, 1, h, w}, m);
  }

  private byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    random.nextBytes(b);
    return b;
  }

  /**
   * Blocks until {@link #close()} is called from another thread (for a command that serves until stopped).
   *
   * @throws InterruptedException when interrupted while waiting
   */
  public void awaitClose() throws InterruptedException {
    synchronized (closeLock) {
      while (!closed) {
        closeLock.wait();
      }
    }
  }

  /**
   * Stops the server, cancels the runs (each stops at its next step) and waits for them to end.
   * Idempotent; never throws.
   */
  @Override
  public void close() {
    synchronized (closeLock) {
      if (closed) {
        return;
      }
      closed = true;
      closeLock.notifyAll();
    }
    for (StudioRun r : runs.values()) {
      r.disconnect();
    }
    try {
      app.stop();
    } catch (RuntimeException e) {
      LOG.warn("studio: stopping the server failed", e);
    }
    for (GenerationService s : services.values()) {
      try {
        s.closeNow();
      } catch (RuntimeException e) {
        LOG.warn("studio: stopping a generation service failed", e);
      }
    }
  }
}
