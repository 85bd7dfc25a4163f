package ai.vqclip.core.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.Encoder;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.prompt.PromptSchedule;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link Reranking}: the candidates' seeds, the text a schedule is ranked against, and the score. */
class RerankingTest {
  /**
   * A stand-in CLIP: a text embeds as (length, vowels, 1), a picture as its three channel means; it
   * records the sides of the pictures it is shown.
   */
  private static final class FakeClip implements Encoder {
    final int resolution;
    final List<Long> sides = new ArrayList<>();

    FakeClip(int resolution) {
      this.resolution = resolution;
    }

    @Override
    public int inputResolution() {
      return resolution;
    }

    @Override
    public int embeddingDim() {
      return 3;
    }

    @Override
    public Graph imageFragment(int batch) {
      throw new UnsupportedOperationException("not used by reranking");
    }

    @Override
    public Tensor embedText(String text) {
      long vowels = text.chars().filter(c -> "aeiou".indexOf(c) >= 0).count();
      return Tensor.ofFloats(new long[] {1, 3}, new float[] {text.length(), vowels, 1});
    }

    @Override
    public Tensor embedImages(Tensor images) {
      long[] s = images.shape();
      sides.add(s[2]);
      float[] v = images.toFloats();
      int plane = (int) (s[2] * s[3]);
      float[] m = new float[3];
      for (int c = 0; c < 3; c++) {
        for (int i = 0; i < plane; i++) {
          m[c] += v[c * plane + i] / plane;
        }
      }
      return Tensor.ofFloats(new long[] {1, 3}, m);
    }

    @Override
    public void close() {}
  }

  private static Tensor flat(int side, float r, float g, float b) {
    float[] v = new float[3 * side * side];
    float[] rgb = {r, g, b};
    for (int c = 0; c < 3; c++) {
      java.util.Arrays.fill(v, c * side * side, (c + 1) * side * side, rgb[c]);
    }
    return Tensor.ofFloats(new long[] {1, 3, side, side}, v);
  }

  private static double cos(double[] a, double[] b) {
    double d = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      d += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    return d / Math.sqrt(na * nb);
  }

  @Test
  void candidatesSeedsStartAtTheSeedAndAreRangeChecked() {
    assertEquals(7, Reranking.candidateSeed(7, 0));
    assertEquals(7 + 2 * Reranking.SEED_STEP, Reranking.candidateSeed(7, 2));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Reranking.candidateSeed(7, -1));
    assertTrue(e.getMessage().contains("got -1"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Reranking.candidateSeed(7, Reranking.MAX_CANDIDATES));
    assertEquals(3, Reranking.checkCandidates(3));
    e = assertThrows(IllegalArgumentException.class, () -> Reranking.checkCandidates(0));
    assertTrue(e.getMessage().contains("candidates must be in [1, 64], got 0"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Reranking.checkCandidates(65));
  }

  @Test
  void theScoringTextIsTheFirstPositivePrompt() {
    assertEquals("a red circle", Reranking.scoringText(PromptSchedule.parse("a red circle|a blue square:0.5", 1)));
    assertEquals("a blue square", Reranking.scoringText(PromptSchedule.parse("a blur:-1|a blue square", 1)));
    assertNull(Reranking.scoringText(PromptSchedule.parse("a blur:-1", 1)));
  }

  @Test
  void theScoreIsTheSummedCosineOverTheEncoders() {
    FakeClip same = new FakeClip(8);
    FakeClip smaller = new FakeClip(4);
    Reranking.Scorer scorer = new Reranking.Scorer(List.of(same, smaller), "a red circle");
    Tensor picture = flat(8, 0.8f, 0.2f, 0.4f);
    double[] text = {12, 4, 1}; // "a red circle": 12 characters, 4 vowels
    // A flat picture keeps its means when resized (and these values their 8 bits: 204, 51, 102), so both encoders see (0.8, 0.2, 0.4).
    double want = 2 * cos(new double[] {0.8, 0.2, 0.4}, text);
    assertEquals(want, scorer.score(picture), 1e-5);
    assertEquals(List.of(8L), same.sides, "a picture of the encoder's size is passed as it is");
    assertEquals(List.of(4L), smaller.sides, "a picture of another size is resized to the encoder's");
    // The ranking follows the cosine: a picture whose means point along the text's direction scores higher.
    assertTrue(scorer.score(flat(8, 0.9f, 0.3f, 0.08f)) > scorer.score(flat(8, 0.1f, 0.1f, 0.9f)));
  }

  @Test
  void aScorerNeedsEncodersAndAText() {
    FakeClip clip = new FakeClip(8);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Reranking.Scorer(List.of(), "a cat"));
    assertTrue(e.getMessage().contains("at least one encoder"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new Reranking.Scorer(List.of(clip), null));
    assertTrue(e.getMessage().contains("got none"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new Reranking.Scorer(List.of(clip), " "));
    assertTrue(e.getMessage().contains("got ' '"), e.getMessage());
  }
}
