package ai.vqclip.onnx;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.DType;
import ai.vqclip.onnx.clip.ClipConfig;
import ai.vqclip.onnx.vqgan.VqganConfig;
import ai.vqclip.onnx.vqgan.VqganWeights;
import java.nio.ByteBuffer;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Seeded random weights for any VQGAN or CLIP configuration, scaled so activations stay of order
 * one (fan-in scaling for convolutions and projections, norm gains near 1). The same seed gives the
 * same weights. Used by tests, benchmarks (full-size models cost the same with random weights) and
 * as untrained stand-ins.
 */
public final class RandomWeights {
  private RandomWeights() {}

  /**
   * Every key of a VQGAN config (encoder, decoder, quantizer).
   *
   * @param cfg the VQGAN architecture
   * @param seed seed of the draws; the same seed gives the same weights
   * @return a tensor for every key the config expects, float32 off-heap, in key order
   */
  public static Map<String, Tensor> vqgan(VqganConfig cfg, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    Map<String, Tensor> m = new LinkedHashMap<>();
    for (Map.Entry<String, long[]> e : VqganWeights.expectedShapes(cfg, EnumSet.allOf(VqganWeights.Part.class)).entrySet()) {
      String k = e.getKey();
      long[] s = e.getValue();
      Tensor t;
      if (k.equals(cfg.codebookKey())) {
        t = normal(s, rnd, 0, 1.0);
      } else if (s.length == 4) {
        t = normal(s, rnd, 0, 1 / Math.sqrt(s[1] * s[2] * s[3]));
      } else if (s.length == 1 && k.endsWith(".weight")) {
        t = normal(s, rnd, 1, 0.1); // GroupNorm gain, the only 1-D weights
      } else {
        t = normal(s, rnd, 0, 0.1);
      }
      m.put(k, t);
    }
    return m;
  }

  /**
   * Every key of a CLIP config, OpenAI names.
   *
   * @param cfg the CLIP architecture
   * @param seed seed of the draws; the same seed gives the same weights
   * @return a tensor for every key the config expects, float32 off-heap, in key order
   */
  public static Map<String, Tensor> clip(ClipConfig cfg, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    Map<String, Tensor> m = new LinkedHashMap<>();
    for (Map.Entry<String, long[]> e : cfg.expectedShapes().entrySet()) {
      String k = e.getKey();
      long[] s = e.getValue();
      Tensor t;
      if (k.endsWith(".running_var")) {
        t = normal(s, rnd, 1.0, 0.25, true); // a variance: |N(1, 0.25^2)|
      } else if (s.length == 1 && k.endsWith(".weight")) {
        t = normal(s, rnd, 1.0, 0.1); // LayerNorm and BatchNorm gains
      } else if (k.endsWith("bias") || k.endsWith(".running_mean")) {
        t = normal(s, rnd, 0, 0.1);
      } else if (s.length == 2 && !k.contains("embedding")) {
        t = normal(s, rnd, 0, 1 / Math.sqrt(Math.min(s[0], s[1])));
      } else if (s.length == 4) {
        t = normal(s, rnd, 0, 1 / Math.sqrt(s[1] * s[2] * s[3]));
      } else {
        t = normal(s, rnd, 0, 0.5);
      }
      m.put(k, t);
    }
    m.put("logit_scale", Tensor.ofFloats(new long[0], 4.6052f));
    return m;
  }

  /**
   * A float32 tensor of N(mean, sd^2) values from {@code rnd}, off the Java heap as loaded weights
   * are ({@link Tensor#offHeap()}): written straight into a direct buffer, so a full-size model
   * leaves neither a heap copy nor garbage behind.
   *
   * @param shape the tensor shape; its element count times 4 must fit the direct buffer limits
   * @param rnd the generator to draw from (advanced by one Gaussian draw per element)
   * @param mean mean of the values
   * @param sd standard deviation of the values
   * @return a new off-heap float32 tensor
   * @throws ArithmeticException when the element or byte count overflows a long
   */
  public static Tensor normal(long[] shape, SplittableRandom rnd, double mean, double sd) {
    return normal(shape, rnd, mean, sd, false);
  }

  private static Tensor normal(long[] shape, SplittableRandom rnd, double mean, double sd, boolean abs) {
    long n = 1;
    for (long d : shape) {
      n = Math.multiplyExact(n, d);
    }
    ByteBuffer b = Tensor.allocateDirect(Math.multiplyExact(n, 4L));
    for (long i = 0; i < n; i++) {
      double v = mean + sd * gaussian(rnd);
      b.putFloat((float) (abs ? Math.abs(v) : v));
    }
    return Tensor.wrap(DType.FLOAT, shape, b.flip());
  }

  /**
   * A standard normal draw (Box-Muller; SplittableRandom has no nextGaussian on Java 17).
   *
   * @param rnd the generator to draw from
   * @return one N(0, 1) value
   */
  public static double gaussian(SplittableRandom rnd) {
    return ai.vqclip.core.Gaussian.next(rnd);
  }
}
