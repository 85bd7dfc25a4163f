package ai.vqclip.onnx.adapt;

import ai.vqclip.core.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The tiny models written by real PyTorch ({@code tools/fixtures/make_adapter_fixtures.py}) and
 * torch's reference values. Public so the CLI and pipeline tests (through the test jar) use them too.
 */
public final class AdapterFixtures {
  /** Resource folder of the fixtures. */
  public static final String DIR = "/fixtures/adapters/";

  private AdapterFixtures() {}

  /** Copies the fixture {@code name} (e.g. "decoder.onnx") into {@code dir} and returns its path. */
  public static Path copy(String name, Path dir) {
    try (InputStream in = AdapterFixtures.class.getResourceAsStream(DIR + name)) {
      if (in == null) {
        throw new IllegalStateException("missing test resource " + DIR + name);
      }
      Path p = dir.resolve(name);
      Files.write(p, in.readAllBytes());
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The reference tensors by tag (decoder_in, decoder_out, encoder_in, ..., text_out). */
  public static Map<String, Tensor> references() {
    String text;
    try (InputStream in = AdapterFixtures.class.getResourceAsStream(DIR + "adapters.ref.txt")) {
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Map<String, Tensor> out = new HashMap<>();
    List<String> lines = text.lines().filter(l -> !l.startsWith("#") && !l.isBlank()).toList();
    for (int i = 0; i + 1 < lines.size(); i += 2) {
      String[] h = lines.get(i).split(" ");
      long[] shape = Arrays.stream(h[3].split(",")).mapToLong(Long::parseLong).toArray();
      String[] v = lines.get(i + 1).trim().split(" ");
      if (h[2].equals("INT64")) {
        out.put(h[0], Tensor.ofLongs(shape, Arrays.stream(v).mapToLong(Long::parseLong).toArray()));
      } else {
        float[] f = new float[v.length];
        for (int k = 0; k < v.length; k++) {
          f[k] = Float.parseFloat(v[k]);
        }
        out.put(h[0], Tensor.ofFloats(shape, f));
      }
    }
    return out;
  }

  /** The largest |a - b| over the largest |b| (0 for equal arrays). */
  public static double relativeError(float[] a, float[] b) {
    if (a.length != b.length) {
      throw new AssertionError("lengths " + a.length + " and " + b.length);
    }
    double err = 0;
    double scale = 0;
    for (int i = 0; i < a.length; i++) {
      err = Math.max(err, Math.abs(a[i] - b[i]));
      scale = Math.max(scale, Math.abs(b[i]));
    }
    return scale == 0 ? err : err / scale;
  }
}
