package ai.vqclip.core.prompt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PromptTest {
  @Test
  void parsesTextWeightStop() {
    assertEquals(new Prompt("a red circle", 1, Double.NEGATIVE_INFINITY), Prompt.parse("a red circle"));
    assertEquals(new Prompt("a red circle", 1.5, Double.NEGATIVE_INFINITY), Prompt.parse("a red circle:1.5"));
    assertEquals(new Prompt("blurry", -0.5, 0.2), Prompt.parse(" blurry : -0.5 : 0.2 "));
    assertEquals(new Prompt("x", 2, Double.NEGATIVE_INFINITY), Prompt.parse("x:2:-inf"));
    assertEquals(new Prompt("x", 1e-3, Double.NEGATIVE_INFINITY), Prompt.parse("x:1e-3"));
  }

  @Test
  void keepsColonsInUrls() {
    assertEquals(new Prompt("https://example.com/a.png", 1, Double.NEGATIVE_INFINITY), Prompt.parse("https://example.com/a.png"));
    assertEquals(new Prompt("https://example.com/a.png", 2, Double.NEGATIVE_INFINITY), Prompt.parse("https://example.com/a.png:2"));
    assertEquals(new Prompt("http://host:8080/a.png", 2, 0.1), Prompt.parse("http://host:8080/a.png:2:0.1"));
    assertEquals(new Prompt("http://host:8080/a.png", 1, Double.NEGATIVE_INFINITY), Prompt.parse("http://host:8080/a.png"));
    assertEquals(new Prompt("http://host:8080", 1, Double.NEGATIVE_INFINITY), Prompt.parse("http://host:8080"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", " ", ":1", "cat:", "cat:x", "cat:1:", "cat:0", "cat:nan", "cat:1:nan", "a|", "|b", "a||b"})
  void rejectsMalformedPrompts(String spec) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Prompt.parseAll(spec));
    assertTrue(e.getMessage().contains("prompt"), e.getMessage());
  }

  @Test
  void malformedMessageQuotesThePrompt() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Prompt.parse("cat:heavy"));
    assertTrue(e.getMessage().contains("'cat:heavy'") && e.getMessage().contains("'heavy'"), e.getMessage());
  }

  @Test
  void scheduleSwitchesSetsAndKeepsTheLast() {
    PromptSchedule s = PromptSchedule.parse("a cat|b:-1^a dog", 10);
    assertEquals(2, s.maxPrompts());
    assertEquals(List.of(Prompt.of("a cat"), new Prompt("b", -1, Double.NEGATIVE_INFINITY)), s.at(9));
    assertEquals(List.of(Prompt.of("a dog")), s.at(10));
    assertEquals(List.of(Prompt.of("a dog")), s.at(1_000_000));
    assertEquals(List.of(Prompt.of("a cat")), PromptSchedule.parse("a cat", 10).at(1_000_000_000));
    assertThrows(IllegalArgumentException.class, () -> PromptSchedule.parse("a^", 10));
    assertThrows(IllegalArgumentException.class, () -> PromptSchedule.parse("a^b", 0));
  }
}
