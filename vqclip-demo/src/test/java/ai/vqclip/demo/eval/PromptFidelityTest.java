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

  static List<String> legacyPrompts() {
    ai.vqclip.demo.data.DemoColor[] c = ai.vqclip.demo.data.DemoColor.values();
    ai.vqclip.demo.data.ShapeKind[] s = ai.vqclip.demo.data.ShapeKind.values();
    List<String> out = new java.util.ArrayList<>();
    for (int i = 0; i < 20; i++) {
      out.add("a " + c[i % c.length].word() + " " + s[i % s.length].word() + " on a " + c[(i + 3 + i / c.length) % c.length].word() + " background");
    }
    return out;
  }

  @Test
  void bundledModelsDrawWhatTheDefaultPromptsSay() {
    List<String> prompts = legacyPrompts();
    assertEquals(20, prompts.size());
    try (DemoModels.Bundle m = DemoModels.load(); DemoGeneration g = new DemoGeneration(m, ExecutionOptions.cpu())) {
      List<FidelityChecker.Verdict> out = new java.util.ArrayList<>();
      for (String p : prompts) {
        ai.vqclip.core.pipeline.RunResult r = g.run(DemoGeneration.request(p, 0).build());
        out.add(FidelityChecker.check(p, r.image().toFloats(), 32, 32));
      }
      long agreed = out.stream().filter(FidelityChecker.Verdict::agrees).count();
      String report = out.stream().map(o -> (o.agrees() ? "ok   " : "FAIL ") + o.reason()).collect(Collectors.joining("\n"));
      System.out.println(report + "\nprompt fidelity: " + agreed + " of 20");
      assertTrue(agreed >= REQUIRED, "the checker agreed with " + agreed + " of 20 prompts, need " + REQUIRED + ":\n" + report);
    }
  }
}
