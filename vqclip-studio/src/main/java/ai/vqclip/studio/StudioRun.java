package ai.vqclip.studio;

import ai.vqclip.core.StepEvent;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.image.GifSequence;
import ai.vqclip.core.image.Images;
import ai.vqclip.core.pipeline.Checkpoint;
import ai.vqclip.core.pipeline.GenerationJob;
import ai.vqclip.core.pipeline.GenerationRequest;
import ai.vqclip.core.pipeline.GenerationService;
import ai.vqclip.core.pipeline.Pipeline;
import ai.vqclip.core.pipeline.RunResult;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.sse.SseClient;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArraySet;
import javax.imageio.ImageIO;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run on the page, through its pauses and resumes: the job now stepping on the model's shared
 * service, the last result (image and checkpoint), the loss curve, the preview frames for the
 * animation, and the page connections that watch it. Pausing cancels the job, which stops at its
 * next step and keeps its image and checkpoint; resuming submits a new job that continues from
 * that checkpoint (with the painted image's latent, the edited prompt and the painted mask).
 * Its files live in its own folder, named by the server, never by a request.
 */
final class StudioRun {
  private static final Logger LOG = LoggerFactory.getLogger(StudioRun.class);

  /** Where a run is. */
  enum State {
    QUEUED, RUNNING, PAUSING, PAUSED, FINISHED, FAILED
  }

  /** The files a run offers for download: the only names a request can reach. */
  enum Download {
    PNG("image.png", "image/png"), CHECKPOINT("run.ckpt", "application/octet-stream"), ANIMATION("animation.gif", "image/gif"),
    MANIFEST("manifest.json", "application/json");

    final String file;
    final String contentType;

    Download(String file, String contentType) {
      this.file = file;
      this.contentType = contentType;
    }

    /** The download for a URL's last segment, or null. */
    static Download of(String name) {
      for (Download d : values()) {
        if (d.file.equals(name)) {
          return d;
        }
      }
      return null;
    }
  }

  /** At most this many preview frames go into a run's animation (later ones replace every other). */
  static final int MAX_FRAMES = 240;

  private final String id;
  private final StudioModel model;
  private final GenerationService service;
  private final Path dir;
  private final int previewEvery;
  private final ObjectMapper json;
  private final long created = System.currentTimeMillis();
  private final Set<SseClient> clients = new CopyOnWriteArraySet<>();

  // Guarded by this.
  private State state = State.QUEUED;
  private String prompts;
  private GenerationRequest request;
  private GenerationJob job;
  private RunResult result;
  private String error;
  private final List<double[]> losses = new ArrayList<>();
  private final List<BufferedImage> frames = new ArrayList<>();
  private int frameStride = 1;
  private int framesSeen;
  private String preview;
  private int iteration;
  private double loss = Double.NaN;
  private String edit;

  StudioRun(String id, StudioModel model, GenerationService service, Path dir, int previewEvery, ObjectMapper json) {
    this.id = id;
    this.model = model;
    this.service = service;
    this.dir = dir;
    this.previewEvery = previewEvery;
    this.json = json;
  }

  String id() {
    return id;
  }

  StudioModel model() {
    return model;
  }

  int previewEvery() {
    return previewEvery;
  }

  synchronized State state() {
    return state;
  }

  synchronized RunResult result() {
    return result;
  }

  synchronized GenerationRequest request() {
    return request;
  }

  /**
   * Submits the run's (next) job.
   *
   * @param req the request, its saveEvery set to the preview interval
   * @param promptText the prompts as the page shows them
   * @param editText a from/to edit as the page shows it, or null
   * @param from the checkpoint to continue from, or null for a fresh start
   * @throws java.util.concurrent.RejectedExecutionException when the model's queue is full
   */
  void submit(GenerationRequest req, String promptText, String editText, Checkpoint from) {
    synchronized (this) {
      this.request = req;
      this.prompts = promptText;
      this.edit = editText;
      this.error = null;
      this.state = State.QUEUED;
      this.job = service.submit(req, from, Pipeline.CheckpointSettings.none(), List.of(e -> {
        onStep(e);
        return true;
      }));
      job.result().whenComplete(this::onEnd);
    }
    broadcast("state", snapshot(false));
  }

  /** Asks the running job to stop at its next step; its image and checkpoint stay for painting and resuming. */
  void pause() {
    synchronized (this) {
      if (state != State.RUNNING && state != State.QUEUED) {
        throw StudioException.conflict("run " + id + " is " + state.name().toLowerCase() + "; only a queued or running run can pause");
      }
      state = State.PAUSING;
      job.cancel();
    }
    broadcast("state", snapshot(false));
  }

  private void onStep(StepEvent e) {
    long t = System.currentTimeMillis(); // the step's end as the page's latency figure counts it
    String image = null;
    if (e.image() != null) {
      BufferedImage img = Images.toImage(e.image());
      image = dataUrl(img);
      synchronized (this) {
        addFrame(img);
        preview = image;
      }
    }
    boolean started = false;
    synchronized (this) {
      if (state == State.QUEUED) {
        state = State.RUNNING;
        started = true;
      }
      iteration = e.iteration() + 1;
      loss = e.loss();
      if (losses.size() < 100_000) {
        losses.add(new double[] {e.iteration(), e.loss()});
      }
    }
    if (started) {
      broadcast("state", snapshot(false));
    }
    ObjectNode o = json.createObjectNode();
    o.put("iteration", e.iteration() + 1);
    o.put("iterations", e.iterations());
    o.put("loss", e.loss());
    o.put("t", t);
    if (image != null) {
      o.put("image", image);
    }
    broadcast("step", o);
  }

  /** Keeps every frame until {@link #MAX_FRAMES}, then halves them and keeps every second one from then on. */
  private void addFrame(BufferedImage img) {
    if (framesSeen++ % frameStride != 0) {
      return;
    }
    if (frames.size() >= MAX_FRAMES) {
      for (int i = frames.size() - 1; i > 0; i -= 2) {
        frames.remove(i);
      }
      frameStride *= 2;
    }
    frames.add(img);
  }

  private void onEnd(RunResult r, Throwable t) {
    try {
      settle(r, t);
    } catch (RuntimeException | Error e) {
      // whenComplete would swallow this silently and leave the page waiting: say so instead.
      LOG.warn("studio run {}: ending failed", id, e);
      synchronized (this) {
        state = State.FAILED;
        error = "ending the run failed: " + e;
      }
    }
    broadcast("state", snapshot(false));
  }

  private void settle(RunResult r, Throwable t) {
    synchronized (this) {
      if (t != null) {
        Throwable cause = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
        if (cause instanceof CancellationException && result != null) {
          state = State.PAUSED; // paused before the resumed job started: the previous result stands
        } else if (cause instanceof CancellationException) {
          state = State.FAILED;
          error = "paused before it started: nothing to show; start again";
        } else {
          state = State.FAILED;
          error = cause.getClass().getSimpleName() + ": " + cause.getMessage();
          LOG.warn("studio run {} failed", id, cause);
        }
      } else {
        result = r;
        BufferedImage img = Images.toImage(r.image());
        preview = dataUrl(img);
        addFrame(img);
        iteration = r.checkpoint().iteration();
        try {
          writeFiles(r);
          state = "cancelled".equals(r.manifest().stopReason()) ? State.PAUSED : State.FINISHED;
        } catch (RuntimeException e) {
          state = State.FAILED;
          error = "cannot write the run's files: " + e.getMessage();
          LOG.warn("studio run {}: writing files failed", id, e);
        }
      }
    }
  }

  private void writeFiles(RunResult r) {
    try {
      Files.createDirectories(dir);
      String manifest = r.manifest().toJson();
      Images.writePng(r.image(), dir.resolve(Download.PNG.file), Map.of("vqclip", manifest));
      r.checkpoint().save(dir.resolve(Download.CHECKPOINT.file));
      Path tmp = Files.createTempFile(dir, "manifest", ".tmp");
      Files.writeString(tmp, manifest);
      Files.move(tmp, dir.resolve(Download.MANIFEST.file), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
          java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      try (GifSequence gif = new GifSequence(dir.resolve(Download.ANIMATION.file), 10)) {
        for (BufferedImage f : frames) {
          gif.add(f);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A download's bytes.
   *
   * @param d which file
   * @return the bytes
   * @throws StudioException 404 before the run has a result
   */
  byte[] read(Download d) {
    synchronized (this) {
      if (result == null) {
        throw StudioException.notFound("run " + id + " has no " + d.file + " yet: pause it or let it finish");
      }
      try {
        return Files.readAllBytes(dir.resolve(d.file));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + d.file + " of run " + id, e);
      }
    }
  }

  /** The run's state for the page; with its whole loss curve when {@code full}. */
  synchronized ObjectNode snapshot(boolean full) {
    ObjectNode o = json.createObjectNode();
    o.put("id", id);
    o.put("model", model.name());
    o.put("state", state.name().toLowerCase());
    o.put("prompts", prompts);
    if (edit != null) {
      o.put("edit", edit);
    }
    o.put("width", request == null ? 0 : request.width());
    o.put("height", request == null ? 0 : request.height());
    o.put("seed", request == null ? 0 : request.seed());
    o.put("iteration", iteration);
    o.put("iterations", request == null ? 0 : request.iterations());
    if (!Double.isNaN(loss)) {
      o.put("loss", loss);
    }
    o.put("created", created);
    if (error != null) {
      o.put("error", error);
    }
    if (preview != null) {
      o.put("image", preview);
    }
    if (result != null) {
      ObjectNode files = o.putObject("files");
      for (Download d : Download.values()) {
        files.put(d.name().toLowerCase(), "/api/runs/" + id + "/" + d.file);
      }
      try {
        o.set("manifest", json.readTree(result.manifest().toJson()));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    if (full) {
      ArrayNode curve = o.putArray("losses");
      for (double[] p : losses) {
        curve.addArray().add((int) p[0]).add(p[1]);
      }
    }
    return o;
  }

  /** Registers a page connection and sends it the whole state. */
  void watch(SseClient client) {
    clients.add(client);
    client.onClose(() -> clients.remove(client));
    send(client, "state", snapshot(true));
  }

  private void broadcast(String event, ObjectNode data) {
    for (SseClient c : clients) {
      send(c, event, data);
    }
  }

  private void send(SseClient c, String event, ObjectNode data) {
    try {
      if (c.terminated()) {
        clients.remove(c);
      } else {
        c.sendEvent(event, json.writeValueAsString(data));
      }
    } catch (IOException | RuntimeException e) {
      clients.remove(c); // a closed tab: forget it, the run goes on
    }
  }

  /** Closes the page connections (the studio is shutting down). */
  void disconnect() {
    for (SseClient c : clients) {
      try {
        c.close();
      } catch (RuntimeException e) {
        // already gone
      }
    }
    clients.clear();
  }

  static String dataUrl(BufferedImage img) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      ImageIO.write(img, "png", out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return "data:image/png;base64," + Base64.getEncoder().encodeToString(out.toByteArray());
  }

  /** The image of a run's last result, for starting an edit from it. */
  synchronized Tensor image() {
    if (result == null) {
      throw StudioException.conflict("run " + id + " has no image yet: pause it or let it finish");
    }
    return result.image();
  }
}
