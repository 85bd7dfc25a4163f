package ai.vqclip.demo.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.demo.data.CaptionParser;
import ai.vqclip.demo.data.DemoColor;
import ai.vqclip.demo.data.ShapeKind;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DemoPromptsTest {
  @Test
  void testAndTuningSetsAreDisjointGrammaticalAndCoverEveryShapeColourAndBackground() {
    List<String> test = DemoPrompts.test();
    List<String> tuning = DemoPrompts.tuning();
    assertEquals(50, test.size());
    assertEquals(25, tuning.size());
    Set<String> all = new HashSet<>(test);
    assertEquals(50, all.size(), "test prompts repeat");
    for (String p : tuning) {
      assertTrue(all.add(p), "tuning prompt also in the test set: " + p);
    }
    for (List<String> set : List.of(test, tuning)) {
      Set<ShapeKind> shapes = EnumSet.noneOf(ShapeKind.class);
      Set<DemoColor> colors = EnumSet.noneOf(DemoColor.class);
      Set<DemoColor> backgrounds = EnumSet.noneOf(DemoColor.class);
      int two = 0;
      for (String p : set) {
        CaptionParser.Claims c = CaptionParser.parse(p);
        backgrounds.add(c.background());
        two += c.objects().size() == 2 ? 1 : 0;
        for (CaptionParser.ObjectClaim o : c.objects()) {
          shapes.add(o.shape());
          colors.add(o.color());
          assertTrue(o.color() != c.background(), "object on its own colour: " + p);
        }
        if (c.objects().size() == 2) {
          assertTrue(c.objects().get(0).color() != c.objects().get(1).color(), p);
        }
      }
      assertEquals(EnumSet.allOf(ShapeKind.class), shapes);
      assertEquals(EnumSet.allOf(DemoColor.class), colors);
      assertEquals(EnumSet.allOf(DemoColor.class), backgrounds);
      assertTrue(two >= 5, two + " two-object prompts");
    }
  }

  /** docs/demo-prompts-*.txt (for {@code vqclip generate --prompts-file}) are the sets, line by line. */
  @Test
  void theDocumentedPromptFilesAreTheSets() throws Exception {
    for (String set : List.of("test", "tuning")) {
      java.nio.file.Path f = java.nio.file.Path.of("..", "docs", "demo-prompts-" + set + ".txt");
      List<String> lines = java.nio.file.Files.readAllLines(f).stream().filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
      assertEquals(DemoPrompts.named(set), lines, f.toString());
    }
  }
}
