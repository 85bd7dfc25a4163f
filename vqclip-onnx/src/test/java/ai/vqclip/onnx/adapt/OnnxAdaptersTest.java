package ai.vqclip.onnx.adapt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.ModelLoadException;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.onnx.clip.TextTokenizer;
import ai.vqclip.onnx.testing.GradCheck;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The adapters on tiny graphs exported by torch.onnx.export, against torch's own outputs. */
class OnnxAdaptersTest {
  static final double TOL = 1e-4;
  @TempDir static Path dir;
  static Map<String, Tensor> ref;
  static Path decoder;
  static Path encoder;
  static Path image;
  static Path text;

  @BeforeAll
  static void fixtures() {
    ref = AdapterFixtures.references();
    decoder = AdapterFixtures.copy("decoder.onnx", dir);
    encoder = AdapterFixtures.copy("encoder.onnx", dir);
    image = AdapterFixtures.copy("image_embed.onnx", dir);
    text = AdapterFixtures.copy("text_embed.onnx", dir);
  }

  /** A tokenizer that knows the one reference text. */
  static final TextTokenizer REF_TOKENS = s -> Arrays.stream(ref.get("text_in").toLongs()).mapToInt(Math::toIntExact).toArray();

  @Test
  void generatorDecodesAsTorchDoes() {
    OnnxGenerator.Options o = OnnxGenerator.Options.defaults().withOutputRange(OnnxGenerator.Range.SIGNED);
    try (OnnxGenerator g = OnnxGenerator.fromFile(decoder, o)) {
      assertEquals(4, g.channels());
      assertEquals(2, g.factor());
      assertArrayEquals(new long[] {1, 4, 3, 5}, g.latentShape(10, 6));
      Tensor img = g.decode(ref.get("decoder_in"));
      assertArrayEquals(new long[] {1, 3, 6, 10}, img.shape());
      float[] want = ref.get("decoder_out").toFloats();
      for (int i = 0; i < want.length; i++) {
        want[i] = (want[i] + 1) / 2; // [-1, 1] -> [0, 1], as the adapter maps it
      }
      double err = AdapterFixtures.relativeError(img.toFloats(), want);
      assertTrue(err < TOL, "decoder vs torch: relative error " + err);
      System.out.println("decoder vs torch: relative error " + err);
      // Another size through the same graph (specialized again).
      assertArrayEquals(new long[] {1, 3, 16, 8}, g.decode(g.randomLatent(8, 16, 1)).shape());
    }
  }

  @Test
  void aDecoderOfOneFixedSizeMakesThatSizeOnly() {
    Path fixed = AdapterFixtures.copy("decoder_static.onnx", dir);
    try (OnnxGenerator g = OnnxGenerator.fromFile(fixed, OnnxGenerator.Options.defaults().withOutputRange(OnnxGenerator.Range.SIGNED))) {
      assertEquals(0, g.factor());
      assertArrayEquals(new long[] {1, 4, 3, 5}, g.latentShape(10, 6));
      float[] want = ref.get("decoder_out").toFloats();
      for (int i = 0; i < want.length; i++) {
        want[i] = (want[i] + 1) / 2;
      }
      double err = AdapterFixtures.relativeError(g.decode(ref.get("decoder_in")).toFloats(), want);
      assertTrue(err < TOL, "static decoder vs torch: relative error " + err);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> g.latentShape(8, 8));
      assertTrue(e.getMessage().contains("decoder_static.onnx") && e.getMessage().contains("only size is 10x6"), e.getMessage());
    }
  }

  /** The adapted fragments differentiate: their gradients pass central finite differences. */
  @Test
  void fragmentGradientsPassFiniteDifferences() {
    OnnxGenerator.Options o = OnnxGenerator.Options.defaults().withOutputRange(OnnxGenerator.Range.SIGNED);
    try (OnnxGenerator g = OnnxGenerator.fromFile(decoder, o);
        OnnxEncoder e = OnnxEncoder.fromFile(image, OnnxEncoder.Options.imageOnly().withNormalization(
            new float[] {0.4f, 0.5f, 0.6f}, new float[] {0.3f, 0.2f, 0.25f}))) {
      // tanh keeps the mapped image inside (0, 1), where the clamp's straight gradient is the true one.
      GradCheck.assertGradient(g.synthesisFragment(10, 6), Map.of("z", ref.get("decoder_in")), List.of("z"), 1e-2, GradCheck.TOL_F32, 5);
      GradCheck.assertGradient(e.imageFragment(2), Map.of("images", ref.get("image_in")), List.of("images"), 1e-2, GradCheck.TOL_F32, 6);
    }
  }

  @Test
  void generatorEncoderGraphMatchesTorch() {
    OnnxGenerator.Options o = OnnxGenerator.Options.defaults().withOutputRange(OnnxGenerator.Range.SIGNED)
        .withEncoder(encoder, OnnxGenerator.Range.UNIT);
    try (OnnxGenerator g = OnnxGenerator.fromFile(decoder, o)) {
      Tensor z = g.encode(ref.get("encoder_in"));
      assertArrayEquals(new long[] {1, 4, 3, 5}, z.shape());
      double err = AdapterFixtures.relativeError(z.toFloats(), ref.get("encoder_out").toFloats());
      assertTrue(err < TOL, "encoder vs torch: relative error " + err);
      System.out.println("encoder graph vs torch: relative error " + err);
    }
  }

  @Test
  void randomLatentIsSeededAndBounded() {
    OnnxGenerator.Options o = OnnxGenerator.Options.defaults().withInit(OnnxGenerator.Init.UNIFORM, 0.5, 2).withBounds(-1, 1);
    try (OnnxGenerator g = OnnxGenerator.fromFile(decoder, o)) {
      float[] a = g.randomLatent(8, 8, 7).toFloats();
      assertArrayEquals(a, g.randomLatent(8, 8, 7).toFloats());
      assertTrue(!Arrays.equals(a, g.randomLatent(8, 8, 8).toFloats()));
      for (float v : a) {
        assertTrue(v >= -1 && v <= 1, "value " + v);
      }
      assertArrayEquals(new float[] {-1, -1, -1, -1}, g.latentBounds()[0].toFloats());
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> g.latentShape(9, 8));
      assertTrue(e.getMessage().contains("width 9") && e.getMessage().contains("factor 2"), e.getMessage());
      IllegalStateException noEnc = assertThrows(IllegalStateException.class, () -> g.encode(Tensor.ofFloats(new long[] {1, 3, 8, 8}, new float[192])));
      assertTrue(noEnc.getMessage().contains("no encoder graph"), noEnc.getMessage());
    }
  }

  @Test
  void encoderEmbedsImagesAndTextAsTorchDoes() {
    try (OnnxEncoder e = OnnxEncoder.fromFile(image, OnnxEncoder.Options.of(text, REF_TOKENS))) {
      assertEquals(16, e.inputResolution());
      assertEquals(8, e.embeddingDim());
      assertEquals(8, e.contextLength());
      double ei = AdapterFixtures.relativeError(e.embedImages(ref.get("image_in")).toFloats(), ref.get("image_out").toFloats());
      assertTrue(ei < TOL, "image embedding vs torch: relative error " + ei);
      double et = AdapterFixtures.relativeError(e.embedText("anything").toFloats(), ref.get("text_out").toFloats());
      assertTrue(et < TOL, "text embedding vs torch: relative error " + et);
      System.out.println("image embedding vs torch: " + ei + ", text embedding vs torch: " + et);
      Graph f = e.imageFragment(2);
      assertArrayEquals(new long[] {2, 8}, f.output("embeddings").shape().toArray());
    }
  }

  @Test
  void clipLengthTextGraphMatchesTorch() {
    Path text77 = AdapterFixtures.copy("text_embed77.onnx", dir);
    TextTokenizer ids = s -> Arrays.stream(ref.get("text77_in").toLongs()).mapToInt(Math::toIntExact).toArray();
    try (OnnxEncoder e = OnnxEncoder.fromFile(image, OnnxEncoder.Options.of(text77, ids))) {
      assertEquals(77, e.contextLength());
      double err = AdapterFixtures.relativeError(e.embedText("x").toFloats(), ref.get("text77_out").toFloats());
      assertTrue(err < TOL, "77-token text embedding vs torch: relative error " + err);
    }
    // A tokenizer whose length differs from the graph's is refused when the encoder is made.
    ModelLoadException m = assertThrows(ModelLoadException.class, () -> OnnxEncoder.fromFile(image, OnnxEncoder.Options.of(text77, REF_TOKENS)));
    assertTrue(m.getMessage().contains("text_embed77.onnx") && m.getMessage().contains("gives 8 ids"), m.getMessage());
  }

  @Test
  void fixedTextEmbeddingsAndNormalization() {
    float[] v = {1, 2, 3, 4, 5, 6, 7, 8};
    float[] mean = {0.5f, 0.5f, 0.5f};
    float[] std = {0.25f, 0.25f, 0.25f};
    OnnxEncoder.Options o = OnnxEncoder.Options.imageOnly().withTextEmbeddings(Map.of("cat", v)).withNormalization(mean, std);
    try (OnnxEncoder e = OnnxEncoder.fromFile(image, o); OnnxEncoder raw = OnnxEncoder.fromFile(image, OnnxEncoder.Options.imageOnly())) {
      assertArrayEquals(v, e.embedText("cat").toFloats());
      IllegalArgumentException u = assertThrows(IllegalArgumentException.class, () -> e.embedText("dog"));
      assertTrue(u.getMessage().contains("'dog'") && u.getMessage().contains("[cat]"), u.getMessage());
      // Normalising inside equals feeding normalised pixels to the raw graph.
      float[] px = ref.get("image_in").toFloats();
      float[] norm = px.clone();
      for (int i = 0; i < norm.length; i++) {
        norm[i] = (norm[i] - 0.5f) / 0.25f;
      }
      long[] s = ref.get("image_in").shape();
      double err = AdapterFixtures.relativeError(e.embedImages(Tensor.ofFloats(s, px)).toFloats(), raw.embedImages(Tensor.ofFloats(s, norm)).toFloats());
      assertTrue(err < 1e-6, "normalisation: " + err);
    }
    IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
        () -> OnnxEncoder.fromFile(image, OnnxEncoder.Options.imageOnly().withTextEmbeddings(Map.of("cat", new float[3]))));
    assertTrue(bad.getMessage().contains("'cat'") && bad.getMessage().contains("3 values") && bad.getMessage().contains("8"), bad.getMessage());
  }

  @Test
  void badFilesAndNamesAreReportedClearly() throws Exception {
    Path missing = dir.resolve("nope.onnx");
    ModelLoadException m = assertThrows(ModelLoadException.class, () -> OnnxGenerator.fromFile(missing, OnnxGenerator.Options.defaults()));
    assertTrue(m.getMessage().contains("nope.onnx"), m.getMessage());

    Path garbage = dir.resolve("garbage.onnx");
    Files.write(garbage, new byte[] {1, 2, 3, 4, 5, 6, 7});
    m = assertThrows(ModelLoadException.class, () -> OnnxEncoder.fromFile(garbage, OnnxEncoder.Options.imageOnly()));
    assertTrue(m.getMessage().contains("garbage.onnx"), m.getMessage());

    m = assertThrows(ModelLoadException.class,
        () -> OnnxGenerator.fromFile(decoder, OnnxGenerator.Options.defaults().withNames("latent", null)));
    assertTrue(m.getMessage().contains("decoder.onnx") && m.getMessage().contains("'latent'") && m.getMessage().contains("z"), m.getMessage());

    m = assertThrows(ModelLoadException.class, () -> OnnxEncoder.fromFile(image, OnnxEncoder.Options.imageOnly().withNames(null, "feat")));
    assertTrue(m.getMessage().contains("'feat'") && m.getMessage().contains("embedding"), m.getMessage());

    // An image-embedding graph given as a generator: its input has 3 channels but its output is [n, 8], not an image.
    m = assertThrows(ModelLoadException.class, () -> OnnxGenerator.fromFile(image, OnnxGenerator.Options.defaults()));
    assertTrue(m.getMessage().contains("image_embed.onnx") && m.getMessage().contains("expected"), m.getMessage());

    // A decoder given as an encoder: rank-4 output, not [n, D].
    m = assertThrows(ModelLoadException.class, () -> OnnxEncoder.fromFile(decoder, OnnxEncoder.Options.imageOnly()));
    assertTrue(m.getMessage().contains("decoder.onnx") && m.getMessage().contains("expected"), m.getMessage());

    // A text graph whose token input is FLOAT: the image graph given as text graph.
    m = assertThrows(ModelLoadException.class, () -> OnnxEncoder.fromFile(image, OnnxEncoder.Options.of(image, REF_TOKENS)));
    assertTrue(m.getMessage().contains("INT64"), m.getMessage());

    // A tokenizer of another vocabulary: its end token is beyond the graph's 32-row token table.
    m = assertThrows(ModelLoadException.class, () -> OnnxEncoder.fromFile(image, OnnxEncoder.Options.of(text, s -> new int[] {1, 2, 40, 0, 0, 0, 0, 0})));
    assertTrue(m.getMessage().contains("text_embed.onnx") && m.getMessage().contains("id 40") && m.getMessage().contains("32 rows"), m.getMessage());
    // Within the table at load, out of it for one text: an IllegalArgumentException, not a runtime failure.
    try (OnnxEncoder e = OnnxEncoder.fromFile(image, OnnxEncoder.Options.of(text, s -> s.equals("a") ? new int[] {1, 2, 31, 0, 0, 0, 0, 0}
        : new int[] {1, 99, 31, 0, 0, 0, 0, 0}))) {
      IllegalArgumentException x = assertThrows(IllegalArgumentException.class, () -> e.embedText("zebra"));
      assertTrue(x.getMessage().contains("token id 99") && x.getMessage().contains("[0, 32)"), x.getMessage());
    }

    // An encoder graph whose latent does not fit the decoder: the image embedder.
    OnnxGenerator.Options wrongEnc = OnnxGenerator.Options.defaults().withEncoder(image, OnnxGenerator.Range.UNIT);
    m = assertThrows(ModelLoadException.class, () -> OnnxGenerator.fromFile(decoder, wrongEnc));
    assertTrue(m.getMessage().contains("image_embed.onnx"), m.getMessage());
  }
}
