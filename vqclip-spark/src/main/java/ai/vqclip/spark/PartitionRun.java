package ai.vqclip.spark;

import ai.vqclip.core.StepEvent;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.image.Images;
import ai.vqclip.core.pipeline.GenerationJob;
import ai.vqclip.core.pipeline.Pipeline;
import ai.vqclip.core.pipeline.RunManifest;
import ai.vqclip.core.pipeline.RunResult;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import scala.jdk.javaapi.CollectionConverters;

/**
 * One task's partition of requests, run through its executor's shared generation service: the
 * requests of a window are submitted together (so the service batches them), and each result row
 * is produced, in input order, once its picture is committed. Lazy: Spark pulls rows as it needs
 * them. When the task ends early (failed or killed), its runs still queued or running are
 * cancelled, so that no abandoned run writes after a retry began.
 */
final class PartitionRun implements Iterator<Row> {
  /** PNG text key of the run manifest (as {@code vqclip generate} writes it). */
  static final String MANIFEST_KEY = "vqclip";

  /** PNG text key of the request, as JSON. */
  static final String REQUEST_KEY = "vqclip-request";

  /** PNG text key of the last step's losses, as JSON. */
  static final String LOSSES_KEY = "vqclip-losses";

  private static final JsonMapper JSON = JsonMapper.builder().enable(JsonWriteFeature.ESCAPE_NON_ASCII).build();

  /** A request on its way: done (skipped or failed before running) or a job to await. */
  private static final class Pending {
    final Row input;
    final RequestSpec spec;
    final long arrivalNanos = System.nanoTime();
    Row done;
    GenerationJob job;
    final AtomicReference<StepEvent> last = new AtomicReference<>();

    Pending(Row input, RequestSpec spec) {
      this.input = input;
      this.spec = spec;
    }
  }

  private final Iterator<Row> input;
  private final JobSpec job;
  private final ArrayDeque<Pending> window = new ArrayDeque<>();
  private final int windowSize;
  private final int attempt;
  private final String attemptTag;
  private final String executor;
  private ExecutorModels.Loaded models;
  private OutputStore store;
  private long loadMillis;
  private boolean loadReported;

  PartitionRun(Iterator<Row> input, JobSpec job) {
    this.input = input;
    this.job = job;
    this.windowSize = Math.max(2, 2 * job.settings().maxConcurrent() * job.settings().maxBatch());
    TaskContext ctx = TaskContext.get();
    this.attempt = ctx == null ? 0 : ctx.attemptNumber();
    this.attemptTag = ctx == null ? "local" : "s" + ctx.stageId() + "p" + ctx.partitionId() + "a" + ctx.attemptNumber();
    this.executor = SparkEnv.get() == null ? "driver" : SparkEnv.get().executorId();
    if (ctx != null) {
      ctx.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) c -> cancelPending());
    }
  }

  private void cancelPending() {
    for (Pending p : window) {
      if (p.job != null) {
        p.job.cancel();
      }
    }
  }

  @Override
  public boolean hasNext() {
    return !window.isEmpty() || input.hasNext();
  }

  @Override
  public Row next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    if (models == null) {
      long t0 = System.nanoTime();
      models = ExecutorModels.get(job.models(), job.settings(), job.hadoopConf());
      loadMillis = (System.nanoTime() - t0) / 1_000_000;
      store = new OutputStore(job.outputDir(), job.hadoopConf());
    }
    while (window.size() < windowSize && input.hasNext()) {
      window.add(admit(input.next()));
    }
    Pending p = window.poll();
    return p.done != null ? p.done : finish(p);
  }

  /** Reads a request: a bad one fails now, a finished one is skipped, the others are submitted. */
  private Pending admit(Row row) {
    RequestSpec spec;
    try {
      spec = RequestSpec.of(row, models.defaults(), models.sizeStep());
    } catch (RuntimeException e) {
      Pending p = new Pending(row, null);
      p.done = failed(p, e);
      return p;
    }
    Pending p = new Pending(row, spec);
    try {
      if (store.exists(spec.fileName())) {
        p.done = existing(p);
      } else {
        p.job = models.service().submit(spec.request(), null, Pipeline.CheckpointSettings.none(), List.of(e -> {
          p.last.set(e);
          return true;
        }));
      }
    } catch (RuntimeException e) {
      p.done = failed(p, e);
    }
    return p;
  }

  /** Awaits a submitted run and commits its picture. */
  private Row finish(Pending p) {
    RunResult result;
    try {
      result = p.job.result().get();
    } catch (ExecutionException e) {
      return failed(p, e.getCause());
    } catch (CancellationException e) {
      return failed(p, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // Spark kills a task by interrupting it
      cancelPending();
      throw new IllegalStateException("task interrupted while waiting for " + p.spec.fileName(), e);
    }
    try {
      long t0 = System.nanoTime();
      StepEvent last = p.last.get();
      Map<String, Double> terms = last == null ? Map.of() : last.terms();
      double loss = last == null ? Double.NaN : last.loss();
      String manifest = ascii(result.manifest().toJson());
      Map<String, String> text = new LinkedHashMap<>();
      text.put(MANIFEST_KEY, manifest);
      text.put(REQUEST_KEY, JSON.writeValueAsString(p.spec));
      text.put(LOSSES_KEY, JSON.writeValueAsString(Map.of("loss", loss, "terms", terms)));
      text.put("Software", "vqclip " + Pipeline.VERSION);
      byte[] png = png(result.image(), text);
      if (!store.commit(p.spec.fileName(), png, attemptTag)) {
        return existing(p); // another attempt committed it first
      }
      long writeMs = (System.nanoTime() - t0) / 1_000_000;
      RunManifest m = result.manifest();
      return row(p, Columns.GENERATED, sha256(png), pixelsSha256(Images.toImage(result.image())), m.iterationsRun(), loss, terms,
          m.elapsedMillis(), writeMs, manifest, null);
    } catch (IOException | RuntimeException e) {
      return failed(p, e);
    }
  }

  /** The row of a request whose picture is already in the output folder, read back from its PNG. */
  private Row existing(Pending p) {
    byte[] png = store.read(p.spec.fileName());
    Path tmp = null;
    try {
      tmp = Files.createTempFile("vqclip-spark", ".png");
      Files.write(tmp, png);
      Map<String, String> text = Images.readPngText(tmp);
      String pixels = pixelsSha256(Images.toImage(Images.read(tmp)));
      String manifest = text.get(MANIFEST_KEY);
      Integer iterations = null;
      if (manifest != null) {
        iterations = JSON.readTree(manifest).path("iterationsRun").asInt();
      }
      double loss = Double.NaN;
      Map<String, Double> terms = Map.of();
      if (text.get(LOSSES_KEY) != null) {
        JsonNode l = JSON.readTree(text.get(LOSSES_KEY));
        loss = l.path("loss").asDouble(Double.NaN);
        terms = new LinkedHashMap<>();
        for (var it = l.path("terms").fields(); it.hasNext();) {
          var e = it.next();
          terms.put(e.getKey(), e.getValue().asDouble());
        }
      }
      return row(p, Columns.SKIPPED, sha256(png), pixels, iterations, loss, terms, null, null, manifest, null);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read back " + store.location(p.spec.fileName()) + ": " + e.getMessage(), e);
    } finally {
      deleteQuietly(tmp);
    }
  }

  private Row failed(Pending p, Throwable e) {
    String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + ": " + e.getMessage();
    return row(p, Columns.FAILED, null, null, null, null, null, null, null, null, why);
  }

  private Row row(Pending p, String status, String sha, String pixels, Integer iterations, Double loss, Map<String, Double> terms, Long runMs,
      Long writeMs, String manifest, String error) {
    Row in = p.input;
    String prompt = in.isNullAt(0) ? null : in.getString(0);
    Long seed = in.isNullAt(1) ? null : in.getLong(1);
    String output = p.spec == null || Columns.FAILED.equals(status) ? null : store.location(p.spec.fileName());
    Integer w = p.spec == null ? null : p.spec.width();
    Integer h = p.spec == null ? null : p.spec.height();
    long load = loadReported ? 0 : loadMillis; // on one row of the task, so that a sum over rows counts each wait once
    loadReported = true;
    return RowFactory.create(prompt, seed, status, output, sha, pixels, w, h, iterations, loss,
        terms == null ? null : CollectionConverters.asScala(terms), load, runMs, writeMs, (System.nanoTime() - p.arrivalNanos) / 1_000_000,
        manifest, error, attempt, executor);
  }

  private static byte[] png(Tensor image, Map<String, String> text) throws IOException {
    Path tmp = Files.createTempFile("vqclip-spark", ".png");
    try {
      Images.writePng(image, tmp, text);
      return Files.readAllBytes(tmp);
    } finally {
      deleteQuietly(tmp);
    }
  }

  private static void deleteQuietly(Path p) {
    if (p != null) {
      try {
        Files.deleteIfExists(p);
      } catch (IOException ignored) {
        // a temporary file in the executor's temporary folder
      }
    }
  }

  private static String ascii(String json) throws IOException {
    return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(JSON.readTree(json));
  }

  /** @return hex SHA-256 of the bytes */
  static String sha256(byte[] bytes) {
    return HexFormat.of().formatHex(digest().digest(bytes));
  }

  /** @return hex SHA-256 of the picture's 8-bit R, G, B values, row by row */
  static String pixelsSha256(BufferedImage img) {
    MessageDigest d = digest();
    byte[] line = new byte[img.getWidth() * 3];
    for (int y = 0; y < img.getHeight(); y++) {
      for (int x = 0; x < img.getWidth(); x++) {
        int rgb = img.getRGB(x, y);
        line[3 * x] = (byte) (rgb >> 16);
        line[3 * x + 1] = (byte) (rgb >> 8);
        line[3 * x + 2] = (byte) rgb;
      }
      d.update(line);
    }
    return HexFormat.of().formatHex(d.digest());
  }

  private static MessageDigest digest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("no SHA-256", e);
    }
  }
}
