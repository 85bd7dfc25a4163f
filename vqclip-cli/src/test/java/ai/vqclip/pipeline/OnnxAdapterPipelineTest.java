package ai.vqclip.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.augment.StandardCutouts;
import ai.vqclip.core.Encoder;
import ai.vqclip.core.Generator;
import ai.vqclip.core.graph.GraphBuilder;
import ai.vqclip.core.autodiff.VjpRegistry;
import ai.vqclip.core.graph.Value;
import ai.vqclip.core.optim.OptimizerConfig;
import ai.vqclip.core.pipeline.GenerationRequest;
import ai.vqclip.core.pipeline.Pipeline;
import ai.vqclip.core.pipeline.RunResult;
import ai.vqclip.core.prompt.PromptSchedule;
import ai.vqclip.onnx.adapt.AdapterFixtures;
import ai.vqclip.onnx.adapt.OnnxEncoder;
import ai.vqclip.onnx.adapt.OnnxGenerator;
import ai.vqclip.onnx.clip.TextTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Generations driven end to end by models that nobody on this project wrote: tiny graphs exported
 * by torch.onnx.export (tools/fixtures/make_adapter_fixtures.py), adapted in one call each.
 */
class OnnxAdapterPipelineTest {
  @TempDir static Path dir;
  static Path decoder;
  static Path imageGraph;
  static Path textGraph;

  /** Eight ids: start 1, one id in [2, 29] per character (at most six), end 31 (the largest id), padding 0. */
  static final TextTokenizer CHARS = s -> {
    int[] ids = new int[8];
    ids[0] = 1;
    int n = Math.min(6, s.length());
    for (int i = 0; i < n; i++) {
      ids[1 + i] = 2 + Math.floorMod(s.charAt(i), 28);
    }
    ids[1 + n] = 31;
    return ids;
  };

  @BeforeAll
  static void fixtures() {
    decoder = AdapterFixtures.copy("decoder.onnx", dir);
    imageGraph = AdapterFixtures.copy("image_embed.onnx", dir);
    textGraph = AdapterFixtures.copy("text_embed.onnx", dir);
  }

  // ---- The example of docs/library.md, "Bring your own model" (keep the two identical). ----
  static RunResult bringYourOwnModel(Path decoder, Path imageGraph, Path textGraph, TextTokenizer tokenizer) {
    OnnxGenerator.Options g = OnnxGenerator.Options.defaults().withOutputRange(OnnxGenerator.Range.SIGNED);
    OnnxEncoder.Options e = OnnxEncoder.Options.of(textGraph, tokenizer);
    try (OnnxGenerator generator = OnnxGenerator.fromFile(decoder, g);
        OnnxEncoder encoder = OnnxEncoder.fromFile(imageGraph, e)) {
      Pipeline pipeline = Pipeline.builder(generator, new StandardCutouts()).encoder(encoder).build();
      GenerationRequest request = GenerationRequest.builder(32, 32, PromptSchedule.parse("a red circle", 20))
          .cutouts(4).iterations(20).seed(7).optimizer(OptimizerConfig.adam(0.1)).build();
      return pipeline.run(request);
    }
  }
  // ---- end of the example ----

  // ---- The registry example of docs/library.md (keep the two identical). ----
  static Pipeline documentedRule(Generator generator, Encoder encoder) {
    VjpRegistry registry = VjpRegistry.standard().register("Tanh", c -> {
      GraphBuilder b = c.b();
      Value y = c.output(0);
      c.setGrad(0, b.mul(c.gradOutput(0), b.sub(b.scalarLike(1, y), b.mul(y, y)))); // dy * (1 - y^2)
    });
    Pipeline pipeline = Pipeline.builder(generator, new StandardCutouts()).encoder(encoder).vjpRegistry(registry).build();
    return pipeline;
  }
  // ---- end of the example ----

  /** Each java block of the "Bring your own model" section, imports aside, appears verbatim in this test. */
  @Test
  void theDocumentationShowsThisTestsCode() throws IOException {
    String doc = Files.readString(Path.of("..", "docs", "library.md"));
    int start = doc.indexOf("## Bring your own model");
    assertTrue(start >= 0, "docs/library.md has no 'Bring your own model' section");
    String section = doc.substring(start, doc.indexOf("\n## ", start + 3));
    String source = trimmed(Files.readString(Path.of("src", "test", "java", "ai", "vqclip", "pipeline", "OnnxAdapterPipelineTest.java")));
    int blocks = 0;
    for (int i = section.indexOf("```java\n"); i >= 0; i = section.indexOf("```java\n", i + 1)) {
      String block = section.substring(i + 8, section.indexOf("```", i + 8));
      String code = trimmed(block.lines().filter(l -> !l.startsWith("import ")).reduce("", (a, l) -> a + l + "\n"));
      assertTrue(source.contains(code), "docs/library.md's example differs from OnnxAdapterPipelineTest:\n" + code);
      blocks++;
    }
    assertEquals(2, blocks);
  }

  private static String trimmed(String s) {
    return s.lines().map(String::trim).filter(l -> !l.isEmpty()).reduce("", (a, l) -> a + l + "\n");
  }

  @Test
  void theDocumentedRuleGivesTheBuiltInGradient() {
    OnnxGenerator.Options go = OnnxGenerator.Options.defaults().withOutputRange(OnnxGenerator.Range.SIGNED);
    try (OnnxGenerator g = OnnxGenerator.fromFile(decoder, go);
        OnnxEncoder e = OnnxEncoder.fromFile(imageGraph, OnnxEncoder.Options.of(textGraph, CHARS))) {
      float[] custom = documentedRule(g, e).run(request(4, 2)).latent().toFloats();
      float[] standard = Pipeline.builder(g, new StandardCutouts()).encoder(e).build().run(request(4, 2)).latent().toFloats();
      for (int i = 0; i < custom.length; i++) {
        assertEquals(standard[i], custom[i], 1e-4, "latent value " + i);
      }
    }
  }

  @Test
  void theDocumentedExampleRuns() {
    RunResult r = bringYourOwnModel(decoder, imageGraph, textGraph, CHARS);
    assertArrayEquals(new long[] {1, 3, 32, 32}, r.image().shape());
    assertArrayEquals(new long[] {1, 4, 16, 16}, r.latent().shape());
  }

  static GenerationRequest request(int iterations, long seed) {
    return GenerationRequest.builder(16, 16, PromptSchedule.parse("a red circle", iterations)).cutouts(4).iterations(iterations).seed(seed)
        .optimizer(OptimizerConfig.adam(0.1)).build();
  }

  @Test
  void lossFallsAndTheSameSeedIsBitIdentical() {
    OnnxGenerator.Options go = OnnxGenerator.Options.defaults().withOutputRange(OnnxGenerator.Range.SIGNED);
    try (OnnxGenerator g = OnnxGenerator.fromFile(decoder, go);
        OnnxEncoder e = OnnxEncoder.fromFile(imageGraph, OnnxEncoder.Options.of(textGraph, CHARS))) {
      Pipeline p = Pipeline.builder(g, new StandardCutouts()).encoder(e).options(TinyModels.CPU).build();
      List<Double> loss = new ArrayList<>();
      RunResult a = p.run(request(40, 3), ev -> loss.add(ev.loss()) || true);
      double first = (loss.get(0) + loss.get(1) + loss.get(2)) / 3;
      double last = (loss.get(37) + loss.get(38) + loss.get(39)) / 3;
      System.out.println("adapter pipeline loss: first " + first + ", last " + last);
      assertTrue(last < 0.9 * first, "loss " + loss);
      RunResult b = p.run(request(40, 3));
      assertArrayEquals(a.latent().toFloats(), b.latent().toFloats());
      assertArrayEquals(a.image().toFloats(), b.image().toFloats());
    }
  }

  @Test
  void theStepIsDifferentiatedWithTheGivenRegistry() {
    OnnxGenerator.Options go = OnnxGenerator.Options.defaults().withOutputRange(OnnxGenerator.Range.SIGNED);
    try (OnnxGenerator g = OnnxGenerator.fromFile(decoder, go);
        OnnxEncoder e = OnnxEncoder.fromFile(imageGraph, OnnxEncoder.Options.of(textGraph, CHARS))) {
      // An empty registry has no rule for the decoder's ops: the error names one.
      Pipeline none = Pipeline.builder(g, new StandardCutouts()).encoder(e).options(TinyModels.CPU).vjpRegistry(new VjpRegistry()).build();
      IllegalArgumentException x = assertThrows(IllegalArgumentException.class, () -> none.run(request(2, 3)));
      assertTrue(x.getMessage().contains("rule"), x.getMessage());

      // A registered rule replaces the built-in one: d tanh(x) = (1 - y^2) dy, written here.
      AtomicInteger used = new AtomicInteger();
      VjpRegistry registry = VjpRegistry.standard().register("Tanh", c -> {
        used.incrementAndGet();
        var b = c.b();
        Value y = c.output(0);
        Value one = b.scalarLike(1, y);
        c.setGrad(0, b.mul(c.gradOutput(0), b.sub(one, b.mul(y, y))));
      });
      Pipeline custom = Pipeline.builder(g, new StandardCutouts()).encoder(e).options(TinyModels.CPU).vjpRegistry(registry).build();
      Pipeline standard = Pipeline.builder(g, new StandardCutouts()).encoder(e).options(TinyModels.CPU).build();
      RunResult a = custom.run(request(5, 3));
      assertTrue(used.get() > 0, "the registered Tanh rule was not used");
      RunResult b = standard.run(request(5, 3));
      float[] za = a.latent().toFloats();
      float[] zb = b.latent().toFloats();
      for (int i = 0; i < za.length; i++) {
        assertEquals(zb[i], za[i], 1e-4, "latent value " + i);
      }
    }
  }
}
