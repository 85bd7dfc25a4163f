package ai.vqclip.onnx;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.providers.OrtCUDAProviderOptions;
import ai.vqclip.core.InferenceException;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.backend.Device;
import ai.vqclip.core.backend.Executable;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Dim;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A graph compiled into an ONNX Runtime session. Weights stay initializers inside the session; each
 * {@link #run} copies only the named inputs in and the requested outputs out. Inputs are checked
 * against the graph before any native call, so bad input is an {@link IllegalArgumentException}
 * listing what was expected and found.
 *
 * <p><b>Threads.</b> Safe to share: {@link #run} may be called from several threads at once (ONNX
 * Runtime's {@code OrtSession.run} is thread-safe; each call has its own input and output tensors).
 * {@link #close()} is idempotent, never blocks and never frees the native session under a running
 * call: every run holds a lease ({@link #tryLease}) for its duration, and the session is freed when
 * the executable is closed and the last lease is returned. A run that starts after close fails with
 * an {@link IllegalStateException} naming the graph, never with a native error.
 */
public final class OrtExecutable implements Executable {
  private static final Logger LOG = LoggerFactory.getLogger(OrtExecutable.class);

  /** ONNX Runtime's session config key naming graph transformers to skip (separated by ';'). */
  public static final String DISABLE_OPTIMIZERS = "optimization.disable_specified_optimizers";

  /**
   * The fusions every session skips. Each applies only where the fused intermediate has no other
   * reader, and computes differently from the unfused ops (QuickGelu: x * sigmoid(1.702 x) in one
   * kernel; MatMulScaleFusion: a scale folded into the product). So whether they fire depended on
   * whether the backward pass reads a block's activations, and a step that recomputes CLIP's blocks
   * ({@code MemorySaving.MAX}) gave other low bits than one that keeps them. Skipped, the forward
   * arithmetic is the same either way and gradients are bit-identical with and without
   * recomputation ({@code PipelineTest}); each costs at most one elementwise pass where it would
   * have fired.
   */
  public static final String DISABLED_OPTIMIZERS = "QuickGeluFusion;MatMulScaleFusion";

  /**
   * System property, {@code on} (default) or {@code off}: whether CPU sessions take the weights that
   * only Gemm and MatMul read as inputs fed from vqclip's own buffers on every run ({@link
   * FedWeights}) instead of initializers that ONNX Runtime copies and prepacks. On, a session of
   * the full step holds 0.64 GB less (CLIP ViT-B/32's image tower: one packed copy for the forward
   * product and one for the backward's); the step time did not change measurably
   * (docs/performance.md). Results differ from the prepacked path's in the low bits.
   */
  public static final String FED_WEIGHTS_PROPERTY = "vqclip.ort.fedWeights";

  /**
   * Whether {@link #FED_WEIGHTS_PROPERTY} is on.
   *
   * @return true unless the property is {@code off}
   * @throws IllegalArgumentException for a value other than {@code on} or {@code off}
   */
  public static boolean fedWeights() {
    String v = System.getProperty(FED_WEIGHTS_PROPERTY, "on");
    if (!v.equals("on") && !v.equals("off")) {
      throw new IllegalArgumentException("system property " + FED_WEIGHTS_PROPERTY + " is '" + v + "'; allowed: on, off");
    }
    return v.equals("on");
  }

  /** ONNX Runtime's session config key that allocates initializers outside the arena. */
  public static final String INITIALIZERS_OUT_OF_ARENA = "session.use_device_allocator_for_initializers";

  /**
   * System property: {@code true} puts the weights back into ONNX Runtime's arena (the setting
   * before issue 18), for comparisons; results are bit-identical either way.
   */
  public static final String INITIALIZERS_IN_ARENA_PROPERTY = "vqclip.ort.initializersInArena";

  /**
   * System property, {@code on} or {@code off}, overriding {@link ExecutionOptions#activationArena()}
   * for every session: whether CPU sessions allocate activations from ONNX Runtime's arena. Off,
   * each tensor is allocated and freed on its own (with glibc, the {@code ./vqclip} launcher's
   * {@code GLIBC_TUNABLES=glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=1048576} makes freed
   * tensors go straight back to the system and new ones use huge pages): a lower peak for some cost
   * in time (docs/performance.md). Results are bit-identical either way.
   */
  public static final String ARENA_PROPERTY = "vqclip.ort.arena";

  private final Graph graph;
  private final Device device;
  private final OrtEnvironment env;
  private final OrtSession.SessionOptions options;
  private final OrtSession session;
  private final List<OnnxTensor> externalTensors;
  /** Weights fed as inputs on every run ({@link FedWeights}), by input name; closed with {@link #externalTensors}. */
  private final Map<String, OnnxTensor> fedTensors;
  /** Guards {@link #closed}, {@link #leases} and {@link #freed}; never held during a native call. */
  private final Object lock = new Object();
  private boolean closed;
  private int leases;
  private boolean freed;

  private OrtExecutable(Graph graph, Device device, OrtEnvironment env, OrtSession.SessionOptions options, OrtSession session, List<OnnxTensor> ext,
      Map<String, OnnxTensor> fed) {
    this.graph = graph;
    this.device = device;
    this.env = env;
    this.options = options;
    this.session = session;
    this.externalTensors = ext;
    this.fedTensors = fed;
  }

  /**
   * Compiles with default thresholds for external initializers.
   *
   * @param graph the graph to compile (static shapes)
   * @param opts device, threads and other session options
   * @return an open executable; close it to free the native session
   * @throws IllegalStateException when CUDA is requested, cannot load, and fallback is not allowed
   * @throws ai.vqclip.core.InferenceException when ONNX Runtime rejects the graph
   */
  public static OrtExecutable create(Graph graph, ExecutionOptions opts) {
    return create(graph, opts, OnnxExport.DEFAULT_EXTERNAL_THRESHOLD_BYTES);
  }

  /**
   * Compiles a graph. Initializers totalling more than {@code externalThresholdBytes} are handed to
   * ONNX Runtime from memory instead of through the proto (needed above 2 GB; the default, 0,
   * always does it). Off-heap initializers ({@link Tensor#offHeap()}) are then used in place, not
   * copied, so the tensors must stay unmodified while the executable is open.
   *
   * @param graph the graph to compile (static shapes)
   * @param opts device, threads and other session options
   * @param externalThresholdBytes total initializer bytes above which initializers bypass the
   *     proto, at least 0
   * @return an open executable; close it to free the native session
   * @throws IllegalStateException when CUDA is requested, cannot load, and fallback is not allowed
   * @throws InferenceException when ONNX Runtime rejects the graph
   */
  public static OrtExecutable create(Graph graph, ExecutionOptions opts, long externalThresholdBytes) {
    OnnxModel model = OnnxExport.export(graph, externalThresholdBytes);
    OrtEnvironment env = OrtRuntime.environment();
    List<OnnxTensor> ext = new ArrayList<>();
    Map<String, OnnxTensor> fed = new LinkedHashMap<>();
    OrtSession.SessionOptions so = null;
    try {
      Device device = opts.device();
      // On a GPU a fed weight would be copied to the device on every run; there it stays an initializer.
      if (device == Device.CPU && fedWeights()) {
        FedWeights.Split split = FedWeights.split(model);
        model = split.model();
        for (Map.Entry<String, Tensor> e : split.fed().entrySet()) {
          OnnxTensor t = toOrt(env, e.getValue());
          ext.add(t);
          fed.put(e.getKey(), t);
        }
      }
      so = baseOptions(opts, env, model, ext);
      if (device == Device.CUDA) {
        try {
          OrtCUDAProviderOptions cuda = new OrtCUDAProviderOptions(opts.deviceId());
          cuda.add("cudnn_conv_algo_search", "HEURISTIC");
          so.addCUDA(cuda);
          // A GPU run must never silently place nodes on the CPU.
          so.addConfigEntry("session.disable_cpu_ep_fallback", "1");
        } catch (OrtException | RuntimeException | UnsatisfiedLinkError e) {
          if (!opts.allowCpuFallback()) {
            throw new IllegalStateException(
                "CUDA was requested but ONNX Runtime's CUDA provider could not load (" + e.getMessage()
                    + "); it needs the onnxruntime_gpu artifact (build vqclip with -Pcuda), CUDA 12.x and cuDNN 9.x. Run on the CPU "
                    + "(the command's --device cpu), or in the library allow it with ExecutionOptions.withCpuFallback(true).", e);
          }
          LOG.warn("CUDA provider unavailable ({}); running graph '{}' on CPU as allowed", e.getMessage(), graph.name());
          closeQuietly(so);
          // Nothing was fed (only CPU sessions feed weights): every tensor here is an initializer.
          ext.forEach(OrtExecutable::closeQuietly);
          ext.clear();
          so = baseOptions(opts, env, model, ext);
          device = Device.CPU;
        }
      }
      OrtSession session = OrtRuntime.createSession(model.bytes(), so);
      return new OrtExecutable(graph, device, env, so, session, ext, fed);
    } catch (OrtException e) {
      closeQuietly(so);
      ext.forEach(OrtExecutable::closeQuietly);
      throw new InferenceException("ONNX Runtime rejected graph '" + graph.name() + "': " + e.getMessage(), e);
    } catch (RuntimeException e) {
      closeQuietly(so);
      ext.forEach(OrtExecutable::closeQuietly);
      throw e;
    }
  }

  private static OrtSession.SessionOptions baseOptions(ExecutionOptions opts, OrtEnvironment env, OnnxModel model, List<OnnxTensor> ext)
      throws OrtException {
    OrtSession.SessionOptions so = new OrtSession.SessionOptions();
    so.setOptimizationLevel(switch (opts.optimizationLevel()) {
      case NONE -> OrtSession.SessionOptions.OptLevel.NO_OPT;
      case BASIC -> OrtSession.SessionOptions.OptLevel.BASIC_OPT;
      case EXTENDED -> OrtSession.SessionOptions.OptLevel.EXTENDED_OPT;
      case ALL -> OrtSession.SessionOptions.OptLevel.ALL_OPT;
    });
    if (opts.intraOpThreads() > 0) {
      so.setIntraOpNumThreads(opts.intraOpThreads());
    }
    so.setInterOpNumThreads(1);
    // No memory pattern: with it ONNX Runtime keeps the first run's arena chunks and adds one
    // planned block per input shape on top, which doubled the activation memory of the full step
    // (256x256/8 cutouts: 8.2 GB peak with it, 6.2 GB without, no measurable time change;
    // docs/performance.md).
    so.setMemoryPatternOptimization(false);
    // Weights allocated one by one at their size instead of from the arena, which grows in powers of
    // two and keeps its slack for the session's lifetime. Allocation only, so results are
    // bit-identical either way; what it saves at full size is within the run-to-run spread of the
    // JVM heap (docs/performance.md, Round 3).
    if (!Boolean.getBoolean(INITIALIZERS_IN_ARENA_PROPERTY)) {
      so.addConfigEntry(INITIALIZERS_OUT_OF_ARENA, "1");
    }
    String arena = System.getProperty(ARENA_PROPERTY, opts.activationArena() ? "on" : "off");
    if (!arena.equals("on") && !arena.equals("off")) {
      throw new IllegalArgumentException("system property " + ARENA_PROPERTY + " is '" + arena + "'; allowed: on, off");
    }
    if (arena.equals("off")) {
      so.setCPUArenaAllocator(false);
    }
    so.setSessionLogLevel(ai.onnxruntime.OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);
    so.addConfigEntry(DISABLE_OPTIMIZERS, DISABLED_OPTIMIZERS);
    if (opts.deterministic()) {
      so.setDeterministicCompute(true);
    }
    if (!model.externalInitializers().isEmpty()) {
      Map<String, OnnxTensorLike> m = new LinkedHashMap<>();
      for (Map.Entry<String, Tensor> e : model.externalInitializers().entrySet()) {
        OnnxTensor t = toOrt(env, e.getValue());
        ext.add(t);
        m.put(e.getKey(), t);
      }
      so.addExternalInitializers(m);
    }
    return so;
  }

  /** True: see the class comment. */
  @Override
  public boolean threadSafe() {
    return true;
  }

  @Override
  public Graph graph() {
    return graph;
  }

  @Override
  public Device device() {
    return device;
  }

  /**
   * A claim that keeps the native session alive until it is closed (by try-with-resources). Closing
   * a lease twice is harmless.
   */
  public final class Lease implements AutoCloseable {
    private boolean returned;

    private Lease() {}

    /**
     * The executable this lease keeps open.
     *
     * @return the leased executable
     */
    public OrtExecutable executable() {
      return OrtExecutable.this;
    }

    /**
     * Runs the executable under this lease: works even if the executable was closed after the
     * lease was taken (the session stays until the lease is returned).
     *
     * @param inputs a tensor for every graph input, by name
     * @param outputs names of the outputs to compute, or null for all
     * @return the requested outputs by name, copied to the heap
     * @throws IllegalStateException when this lease was already returned
     * @throws IllegalArgumentException when an input is missing, unknown or of the wrong type or
     *     shape, or an output name is unknown
     * @throws ai.vqclip.core.InferenceException when ONNX Runtime fails to run the graph
     */
    public Map<String, Tensor> run(Map<String, Tensor> inputs, Set<String> outputs) {
      synchronized (lock) {
        if (returned) {
          throw new IllegalStateException("lease on the executable for graph '" + graph.name() + "' was already returned");
        }
      }
      return runLeased(inputs, outputs);
    }

    /**
     * {@link #run(Map, Set)} with every output.
     *
     * @param inputs a tensor for every graph input, by name
     * @return every graph output by name, copied to the heap
     * @throws IllegalStateException when this lease was already returned
     * @throws IllegalArgumentException when an input is missing, unknown or of the wrong type or
     *     shape
     * @throws ai.vqclip.core.InferenceException when ONNX Runtime fails to run the graph
     */
    public Map<String, Tensor> run(Map<String, Tensor> inputs) {
      return run(inputs, null);
    }

    @Override
    public void close() {
      synchronized (lock) {
        if (returned) {
          return;
        }
        returned = true;
      }
      release();
    }
  }

  /**
   * A lease on this executable, or null when it is already closed. While any lease is open the
   * native session stays allocated, even if {@link #close()} is called meanwhile.
   *
   * @return an open lease (close it after use), or null when this executable is closed
   */
  public Lease tryLease() {
    synchronized (lock) {
      if (closed) {
        return null;
      }
      leases++;
    }
    return new Lease();
  }

  /**
   * Whether {@link #close()} was called (the session may still be finishing running calls).
   *
   * @return true once {@link #close()} was called
   */
  public boolean isClosed() {
    synchronized (lock) {
      return closed;
    }
  }

  private void release() {
    boolean free;
    synchronized (lock) {
      leases--;
      free = closed && leases == 0 && !freed;
      if (free) {
        freed = true;
      }
    }
    if (free) {
      freeNative();
    }
  }

  @Override
  public Map<String, Tensor> run(Map<String, Tensor> inputs, Set<String> outputs) {
    Lease lease = tryLease();
    if (lease == null) {
      throw new IllegalStateException("executable for graph '" + graph.name() + "' is closed");
    }
    try {
      return runLeased(inputs, outputs);
    } finally {
      lease.close();
    }
  }

  private Map<String, Tensor> runLeased(Map<String, Tensor> inputs, Set<String> outputs) {
    java.util.Objects.requireNonNull(inputs, "inputs");
    validate(inputs);
    List<String> wanted = new ArrayList<>();
    if (outputs == null) {
      graph.outputs().forEach(o -> wanted.add(o.name()));
    } else {
      if (outputs.isEmpty()) {
        throw new IllegalArgumentException("no outputs requested from graph '" + graph.name() + "'; pass null for all of "
            + describe(graph.outputs()));
      }
      for (String o : outputs) {
        graph.output(o); // throws listing the outputs
        wanted.add(o);
      }
    }
    Map<String, OnnxTensor> feed = new HashMap<>();
    try {
      for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
        feed.put(e.getKey(), toOrt(env, e.getValue()));
      }
      Map<String, OnnxTensor> all = feed;
      if (!fedTensors.isEmpty()) {
        all = new HashMap<>(feed);
        all.putAll(fedTensors);
      }
      try (OrtSession.Result r = session.run(all, new java.util.LinkedHashSet<>(wanted))) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String name : wanted) {
          OnnxValue v = r.get(name).orElseThrow(() -> new InferenceException("ONNX Runtime returned no output '" + name + "'", null));
          out.put(name, fromOrt(name, (OnnxTensor) v));
        }
        return out;
      }
    } catch (OrtException e) {
      throw new InferenceException("running graph '" + graph.name() + "' failed: " + e.getMessage(), e);
    } finally {
      feed.values().forEach(OrtExecutable::closeQuietly);
    }
  }

  private void validate(Map<String, Tensor> inputs) {
    Map<String, Long> symbols = new HashMap<>();
    for (String given : inputs.keySet()) {
      if (graph.inputs().stream().noneMatch(v -> v.name().equals(given))) {
        throw new IllegalArgumentException("unknown input '" + given + "' for graph '" + graph.name() + "'; expected inputs: " + describe(graph.inputs()));
      }
    }
    for (Value in : graph.inputs()) {
      Tensor t = inputs.get(in.name());
      if (t == null) {
        throw new IllegalArgumentException((inputs.containsKey(in.name()) ? "null tensor for input " : "missing input ") + in
            + " for graph '" + graph.name() + "'; given: " + inputs.keySet());
      }
      if (t.dtype() != in.dtype()) {
        throw new IllegalArgumentException("input '" + in.name() + "' must be " + in.dtype() + " " + in.shape() + ", found " + t.dtype() + " "
            + Shape.of(t.shape()));
      }
      if (in.shape().hasRank()) {
        long[] s = t.shape();
        boolean ok = s.length == in.rank();
        for (int i = 0; ok && i < s.length; i++) {
          Dim d = in.shape().dim(i);
          if (d.isStatic()) {
            ok = d.size() == s[i];
          } else {
            Long prev = symbols.putIfAbsent(d.symbol(), s[i]);
            ok = prev == null || prev == s[i];
          }
        }
        if (!ok) {
          throw new IllegalArgumentException("input '" + in.name() + "' must have shape " + in.shape() + ", found " + Shape.of(t.shape())
              + (symbols.isEmpty() ? "" : " (symbols bound so far: " + symbols + ")"));
        }
      }
    }
  }

  private static String describe(List<Value> vs) {
    List<String> s = new ArrayList<>();
    for (Value v : vs) {
      s.add(v.name() + " " + v.shape() + " " + v.dtype());
    }
    return s.toString();
  }

  static OnnxTensor toOrt(OrtEnvironment env, Tensor t) throws OrtException {
    OnnxJavaType jt = switch (t.dtype()) {
      case FLOAT -> OnnxJavaType.FLOAT;
      case DOUBLE -> OnnxJavaType.DOUBLE;
      case INT64 -> OnnxJavaType.INT64;
      case INT32 -> OnnxJavaType.INT32;
      case INT8 -> OnnxJavaType.INT8;
      case UINT8 -> OnnxJavaType.UINT8;
      case BOOL -> OnnxJavaType.BOOL;
      case FLOAT16 -> OnnxJavaType.FLOAT16;
      case BFLOAT16 -> OnnxJavaType.BFLOAT16;
    };
    ByteBuffer src = t.data();
    if (src.isDirect() && ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
      // ONNX Runtime reads a direct buffer in place (no copy) for as long as the OnnxTensor lives.
      return OnnxTensor.createTensor(env, src, t.shape(), jt);
    }
    ByteBuffer direct = ByteBuffer.allocateDirect(src.remaining()).order(ByteOrder.nativeOrder());
    direct.put(src.order(ByteOrder.LITTLE_ENDIAN));
    direct.flip();
    return OnnxTensor.createTensor(env, direct, t.shape(), jt);
  }

  private static Tensor fromOrt(String name, OnnxTensor v) {
    ai.onnxruntime.TensorInfo info = v.getInfo();
    DType dt = switch (info.onnxType) {
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT -> DType.FLOAT;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE -> DType.DOUBLE;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 -> DType.INT64;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32 -> DType.INT32;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8 -> DType.INT8;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8 -> DType.UINT8;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL -> DType.BOOL;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16 -> DType.FLOAT16;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16 -> DType.BFLOAT16;
      default -> throw new InferenceException("output '" + name + "' has unsupported type " + info.onnxType, null);
    };
    ByteBuffer b = v.getByteBuffer();
    if (b == null) {
      throw new InferenceException("output '" + name + "' has no readable data", null);
    }
    ByteBuffer le = ByteBuffer.allocate(b.remaining()).order(ByteOrder.LITTLE_ENDIAN);
    b.order(ByteOrder.nativeOrder());
    le.put(b);
    le.flip();
    return Tensor.wrap(dt, info.getShape(), le);
  }

  /**
   * Closes this executable: no new run may start. The native session is freed now when no run is
   * in progress, else by the last running call as it returns. Idempotent; never blocks or throws.
   */
  @Override
  public void close() {
    boolean free;
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      free = leases == 0 && !freed;
      if (free) {
        freed = true;
      }
    }
    if (free) {
      freeNative();
    }
  }

  private void freeNative() {
    closeQuietly(session);
    closeQuietly(options);
    externalTensors.forEach(OrtExecutable::closeQuietly);
  }

  private static void closeQuietly(AutoCloseable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (Exception e) {
      LOG.warn("closing {} failed: {}", c.getClass().getSimpleName(), e.toString());
    }
  }
}
