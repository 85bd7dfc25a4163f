package ai.vqclip.demo.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.demo.DemoModels;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The acceptance figure of the bundled demo models: generating the 20 evaluation prompts (colours
 * x shapes x backgrounds) at seed 0 with the default demo settings, the independent pixel-statistics
 * {@link FidelityChecker} must agree with at least 80% of them. About 4 s per prompt on 2 cores.
 */
class PromptFidelityTest {
  /** 80% of 20. */
  static final int REQUIRED = 16;

  @Test
  void bundledModelsDrawWhatTheDefaultPromptsSay() {
    List<String> prompts = FidelityEval.prompts();
    assertEquals(20, prompts.size());
    try (DemoModels.Bundle m = DemoModels.load(); DemoGeneration g = new DemoGeneration(m, ExecutionOptions.cpu())) {
      List<FidelityEval.Outcome> out = FidelityEval.run(g, prompts, 0, DemoGeneration.ITERATIONS);
      long agreed = out.stream().filter(o -> o.verdict().agrees()).count();
      String report = out.stream().map(o -> (o.verdict().agrees() ? "ok   " : "FAIL ") + o.prompt() + " -- " + o.verdict().reason())
          .collect(Collectors.joining("\n"));
      System.out.println(report + "\nprompt fidelity: " + agreed + " of 20");
      assertTrue(agreed >= REQUIRED, "the checker agreed with " + agreed + " of 20 prompts, need " + REQUIRED + ":\n" + report);
    }
  }
}
