package ai.vqclip.onnx.adapt;

import ai.vqclip.core.Encoder;
import ai.vqclip.core.ModelLoadException;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import ai.vqclip.onnx.OrtExecutable;
import ai.vqclip.onnx.clip.TextTokenizer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * An image-embedding ONNX graph (any exporter's) as an {@link Encoder}, in one call: {@code
 * OnnxEncoder.fromFile(imageGraph, OnnxEncoder.Options.of(textGraph, tokenizer))} or with fixed
 * text embeddings ({@link Options#withTextEmbeddings}).
 *
 * <p>The image graph takes images [n, 3, S, S] (FLOAT; n static 1 or symbolic, S static or given by
 * {@link Options#inputResolution()}) and gives embeddings [n, D]; D is read from the graph. Pixels
 * reach it in [0, 1], or normalised per channel ((x - mean) / std) when {@link Options#mean()} is
 * set (CLIP's preprocessing). Text comes from a text graph taking int64 token ids [1, L] (L static:
 * the tokenizer's context) and giving [1, D], or from a fixed map text -> D floats.
 *
 * <p>Compiled host-side sessions are cached and freed by {@link #releaseCaches()}. Not
 * thread-safe; {@link #close()} is idempotent.
 */
public final class OnnxEncoder implements Encoder {
  /** Largest batch of images accepted. */
  public static final int MAX_BATCH = 1024;

  /**
   * How to use the graphs.
   *
   * @param imageInput the image graph's input; null for its only input
   * @param embeddingOutput the image graph's output; null for its only output
   * @param inputResolution the image side S when the graph's is symbolic (0: read it from the graph)
   * @param mean per-channel mean subtracted before the graph (3 values), or null for raw [0, 1] pixels
   * @param std per-channel deviation divided by (3 positive values; with mean)
   * @param textGraph a graph from int64 token ids [1, L] to [1, D], or null
   * @param tokenizer turns texts into L ids for the text graph (e.g. a {@code ClipTokenizer})
   * @param textEmbeddings fixed embeddings per text (D values each); used before the text graph
   */
  public record Options(
      String imageInput, String embeddingOutput, int inputResolution, float[] mean, float[] std, Path textGraph, TextTokenizer tokenizer,
      Map<String, float[]> textEmbeddings) {
    /**
     * Checks the values.
     *
     * @param imageInput the image graph's input; null for its only input
     * @param embeddingOutput the image graph's output; null for its only output
     * @param inputResolution the image side S when the graph's is symbolic, in [1, 8192]; 0 reads
     *     it from the graph
     * @param mean per-channel mean (3 values), or null for raw [0, 1] pixels
     * @param std per-channel deviation (3 finite values &gt; 0), given exactly when {@code mean} is
     * @param textGraph a graph from int64 token ids [1, L] to [1, D], or null
     * @param tokenizer turns texts into L ids for the text graph
     * @param textEmbeddings fixed embeddings per text (D values each); null for none
     * @throws IllegalArgumentException for an out-of-range resolution, or mean and std not given
     *     together as 3 values with std finite and positive
     */
    public Options {
      if (inputResolution < 0 || inputResolution > 8192) {
        throw new IllegalArgumentException("inputResolution must be 0 (from the graph) or in [1, 8192], got " + inputResolution);
      }
      if ((mean == null) != (std == null) || mean != null && (mean.length != 3 || std.length != 3)) {
        throw new IllegalArgumentException("mean and std must be given together, 3 values each");
      }
      if (std != null) {
        for (float s : std) {
          if (!(s > 0) || !Float.isFinite(s)) {
            throw new IllegalArgumentException("std values must be finite and > 0, got " + Arrays.toString(std));
          }
        }
      }
      if ((textGraph == null) != (tokenizer == null)) {
        throw new IllegalArgumentException("a text graph needs a tokenizer and a tokenizer needs a text graph");
      }
      mean = mean == null ? null : mean.clone();
      std = std == null ? null : std.clone();
      textEmbeddings = textEmbeddings == null ? Map.of() : Map.copyOf(textEmbeddings);
    }

    /**
     * The image graph's only input and output, raw [0, 1] pixels, no text.
     *
     * @return options for an image-only encoder taking raw [0, 1] pixels through its only input and
     *     output
     */
    public static Options imageOnly() {
      return new Options(null, null, 0, null, null, null, null, Map.of());
    }

    /**
     * With a text graph and its tokenizer.
     *
     * @param textGraph a graph from int64 token ids [1, L] to [1, D]
     * @param tokenizer turns texts into the L ids the text graph takes
     * @return image-only defaults plus this text graph
     */
    public static Options of(Path textGraph, TextTokenizer tokenizer) {
      return imageOnly().withText(textGraph, tokenizer);
    }

    /**
     * With a text graph and its tokenizer.
     *
     * @param graph a graph from int64 token ids [1, L] to [1, D], or null for none
     * @param tok turns texts into the L ids the text graph takes
     * @return a copy with this text graph and tokenizer
     */
    public Options withText(Path graph, TextTokenizer tok) {
      return new Options(imageInput, embeddingOutput, inputResolution, mean, std, graph, tok, textEmbeddings);
    }

    /**
     * With fixed text embeddings.
     *
     * @param embeddings text to its fixed embedding (D values each)
     * @return a copy with these text embeddings
     */
    public Options withTextEmbeddings(Map<String, float[]> embeddings) {
      return new Options(imageInput, embeddingOutput, inputResolution, mean, std, textGraph, tokenizer, embeddings);
    }

    /**
     * With per-channel normalisation (e.g. CLIP's mean and std).
     *
     * @param m per-channel mean (3 values), or null for raw pixels
     * @param s per-channel deviation (3 positive values), null exactly when {@code m} is
     * @return a copy with this normalisation
     * @throws IllegalArgumentException when the values are not 3 each, or std is not positive and
     *     finite
     */
    public Options withNormalization(float[] m, float[] s) {
      return new Options(imageInput, embeddingOutput, inputResolution, m, s, textGraph, tokenizer, textEmbeddings);
    }

    /**
     * With named input and output.
     *
     * @param input name of the image graph's image input, or null for its only input
     * @param output name of the image graph's embedding output, or null for its only output
     * @return a copy with these names
     */
    public Options withNames(String input, String output) {
      return new Options(input, output, inputResolution, mean, std, textGraph, tokenizer, textEmbeddings);
    }

    /**
     * With the image side for a graph whose side is symbolic.
     *
     * @param side image side S in pixels, in [1, 8192]; 0 reads it from the graph
     * @return a copy with this input resolution
     * @throws IllegalArgumentException when {@code side} is out of range
     */
    public Options withInputResolution(int side) {
      return new Options(imageInput, embeddingOutput, side, mean, std, textGraph, tokenizer, textEmbeddings);
    }
  }

  private final ImportedGraph image;
  private final ImportedGraph text;
  private final Options opts;
  private final ExecutionOptions exec;
  private final String imageIn;
  private final String imageOut;
  private final boolean batchFixed;
  private final int resolution;
  private final int dim;
  private final String textIn;
  private final String textOut;
  private final int context;
  /** Rows of the token table the ids index (0 when the graph does not show it). */
  private final long vocab;
  private final Map<Integer, Graph> fragments = new HashMap<>();
  private final Map<Integer, OrtExecutable> imageExes = new HashMap<>();
  private OrtExecutable textExe;
  private boolean closed;

  private OnnxEncoder(ImportedGraph image, ImportedGraph text, Options opts, ExecutionOptions exec) {
    this.image = image;
    this.text = text;
    this.opts = opts;
    this.exec = exec;
    Value in = image.input(opts.imageInput(), "image");
    Value out = image.output(opts.embeddingOutput(), "embedding");
    imageIn = in.name();
    imageOut = out.name();
    image.check(in, DType.FLOAT, 4, "FLOAT images [n, 3, S, S]");
    image.check(out, DType.FLOAT, 2, "FLOAT embeddings [n, D]");
    long c = ImportedGraph.staticDim(in, 1);
    if (c >= 0 && c != 3) {
      throw new ModelLoadException(image.file + ": input '" + imageIn + "' is " + in.shape() + "; expected 3 channels [n, 3, S, S]");
    }
    long n = ImportedGraph.staticDim(in, 0);
    if (n >= 0 && n != 1) {
      throw new ModelLoadException(image.file + ": input '" + imageIn + "' has a fixed batch of " + n
          + "; expected a symbolic batch (export with dynamic_axes={'" + imageIn + "': {0: 'n'}}) or a batch of 1");
    }
    batchFixed = n == 1;
    long h = ImportedGraph.staticDim(in, 2);
    long w = ImportedGraph.staticDim(in, 3);
    if (h >= 0 && w >= 0 && h != w) {
      throw new ModelLoadException(image.file + ": input '" + imageIn + "' is " + in.shape() + "; expected square images [n, 3, S, S]");
    }
    long side = Math.max(h, w);
    if (side > 0 && opts.inputResolution() > 0 && side != opts.inputResolution()) {
      throw new ModelLoadException(image.file + ": input '" + imageIn + "' is " + in.shape() + ", fixed to side " + side
          + ", but the options ask for input resolution " + opts.inputResolution());
    }
    if (side <= 0 && opts.inputResolution() == 0) {
      throw new ModelLoadException(image.file + ": input '" + imageIn + "' is " + in.shape()
          + " with a symbolic side; give the input resolution (Options.withInputResolution)");
    }
    resolution = side > 0 ? (int) side : opts.inputResolution();
    Graph g = image.specialize(imageIn, new long[] {1, 3, resolution, resolution}, imageOut);
    long[] os = g.output(imageOut).shape().toArray();
    if (os.length != 2 || os[0] != 1 || os[1] < 1) {
      throw new ModelLoadException(image.file + ": images [1, 3, " + resolution + ", " + resolution + "] give '" + imageOut + "' "
          + Arrays.toString(os) + "; expected embeddings [1, D]");
    }
    dim = Math.toIntExact(os[1]);
    fragments.put(1, wrap(g, 1));
    opts.textEmbeddings().forEach((k, v) -> {
      if (v == null || v.length != dim) {
        throw new IllegalArgumentException("text embedding for '" + k + "' has " + (v == null ? "no" : v.length) + " values; the image graph "
            + image.file + " embeds into " + dim);
      }
    });
    if (text != null) {
      Value ti = text.input(null, "token");
      Value to = text.output(null, "text embedding");
      text.check(ti, DType.INT64, 2, "INT64 token ids [1, L]");
      text.check(to, DType.FLOAT, 2, "FLOAT embeddings [1, " + dim + "]");
      long l = ImportedGraph.staticDim(ti, 1);
      if (l < 1) {
        throw new ModelLoadException(text.file + ": token input '" + ti.name() + "' is " + ti.shape()
            + "; its length (dimension 1) must be static, the tokenizer's context length");
      }
      textIn = ti.name();
      textOut = to.name();
      context = (int) l;
      vocab = tokenTableRows(text.graph, textIn);
      int[] probe;
      try {
        probe = opts.tokenizer().tokenize("a");
      } catch (IllegalArgumentException e) {
        throw new ModelLoadException("the tokenizer for " + text.file + " cannot tokenize a one-letter text: " + e.getMessage(), e);
      }
      int got = probe.length;
      int top = Arrays.stream(probe).max().orElse(0);
      if (vocab > 0 && top >= vocab) {
        throw new ModelLoadException(text.file + ": the tokenizer gives id " + top + " (its end token), but the graph's token table has "
            + vocab + " rows; expected the vocabulary the text graph was trained with");
      }
      if (got != context) {
        throw new ModelLoadException(text.file + ": token input '" + textIn + "' is " + ti.shape() + ", but the tokenizer gives " + got
            + " ids per text; expected a graph exported with " + got + " tokens (or a tokenizer of context " + context + ")");
      }
      long[] ts = text.specialize(textIn, new long[] {1, context}, textOut).output(textOut).shape().toArray();
      if (!Arrays.equals(ts, new long[] {1, dim})) {
        throw new ModelLoadException(text.file + ": tokens [1, " + context + "] give '" + textOut + "' " + Arrays.toString(ts)
            + "; the image graph " + image.file + " gives [n, " + dim + "], so expected [1, " + dim + "]");
      }
    } else {
      textIn = null;
      textOut = null;
      context = 0;
      vocab = 0;
    }
  }

  /**
   * The row count of the embedding table the token ids index directly (a Gather on axis 0 of an
   * initializer, as exported {@code nn.Embedding} is), or 0 when the graph uses them otherwise.
   */
  private static long tokenTableRows(Graph g, String tokens) {
    for (ai.vqclip.core.graph.Node n : g.nodes()) {
      if (n.opType().equals("Gather") && n.inputs().size() == 2 && n.inputs().get(1).equals(tokens)
          && g.initializers().containsKey(n.inputs().get(0))) {
        ai.vqclip.core.graph.Attribute axis = n.attributes().get("axis");
        long[] table = g.initializers().get(n.inputs().get(0)).shape();
        if ((axis == null || axis.asInt() == 0) && table.length >= 1) {
          return table[0];
        }
      }
    }
    return 0;
  }

  /**
   * Reads the image graph (and the options' text graph), host-side work on CPU.
   *
   * @param imageGraph ONNX file of the image encoder, images [N, 3, S, S] to embeddings [N, D]
   * @param options names, normalisation and text source
   * @return an open encoder; close it to free its sessions
   * @throws ai.vqclip.core.ModelLoadException naming the file, the value, what was found and what
   *     is expected
   */
  public static OnnxEncoder fromFile(Path imageGraph, Options options) {
    return fromFile(imageGraph, options, ExecutionOptions.cpu());
  }

  /**
   * Reads the image graph (and the options' text graph), checking names, ranks, dtypes and sizes.
   *
   * @param imageGraph ONNX file of the image encoder, images [N, 3, S, S] to embeddings [N, D]
   * @param options names, normalisation and text source
   * @param exec where host-side graphs (text embedding) run
   * @return an open encoder; close it to free its sessions
   * @throws ModelLoadException naming the file, the value, what was found and what is expected
   */
  public static OnnxEncoder fromFile(Path imageGraph, Options options, ExecutionOptions exec) {
    Objects.requireNonNull(options, "options");
    Objects.requireNonNull(exec, "exec");
    ImportedGraph i = ImportedGraph.read(imageGraph, "encoder");
    ImportedGraph t = options.textGraph() == null ? null : ImportedGraph.read(options.textGraph(), "text encoder");
    return new OnnxEncoder(i, t, options, exec);
  }

  @Override
  public int inputResolution() {
    return resolution;
  }

  @Override
  public int embeddingDim() {
    return dim;
  }

  /**
   * The text graph's token count L (0 without a text graph).
   *
   * @return the number of tokens L the text graph takes, or 0
   */
  public int contextLength() {
    return context;
  }

  @Override
  public Graph imageFragment(int batch) {
    ensureOpen();
    if (batch < 1 || batch > MAX_BATCH) {
      throw new IllegalArgumentException("batch must be in [1, " + MAX_BATCH + "], got " + batch);
    }
    if (batchFixed && batch != 1) {
      throw new IllegalArgumentException("encoder " + image.file + " takes a fixed batch of 1 ('" + imageIn
          + "'), the run needs " + batch + " images at once (fewer cutouts, or export with a dynamic batch axis)");
    }
    return fragments.computeIfAbsent(batch, n -> wrap(image.specialize(imageIn, new long[] {n, 3, resolution, resolution}, imageOut), n));
  }

  /** IMAGES [n, 3, S, S] in [0, 1] -> optional normalisation -> the graph -> EMBEDDINGS. */
  private Graph wrap(Graph g, int n) {
    long[] os = g.output(imageOut).shape().toArray();
    if (!Arrays.equals(os, new long[] {n, dim})) {
      throw new ModelLoadException(image.file + ": " + n + " images give '" + imageOut + "' " + Arrays.toString(os) + "; expected ["
          + n + ", " + dim + "]");
    }
    GraphBuilder b = new GraphBuilder("onnx-encoder").opset(Math.max(g.opset(), Graph.OPSET));
    Value x = b.input(IMAGES, DType.FLOAT, Shape.of(n, 3, resolution, resolution));
    if (opts.mean() != null) {
      Value m = b.constant(Tensor.ofFloats(new long[] {1, 3, 1, 1}, opts.mean()));
      Value s = b.constant(Tensor.ofFloats(new long[] {1, 3, 1, 1}, opts.std()));
      x = b.div(b.sub(x, m), s);
    }
    Value e = b.include(g, "image", Map.of(imageIn, x)).get(imageOut);
    b.output(EMBEDDINGS, b.op("Identity").in(e).out());
    return b.build();
  }

  /**
   * {@inheritDoc} A fixed embedding when the options give one for {@code text}, else the text graph
   * on the tokenizer's ids.
   *
   * @throws IllegalArgumentException when neither knows the text, or the ids do not fit the graph
   */
  @Override
  public Tensor embedText(String s) {
    ensureOpen();
    Objects.requireNonNull(s, "text");
    float[] fixed = opts.textEmbeddings().get(s);
    if (fixed != null) {
      return Tensor.ofFloats(new long[] {1, dim}, fixed);
    }
    if (text == null) {
      throw new IllegalArgumentException("encoder " + image.file + " has no text graph and no fixed embedding for '" + s + "'; known texts: "
          + opts.textEmbeddings().keySet());
    }
    int[] ids = opts.tokenizer().tokenize(s);
    if (ids.length != context) {
      throw new IllegalArgumentException("the tokenizer gave " + ids.length + " ids for '" + s + "'; the text graph " + text.file
          + " takes " + context);
    }
    long[] l = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      if (ids[i] < 0 || vocab > 0 && ids[i] >= vocab) {
        throw new IllegalArgumentException("token id " + ids[i] + " at position " + i + " of '" + s + "' is outside the text graph "
            + text.file + "'s vocabulary [0, " + (vocab > 0 ? vocab : "...") + ")");
      }
      l[i] = ids[i];
    }
    if (textExe == null) {
      textExe = OrtExecutable.create(text.specialize(textIn, new long[] {1, context}, textOut), exec);
    }
    return textExe.run(Map.of(textIn, Tensor.ofLongs(new long[] {1, context}, l))).get(textOut);
  }

  @Override
  public Tensor embedImages(Tensor images) {
    ensureOpen();
    Objects.requireNonNull(images, "images");
    long[] s = images.shape();
    if (images.dtype() != DType.FLOAT || s.length != 4 || s[0] < 1 || s[0] > MAX_BATCH || s[1] != 3 || s[2] != resolution
        || s[3] != resolution) {
      throw new IllegalArgumentException("images must be FLOAT [n, 3, " + resolution + ", " + resolution + "] in [0, 1] (n in [1, "
          + MAX_BATCH + "]), got " + images.dtype() + " " + Arrays.toString(s));
    }
    int n = (int) s[0];
    if (batchFixed && n > 1) {
      // One image at a time through the batch-1 graph.
      float[] all = new float[n * dim];
      int per = 3 * resolution * resolution;
      float[] px = images.toFloats();
      for (int i = 0; i < n; i++) {
        Tensor one = Tensor.ofFloats(new long[] {1, 3, resolution, resolution}, Arrays.copyOfRange(px, i * per, (i + 1) * per));
        System.arraycopy(embedImages(one).toFloats(), 0, all, i * dim, dim);
      }
      return Tensor.ofFloats(new long[] {n, dim}, all);
    }
    OrtExecutable ex = imageExes.computeIfAbsent(n, k -> OrtExecutable.create(imageFragment(k), exec));
    return ex.run(Map.of(IMAGES, images)).get(EMBEDDINGS);
  }

  @Override
  public Map<String, String> provenance() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("class", getClass().getName());
    m.put("file", image.file.toString());
    if (text != null) {
      m.put("text", text.file.toString());
    }
    return m;
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("ONNX encoder " + image.file + " is closed");
    }
  }

  /** {@inheritDoc} Closes the compiled image and text sessions. */
  @Override
  public void releaseCaches() {
    imageExes.values().forEach(OrtExecutable::close);
    imageExes.clear();
    if (textExe != null) {
      textExe.close();
      textExe = null;
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    releaseCaches();
    fragments.clear();
  }
}
