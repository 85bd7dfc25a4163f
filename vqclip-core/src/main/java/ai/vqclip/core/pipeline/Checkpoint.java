package ai.vqclip.core.pipeline;

import ai.vqclip.core.ModelLoadException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;

/**
 * The complete state of a run between two iterations: resuming from it continues bit for bit as if
 * the run had never stopped. Stored as JSON (float arrays as base64 little-endian bytes) and
 * written atomically.
 *
 * @param iteration the next iteration to run
 * @param latentShape shape of z
 * @param latent z
 * @param latentInit z at the start of the run (the INIT regularization target)
 * @param optimizerState the optimizer's moments
 * @param optimizerSteps the optimizer's step count
 * @param bestLoss best total loss so far (plateau detection)
 * @param bestIteration iteration of the best loss
 * @param request a description of the request, for people and tools (not read back)
 */
public record Checkpoint(
    int iteration,
    long[] latentShape,
    float[] latent,
    float[] latentInit,
    float[] optimizerState,
    int optimizerSteps,
    double bestLoss,
    int bestIteration,
    String request) {
  /** Format version written in the file. */
  public static final int FORMAT = 1;

  /** Largest checkpoint file read (the latent of an 8192^2 image with f=8 and 256 channels, times four). */
  public static final long MAX_BYTES = 1L << 30;

  private static final ObjectMapper JSON = new ObjectMapper();

  public Checkpoint {
    Objects.requireNonNull(latentShape, "latentShape");
    Objects.requireNonNull(latent, "latent");
    Objects.requireNonNull(latentInit, "latentInit");
    Objects.requireNonNull(optimizerState, "optimizerState");
    latentShape = latentShape.clone();
    latent = latent.clone();
    latentInit = latentInit.clone();
    optimizerState = optimizerState.clone();
    long n = 1;
    for (long d : latentShape) {
      n *= d;
    }
    if (n != latent.length || latentInit.length != latent.length) {
      throw new IllegalArgumentException("checkpoint latent has " + latent.length + " values (init " + latentInit.length + "), shape "
          + Arrays.toString(latentShape) + " needs " + n);
    }
    if (iteration < 0 || optimizerSteps < 0) {
      throw new IllegalArgumentException("checkpoint iteration and optimizer steps must be >= 0, got " + iteration + ", " + optimizerSteps);
    }
  }

  @Override
  public long[] latentShape() {
    return latentShape.clone();
  }

  @Override
  public float[] latent() {
    return latent.clone();
  }

  @Override
  public float[] latentInit() {
    return latentInit.clone();
  }

  @Override
  public float[] optimizerState() {
    return optimizerState.clone();
  }

  /** The same state with another latent (continue from an edited image's encoding). */
  public Checkpoint withLatent(float[] z) {
    return new Checkpoint(iteration, latentShape, z, latentInit, optimizerState, optimizerSteps, bestLoss, bestIteration, request);
  }

  /** Writes the checkpoint atomically (a temporary file in the same folder, then a rename). */
  public void save(Path path) {
    ObjectNode o = JSON.createObjectNode();
    o.put("format", FORMAT);
    o.put("iteration", iteration);
    o.putPOJO("latentShape", latentShape);
    o.put("latent", encode(latent));
    o.put("latentInit", encode(latentInit));
    o.put("optimizerState", encode(optimizerState));
    o.put("optimizerSteps", optimizerSteps);
    o.put("bestLoss", Double.toString(bestLoss));
    o.put("bestIteration", bestIteration);
    o.put("request", request);
    Path abs = path.toAbsolutePath();
    try {
      Path dir = abs.getParent();
      Files.createDirectories(dir);
      Path tmp = Files.createTempFile(dir, abs.getFileName().toString(), ".tmp");
      try {
        JSON.writeValue(tmp.toFile(), o);
        ai.vqclip.core.image.Images.makeReadable(tmp);
        Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } finally {
        Files.deleteIfExists(tmp);
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot write checkpoint " + path + ": " + e.getMessage(), e);
    }
  }

  /**
   * Reads a checkpoint.
   *
   * @throws ModelLoadException when the file is missing, too big, or not a vqclip checkpoint
   */
  public static Checkpoint load(Path path) {
    try {
      long size = Files.size(path);
      if (size > MAX_BYTES) {
        throw new ModelLoadException("checkpoint " + path + " is " + size + " bytes; at most " + MAX_BYTES + " are read");
      }
      JsonNode o = JSON.readTree(path.toFile());
      if (o == null || !o.isObject() || o.path("format").asInt(-1) != FORMAT) {
        throw new ModelLoadException(path + " is not a vqclip checkpoint (format " + FORMAT + ")");
      }
      long[] shape = JSON.treeToValue(o.get("latentShape"), long[].class);
      return new Checkpoint(o.get("iteration").asInt(), shape, decode(o, "latent"), decode(o, "latentInit"), decode(o, "optimizerState"),
          o.get("optimizerSteps").asInt(), Double.parseDouble(o.get("bestLoss").asText()), o.get("bestIteration").asInt(),
          o.path("request").asText(""));
    } catch (IOException | RuntimeException e) {
      if (e instanceof ModelLoadException m) {
        throw m;
      }
      throw new ModelLoadException("cannot read checkpoint " + path + ": " + e.getMessage(), e);
    }
  }

  private static String encode(float[] v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(v);
    return Base64.getEncoder().encodeToString(b.array());
  }

  private static float[] decode(JsonNode o, String field) {
    JsonNode n = o.get(field);
    if (n == null || !n.isTextual()) {
      throw new IllegalArgumentException("field '" + field + "' is missing");
    }
    byte[] bytes = Base64.getDecoder().decode(n.asText());
    if (bytes.length % 4 != 0) {
      throw new IllegalArgumentException("field '" + field + "' has " + bytes.length + " bytes, not a float array");
    }
    float[] v = new float[bytes.length / 4];
    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
    return v;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Checkpoint c && c.iteration == iteration && Arrays.equals(c.latentShape, latentShape)
        && Arrays.equals(c.latent, latent) && Arrays.equals(c.latentInit, latentInit) && Arrays.equals(c.optimizerState, optimizerState)
        && c.optimizerSteps == optimizerSteps && Double.compare(c.bestLoss, bestLoss) == 0 && c.bestIteration == bestIteration
        && Objects.equals(c.request, request);
  }

  @Override
  public int hashCode() {
    return Objects.hash(iteration, Arrays.hashCode(latent), optimizerSteps);
  }

  @Override
  public String toString() {
    return "Checkpoint[iteration=" + iteration + ", latent=" + Arrays.toString(latentShape) + "]";
  }
}
