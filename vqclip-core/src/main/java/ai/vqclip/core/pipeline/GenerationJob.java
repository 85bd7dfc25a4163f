package ai.vqclip.core.pipeline;

import ai.vqclip.core.StepEvent;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request submitted to a {@link GenerationService}: its future result, its progress and its
 * cancellation. Safe to use from any thread.
 *
 * <p>{@link #cancel()} of a queued job removes it (the future then fails with a {@link
 * java.util.concurrent.CancellationException}); of a running job, stops it at the next step
 * boundary, and the future completes normally with the last image and checkpoint (manifest stop
 * reason {@code "cancelled"}). Cancelling the future itself ({@code result().cancel(..)}) also stops
 * the run, but that result is then discarded; prefer {@link #cancel()}.
 */
public final class GenerationJob {
  private static final Logger LOG = LoggerFactory.getLogger(GenerationJob.class);

  /** Where a job is in its life. */
  public enum State {
    /** Accepted, waiting for a free run slot. */
    QUEUED,
    /** Its steps are running. */
    RUNNING,
    /** Finished all its iterations (or stopped by a listener or a plateau). */
    SUCCEEDED,
    /** Cancelled: before it started (no result), or while running (result with the last image). */
    CANCELLED,
    /** The run threw (the future holds the exception). */
    FAILED
  }

  private final long id;
  private final GenerationRequest request;
  private final CompletableFuture<RunResult> result = new CompletableFuture<>();
  private final List<Consumer<StepEvent>> progress = new CopyOnWriteArrayList<>();
  private final AtomicReference<State> state = new AtomicReference<>(State.QUEUED);
  private volatile boolean cancelRequested;
  private volatile StepEvent last;
  private volatile Runnable onCancelQueued = () -> {};
  private volatile int batchSize;

  GenerationJob(long id, GenerationRequest request) {
    this.id = id;
    this.request = Objects.requireNonNull(request, "request");
    // Cancelling the future stops the run too (its result can no longer be delivered).
    result.whenComplete((r, t) -> {
      if (result.isCancelled()) {
        cancel();
      }
    });
  }

  /** @return the service's number for this job (1, 2, ... in order of submission) */
  public long id() {
    return id;
  }

  /** @return the request */
  public GenerationRequest request() {
    return request;
  }

  /** @return the result, completed when the run ends (normally, also when cancelled while running) */
  public CompletableFuture<RunResult> result() {
    return result;
  }

  /** @return the state now */
  public State state() {
    return state.get();
  }

  /**
   * How many jobs started together in this job's batched step ({@link
   * GenerationService.Builder#maxBatch}): 1 when it runs alone, 0 before it starts.
   *
   * @return the batch size
   */
  public int batchSize() {
    return batchSize;
  }

  /** @return the latest step event, or null before the first step */
  public StepEvent lastEvent() {
    return last;
  }

  /**
   * Calls {@code listener} with every later step event (iteration, losses, and the image on
   * iterations where the request saves one), on the thread running the job. A listener that throws
   * is logged and removed; it never breaks the run.
   *
   * @param listener the listener
   * @return this job
   */
  public GenerationJob onProgress(Consumer<StepEvent> listener) {
    progress.add(Objects.requireNonNull(listener, "listener"));
    return this;
  }

  /**
   * Requests cancellation; see the class comment. Idempotent.
   *
   * @return false when the job had already ended
   */
  public boolean cancel() {
    cancelRequested = true;
    if (state.compareAndSet(State.QUEUED, State.CANCELLED)) {
      onCancelQueued.run();
      result.cancel(false);
      return true;
    }
    return state.get() == State.RUNNING;
  }

  /** @return whether cancellation was requested */
  public boolean isCancelRequested() {
    return cancelRequested;
  }

  @Override
  public String toString() {
    return "GenerationJob#" + id + "[" + state.get() + "]";
  }

  // ------------------------------------------------------------------ used by the service

  void onCancelQueued(Runnable r) {
    onCancelQueued = r;
  }

  void batchSize(int n) {
    batchSize = n;
  }

  /** Moves QUEUED to RUNNING; false when it was cancelled first. */
  boolean start() {
    return state.compareAndSet(State.QUEUED, State.RUNNING);
  }

  boolean step(StepEvent e) {
    last = e;
    for (Consumer<StepEvent> l : progress) {
      try {
        l.accept(e);
      } catch (RuntimeException ex) {
        LOG.warn("progress listener of job {} threw {}; removed", id, ex.toString());
        progress.remove(l);
      }
    }
    return true;
  }

  void succeed(RunResult r) {
    state.set("cancelled".equals(r.manifest().stopReason()) ? State.CANCELLED : State.SUCCEEDED);
    result.complete(r);
  }

  void fail(Throwable t) {
    state.set(State.FAILED);
    result.completeExceptionally(t);
  }
}
