package ai.vqclip.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.augment.StandardCutouts;
import ai.vqclip.core.loss.LatentRegularization;
import ai.vqclip.core.optim.OptimizerConfig;
import ai.vqclip.core.pipeline.EditDirection;
import ai.vqclip.core.pipeline.GenerationRequest;
import ai.vqclip.core.pipeline.Init;
import ai.vqclip.core.pipeline.NoisePrompt;
import ai.vqclip.core.pipeline.Pipeline;
import ai.vqclip.core.pipeline.Regularization;
import ai.vqclip.core.pipeline.RunResult;
import ai.vqclip.core.pipeline.StepBatch;
import ai.vqclip.core.pipeline.StepEvent;
import ai.vqclip.core.prompt.PromptSchedule;
import ai.vqclip.onnx.clip.ClipEncoder;
import ai.vqclip.onnx.vqgan.VqganGenerator;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Batched steps ({@link StepBatch}): several requests advanced in one ONNX Runtime call give the
 * pixels, latents, losses and checkpoints of the same requests run alone, bit for bit.
 */
class StepBatchTest {
  static VqganGenerator generator;
  static ClipEncoder encoder;
  static Pipeline pipeline;

  @BeforeAll
  static void load() {
    generator = TinyModels.generator();
    encoder = TinyModels.encoder(5);
    pipeline = Pipeline.builder(generator, new StandardCutouts()).encoder(encoder).options(TinyModels.CPU).build();
  }

  @AfterAll
  static void close() {
    encoder.close();
    generator.close();
  }

  /** Four requests of one step-graph shape with different seeds, prompts, schedules and loss terms. */
  static List<GenerationRequest> requests(int iterations) {
    List<GenerationRequest> rs = new ArrayList<>();
    GenerationRequest.Builder base = GenerationRequest.builder(32, 32, PromptSchedule.parse("a red circle", 10)).cutouts(4)
        .augmentations(List.of("Af", "Pe")).iterations(iterations).optimizer(OptimizerConfig.adam(0.1));
    rs.add(base.seed(1).build());
    rs.add(base.seed(2).prompts(PromptSchedule.parse("a blue square|stripes:0.5", 10)).saveEvery(2).build());
    rs.add(base.seed(3).prompts(PromptSchedule.parse("the sea at night^dawn", 2)).noisePrompt(new NoisePrompt(9, 0.3)).tvWeight(0.05)
        .saveEvery(0).build());
    rs.add(GenerationRequest.builder(32, 32, PromptSchedule.parse("a green tree:2|fog:-0.5", 10)).cutouts(4).augmentations(List.of("Af", "Pe"))
        .iterations(iterations).seed(4).optimizer(OptimizerConfig.adam(0.05))
        .regularization(new Regularization(0.1, Regularization.Target.INIT, new LatentRegularization.Decay.Constant()))
        .learningRateDrop(2, 0.02).init(new Init.NoisePixels()).build());
    return rs;
  }

  /** A run's result with every step event it reported. */
  record Traced(RunResult result, List<StepEvent> events) {}

  static Traced alone(GenerationRequest r, int steps) {
    List<StepEvent> events = new ArrayList<>();
    RunResult res = pipeline.run(r, e -> {
      events.add(e);
      return steps == r.iterations() || e.iteration() < steps - 1; // all steps: completed, as in a batch
    });
    return new Traced(res, events);
  }

  static void assertSame(Traced expected, RunResult actual, List<StepEvent> events, String what) {
    assertArrayEquals(expected.result().image().toFloats(), actual.image().toFloats(), what + ": image");
    assertArrayEquals(expected.result().latent().toFloats(), actual.latent().toFloats(), what + ": latent");
    assertArrayEquals(expected.result().checkpoint().optimizerState(), actual.checkpoint().optimizerState(), what + ": optimizer state");
    assertEquals(expected.result().manifest().stopReason(), actual.manifest().stopReason(), what);
    assertEquals(expected.result().manifest().iterationsRun(), actual.manifest().iterationsRun(), what);
    assertEquals(expected.events().size(), events.size(), what + ": events");
    for (int i = 0; i < events.size(); i++) {
      StepEvent a = expected.events().get(i);
      StepEvent b = events.get(i);
      assertEquals(a.loss(), b.loss(), what + ": loss at " + i);
      assertEquals(a.terms(), b.terms(), what + ": terms at " + i);
      assertEquals(a.image() == null, b.image() == null, what + ": image attached at " + i);
      if (a.image() != null) {
        assertArrayEquals(a.image().toFloats(), b.image().toFloats(), what + ": event image at " + i);
      }
    }
  }

  @Test
  void batchesOfTwoAndFourAreBitIdenticalToTheSameRequestsRunAlone() {
    int iterations = 4;
    List<GenerationRequest> rs = requests(iterations);
    List<Traced> refs = new ArrayList<>();
    for (GenerationRequest r : rs) {
      refs.add(alone(r, iterations));
    }
    for (int size : new int[] {2, 4}) {
      List<List<StepEvent>> events = new ArrayList<>();
      List<StepBatch.Member> ms = new ArrayList<>();
      for (int i = 0; i < size; i++) {
        List<StepEvent> ev = new ArrayList<>();
        events.add(ev);
        ms.add(StepBatch.Member.of(rs.get(i), e -> ev.add(e)));
      }
      List<StepBatch.Outcome> out = StepBatch.run(pipeline, ms);
      for (int i = 0; i < size; i++) {
        assertNull(out.get(i).failure());
        assertSame(refs.get(i), out.get(i).get(), events.get(i), "batch of " + size + ", request " + i);
      }
    }
  }
}
