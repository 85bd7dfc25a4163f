package ai.vqclip.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.autodiff.Autodiff;
import ai.vqclip.core.autodiff.GradientRequest;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.graph.Dim;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.graph.Specialize;
import ai.vqclip.core.graph.Value;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Parity with real PyTorch: graphs written by {@code torch.onnx.export} (opsets 9, 11, 13, 17; see
 * tools/fixtures/make_onnx_fixtures.py) are imported, specialized to the reference input's size,
 * differentiated, and run; the forward output and the gradient of sum(u * y) must match torch
 * autograd's (computed in float64) to 1e-4 relative to the reference's largest magnitude.
 */
class TorchExportParityTest {
  static final double TOL = 1e-4;
  static final String[] MODELS = {"resnet_tiny", "mobilenet_v3_tiny", "vit_tiny", "old_forms_tiny", "text_tiny"};
  static final int[] OPSETS = {9, 11, 13, 17};

  /** One reference file: named tensors by kind, and the dynamic axes. */
  record Ref(Map<String, String> names, Map<String, Tensor> tensors, Map<String, List<Integer>> dynamic) {}

  static Path dir() {
    try {
      return Path.of(TorchExportParityTest.class.getResource("/fixtures/onnx").toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static Ref readRef(String model) {
    List<String> lines;
    try {
      lines = Files.readAllLines(dir().resolve(model + ".ref.txt"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Map<String, String> names = new LinkedHashMap<>();
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    Map<String, List<Integer>> dyn = new LinkedHashMap<>();
    for (int i = 0; i < lines.size(); i++) {
      String[] h = lines.get(i).split(" ");
      if (h[0].startsWith("#") || h[0].isEmpty()) {
        continue;
      }
      if (h[0].equals("dynamic")) {
        dyn.computeIfAbsent(h[1], k -> new ArrayList<>()).add(Integer.parseInt(h[2]));
        continue;
      }
      long[] shape = h[3].equals("-") ? new long[0] : Stream.of(h[3].split(",")).mapToLong(Long::parseLong).toArray();
      String[] v = lines.get(++i).trim().split(" ");
      Tensor t;
      if (h[2].equals("INT64")) {
        t = Tensor.ofLongs(shape, Stream.of(v).mapToLong(Long::parseLong).toArray());
      } else {
        float[] f = new float[v.length];
        for (int k = 0; k < f.length; k++) {
          f[k] = Float.parseFloat(v[k]);
        }
        t = Tensor.ofFloats(shape, f);
      }
      names.put(h[0], h[1]);
      tensors.put(h[0], t);
    }
    return new Ref(names, tensors, dyn);
  }

  static Stream<Arguments> fixtures() {
    List<Arguments> a = new ArrayList<>();
    for (String m : MODELS) {
      for (int o : OPSETS) {
        a.add(Arguments.of(m, o));
      }
    }
    return a.stream();
  }

  @ParameterizedTest(name = "{0} opset {1}")
  @MethodSource("fixtures")
  void importsSpecializesDifferentiatesAndMatchesTorch(String model, int opset) {
    Ref ref = readRef(model);
    Path file = dir().resolve(model + "_opset" + opset + ".onnx");
    String in = ref.names().get("input");
    Tensor x = ref.tensors().get("input");

    // The exported input has symbolic axes where the export made them dynamic: fix them by symbol.
    Graph raw = OnnxImport.fromFile(file);
    Map<String, Long> dims = new HashMap<>();
    List<Dim> d = raw.input(in).shape().dims();
    for (int ax : ref.dynamic().getOrDefault(in, List.of())) {
      assertTrue(!d.get(ax).isStatic(), "axis " + ax + " of " + in + " should be dynamic in " + file);
      dims.put(d.get(ax).symbol(), x.shape()[ax]);
    }
    String wrt = ref.names().get("grad");
    // A weight to differentiate must not be folded into constants; an input never is.
    Graph g = wrt.equals(in) ? OnnxImport.fromFile(file, dims) : Specialize.apply(raw, dims, Set.of(wrt));
    for (Value v : g.values().values()) {
      assertTrue(v.shape().isStatic(), v + " is not static after specialization");
    }
    assertTrue(g.opTypes().stream().noneMatch(op -> op.equals("Shape") || op.equals("ConstantOfShape")),
        "shape arithmetic left after specialization: " + g.opTypes());

    // Forward first, so a missing gradient rule still leaves the forward parity checked.
    try (OrtExecutable ex = OrtExecutable.create(g, ExecutionOptions.cpu().withThreads(1))) {
      Tensor y = ex.run(Map.of(in, x)).get("y");
      assertArrayEquals(ref.tensors().get("output").shape(), y.shape());
      double ey = relErr(y.toDoubles(), ref.tensors().get("output").toDoubles());
      System.out.printf("torch parity %s opset %d: forward %.2e (%d nodes imported, %d after specialization)%n", model, opset, ey,
          raw.nodes().size(), g.nodes().size());
      assertTrue(ey <= TOL, model + " opset " + opset + ": forward differs from torch by " + ey + " (relative)");
    }
    Graph grad = Autodiff.differentiate(g, GradientRequest.ofSeeds(List.of("y"), List.of(wrt)));
    Map<String, Tensor> feed = new HashMap<>();
    feed.put(in, x);
    feed.put(GradientRequest.seedName("y"), ref.tensors().get("seed"));
    try (OrtExecutable ex = OrtExecutable.create(grad, ExecutionOptions.cpu().withThreads(1))) {
      Map<String, Tensor> out = ex.run(feed);
      Tensor y = out.get("y");
      Tensor gx = out.get(GradientRequest.gradName(wrt));
      assertArrayEquals(ref.tensors().get("grad").shape(), gx.shape());
      double ey = relErr(y.toDoubles(), ref.tensors().get("output").toDoubles());
      double eg = relErr(gx.toDoubles(), ref.tensors().get("grad").toDoubles());
      System.out.printf("torch parity %s opset %d: forward %.2e, gradient d/d%s %.2e%n", model, opset, ey, wrt, eg);
      assertTrue(ey <= TOL, model + " opset " + opset + ": forward (in the gradient graph) differs from torch by " + ey + " (relative)");
      assertTrue(eg <= TOL, model + " opset " + opset + ": gradient differs from torch by " + eg + " (relative)");
    }
    assertTrue(g.opset() >= Graph.OPSET, "imported graphs follow opset " + Graph.OPSET + " or later, got " + g.opset());
  }

  /** max |a - b| / max |b|. */
  static double relErr(double[] a, double[] b) {
    double m = 0;
    double s = 0;
    for (int i = 0; i < b.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]));
      s = Math.max(s, Math.abs(b[i]));
    }
    return m / Math.max(s, 1e-30);
  }
}
