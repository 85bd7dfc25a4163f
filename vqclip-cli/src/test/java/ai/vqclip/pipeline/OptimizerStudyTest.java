package ai.vqclip.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.augment.StandardCutouts;
import ai.vqclip.core.optim.OptimizerConfig;
import ai.vqclip.core.pipeline.GenerationRequest;
import ai.vqclip.core.pipeline.Pipeline;
import ai.vqclip.core.prompt.PromptSchedule;
import ai.vqclip.onnx.clip.ClipEncoder;
import ai.vqclip.onnx.vqgan.VqganGenerator;
import ai.vqclip.study.OptimizerStudy;
import ai.vqclip.study.StudyPlots;
import ai.vqclip.study.StudyResult;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OptimizerStudyTest {
  @TempDir Path out;

  @Test
  void gridOfVariantsSeedsAndPromptsWritesCsvPlotsAndARankedReport() throws Exception {
    try (VqganGenerator g = TinyModels.generator(); ClipEncoder e = TinyModels.encoder(5)) {
      Pipeline p = Pipeline.builder(g, new StandardCutouts()).encoder(e).options(TinyModels.CPU).build();
      GenerationRequest base = GenerationRequest.builder(16, 16, PromptSchedule.parse("a red circle", 1)).cutouts(2).iterations(4).build();
      List<OptimizerStudy.Variant> variants = OptimizerStudy.grid(
          List.of(OptimizerConfig.of(OptimizerConfig.Kind.ADAM), new PlugPointsTest.Descent(1)), List.of(0.05, 0.2));
      assertEquals(List.of("adam@0.05", "adam@0.2", "Descent@0.05", "Descent@0.2"), variants.stream().map(OptimizerStudy.Variant::label).toList());
      List<OptimizerStudy.Run> seen = new ArrayList<>();
      StudyResult r = OptimizerStudy.builder(p, e, base).variants(variants.subList(0, 3)).seeds(List.of(0L, 1L))
          .prompts(List.of("a red circle")).imagesAt(List.of(0, 2), out.resolve("images")).build().run(seen::add);
      assertEquals(6, seen.size());
      // Same seed: the same initial latent and cutouts, so every variant's first loss agrees.
      for (long seed : List.of(0L, 1L)) {
        List<Double> first = seen.stream().filter(x -> x.seed() == seed).map(x -> x.loss()[0]).distinct().toList();
        assertEquals(1, first.size(), "first losses of seed " + seed + ": " + first);
      }
      // Plain descent at 0.05 barely moves the latent (tiny gradients), Adam at 0.2 moves it most.
      StudyResult.Summary adam2 = r.summaries().get(1);
      StudyResult.Summary slow = r.summaries().get(2);
      assertTrue(adam2.finalLoss() < slow.finalLoss(), adam2 + " vs " + slow);
      assertTrue(seen.stream().allMatch(x -> x.setupMillis() > 0 && java.util.Arrays.stream(x.stepMillis()).allMatch(t -> t > 0)));
      r.writeCsv(out.resolve("study.csv"));
      List<String> lines = Files.readAllLines(out.resolve("study.csv"));
      assertEquals(1 + 6 * 4, lines.size());
      assertTrue(lines.get(0).startsWith("variant,prompt,seed,iteration,loss,step_ms"), lines.get(0));
      List<String> plots = StudyPlots.write(r, out, "test");
      for (String plot : plots) {
        BufferedImage img = ImageIO.read(out.resolve(plot).toFile());
        assertEquals(StudyPlots.WIDTH, img.getWidth());
      }
      r.writeReport(out.resolve("report.md"), "Test study", plots);
      String report = Files.readString(out.resolve("report.md"));
      assertTrue(report.indexOf("| 1 | " + r.ranking().get(0).label()) > 0, report);
      assertTrue(report.contains("![loss-vs-time.png](loss-vs-time.png)"), report);
      assertTrue(Files.isRegularFile(out.resolve("images/adam@0.05-a-red-circle-seed1-it2.png")));
      assertThrows(IllegalArgumentException.class,
          () -> OptimizerStudy.builder(p, e, base).variants(variants).imagesAt(List.of(9), out).build());
    }
  }
}
