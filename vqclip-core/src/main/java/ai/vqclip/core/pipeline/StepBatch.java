package ai.vqclip.core.pipeline;

import ai.vqclip.core.StepListener;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;

/**
 * Several runs advanced together: each iteration is one ONNX Runtime call of a batched step graph
 * for all of them, with a batch dimension on z (the generator synthesizes [B, C, h, w] at once), on
 * the cutouts (the encoders embed [B*n, 3, S, S] at once) and on the prompts (each run's own
 * loss terms and their inputs). Every run keeps its own seed and random streams, prompt
 * schedule, optimizer state, learning-rate schedule, plateau stop, mask, listeners, cancellation and
 * checkpoints; only the forward and backward pass are shared.
 *
 * <p><b>Same pixels.</b> Run b's loss terms are built from its own slice of the images, cutouts and
 * embeddings by the same code as {@link Pipeline#run} builds them ({@link StepGraphs}: built-in,
 * replaced, reweighted and user {@link ai.vqclip.core.Loss} terms alike), and the batch's loss is the sum of the
 * runs' losses, so d(loss)/d(z_b) is run b's own gradient. The generator and encoder ops work per
 * image or per row (convolutions, GroupNorm as InstanceNormalization per (n, group), GEMM rows,
 * per-row softmax and LayerNorm), so with ONNX Runtime's CPU kernels each run is bit-identical to
 * the same request run alone (StepBatchTest checks it for batches of 2 and 4 with different seeds
 * and prompts, and with a user loss, a loss weight and the cosine prompt distance). The per-run
 * host side (optimizer, mask, clamp, plateau, checkpoints, the final image) is a lone run's own code
 * ({@link RunState}); the loop is in {@link BatchRun}.
 *
 * <p><b>Leaving a batch.</b> A run that ends early (cancelled, stopped by a listener, a loss plateau,
 * fewer iterations, a diverged loss) leaves the batch with its result; the others go on in a step
 * graph for the smaller batch, which gives them the same values.
 *
 * <p><b>What batches.</b> Requests batch together when {@link #whyNotBatchable} is null for each and
 * they share the step-graph shape: size, cutout count, cut_pow and augmentations ({@link
 * #whyNotTogether}). Prompts, image and noise prompts, seeds, iterations, optimizer, regularizer, TV
 * weight, init and mask may differ. From/to edits, lockstep image prompts and generators without
 * batched synthesis are not batched: {@link #runAll} runs those alone, logging why.
 */
public final class StepBatch {
  /** The largest batch {@link #run} takes. */
  public static final int MAX_BATCH = 64;

  private StepBatch() {}

  /**
   * One run of a batch.
   *
   * @param request the request
   * @param resumeFrom a checkpoint of the same request to continue from, or null
   * @param checkpoints where this run writes checkpoints
   * @param listeners called after each of this run's steps; one returning false stops this run only
   * @param cancelled polled at each step boundary; true stops this run only (stop reason "cancelled")
   * @param done called once when this run leaves the batch: its result, or its failure
   */
  public record Member(GenerationRequest request, Checkpoint resumeFrom, Pipeline.CheckpointSettings checkpoints,
      List<StepListener> listeners, BooleanSupplier cancelled, BiConsumer<RunResult, Throwable> done) {
    /**
     * Validates.
     *
     * @param request the request
     * @param resumeFrom a checkpoint of the same request to continue from, or null
     * @param checkpoints where this run writes checkpoints
     * @param listeners called after each of this run's steps; one returning false stops this run only
     * @param cancelled polled at each step boundary; true stops this run only (stop reason "cancelled")
     * @param done called once when this run leaves the batch: its result, or its failure
     * @throws NullPointerException for a null value that is required
     */
    public Member {
      Objects.requireNonNull(request, "request");
      Objects.requireNonNull(checkpoints, "checkpoints");
      listeners = List.copyOf(listeners);
      cancelled = cancelled != null ? cancelled : () -> false;
      done = done != null ? done : (r, t) -> {};
    }

    /**
     * A run from its start, without checkpoints.
     *
     * @param request the request
     * @param listeners called after each of this run's steps
     * @return the member
     */
    public static Member of(GenerationRequest request, StepListener... listeners) {
      return new Member(request, null, Pipeline.CheckpointSettings.none(), List.of(listeners), null, null);
    }
  }

  /**
   * How one run of a batch ended: a result, or the exception a lone run would have thrown.
   *
   * @param result the run's result, or null when it failed
   * @param failure what the run threw, or null
   */
  public record Outcome(RunResult result, Throwable failure) {
    /**
     * The result, or the failure rethrown (unchecked).
     *
     * @return the result
     * @throws RuntimeException the failure (or an {@code IllegalStateException} wrapping a checked one)
     */
    public RunResult get() {
      if (failure instanceof RuntimeException e) {
        throw e;
      }
      if (failure instanceof Error e) {
        throw e;
      }
      if (failure != null) {
        throw new IllegalStateException(failure);
      }
      return result;
    }
  }

  /**
   * Why {@code request} cannot run in a batch on {@code pipeline} at all, or null when it can.
   *
   * @param pipeline the pipeline
   * @param request the request
   * @return the reason, or null
   */
  public static String whyNotBatchable(Pipeline pipeline, GenerationRequest request) {
    if (!pipeline.generator.supportsBatchedSynthesis()) {
      return "the generator " + pipeline.generator.getClass().getSimpleName() + " does not synthesize batches";
    }
    if (request.edit() != null) {
      return "from/to edits are not batched (their source image, mask and content term are per-run constants)";
    }
    if (request.imagePromptsLockstep()) {
      return "lockstep image prompts are not batched (their cutouts are per-run constants in the step graph)";
    }
    return null;
  }

  /**
   * Why two batchable requests cannot share one batched step graph (a different step-graph shape),
   * or null when they can.
   *
   * @param a one request
   * @param b another
   * @return the reason, or null
   */
  public static String whyNotTogether(GenerationRequest a, GenerationRequest b) {
    if (!shapeKey(a).equals(shapeKey(b))) {
      return "different step-graph shape: " + shapeKey(a) + " vs " + shapeKey(b);
    }
    return null;
  }

  /** What the shared part of a batched step graph depends on. */
  static String shapeKey(GenerationRequest r) {
    return "size " + r.width() + "x" + r.height() + ", cutouts " + r.cutouts() + ", cutPow " + r.cutPow() + ", augmentations "
        + r.augmentations();
  }

  /**
   * Groups requests into batches of at most {@code maxBatch}, in order of first appearance: each
   * batchable request joins the first open group of its step-graph shape; the others are groups of
   * one.
   *
   * @param pipeline the pipeline the requests run on
   * @param requests the requests
   * @param maxBatch the largest batch, in [1, {@link #MAX_BATCH}]
   * @return groups of indices into {@code requests}
   * @throws IllegalArgumentException for maxBatch out of range
   */
  public static List<List<Integer>> plan(Pipeline pipeline, List<GenerationRequest> requests, int maxBatch) {
    checkMaxBatch(maxBatch);
    List<List<Integer>> groups = new ArrayList<>();
    Map<String, List<Integer>> open = new HashMap<>();
    for (int i = 0; i < requests.size(); i++) {
      GenerationRequest r = requests.get(i);
      if (maxBatch == 1 || whyNotBatchable(pipeline, r) != null) {
        groups.add(List.of(i));
        continue;
      }
      List<Integer> g = open.get(shapeKey(r));
      if (g == null || g.size() >= maxBatch) {
        g = new ArrayList<>();
        groups.add(g);
        open.put(shapeKey(r), g);
      }
      g.add(i);
    }
    return groups;
  }

  static void checkMaxBatch(int maxBatch) {
    if (maxBatch < 1 || maxBatch > MAX_BATCH) {
      throw new IllegalArgumentException("maxBatch must be in [1, " + MAX_BATCH + "], got " + maxBatch);
    }
  }

  /**
   * Runs every request, batching what can batch ({@link #plan}) and running the rest alone (the
   * reason is logged), one group after the other on the calling thread.
   *
   * @param pipeline the pipeline
   * @param requests the requests
   * @param maxBatch the largest batch, in [1, {@link #MAX_BATCH}]
   * @return the outcomes, in the order of {@code requests}
   */
  public static List<Outcome> runAll(Pipeline pipeline, List<GenerationRequest> requests, int maxBatch) {
    Outcome[] out = new Outcome[requests.size()];
    for (List<Integer> g : plan(pipeline, requests, maxBatch)) {
      List<Member> ms = new ArrayList<>();
      for (int i : g) {
        ms.add(Member.of(requests.get(i)));
      }
      List<Outcome> os = run(pipeline, ms);
      for (int k = 0; k < g.size(); k++) {
        out[g.get(k)] = os.get(k);
      }
    }
    return List.of(out);
  }

  /**
   * Runs the members together on the calling thread and returns when all have ended. One member
   * runs as {@link Pipeline#run} runs it; several must be batchable and share one step-graph shape.
   * Each member's {@code done} is called as it leaves the batch. {@link Thread#interrupt()} of the
   * calling thread stops every member at the next step boundary (stop reason "interrupted"; the
   * flag is set again on return).
   *
   * @param pipeline the pipeline
   * @param members the runs, at most {@link #MAX_BATCH}
   * @return the outcomes, in the order of {@code members}
   * @throws IllegalArgumentException when the members cannot batch (the message says why)
   */
  public static List<Outcome> run(Pipeline pipeline, List<Member> members) {
    if (members.isEmpty()) {
      return List.of();
    }
    checkMaxBatch(members.size());
    if (members.size() == 1) {
      Member m = members.get(0);
      Outcome o;
      try {
        o = new Outcome(pipeline.run(m.request(), m.resumeFrom(), m.checkpoints(), m.listeners(), m.cancelled()), null);
      } catch (RuntimeException | OutOfMemoryError e) {
        o = new Outcome(null, e);
      }
      m.done().accept(o.result(), o.failure());
      return List.of(o);
    }
    for (Member m : members) {
      String why = whyNotBatchable(pipeline, m.request());
      if (why == null) {
        why = whyNotTogether(members.get(0).request(), m.request());
      }
      if (why != null) {
        throw new IllegalArgumentException("request cannot join this batch: " + why);
      }
    }
    return new BatchRun(pipeline, members).go();
  }
}
