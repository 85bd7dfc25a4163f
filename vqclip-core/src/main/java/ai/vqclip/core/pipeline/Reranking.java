package ai.vqclip.core.pipeline;

import ai.vqclip.core.Encoder;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.image.Images;
import ai.vqclip.core.prompt.Prompt;
import ai.vqclip.core.prompt.PromptSchedule;
import java.util.List;
import java.util.Objects;

/**
 * The best of several runs: a request is run at {@code n} candidate seeds and the picture whose CLIP
 * embeddings agree best with the text wins, as DALL-E reranked its samples with CLIP (Ramesh et al.
 * 2021). Generation is deterministic per seed, so the same seed and {@code n} choose the same picture
 * again.
 *
 * <p>This class holds the parts every caller shares (the candidates' seeds, the score); the loops
 * that run the candidates live with their callers, which differ in how runs are started, watched and
 * written (a lone run, a service, a library call).
 */
public final class Reranking {
  /** Most candidates a request may ask for. */
  public static final int MAX_CANDIDATES = 64;

  /** Distance between consecutive candidates' seeds (a prime, so candidates of nearby seeds do not collide). */
  public static final long SEED_STEP = 1_000_003L;

  private Reranking() {}

  /**
   * The seed of candidate {@code k}: the seed itself for the first, then steps of {@link #SEED_STEP}.
   *
   * @param seed the request's seed
   * @param k the candidate, from 0
   * @return its seed
   * @throws IllegalArgumentException for {@code k} outside [0, {@link #MAX_CANDIDATES})
   */
  public static long candidateSeed(long seed, int k) {
    if (k < 0 || k >= MAX_CANDIDATES) {
      throw new IllegalArgumentException("candidate must be in [0, " + MAX_CANDIDATES + "), got " + k);
    }
    return seed + SEED_STEP * k;
  }

  /**
   * Checks a number of candidates.
   *
   * @param n the number
   * @return {@code n}
   * @throws IllegalArgumentException naming it unless it is in [1, {@link #MAX_CANDIDATES}]
   */
  public static int checkCandidates(int n) {
    if (n < 1 || n > MAX_CANDIDATES) {
      throw new IllegalArgumentException("candidates must be in [1, " + MAX_CANDIDATES + "], got " + n);
    }
    return n;
  }

  /**
   * The text a schedule's pictures are scored against: its first prompt of positive weight (the
   * first set's; negative prompts say what a picture should not be), or null when it has none.
   *
   * @param prompts the schedule
   * @return the text, or null
   */
  public static String scoringText(PromptSchedule prompts) {
    for (List<Prompt> set : prompts.sets()) {
      for (Prompt p : set) {
        if (p.weight() > 0) {
          return p.text();
        }
      }
    }
    return null;
  }

  /**
   * Scores pictures against one text: the sum over the encoders of the cosine between the picture's
   * embedding (the whole picture, resized to the encoder's input where its size differs) and the
   * text's. The text is embedded once. Uses the encoders from the calling thread only.
   */
  public static final class Scorer {
    private final List<? extends Encoder> encoders;
    private final List<float[]> texts;

    /**
     * A scorer for {@code text}.
     *
     * @param encoders the CLIPs, at least one
     * @param text the text
     * @throws IllegalArgumentException for no encoders or a blank text
     */
    public Scorer(List<? extends Encoder> encoders, String text) {
      Objects.requireNonNull(encoders, "encoders");
      if (encoders.isEmpty()) {
        throw new IllegalArgumentException("reranking needs at least one encoder");
      }
      if (text == null || text.isBlank()) {
        throw new IllegalArgumentException("reranking needs a text to score against, got " + (text == null ? "none" : "'" + text + "'"));
      }
      this.encoders = List.copyOf(encoders);
      this.texts = this.encoders.stream().map(e -> unit(e.embedText(text).toFloats())).toList();
    }

    /**
     * The score of a picture.
     *
     * @param image [1, 3, H, W] in [0, 1]
     * @return the summed cosine, in [-n, n] for n encoders
     */
    public double score(Tensor image) {
      double sum = 0;
      for (int e = 0; e < encoders.size(); e++) {
        Encoder enc = encoders.get(e);
        float[] a = unit(enc.embedImages(fitted(image, enc.inputResolution())).toFloats());
        float[] t = texts.get(e);
        for (int i = 0; i < a.length; i++) {
          sum += a[i] * t[i];
        }
      }
      return sum;
    }

    /** {@code image} at {@code side} x {@code side} (itself when it is). */
    private static Tensor fitted(Tensor image, int side) {
      long[] s = image.shape();
      if (s[2] == side && s[3] == side) {
        return image;
      }
      return Images.toTensor(Images.resize(Images.toImage(image), side, side), 3);
    }
  }

  /**
   * {@code v} scaled to unit length (a zero vector stays zero; the epsilon keeps the division finite).
   *
   * @param v a vector
   * @return a new vector
   */
  public static float[] unit(float[] v) {
    double n = 0;
    for (float x : v) {
      n += x * x;
    }
    float inv = (float) (1 / Math.sqrt(n + 1e-12));
    float[] out = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = v[i] * inv;
    }
    return out;
  }
}
