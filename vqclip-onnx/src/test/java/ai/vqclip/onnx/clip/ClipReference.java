package ai.vqclip.onnx.clip;

import ai.vqclip.core.Tensor;
import java.util.Map;

/**
 * A plain-Java CLIP forward pass in double precision, written from OpenAI's clip/model.py with
 * direct loops (no graph, no shared code with the builders), to check the built graphs against.
 */
final class ClipReference {
  private final ClipConfig cfg;
  private final Map<String, Tensor> w;

  ClipReference(ClipConfig cfg, Map<String, Tensor> openAiWeights) {
    this.cfg = cfg;
    this.w = openAiWeights;
  }

  private double[] p(String key) {
    Tensor t = w.get(key);
    if (t == null) {
      throw new IllegalArgumentException("reference: no weight " + key);
    }
    return t.toDoubles();
  }

  /** Embedding [D] of one image [3, S, S] (row-major) with values in [0, 1]. */
  double[] image(double[] img) {
    double[] mean = {0.48145466, 0.4578275, 0.40821073};
    double[] std = {0.26862954, 0.26130258, 0.27577711};
    int s = cfg.imageResolution();
    int ps = cfg.visionPatchSize();
    int g = s / ps;
    int width = cfg.visionWidth();
    int len = g * g + 1;
    double[] conv = p("visual.conv1.weight"); // [width, 3, ps, ps]
    double[] cls = p("visual.class_embedding");
    double[] pos = p("visual.positional_embedding");
    double[][] x = new double[len][width];
    for (int o = 0; o < width; o++) {
      x[0][o] = cls[o] + pos[o];
    }
    for (int gi = 0; gi < g; gi++) {
      for (int gj = 0; gj < g; gj++) {
        int t = 1 + gi * g + gj;
        for (int o = 0; o < width; o++) {
          double acc = 0;
          for (int c = 0; c < 3; c++) {
            for (int ki = 0; ki < ps; ki++) {
              for (int kj = 0; kj < ps; kj++) {
                double v = (img[(c * s + gi * ps + ki) * s + gj * ps + kj] - mean[c]) / std[c];
                acc += conv[((o * 3 + c) * ps + ki) * ps + kj] * v;
              }
            }
          }
          x[t][o] = acc + pos[t * width + o];
        }
      }
    }
    for (int t = 0; t < len; t++) {
      x[t] = layerNorm(x[t], "visual.ln_pre");
    }
    for (int l = 0; l < cfg.visionLayers(); l++) {
      x = block(x, "visual.transformer.resblocks." + l + ".", cfg.visionHeads(), false);
    }
    return project(layerNorm(x[0], "visual.ln_post"), p("visual.proj"), cfg.embedDim());
  }

  /** Embedding [D] of one token sequence. */
  double[] text(int[] ids) {
    int width = cfg.textWidth();
    int len = cfg.contextLength();
    double[] tok = p("token_embedding.weight");
    double[] pos = p("positional_embedding");
    double[][] x = new double[len][width];
    for (int t = 0; t < len; t++) {
      for (int o = 0; o < width; o++) {
        x[t][o] = tok[ids[t] * width + o] + pos[t * width + o];
      }
    }
    for (int l = 0; l < cfg.textLayers(); l++) {
      x = block(x, "transformer.resblocks." + l + ".", cfg.textHeads(), true);
    }
    int eot = 0;
    for (int t = 1; t < len; t++) {
      if (ids[t] > ids[eot]) {
        eot = t;
      }
    }
    return project(layerNorm(x[eot], "ln_final"), p("text_projection"), cfg.embedDim());
  }

  private static double[] project(double[] v, double[] proj, int d) {
    double[] out = new double[d];
    for (int j = 0; j < d; j++) {
      for (int i = 0; i < v.length; i++) {
        out[j] += v[i] * proj[i * d + j];
      }
    }
    return out;
  }

  private double[] layerNorm(double[] v, String prefix) {
    double[] g = p(prefix + ".weight");
    double[] b = p(prefix + ".bias");
    double mean = 0;
    for (double a : v) {
      mean += a;
    }
    mean /= v.length;
    double var = 0;
    for (double a : v) {
      var += (a - mean) * (a - mean);
    }
    var /= v.length;
    double[] out = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = (v[i] - mean) / Math.sqrt(var + 1e-5) * g[i] + b[i];
    }
    return out;
  }

  /** y = W v + b for a PyTorch Linear weight W [out, in]. */
  private static double[] linear(double[] v, double[] wt, double[] b, int rowOffset, int out) {
    int in = v.length;
    double[] y = new double[out];
    for (int o = 0; o < out; o++) {
      double acc = b[rowOffset + o];
      for (int i = 0; i < in; i++) {
        acc += wt[(rowOffset + o) * in + i] * v[i];
      }
      y[o] = acc;
    }
    return y;
  }

  private double[][] block(double[][] x, String pre, int heads, boolean causal) {
    int len = x.length;
    int width = x[0].length;
    int dh = width / heads;
    double[] inW = p(pre + "attn.in_proj_weight");
    double[] inB = p(pre + "attn.in_proj_bias");
    double[][] q = new double[len][];
    double[][] k = new double[len][];
    double[][] v = new double[len][];
    for (int t = 0; t < len; t++) {
      double[] a = layerNorm(x[t], pre + "ln_1");
      q[t] = linear(a, inW, inB, 0, width);
      k[t] = linear(a, inW, inB, width, width);
      v[t] = linear(a, inW, inB, 2 * width, width);
    }
    double[][] att = new double[len][width];
    for (int h = 0; h < heads; h++) {
      for (int i = 0; i < len; i++) {
        double[] sc = new double[len];
        double max = Double.NEGATIVE_INFINITY;
        int last = causal ? i : len - 1;
        for (int j = 0; j <= last; j++) {
          double d = 0;
          for (int c = 0; c < dh; c++) {
            d += q[i][h * dh + c] * k[j][h * dh + c];
          }
          sc[j] = d / Math.sqrt(dh);
          max = Math.max(max, sc[j]);
        }
        double sum = 0;
        for (int j = 0; j <= last; j++) {
          sc[j] = Math.exp(sc[j] - max);
          sum += sc[j];
        }
        for (int j = 0; j <= last; j++) {
          for (int c = 0; c < dh; c++) {
            att[i][h * dh + c] += sc[j] / sum * v[j][h * dh + c];
          }
        }
      }
    }
    double[] outW = p(pre + "attn.out_proj.weight");
    double[] outB = p(pre + "attn.out_proj.bias");
    double[] fcW = p(pre + "mlp.c_fc.weight");
    double[] fcB = p(pre + "mlp.c_fc.bias");
    double[] prW = p(pre + "mlp.c_proj.weight");
    double[] prB = p(pre + "mlp.c_proj.bias");
    double[][] y = new double[len][];
    for (int t = 0; t < len; t++) {
      double[] o = linear(att[t], outW, outB, 0, width);
      double[] r = new double[width];
      for (int c = 0; c < width; c++) {
        r[c] = x[t][c] + o[c];
      }
      double[] u = linear(layerNorm(r, pre + "ln_2"), fcW, fcB, 0, 4 * width);
      for (int c = 0; c < u.length; c++) {
        u[c] = u[c] / (1 + Math.exp(-1.702 * u[c]));
      }
      double[] m = linear(u, prW, prB, 0, width);
      for (int c = 0; c < width; c++) {
        r[c] += m[c];
      }
      y[t] = r;
    }
    return y;
  }
}
