package ai.vqclip.pipeline;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.augment.StandardCutouts;
import ai.vqclip.core.Encoder;
import ai.vqclip.core.Generator;
import ai.vqclip.core.image.Images;
import ai.vqclip.core.pipeline.GenerationJob;
import ai.vqclip.core.pipeline.GenerationRequest;
import ai.vqclip.core.pipeline.GenerationService;
import ai.vqclip.core.pipeline.Pipeline;
import ai.vqclip.core.pipeline.RunResult;
import ai.vqclip.core.prompt.PromptSchedule;
import ai.vqclip.onnx.clip.ClipEncoder;
import ai.vqclip.onnx.vqgan.VqganGenerator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The "Serving many requests" example of docs/library.md, compiled and run on tiny models. */
class LibraryServingExampleTest {
  @TempDir Path out;

  /** The example's code, as in docs/library.md (kept identical: see {@link #theDocumentShowsThisCode}). */
  static void serve(Generator generator, Encoder encoder, int size, int iterations, Path out) {
    Pipeline pipeline = Pipeline.builder(generator, new StandardCutouts()).encoder(encoder).build();
    try (GenerationService service = GenerationService.builder(pipeline).maxConcurrent(2).queueCapacity(32).build()) {
      List<GenerationJob> jobs = new ArrayList<>();
      for (String prompt : List.of("a watercolor fox", "a lighthouse at dusk", "a red bicycle")) {
        GenerationRequest request = GenerationRequest.builder(size, size, PromptSchedule.parse(prompt, 1))
            .iterations(iterations).saveEvery(10).seed(7).build();
        GenerationJob job = service.submit(request);
        job.onProgress(e -> System.out.printf("job %d: step %d, loss %.4f%s%n", job.id(), e.iteration(), e.loss(),
            e.image() != null ? " (with image)" : ""));
        jobs.add(job);
      }
      jobs.get(2).cancel(); // stops at its next step, keeping its last image, or never starts
      for (GenerationJob job : jobs) {
        try {
          RunResult r = job.result().join();
          Images.writePng(r.image(), out.resolve("job-" + job.id() + ".png"), Map.of("vqclip", r.manifest().toJson()));
          System.out.println("job " + job.id() + ": " + r.manifest().stopReason() + " after " + r.manifest().iterationsRun() + " steps");
        } catch (CancellationException e) {
          System.out.println("job " + job.id() + " was cancelled before it started");
        }
      }
    }
  }

  @Test
  void runs() {
    try (VqganGenerator g = TinyModels.generator(); ClipEncoder e = TinyModels.encoder(5)) {
      serve(g, e, 32, 12, out);
    }
    assertTrue(Files.isRegularFile(out.resolve("job-1.png")));
    assertTrue(Files.isRegularFile(out.resolve("job-2.png")));
  }

  @Test
  void theDocumentShowsThisCode() throws IOException {
    String doc = Files.readString(docs().resolve("library.md"));
    int section = doc.indexOf("## Serving many requests");
    assertTrue(section >= 0, "docs/library.md has a section 'Serving many requests'");
    int start = doc.indexOf("```java\n", section) + 8;
    String block = doc.substring(start, doc.indexOf("```", start));
    String source = Files.readString(Path.of("src/test/java/ai/vqclip/pipeline/LibraryServingExampleTest.java"));
    List<String> body = source.lines().map(String::strip).toList();
    for (String line : block.lines().map(String::strip).filter(l -> !l.isEmpty()).toList()) {
      assertTrue(body.contains(line), "the example line '" + line + "' of docs/library.md is in this test");
    }
  }

  private static Path docs() {
    Path p = Path.of("").toAbsolutePath();
    while (p != null && !Files.isDirectory(p.resolve("docs"))) {
      p = p.getParent();
    }
    if (p == null) {
      throw new IllegalStateException("no docs folder above " + Path.of("").toAbsolutePath());
    }
    return p.resolve("docs");
  }
}
