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
 * @param scheduleState the learning-rate schedule's state ({@link ai.vqclip.core.LearningRateSchedule.Run#save()}),
 *     at most {@link ai.vqclip.core.LearningRateSchedule#MAX_STATE} values, none NaN; empty for a stateless one
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
    String request,
    double[] scheduleState) {
  /** Format version written in the file. */
  public static final int FORMAT = 1;

  /** Largest checkpoint file read (the latent of an 8192^2 image with f=8 and 256 channels, times four). */
  public static final long MAX_BYTES = 1L << 30;

  // The arrays are base64 strings: allow strings as long as the file may be (Jackson's default is 20 M chars).
  private static final ObjectMapper JSON = new ObjectMapper(com.fasterxml.jackson.core.JsonFactory.builder()
      .streamReadConstraints(com.fasterxml.jackson.core.StreamReadConstraints.builder().maxStringLength((int) MAX_BYTES).build()).build());

  /** Largest iteration a checkpoint may be at (GenerationRequest's iteration limit). */
  public static final int MAX_ITERATION = 1_000_000;

  /** Largest rank of the latent. */
  public static final int MAX_RANK = 8;

  /**
   * Checks everything that can be checked without the run's settings: the shape and the three
   * arrays agree (the optimizer state holds 0 to 3 moments per latent value, or the one slot of a
   * stateless optimizer), every value is finite, and the counters are in range: {@code 0 <=
   * optimizerSteps <= iteration <= MAX_ITERATION} (one optimizer step per iteration) and {@code 0 <=
   * bestIteration <= iteration}; {@code bestLoss} is finite or +infinity (no step yet).
   *
   * @param iteration the next iteration to run
   * @param latentShape shape of z
   * @param latent z
   * @param latentInit z at the start of the run
   * @param optimizerState the optimizer's moments
   * @param optimizerSteps the optimizer's step count
   * @param bestLoss best total loss so far
   * @param bestIteration iteration of the best loss
   * @param request a description of the request
   * @param scheduleState the learning-rate schedule's state
   * @throws IllegalArgumentException naming the first field that is wrong
   */
  public Checkpoint {
    Objects.requireNonNull(latentShape, "latentShape");
    Objects.requireNonNull(scheduleState, "scheduleState");
    scheduleState = scheduleState.clone();
    if (scheduleState.length > ai.vqclip.core.LearningRateSchedule.MAX_STATE) {
      throw new IllegalArgumentException("checkpoint scheduleState has " + scheduleState.length + " values; at most "
          + ai.vqclip.core.LearningRateSchedule.MAX_STATE + " are allowed");
    }
    for (int i = 0; i < scheduleState.length; i++) {
      if (Double.isNaN(scheduleState[i])) {
        throw new IllegalArgumentException("checkpoint scheduleState[" + i + "] is NaN");
      }
    }
    Objects.requireNonNull(latent, "latent");
    Objects.requireNonNull(latentInit, "latentInit");
    Objects.requireNonNull(optimizerState, "optimizerState");
    latentShape = latentShape.clone();
    latent = latent.clone();
    latentInit = latentInit.clone();
    optimizerState = optimizerState.clone();
    if (latentShape.length < 1 || latentShape.length > MAX_RANK) {
      throw new IllegalArgumentException("checkpoint latentShape must have 1 to " + MAX_RANK + " dimensions, got " + Arrays.toString(latentShape));
    }
    long n = 1;
    for (long d : latentShape) {
      if (d < 1 || d > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("checkpoint latentShape " + Arrays.toString(latentShape) + " has a dimension outside [1, 2^31-1]");
      }
      n = Math.multiplyHigh(n, d) != 0 || n * d > Integer.MAX_VALUE ? Long.MAX_VALUE : n * d;
    }
    if (n != latent.length || latentInit.length != latent.length) {
      throw new IllegalArgumentException("checkpoint latent has " + latent.length + " values (init " + latentInit.length + "), shape "
          + Arrays.toString(latentShape) + " needs " + (n == Long.MAX_VALUE ? "more than 2^31-1" : Long.toString(n)));
    }
    int k = optimizerState.length / latent.length;
    if (!(optimizerState.length == 1 || (optimizerState.length % latent.length == 0 && k >= 1 && k <= 3))) {
      throw new IllegalArgumentException("checkpoint optimizerState has " + optimizerState.length + " values; an optimizer of " + latent.length
          + " parameters keeps 1, 2 or 3 values per parameter (or 1 in all when stateless)");
    }
    requireFinite("latent", latent);
    requireFinite("latentInit", latentInit);
    requireFinite("optimizerState", optimizerState);
    if (iteration < 0 || iteration > MAX_ITERATION) {
      throw new IllegalArgumentException("checkpoint iteration must be in [0, " + MAX_ITERATION + "], got " + iteration);
    }
    if (optimizerSteps < 0 || optimizerSteps > iteration) {
      throw new IllegalArgumentException("checkpoint optimizerSteps must be in [0, iteration = " + iteration + "] (one step per iteration), got "
          + optimizerSteps);
    }
    if (bestIteration < 0 || bestIteration > iteration) {
      throw new IllegalArgumentException("checkpoint bestIteration must be in [0, iteration = " + iteration + "], got " + bestIteration);
    }
    if (Double.isNaN(bestLoss) || bestLoss == Double.NEGATIVE_INFINITY) {
      throw new IllegalArgumentException("checkpoint bestLoss must be finite or +Infinity, got " + bestLoss);
    }
  }

  /**
   * A checkpoint of a run whose learning-rate schedule keeps no state.
   *
   * @param iteration iterations run
   * @param latentShape the shape of z
   * @param latent z
   * @param latentInit z at the start of the run
   * @param optimizerState the optimizer's saved state
   * @param optimizerSteps the optimizer's step count
   * @param bestLoss the best loss so far (+Infinity: none)
   * @param bestIteration where the best loss was
   * @param request the request's description
   * @throws IllegalArgumentException as the canonical constructor
   */
  public Checkpoint(int iteration, long[] latentShape, float[] latent, float[] latentInit, float[] optimizerState, int optimizerSteps,
      double bestLoss, int bestIteration, String request) {
    this(iteration, latentShape, latent, latentInit, optimizerState, optimizerSteps, bestLoss, bestIteration, request, new double[0]);
  }

  /** @return the learning-rate schedule's state (a copy) */
  @Override
  public double[] scheduleState() {
    return scheduleState.clone();
  }

  private static void requireFinite(String field, float[] v) {
    for (int i = 0; i < v.length; i++) {
      if (!Float.isFinite(v[i])) {
        throw new IllegalArgumentException("checkpoint " + field + "[" + i + "] is " + v[i] + "; every value must be finite");
      }
    }
  }

  /** @return shape of z (a copy) */
  @Override
  public long[] latentShape() {
    return latentShape.clone();
  }

  /** @return z (a copy) */
  @Override
  public float[] latent() {
    return latent.clone();
  }

  /** @return z at the start of the run (a copy) */
  @Override
  public float[] latentInit() {
    return latentInit.clone();
  }

  /** @return the optimizer's moments (a copy) */
  @Override
  public float[] optimizerState() {
    return optimizerState.clone();
  }

  /**
   * The same state with another latent (continue from an edited image's encoding).
   *
   * @param z the latent, of the same shape
   * @return the checkpoint
   * @throws IllegalArgumentException for a latent of another size
   */
  public Checkpoint withLatent(float[] z) {
    return new Checkpoint(iteration, latentShape, z, latentInit, optimizerState, optimizerSteps, bestLoss, bestIteration, request, scheduleState);
  }

  /**
   * The same state continuing from a picture a person edited: its encoding becomes both the latent
   * and the {@link Regularization.Target#INIT} target. The edit is the run's new start, so a pull
   * towards the start (a sketch start, an init image with a weight) keeps the edit instead of drawing
   * the picture back to what it was before it. {@link #withLatent} keeps the old target.
   *
   * @param z the edited picture's latent, of the same shape
   * @return the checkpoint
   * @throws IllegalArgumentException for a latent of another size
   */
  public Checkpoint withEditedLatent(float[] z) {
    return new Checkpoint(iteration, latentShape, z, z, optimizerState, optimizerSteps, bestLoss, bestIteration, request, scheduleState);
  }

  /**
   * Writes the checkpoint atomically (a temporary file in the same folder, then a rename).
   *
   * @param path the file
   * @throws java.io.UncheckedIOException when it cannot be written
   */
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
    if (scheduleState.length > 0) {
      ByteBuffer b = ByteBuffer.allocate(scheduleState.length * 8).order(ByteOrder.LITTLE_ENDIAN);
      b.asDoubleBuffer().put(scheduleState);
      o.put("scheduleState", Base64.getEncoder().encodeToString(b.array()));
    }
    Path abs = path.toAbsolutePath();
    try {
      Path dir = abs.getParent();
      Files.createDirectories(dir);
      Path tmp = Files.createTempFile(dir, abs.getFileName().toString(), ".tmp");
      try {
        try (java.io.OutputStream os = ai.vqclip.core.FaultPoints.partial("checkpoint.partial", Files.newOutputStream(tmp))) {
          JSON.writeValue(os, o);
        }
        ai.vqclip.core.image.Images.makeReadable(tmp);
        ai.vqclip.core.FaultPoints.reach("checkpoint.written");
        Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } finally {
        Files.deleteIfExists(tmp);
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot write checkpoint " + path + ": " + e.getMessage(), e);
    }
  }

  /**
   * Reads and validates a checkpoint (everything the constructor checks, and every field's JSON
   * type: a missing, fractional or out-of-range number is an error, never a default).
   *
   * @param path the file
   * @return the checkpoint
   * @throws ModelLoadException when the file is missing, too big, or not a valid vqclip checkpoint,
   *     naming the field
   */
  public static Checkpoint load(Path path) {
    try {
      long size = Files.size(path);
      if (size > MAX_BYTES) {
        throw new ModelLoadException("checkpoint " + path + " is " + size + " bytes; at most " + MAX_BYTES + " are read");
      }
      JsonNode o = JSON.readTree(path.toFile());
      if (o == null || !o.isObject() || !o.path("format").isInt() || o.path("format").asInt() != FORMAT) {
        throw new ModelLoadException(path + " is not a vqclip checkpoint (format " + FORMAT + ")");
      }
      JsonNode shapeNode = o.get("latentShape");
      if (shapeNode == null || !shapeNode.isArray() || shapeNode.size() > MAX_RANK) {
        throw new IllegalArgumentException("field 'latentShape' must be an array of at most " + MAX_RANK + " integers");
      }
      long[] shape = new long[shapeNode.size()];
      for (int i = 0; i < shape.length; i++) {
        if (!shapeNode.get(i).canConvertToLong() || !shapeNode.get(i).isIntegralNumber()) {
          throw new IllegalArgumentException("field 'latentShape' must hold integers, got " + shapeNode.get(i));
        }
        shape[i] = shapeNode.get(i).asLong();
      }
      JsonNode best = o.get("bestLoss");
      if (best == null || !(best.isTextual() || best.isNumber())) {
        throw new IllegalArgumentException("field 'bestLoss' is missing");
      }
      return new Checkpoint(intField(o, "iteration"), shape, decode(o, "latent"), decode(o, "latentInit"), decode(o, "optimizerState"),
          intField(o, "optimizerSteps"), Double.parseDouble(best.asText()), intField(o, "bestIteration"), o.path("request").asText(""),
          doubles(o, "scheduleState"));
    } catch (IOException | RuntimeException e) {
      if (e instanceof ModelLoadException m) {
        throw m;
      }
      throw new ModelLoadException("cannot read checkpoint " + path + ": " + e.getMessage(), e);
    }
  }

  private static int intField(JsonNode o, String field) {
    JsonNode n = o.get(field);
    if (n == null || !n.isIntegralNumber() || !n.canConvertToInt()) {
      throw new IllegalArgumentException("field '" + field + "' must be an integer in [-2^31, 2^31-1], got " + n);
    }
    return n.asInt();
  }

  private static String encode(float[] v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(v);
    return Base64.getEncoder().encodeToString(b.array());
  }

  /** An optional field of base64 little-endian doubles (absent: empty). */
  private static double[] doubles(JsonNode o, String field) {
    if (o.get(field) == null) {
      return new double[0];
    }
    float[] asFloats = decode(o, field); // base64 and a multiple of 4 bytes checked there
    if (asFloats.length % 2 != 0) {
      throw new IllegalArgumentException("field '" + field + "' has " + asFloats.length * 4 + " bytes, not a double array");
    }
    if (asFloats.length / 2 > ai.vqclip.core.LearningRateSchedule.MAX_STATE) {
      throw new IllegalArgumentException("field '" + field + "' has " + asFloats.length / 2 + " values; at most "
          + ai.vqclip.core.LearningRateSchedule.MAX_STATE + " are allowed");
    }
    byte[] bytes = Base64.getDecoder().decode(o.get(field).asText());
    double[] v = new double[bytes.length / 8];
    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().get(v);
    return v;
  }

  private static float[] decode(JsonNode o, String field) {
    JsonNode n = o.get(field);
    if (n == null || !n.isTextual()) {
      throw new IllegalArgumentException("field '" + field + "' is missing");
    }
    byte[] bytes;
    try {
      bytes = Base64.getDecoder().decode(n.asText());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("field '" + field + "' is not base64: " + e.getMessage(), e);
    }
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
        && Objects.equals(c.request, request) && Arrays.equals(c.scheduleState, scheduleState);
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
