package ai.vqclip.onnx.weights;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.DType;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.graph.Shape;
import ai.vqclip.core.graph.Value;
import ai.vqclip.core.image.Images;
import ai.vqclip.core.testing.CraftedImages;
import ai.vqclip.onnx.OnnxExport;
import ai.vqclip.onnx.weights.TorchWriters.Layout;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * Writes the seed corpus of every fuzz target with the project's own writers (and, for the
 * checkpoint, run settings and PNG text, a real two-iteration run of the command line on the
 * built-in demo models). Run from the repository root after a change to a format:
 *
 * <pre>
 * mvn -pl vqclip-fuzz -am verify -Dtest=FuzzSeedsTest -Dsurefire.failIfNoSpecifiedTests=false -Dvqclip.fuzz.writeSeeds=true
 * </pre>
 *
 * The normal build replays the committed files; {@code FuzzSeedsTest} checks that every target has seeds.
 */
public final class FuzzSeeds {
  /** Resource folder of the targets' inputs, relative to the module. */
  static final Path RESOURCES = Path.of("src", "test", "resources");

  /** Every fuzz target: its class and method, whose inputs live in {@code <Class>Inputs/<method>/}. */
  public static final List<String> TARGETS = List.of(
      "ai.vqclip.onnx.weights.WeightReadersFuzzTest#safetensors",
      "ai.vqclip.onnx.weights.WeightReadersFuzzTest#torchZip",
      "ai.vqclip.onnx.weights.WeightReadersFuzzTest#legacyPickle",
      "ai.vqclip.onnx.weights.WeightReadersFuzzTest#torchScript",
      "ai.vqclip.onnx.weights.WeightReadersFuzzTest#unpickler",
      "ai.vqclip.fuzz.ReadersFuzzTest#onnxImport",
      "ai.vqclip.fuzz.ReadersFuzzTest#bpeVocabulary",
      "ai.vqclip.fuzz.ReadersFuzzTest#bpeHuggingFace",
      "ai.vqclip.fuzz.ReadersFuzzTest#vqganYaml",
      "ai.vqclip.fuzz.ReadersFuzzTest#checkpoint",
      "ai.vqclip.fuzz.ReadersFuzzTest#images",
      "ai.vqclip.fuzz.ReadersFuzzTest#pngText",
      "ai.vqclip.fuzz.ReadersFuzzTest#prompts",
      "ai.vqclip.cli.RunSettingsFuzzTest#runJson");

  private FuzzSeeds() {}

  /** The inputs folder of a target under {@code root} (the module's test resources). */
  public static Path inputs(Path root, String target) {
    String cls = target.substring(0, target.indexOf('#'));
    String method = target.substring(target.indexOf('#') + 1);
    return root.resolve(cls.replace('.', '/') + "Inputs").resolve(method);
  }

  private static void seed(Path root, String target, String name, byte[] data) {
    try {
      Path d = Files.createDirectories(inputs(root, target));
      Files.write(d.resolve(name), data);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static byte[] file(Path p) {
    try {
      return Files.readAllBytes(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Map<String, Tensor> weights() {
    Map<String, Tensor> w = new LinkedHashMap<>();
    w.put("encoder.conv_in.weight", Tensor.ofFloats(new long[] {2, 1, 1, 1}, 0.5f, -1f));
    w.put("quantize.embedding.weight", Tensor.ofFloats(new long[] {3, 2}, 1, 2, 3, 4, 5, 6));
    w.put("step", Tensor.fromDoubles(DType.INT64, new long[] {}, new double[] {7}));
    return w;
  }

  /** Writes every target's seeds under {@code root} (a module's src/test/resources) using {@code tmp} for scratch files. */
  public static void writeAll(Path root, Path tmp) throws IOException {
    // weights
    Path st = tmp.resolve("w.safetensors");
    SafetensorsWriter.write(st, weights(), Map.of("vqclip.groups", "1"));
    seed(root, TARGETS.get(0), "weights.safetensors", file(st));
    SafetensorsWriter.write(st, Map.of("h", Tensor.fromDoubles(DType.FLOAT16, new long[] {2}, new double[] {1, 2})), Map.of());
    seed(root, TARGETS.get(0), "half.safetensors", file(st));
    Path zip = tmp.resolve("w.ckpt");
    TorchWriters.writeZip(zip, TorchWriters.stateDict(weights()), Layout.TORCH_2);
    seed(root, TARGETS.get(1), "torch2.ckpt", file(zip));
    TorchWriters.writeZip(zip, TorchWriters.stateDict(weights()), Layout.TORCH_1_6);
    seed(root, TARGETS.get(1), "torch16.ckpt", file(zip));
    Path legacy = tmp.resolve("w.pth");
    TorchWriters.writeLegacy(legacy, TorchWriters.stateDict(weights()));
    seed(root, TARGETS.get(2), "legacy.pth", file(legacy));
    Path ts = tmp.resolve("w.pt");
    Map<String, Object> attrs = new LinkedHashMap<>();
    attrs.put("weight", Tensor.ofFloats(new long[] {2, 2}, 1, 2, 3, 4));
    attrs.put("scale", 2L);
    attrs.put("inner", new TorchWriters.Module("__torch__.m.Inner", Map.of("bias", Tensor.ofFloats(new long[] {2}, 0, 1))));
    TorchWriters.writeTorchScript(ts, "model", new TorchWriters.Module("__torch__.m.Model", attrs), List.of(Tensor.ofFloats(new long[] {1}, 3f)));
    seed(root, TARGETS.get(3), "script.pt", file(ts));
    seed(root, TARGETS.get(4), "state-dict.pkl", new TorchWriters.TorchPickler(false).dump(TorchWriters.stateDict(weights())));
    seed(root, TARGETS.get(4), "scalars.pkl", new TorchWriters.TorchPickler(false).dump(new Pickle.Tuple(List.of(1L, "text", 2.5, true))));
    // ONNX
    GraphBuilder b = new GraphBuilder("seed");
    Value x = b.input("x", DType.FLOAT, Shape.parse("n", 3));
    Value w = b.initializer("w", Tensor.ofFloats(new long[] {3, 2}, 1, 2, 3, 4, 5, 6));
    b.output("y", b.neg(b.matmul(x, w)));
    seed(root, TARGETS.get(5), "matmul-neg.onnx", OnnxExport.export(b.build(), Long.MAX_VALUE).bytes());
    // vocabularies
    try (InputStream in = FuzzSeeds.class.getResourceAsStream("/ai/vqclip/demo/models/bpe-demo.txt.gz")) {
      seed(root, TARGETS.get(6), "bpe-demo.txt.gz", in.readAllBytes());
    }
    seed(root, TARGETS.get(6), "merges.txt", "#version: 0.2\nh e\nl l\nhe ll\no</w>\n".getBytes(StandardCharsets.UTF_8));
    seed(root, TARGETS.get(7), "vocab-and-merges", "{\"h\": 0, \"e\": 1, \"he\": 2, \"<|endoftext|>\": 3}\0#version: 0.2\nh e\n"
        .getBytes(StandardCharsets.UTF_8));
    // model.yaml
    seed(root, TARGETS.get(8), "model.yaml", """
        model:
          base_learning_rate: 4.5e-06
          target: taming.models.vqgan.VQModel
          params:
            embed_dim: 256
            n_embed: 1024
            ddconfig:
              double_z: false
              z_channels: 256
              resolution: 256
              in_channels: 3
              out_ch: 3
              ch: 128
              ch_mult: [1, 1, 2, 2, 4]
              num_res_blocks: 2
              attn_resolutions: [16]
              dropout: 0.0
        """.getBytes(StandardCharsets.UTF_8));
    // a real run: checkpoint, run settings, PNG with text chunks
    Path out = tmp.resolve("seed.png");
    int exit = ai.vqclip.cli.Main.newCommandLine().execute("generate", "a red circle|a blue star:0.5", "-o", out.toString(), "-i", "2",
        "-s", "32", "32", "--seed", "1", "--checkpoint", "--threads", "1", "-q");
    if (exit != 0) {
      throw new IllegalStateException("the seed run exited " + exit);
    }
    seed(root, TARGETS.get(9), "run.ckpt", file(tmp.resolve("seed.ckpt")));
    seed(root, TARGETS.get(13), "run.run.json", file(tmp.resolve("seed.run.json")));
    seed(root, TARGETS.get(11), "run.png", file(out));
    seed(root, TARGETS.get(11), "ztxt.png", CraftedImages.blackPng(4, 4, CraftedImages.text("a", "b"), CraftedImages.zTxtBomb("z", 4096)));
    // images
    seed(root, TARGETS.get(10), "run.png", file(out));
    BufferedImage img = Images.toImage(Images.read(out));
    for (String format : new String[] {"jpg", "gif", "bmp"}) {
      ByteArrayOutputStream o = new ByteArrayOutputStream();
      ImageIO.write(format.equals("jpg") ? rgb(img) : img, format, o);
      seed(root, TARGETS.get(10), "run." + format, o.toByteArray());
    }
    seed(root, TARGETS.get(10), "gray.png", CraftedImages.blackPng(40, 20));
    seed(root, TARGETS.get(10), "lying.jpg", CraftedImages.lyingJpeg(2056, 15624));
    // prompts
    String[] prompts = {"a red circle", "a red circle:2|a blue star:-0.5:0.1", "first^second|third:0.5", "a photo of a cat &amp; a dog, 4k",
        "\u00e9t\u00e9 \u2603 \ud83d\ude00"};
    for (int i = 0; i < prompts.length; i++) {
      seed(root, TARGETS.get(12), "prompt-" + i, prompts[i].getBytes(StandardCharsets.UTF_8));
    }
  }

  private static BufferedImage rgb(BufferedImage img) {
    BufferedImage r = new BufferedImage(img.getWidth(), img.getHeight(), BufferedImage.TYPE_INT_RGB);
    r.getGraphics().drawImage(img, 0, 0, null);
    return r;
  }
}
