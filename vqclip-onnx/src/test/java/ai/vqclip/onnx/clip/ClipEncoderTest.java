package ai.vqclip.onnx.clip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.Encoder;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.graph.DType;
import ai.vqclip.onnx.weights.StateDict;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The tiny CLIP built from weights against a plain-Java reference, under OpenAI and HF names. */
class ClipEncoderTest {
  private static final ClipConfig CFG = ClipTestModels.TINY;
  private static final ExecutionOptions CPU = ExecutionOptions.cpu().withThreads(1);
  private static final double TOL = 1e-4;

  private static Map<String, Tensor> weights;
  private static ClipReference reference;
  private static ClipEncoder openai;
  private static ClipEncoder hf;

  @BeforeAll
  static void load() {
    weights = ClipTestModels.openAiWeights(CFG, 11);
    reference = new ClipReference(CFG, weights);
    TextTokenizer tok = ClipTestModels.fakeTokenizer(CFG);
    openai = ClipEncoder.load(StateDict.of(weights), CFG, tok, CPU);
    hf = ClipEncoder.load(StateDict.of(ClipTestModels.toHuggingFace(weights)), CFG, tok, CPU);
  }

  @AfterAll
  static void close() {
    openai.close();
    hf.close();
  }

  private static Tensor images(int n, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    int s = CFG.imageResolution();
    double[] d = new double[n * 3 * s * s];
    for (int i = 0; i < d.length; i++) {
      d[i] = rnd.nextDouble();
    }
    return Tensor.fromDoubles(DType.FLOAT, new long[] {n, 3, s, s}, d);
  }

  private static double maxAbsDiff(double[] a, double[] b) {
    assertEquals(a.length, b.length);
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]));
    }
    return m;
  }

  @Test
  void imageEmbeddingsMatchTheReference() {
    int n = 3;
    Tensor img = images(n, 5);
    Tensor e = openai.embedImages(img);
    assertArrayEquals(new long[] {n, CFG.embedDim()}, e.shape());
    double[] got = e.toDoubles();
    double[] px = img.toDoubles();
    int per = 3 * CFG.imageResolution() * CFG.imageResolution();
    double worst = 0;
    double norm = 0;
    for (int i = 0; i < n; i++) {
      double[] want = reference.image(java.util.Arrays.copyOfRange(px, i * per, (i + 1) * per));
      double[] row = java.util.Arrays.copyOfRange(got, i * CFG.embedDim(), (i + 1) * CFG.embedDim());
      worst = Math.max(worst, maxAbsDiff(want, row));
      for (double v : want) {
        norm = Math.max(norm, Math.abs(v));
      }
    }
    System.out.printf("clip tiny image: max |graph - reference| = %.3g (max |embedding| %.3g)%n", worst, norm);
    assertTrue(norm > 0.1, "reference embeddings are degenerate: max " + norm);
    assertTrue(worst < TOL, "image embeddings differ from the reference by " + worst);
  }

  @Test
  void textEmbeddingsMatchTheReference() {
    TextTokenizer tok = ClipTestModels.fakeTokenizer(CFG);
    double worst = 0;
    double norm = 0;
    for (String text : new String[] {"a photo of a cat", "", "x"}) {
      int[] ids = tok.tokenize(text);
      Tensor e = openai.embedText(text);
      assertArrayEquals(new long[] {1, CFG.embedDim()}, e.shape());
      double[] want = reference.text(ids);
      worst = Math.max(worst, maxAbsDiff(want, e.toDoubles()));
      for (double v : want) {
        norm = Math.max(norm, Math.abs(v));
      }
      assertArrayEquals(e.toFloats(), openai.embedTokens(ids).toFloats());
    }
    System.out.printf("clip tiny text: max |graph - reference| = %.3g (max |embedding| %.3g)%n", worst, norm);
    assertTrue(norm > 0.1, "reference embeddings are degenerate: max " + norm);
    assertTrue(worst < TOL, "text embeddings differ from the reference by " + worst);
    // The end token's position, not the sequence length, selects the features.
    double[] a = openai.embedText("a photo of a cat").toDoubles();
    double[] b = openai.embedText("a photo of a dog").toDoubles();
    assertTrue(maxAbsDiff(a, b) > 1e-3, "different texts gave the same embedding");
    // Released sessions are rebuilt on demand and give the same result.
    openai.releaseCaches();
    assertArrayEquals(a, openai.embedText("a photo of a cat").toDoubles());
  }

  @Test
  void batchedTextGraphPicksEachSequencesEndToken() {
    TextTokenizer tok = ClipTestModels.fakeTokenizer(CFG);
    String[] texts = {"short", "a much longer prompt here"};
    long[] ids = new long[2 * CFG.contextLength()];
    for (int i = 0; i < 2; i++) {
      int[] t = tok.tokenize(texts[i]);
      for (int j = 0; j < t.length; j++) {
        ids[i * t.length + j] = t[j];
      }
    }
    try (var exe = ai.vqclip.onnx.OrtExecutable.create(openai.textGraph(2), CPU)) {
      double[] both = exe.run(Map.of(ClipGraphs.TOKENS, Tensor.ofLongs(new long[] {2, CFG.contextLength()}, ids)))
          .get(ClipGraphs.EMBEDDINGS).toDoubles();
      int d = CFG.embedDim();
      for (int i = 0; i < 2; i++) {
        double[] want = reference.text(tok.tokenize(texts[i]));
        double diff = maxAbsDiff(want, java.util.Arrays.copyOfRange(both, i * d, (i + 1) * d));
        assertTrue(diff < TOL, "sequence " + i + ": " + diff);
      }
    }
  }

  @Test
  void huggingFaceNamesLoadToTheSameModel() {
    assertEquals(ClipWeights.Naming.HUGGING_FACE, ClipWeights.of(StateDict.of(ClipTestModels.toHuggingFace(weights))).naming());
    Tensor img = images(2, 9);
    double di = maxAbsDiff(openai.embedImages(img).toDoubles(), hf.embedImages(img).toDoubles());
    double dt = maxAbsDiff(openai.embedText("a red cube").toDoubles(), hf.embedText("a red cube").toDoubles());
    System.out.printf("clip tiny OpenAI vs HF names: image %.3g, text %.3g%n", di, dt);
    assertTrue(di < 1e-6, "image: " + di);
    assertTrue(dt < 1e-6, "text: " + dt);
  }

  @Test
  void imageFragmentHasTheEncoderContract() {
    var g = openai.imageFragment(4);
    assertEquals(Encoder.IMAGES, g.inputs().get(0).name());
    assertEquals("[4,3,32,32]", g.inputs().get(0).shape().toString().replace(" ", ""));
    assertEquals(Encoder.EMBEDDINGS, g.outputs().get(0).name());
    assertArrayEquals(new long[] {4, CFG.embedDim()}, g.outputs().get(0).shape().toArray());
    assertEquals(32, openai.inputResolution());
    assertEquals(16, openai.embeddingDim());
    assertTrue(g.initializers().containsKey("visual.transformer.resblocks.1.attn.in_proj_weight"));
  }

  @Test
  void badInputsAreRejectedWithClearMessages() {
    IllegalArgumentException size =
        assertThrows(IllegalArgumentException.class, () -> openai.embedImages(Tensor.filled(DType.FLOAT, new long[] {1, 3, 16, 16}, 0.5)));
    assertTrue(size.getMessage().contains("[n, 3, 32, 32]") && size.getMessage().contains("[1, 3, 16, 16]"), size.getMessage());
    assertThrows(IllegalArgumentException.class, () -> openai.embedImages(Tensor.filled(DType.FLOAT, new long[] {3, 32, 32}, 0.5)));
    assertThrows(IllegalArgumentException.class, () -> openai.embedImages(Tensor.filled(DType.INT64, new long[] {1, 3, 32, 32}, 0)));
    IllegalArgumentException len = assertThrows(IllegalArgumentException.class, () -> openai.embedTokens(new int[10]));
    assertTrue(len.getMessage().contains("77"), len.getMessage());
    int[] ids = new int[77];
    ids[3] = 100;
    IllegalArgumentException range = assertThrows(IllegalArgumentException.class, () -> openai.embedTokens(ids));
    assertTrue(range.getMessage().contains("100") && range.getMessage().contains("position 3"), range.getMessage());
    assertThrows(IllegalArgumentException.class, () -> openai.imageFragment(0));
  }

  @Test
  void doubleImagesAreConvertedAndCloseIsIdempotent() {
    ClipEncoder e = ClipEncoder.load(StateDict.of(weights), CFG, null, CPU);
    Tensor f = images(1, 3);
    Tensor d = Tensor.fromDoubles(DType.DOUBLE, f.shape(), f.toDoubles());
    assertArrayEquals(e.embedImages(f).toFloats(), e.embedImages(d).toFloats());
    assertThrows(IllegalStateException.class, () -> e.embedText("no tokenizer"));
    e.close();
    e.close();
    assertThrows(IllegalStateException.class, () -> e.embedImages(f));
    assertThrows(IllegalStateException.class, () -> e.imageFragment(1));
  }
}
