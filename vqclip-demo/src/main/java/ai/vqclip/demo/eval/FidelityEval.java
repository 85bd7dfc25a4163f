package ai.vqclip.demo.eval;

import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.pipeline.RunResult;
import ai.vqclip.demo.DemoModels;
import ai.vqclip.demo.data.DemoColor;
import ai.vqclip.demo.data.ShapeKind;
import java.util.ArrayList;
import java.util.List;

/**
 * Prompt fidelity of the demo models: generates for fixed prompts (colours x shapes x
 * backgrounds) at seed 0 with the demo settings and asks the {@link FidelityChecker}.
 */
public final class FidelityEval {
  private FidelityEval() {}

  /** The 20 evaluation prompts: colour i, shape i mod 5, background i+3 (never the object colour). */
  public static List<String> prompts() {
    DemoColor[] c = DemoColor.values();
    ShapeKind[] s = ShapeKind.values();
    List<String> out = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      DemoColor obj = c[i % c.length];
      DemoColor bg = c[(i + 3 + i / c.length) % c.length];
      out.add("a " + obj.word() + " " + s[i % s.length].word() + " on a " + bg.word() + " background");
    }
    return out;
  }

  /** One prompt's outcome. */
  public record Outcome(String prompt, FidelityChecker.Verdict verdict) {}

  /** Generates for every prompt at {@code seed} and checks each picture. */
  public static List<Outcome> run(DemoGeneration gen, List<String> prompts, long seed, int iterations) {
    List<Outcome> out = new ArrayList<>();
    for (String p : prompts) {
      RunResult r = gen.run(DemoGeneration.request(p, seed).iterations(iterations).build());
      long[] sh = r.image().shape();
      out.add(new Outcome(p, FidelityChecker.check(p, r.image().toFloats(), (int) sh[2], (int) sh[3])));
    }
    return out;
  }

  /** Prints the outcomes and the agreement: {@code [iterations] [models-dir]} (default: the bundled models). */
  public static void main(String[] args) throws InterruptedException {
    ai.vqclip.demo.train.TrainDemo.runWithLargeStack(() -> {
      try (DemoModels.Bundle m = args.length > 1 ? DemoModels.load(java.nio.file.Path.of(args[1])) : DemoModels.load(); DemoGeneration g = new DemoGeneration(m, ExecutionOptions.cpu())) {
        long t0 = System.nanoTime();
        List<Outcome> o = run(g, prompts(), 0, args.length > 0 ? Integer.parseInt(args[0]) : DemoGeneration.ITERATIONS);
        long ok = o.stream().filter(x -> x.verdict().agrees()).count();
        o.forEach(x -> System.out.println((x.verdict().agrees() ? "ok   " : "FAIL ") + x.prompt() + "  -- " + x.verdict().reason()));
        System.out.printf("agreement %d/%d in %.1f s%n", ok, o.size(), (System.nanoTime() - t0) / 1e9);
      }
    });
  }
}
