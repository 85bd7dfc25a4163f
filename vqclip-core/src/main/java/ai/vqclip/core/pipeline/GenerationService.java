package ai.vqclip.core.pipeline;

import ai.vqclip.core.StepListener;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Serves generation requests from many threads over one set of loaded models: at most {@code
 * maxConcurrent} runs at a time, at most {@code queueCapacity} more waiting, each with a future
 * result, progress events and cancellation ({@link GenerationJob}).
 *
 * <pre>{@code
 * try (GenerationService service = GenerationService.builder(pipeline).maxConcurrent(2).queueCapacity(16).build()) {
 *   GenerationJob job = service.submit(request);
 *   job.onProgress(e -> System.out.println(e.iteration() + ": " + e.loss()));
 *   RunResult r = job.result().join();
 * }
 * }</pre>
 *
 * <p>Runs share the pipeline's models and, when their step graphs are identical, one compiled step
 * session; each run's pixels are bit-identical to the same request run alone. {@link #submit}
 * rejects with a {@link RejectedExecutionException} (saying why) when the queue is full or the
 * service is closed. {@link #close()} drains: no new jobs, and it returns when every accepted job
 * has ended; {@link #closeNow()} cancels them first (running ones stop at their next step and keep
 * their last image). The service's threads are daemon threads named {@code vqclip-generate-N}.
 *
 * <p>With {@link Builder#maxBatch} above 1, a run slot advances several waiting jobs of the same
 * step-graph shape together, one ONNX Runtime call per iteration for all ({@link StepBatch}); each
 * keeps its own progress and cancellation, and its pixels stay bit-identical to the request run
 * alone.
 *
 * <p>The file is over 400 lines with its {@link Builder} (a documented setter per setting) and the
 * job queue's batching logic, which belong to the service.
 */
public final class GenerationService implements AutoCloseable {
  private final Pipeline pipeline;
  private final int maxConcurrent;
  private final int queueCapacity;
  private final int maxBatch;
  private final long batchWaitNanos;
  /** Notified on every submit, for batches waiting for more jobs ({@link Builder#batchWait}). */
  private final Object arrivals = new Object();
  private final ThreadPoolExecutor executor;
  private final Set<GenerationJob> active = ConcurrentHashMap.newKeySet();
  private final AtomicLong ids = new AtomicLong();
  private final Object submitLock = new Object();
  private final Set<Thread> workers = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  private GenerationService(Builder b) {
    this.pipeline = b.pipeline;
    this.maxConcurrent = b.maxConcurrent;
    this.queueCapacity = b.queueCapacity;
    this.maxBatch = b.maxBatch;
    this.batchWaitNanos = b.batchWait.toNanos();
    AtomicInteger n = new AtomicInteger();
    ThreadFactory tf = r -> {
      Thread t = new Thread(() -> {
        try {
          r.run();
        } finally {
          workers.remove(Thread.currentThread());
        }
      }, "vqclip-generate-" + n.incrementAndGet());
      t.setDaemon(true);
      workers.add(t);
      return t;
    };
    // The queue holds only waiting jobs: a job goes to a free thread directly. Capacity 0 means no waiting.
    this.executor = new ThreadPoolExecutor(maxConcurrent, maxConcurrent, 0, TimeUnit.MILLISECONDS,
        queueCapacity == 0 ? new java.util.concurrent.SynchronousQueue<>() : new ArrayBlockingQueue<>(queueCapacity), tf,
        new ThreadPoolExecutor.AbortPolicy());
    executor.prestartAllCoreThreads();
  }

  /**
   * A builder over a pipeline (its models stay the caller's: the service does not close them).
   *
   * @param pipeline the pipeline every job runs on
   * @return the builder
   */
  public static Builder builder(Pipeline pipeline) {
    return new Builder(pipeline);
  }

  /**
   * Submits a request to run from its start; see {@link #submit(GenerationRequest, Checkpoint, Pipeline.CheckpointSettings, List)}.
   *
   * @param request the request
   * @param listeners called on the run's thread after each step
   * @return the job
   * @throws RejectedExecutionException when the service is closed or its queue is full
   */
  public GenerationJob submit(GenerationRequest request, StepListener... listeners) {
    return submit(request, null, Pipeline.CheckpointSettings.none(), List.of(listeners));
  }

  /**
   * Submits a request.
   *
   * @param request the request
   * @param resumeFrom a checkpoint of the same request to continue from, or null
   * @param checkpoints where the run writes checkpoints
   * @param listeners called on the run's thread after each step; one returning false stops the run (its result kept)
   * @return the job
   * @throws RejectedExecutionException when the service is closed or {@code queueCapacity} jobs already wait
   */
  public GenerationJob submit(GenerationRequest request, Checkpoint resumeFrom, Pipeline.CheckpointSettings checkpoints,
      List<StepListener> listeners) {
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(checkpoints, "checkpoints");
    List<StepListener> ls = List.copyOf(listeners);
    GenerationJob job = new GenerationJob(ids.incrementAndGet(), request);
    Task task = new Task(job, resumeFrom, checkpoints, ls);
    job.onCancelQueued(() -> {
      executor.remove(task);
      active.remove(job);
    });
    synchronized (submitLock) {
      if (closed) {
        throw new RejectedExecutionException("generation service is closed; no new requests are accepted");
      }
      active.add(job);
      try {
        executor.execute(task);
        synchronized (arrivals) {
          arrivals.notifyAll(); // a batch waiting for company looks again
        }
      } catch (RejectedExecutionException e) {
        active.remove(job);
        throw new RejectedExecutionException("generation queue is full: " + maxConcurrent + " runs running and " + queueCapacity
            + " waiting (maxConcurrent " + maxConcurrent + ", queueCapacity " + queueCapacity + "); retry later or raise queueCapacity");
      }
    }
    return job;
  }

  /** A queued job and how to run it. */
  private final class Task implements Runnable {
    final GenerationJob job;
    final Checkpoint resumeFrom;
    final Pipeline.CheckpointSettings checkpoints;
    final List<StepListener> listeners;

    Task(GenerationJob job, Checkpoint resumeFrom, Pipeline.CheckpointSettings checkpoints, List<StepListener> listeners) {
      this.job = job;
      this.resumeFrom = resumeFrom;
      this.checkpoints = checkpoints;
      this.listeners = listeners;
    }

    @Override
    public void run() {
      if (maxBatch > 1 && StepBatch.whyNotBatchable(pipeline, job.request()) == null) {
        executeBatch(this);
      } else {
        execute(job, resumeFrom, checkpoints, listeners);
      }
    }

    StepBatch.Member member() {
      List<StepListener> all = new ArrayList<>(listeners.size() + 1);
      all.add(job::step);
      all.addAll(listeners);
      return new StepBatch.Member(job.request(), resumeFrom, checkpoints, all, job::isCancelRequested, (r, t) -> {
        try {
          if (t != null) {
            job.fail(t);
          } else {
            job.succeed(r);
          }
        } finally {
          active.remove(job);
        }
      });
    }
  }

  /**
   * Runs {@code lead} together with the waiting jobs that can share its batched step graph (oldest
   * first, up to {@code maxBatch}); jobs taken from the queue this way run now, in this batch.
   */
  private void executeBatch(Task lead) {
    List<Task> batch = new ArrayList<>();
    try {
      if (!lead.job.start()) {
        active.remove(lead.job);
        return; // cancelled while queued
      }
      batch.add(lead);
      long deadline = System.nanoTime() + batchWaitNanos;
      while (true) {
        gather(lead, batch);
        long left = deadline - System.nanoTime();
        if (batch.size() >= maxBatch || left <= 0 || closed) {
          break;
        }
        try {
          synchronized (arrivals) {
            arrivals.wait(Math.max(1, left / 1_000_000)); // woken by the next submit
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt(); // the batch starts now and stops at its first step boundary
          break;
        }
      }
      List<StepBatch.Member> members = new ArrayList<>();
      for (Task t : batch) {
        t.job.batchSize(batch.size());
        members.add(t.member());
      }
      // Each member's callback completes its job as it leaves the batch.
      StepBatch.run(pipeline, members);
    } catch (Throwable t) {
      for (Task k : batch) {
        if (!k.job.result().isDone()) {
          k.job.fail(t);
        }
        active.remove(k.job);
      }
      if (t instanceof Error e && !(t instanceof OutOfMemoryError)) {
        throw e;
      }
    } finally {
      active.remove(lead.job);
      Thread.interrupted(); // a run's interrupt must not leak into the next job on this thread
    }
  }

  /** Moves waiting jobs that can join {@code lead}'s batch from the queue into {@code batch}, oldest first. */
  private void gather(Task lead, List<Task> batch) {
    for (Runnable r : executor.getQueue().toArray(new Runnable[0])) {
      if (batch.size() >= maxBatch) {
        return;
      }
      if (r instanceof Task t && StepBatch.whyNotBatchable(pipeline, t.job.request()) == null
          && StepBatch.whyNotTogether(lead.job.request(), t.job.request()) == null && executor.remove(t)) {
        if (t.job.start()) {
          batch.add(t);
        } else {
          active.remove(t.job); // cancelled between the queue and here
        }
      }
    }
  }

  private void execute(GenerationJob job, Checkpoint resumeFrom, Pipeline.CheckpointSettings checkpoints, List<StepListener> listeners) {
    try {
      if (!job.start()) {
        return; // cancelled while queued
      }
      job.batchSize(1);
      List<StepListener> all = new ArrayList<>(listeners.size() + 1);
      all.add(job::step);
      all.addAll(listeners);
      try {
        job.succeed(pipeline.run(job.request(), resumeFrom, checkpoints, all, job::isCancelRequested));
      } catch (Throwable t) {
        job.fail(t);
        if (t instanceof Error e && !(t instanceof OutOfMemoryError)) {
          throw e;
        }
      } finally {
        Thread.interrupted(); // a run's interrupt must not leak into the next job on this thread
      }
    } finally {
      active.remove(job);
    }
  }

  /** @return runs at most this many at once */
  public int maxConcurrent() {
    return maxConcurrent;
  }

  /** @return advances at most this many waiting jobs together in one batched step ({@link Builder#maxBatch}) */
  public int maxBatch() {
    return maxBatch;
  }

  /** @return jobs accepted and not yet ended (queued or running) */
  public int pending() {
    return active.size();
  }

  /** Cancels every queued and running job (running ones stop at their next step boundary). */
  public void cancelAll() {
    for (GenerationJob j : List.copyOf(active)) {
      j.cancel();
    }
  }

  /**
   * Stops accepting jobs and waits until every accepted job has ended (drains). If the waiting
   * thread is interrupted, the jobs are cancelled, the wait goes on until they stop (each at its
   * next step boundary), and the interrupt flag is set again. Called on one of the service's own
   * threads (from a listener), it does not wait, as that thread's job could never end. Idempotent.
   */
  @Override
  public void close() {
    synchronized (submitLock) {
      closed = true;
    }
    executor.shutdown();
    if (workers.contains(Thread.currentThread())) {
      return;
    }
    boolean interrupted = false;
    while (true) {
      try {
        if (executor.awaitTermination(1, TimeUnit.SECONDS)) {
          break;
        }
      } catch (InterruptedException e) {
        interrupted = true;
        cancelAll();
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** Cancels every job, then {@link #close()}: returns once the running ones have stopped. */
  public void closeNow() {
    synchronized (submitLock) {
      closed = true;
    }
    cancelAll();
    close();
  }

  /** Fluent builder. */
  public static final class Builder {
    private final Pipeline pipeline;
    private int maxConcurrent = 1;
    private int queueCapacity = 64;
    private int maxBatch = 1;
    private java.time.Duration batchWait = java.time.Duration.ZERO;

    private Builder(Pipeline pipeline) {
      this.pipeline = Objects.requireNonNull(pipeline, "pipeline");
    }

    /**
     * How many runs go at once (default 1). Each holds its own activations (the weights are
     * shared); on a CPU, runs also share the cores, so more than the cores / intra-op threads
     * gains nothing.
     *
     * @param n in [1, 256]
     * @return this builder
     * @throws IllegalArgumentException for n out of range
     */
    public Builder maxConcurrent(int n) {
      if (n < 1 || n > 256) {
        throw new IllegalArgumentException("maxConcurrent must be in [1, 256], got " + n);
      }
      maxConcurrent = n;
      return this;
    }

    /**
     * How many jobs may wait for a slot (default 64; 0: none, a submit with every slot busy is rejected).
     *
     * @param n in [0, 1000000]
     * @return this builder
     * @throws IllegalArgumentException for n out of range
     */
    public Builder queueCapacity(int n) {
      if (n < 0 || n > 1_000_000) {
        throw new IllegalArgumentException("queueCapacity must be in [0, 1000000], got " + n);
      }
      queueCapacity = n;
      return this;
    }

    /**
     * How many jobs one run slot may advance together (default 1: no batching). When a slot frees
     * up, the job it takes also takes up to {@code n - 1} of the waiting jobs that share its
     * step-graph shape (same size, cutouts, cut_pow and augmentations; {@link StepBatch}), oldest
     * first, and runs them in one batched step graph: one ONNX Runtime call per iteration for all.
     * Each job keeps its own seed, prompts, optimizer state, progress and cancellation, and its
     * pixels are bit-identical to the same request run alone. Jobs that cannot batch (from/to
     * edits, lockstep image prompts, generators without batched synthesis) run alone. A batch
     * holds the activations of all its runs at once.
     *
     * @param n in [1, {@link StepBatch#MAX_BATCH}]
     * @return this builder
     * @throws IllegalArgumentException for n out of range
     */
    public Builder maxBatch(int n) {
      StepBatch.checkMaxBatch(n);
      maxBatch = n;
      return this;
    }

    /**
     * How long a job that starts with room left in its batch waits for compatible jobs to arrive
     * (default 0: it takes what is waiting and starts). Only with {@link #maxBatch} above 1; at most
     * a minute. Worth a few hundred milliseconds when requests come in bursts, as from a web front
     * end or a command submitting many runs one after the other.
     *
     * @param d in [0, 1 minute]
     * @return this builder
     * @throws IllegalArgumentException for d out of range
     */
    public Builder batchWait(java.time.Duration d) {
      Objects.requireNonNull(d, "batchWait");
      if (d.isNegative() || d.compareTo(java.time.Duration.ofMinutes(1)) > 0) {
        throw new IllegalArgumentException("batchWait must be in [0, 1 minute], got " + d);
      }
      batchWait = d;
      return this;
    }

    /**
     * Builds the service and starts its threads.
     *
     * @return the service
     */
    public GenerationService build() {
      return new GenerationService(this);
    }
  }
}
