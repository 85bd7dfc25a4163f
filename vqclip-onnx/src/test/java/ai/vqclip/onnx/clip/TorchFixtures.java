package ai.vqclip.onnx.clip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.Encoder;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.autodiff.Autodiff;
import ai.vqclip.core.autodiff.GradientRequest;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.onnx.OrtExecutable;
import ai.vqclip.onnx.weights.SafetensorsFile;
import ai.vqclip.onnx.weights.StateDict;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.net.URL;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The CLIP fixtures written by real PyTorch (tools/fixtures/make_torch_fixtures.py): traced
 * TorchScript archives and a torch.save state dict of tiny OpenAI-style CLIP models, and torch's
 * embeddings and input gradients in {@code reference.safetensors}. Public for other modules' tests
 * (the CLI's), which see it through the test jar.
 */
public final class TorchFixtures {
  /** Head width of every fixture model (not OpenAI's 64: the models are tiny). */
  public static final int HEAD_DIM = 8;
  /** Vocabulary size: that of vqclip-demo's bpe-demo.txt.gz, so the demo tokenizer fits. */
  public static final int VOCAB = 584;
  /** Tokens per text. */
  public static final int CONTEXT = 16;

  private TorchFixtures() {}

  /** A fixture file by name (vit-traced-fp32.pt, vit-traced-fp16.pt, vit-state-dict.pt, rn-traced-fp16.pt, ...). */
  public static Path file(String name) {
    URL u = TorchFixtures.class.getResource("/fixtures/torch/" + name);
    if (u == null) {
      throw new IllegalStateException("missing test resource fixtures/torch/" + name
          + " (regenerate with /usr/bin/python3 tools/fixtures/make_torch_fixtures.py)");
    }
    try {
      return Path.of(u.toURI());
    } catch (URISyntaxException | java.nio.file.FileSystemNotFoundException e) {
      throw new IllegalStateException("fixture " + name + " is not a file: " + u, e);
    }
  }

  /**
   * Copies a fixture into {@code dir} (for tests in other modules, where the fixtures sit inside the
   * test jar rather than in a folder) and returns the copy.
   */
  public static Path copyTo(Path dir, String name) {
    try (InputStream in = TorchFixtures.class.getResourceAsStream("/fixtures/torch/" + name)) {
      if (in == null) {
        throw new IllegalStateException("missing test resource fixtures/torch/" + name);
      }
      Path out = dir.resolve(name);
      Files.copy(in, out, StandardCopyOption.REPLACE_EXISTING);
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** All reference tensors (read into memory; the file is closed). */
  public static Map<String, Tensor> references() {
    Map<String, Tensor> out = new HashMap<>();
    try (StateDict sd = SafetensorsFile.open(file("reference.safetensors"))) {
      for (String k : sd.keys()) {
        // Copied: the file's bytes are mapped and the file is closed here.
        Tensor t = sd.tensor(k);
        ByteBuffer copy = ByteBuffer.allocate(t.data().remaining()).order(ByteOrder.LITTLE_ENDIAN);
        copy.put(t.data().duplicate()).flip();
        out.put(k, Tensor.wrap(t.dtype(), t.shape(), copy));
      }
    }
    return out;
  }

  /** Largest |a - b| / max(|b|) over all elements: the error relative to the reference's scale. */
  public static double relError(Tensor actual, Tensor expected) {
    assertArrayEquals(expected.shape(), actual.shape(), "shape");
    float[] a = actual.toFloats();
    float[] e = expected.toFloats();
    double scale = 0;
    double err = 0;
    for (int i = 0; i < e.length; i++) {
      scale = Math.max(scale, Math.abs(e[i]));
      err = Math.max(err, Math.abs((double) a[i] - e[i]));
    }
    assertTrue(scale > 0, "the reference is all zeros");
    return err / scale;
  }

  /** The VJP of the image fragment with seed {@code w} (= d sum(w * embeddings) / d images). */
  public static Tensor imageGradient(Graph fragment, Tensor images, Tensor w) {
    Graph grad = Autodiff.differentiate(fragment,
        GradientRequest.ofSeeds(List.of(Encoder.EMBEDDINGS), List.of(Encoder.IMAGES)).withoutForwardOutputs());
    try (OrtExecutable exe = OrtExecutable.create(grad, ExecutionOptions.cpu())) {
      Map<String, Tensor> out = exe.run(Map.of(Encoder.IMAGES, images,
          GradientRequest.seedName(Encoder.EMBEDDINGS), w));
      return out.get(GradientRequest.gradName(Encoder.IMAGES));
    }
  }
}
