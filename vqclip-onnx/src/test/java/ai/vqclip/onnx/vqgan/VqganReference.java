package ai.vqclip.onnx.vqgan;

import ai.vqclip.core.Tensor;
import java.util.List;
import java.util.Map;

/**
 * An independent plain-Java VQGAN forward for tests: direct loops over double arrays, written from
 * taming-transformers' module definitions (MODELS.md §1.2-1.5), batch 1. Slow; tiny models only.
 */
final class VqganReference {
  /** A feature map [c, h, w]. */
  record F(int c, int h, int w, double[] d) {
    double at(int ch, int y, int x) {
      return d[(ch * h + y) * w + x];
    }

    static F of(Tensor t) {
      long[] s = t.shape();
      if (s.length != 4 || s[0] != 1) {
        throw new IllegalArgumentException("expected [1, c, h, w], got " + java.util.Arrays.toString(s));
      }
      return new F((int) s[1], (int) s[2], (int) s[3], t.toDoubles());
    }
  }

  private final Map<String, Tensor> sd;
  private final int ch;
  private final List<Integer> mult;
  private final int numRes;
  private final List<Integer> attnRes;
  private final int resolution;
  private final int groups;
  private final String codebookKey;

  VqganReference(Map<String, Tensor> sd, int ch, List<Integer> mult, int numRes, List<Integer> attnRes, int resolution, int groups,
      String codebookKey) {
    this.sd = sd;
    this.ch = ch;
    this.mult = mult;
    this.numRes = numRes;
    this.attnRes = attnRes;
    this.resolution = resolution;
    this.groups = groups;
    this.codebookKey = codebookKey;
  }

  private double[] w(String key) {
    Tensor t = sd.get(key);
    if (t == null) {
      throw new IllegalArgumentException("reference: no weight " + key);
    }
    return t.toDoubles();
  }

  private long[] shape(String key) {
    return sd.get(key).shape();
  }

  // ------------------------------------------------------------------ layers

  static F conv(F x, double[] wt, double[] bias, int out, int k, int stride, int pt, int pl, int pb, int pr) {
    int ho = (x.h + pt + pb - k) / stride + 1;
    int wo = (x.w + pl + pr - k) / stride + 1;
    double[] y = new double[out * ho * wo];
    for (int o = 0; o < out; o++) {
      for (int oy = 0; oy < ho; oy++) {
        for (int ox = 0; ox < wo; ox++) {
          double s = bias[o];
          for (int i = 0; i < x.c; i++) {
            for (int ky = 0; ky < k; ky++) {
              int iy = oy * stride + ky - pt;
              if (iy < 0 || iy >= x.h) {
                continue;
              }
              for (int kx = 0; kx < k; kx++) {
                int ix = ox * stride + kx - pl;
                if (ix < 0 || ix >= x.w) {
                  continue;
                }
                s += wt[((o * x.c + i) * k + ky) * k + kx] * x.at(i, iy, ix);
              }
            }
          }
          y[(o * ho + oy) * wo + ox] = s;
        }
      }
    }
    return new F(out, ho, wo, y);
  }

  F conv(F x, String p, int pad) {
    long[] s = shape(p + ".weight");
    return conv(x, w(p + ".weight"), w(p + ".bias"), (int) s[0], (int) s[2], 1, pad, pad, pad, pad);
  }

  F groupNorm(F x, String p) {
    double[] gamma = w(p + ".weight");
    double[] beta = w(p + ".bias");
    int cg = x.c / groups;
    int hw = x.h * x.w;
    double[] y = new double[x.d.length];
    for (int g = 0; g < groups; g++) {
      int from = g * cg * hw;
      int to = (g + 1) * cg * hw;
      double mean = 0;
      for (int i = from; i < to; i++) {
        mean += x.d[i];
      }
      mean /= (to - from);
      double var = 0;
      for (int i = from; i < to; i++) {
        var += (x.d[i] - mean) * (x.d[i] - mean);
      }
      var /= (to - from);
      double inv = 1 / Math.sqrt(var + 1e-6);
      for (int i = from; i < to; i++) {
        int c = i / hw;
        y[i] = (x.d[i] - mean) * inv * gamma[c] + beta[c];
      }
    }
    return new F(x.c, x.h, x.w, y);
  }

  static F swish(F x) {
    double[] y = new double[x.d.length];
    for (int i = 0; i < y.length; i++) {
      y[i] = x.d[i] / (1 + Math.exp(-x.d[i]));
    }
    return new F(x.c, x.h, x.w, y);
  }

  static F add(F a, F b) {
    double[] y = new double[a.d.length];
    for (int i = 0; i < y.length; i++) {
      y[i] = a.d[i] + b.d[i];
    }
    return new F(a.c, a.h, a.w, y);
  }

  F resnet(F x, String p) {
    F h = conv(swish(groupNorm(x, p + ".norm1")), p + ".conv1", 1);
    h = conv(swish(groupNorm(h, p + ".norm2")), p + ".conv2", 1);
    F skip = sd.containsKey(p + ".nin_shortcut.weight") ? conv(x, p + ".nin_shortcut", 0) : x;
    return add(skip, h);
  }

  F attention(F x, String p) {
    F h = groupNorm(x, p + ".norm");
    F q = conv(h, p + ".q", 0);
    F k = conv(h, p + ".k", 0);
    F v = conv(h, p + ".v", 0);
    int t = x.h * x.w;
    int c = x.c;
    double scale = 1 / Math.sqrt(c);
    double[] out = new double[c * t];
    double[] a = new double[t];
    for (int i = 0; i < t; i++) {
      double max = Double.NEGATIVE_INFINITY;
      for (int j = 0; j < t; j++) {
        double s = 0;
        for (int cc = 0; cc < c; cc++) {
          s += q.d[cc * t + i] * k.d[cc * t + j];
        }
        a[j] = s * scale;
        max = Math.max(max, a[j]);
      }
      double z = 0;
      for (int j = 0; j < t; j++) {
        a[j] = Math.exp(a[j] - max);
        z += a[j];
      }
      for (int cc = 0; cc < c; cc++) {
        double s = 0;
        for (int j = 0; j < t; j++) {
          s += v.d[cc * t + j] * a[j] / z;
        }
        out[cc * t + i] = s;
      }
    }
    return add(x, conv(new F(c, x.h, x.w, out), p + ".proj_out", 0));
  }

  static F upsampleNearest(F x) {
    int h = 2 * x.h;
    int w = 2 * x.w;
    double[] y = new double[x.c * h * w];
    for (int c = 0; c < x.c; c++) {
      for (int yy = 0; yy < h; yy++) {
        for (int xx = 0; xx < w; xx++) {
          y[(c * h + yy) * w + xx] = x.at(c, yy / 2, xx / 2);
        }
      }
    }
    return new F(x.c, h, w, y);
  }

  F downsample(F x, String p) {
    // Zero-pad right and bottom by one, then a 3x3 stride-2 convolution without padding.
    long[] s = shape(p + ".conv.weight");
    return conv(x, w(p + ".conv.weight"), w(p + ".conv.bias"), (int) s[0], 3, 2, 0, 0, 1, 1);
  }

  // ------------------------------------------------------------------ model

  F decode(F zq) {
    int levels = mult.size();
    F h = conv(zq, "post_quant_conv", 0);
    h = conv(h, "decoder.conv_in", 1);
    h = resnet(h, "decoder.mid.block_1");
    h = attention(h, "decoder.mid.attn_1");
    h = resnet(h, "decoder.mid.block_2");
    int res = resolution >> (levels - 1);
    for (int lvl = levels - 1; lvl >= 0; lvl--) {
      for (int j = 0; j < numRes + 1; j++) {
        h = resnet(h, "decoder.up." + lvl + ".block." + j);
        if (attnRes.contains(res)) {
          h = attention(h, "decoder.up." + lvl + ".attn." + j);
        }
      }
      if (lvl > 0) {
        h = conv(upsampleNearest(h), "decoder.up." + lvl + ".upsample.conv", 1);
        res *= 2;
      }
    }
    return conv(swish(groupNorm(h, "decoder.norm_out")), "decoder.conv_out", 1);
  }

  /** encoder + quant_conv on an image in [-1, 1]. */
  F encode(F x) {
    int levels = mult.size();
    F h = conv(x, "encoder.conv_in", 1);
    int res = resolution;
    for (int lvl = 0; lvl < levels; lvl++) {
      for (int j = 0; j < numRes; j++) {
        h = resnet(h, "encoder.down." + lvl + ".block." + j);
        if (attnRes.contains(res)) {
          h = attention(h, "encoder.down." + lvl + ".attn." + j);
        }
      }
      if (lvl < levels - 1) {
        h = downsample(h, "encoder.down." + lvl + ".downsample");
        res /= 2;
      }
    }
    h = resnet(h, "encoder.mid.block_1");
    h = attention(h, "encoder.mid.attn_1");
    h = resnet(h, "encoder.mid.block_2");
    h = conv(swish(groupNorm(h, "encoder.norm_out")), "encoder.conv_out", 1);
    return conv(h, "quant_conv", 0);
  }

  /** Code index per cell (row-major) by smallest squared distance. */
  int[] nearest(F z) {
    double[] e = w(codebookKey);
    int k = (int) shape(codebookKey)[0];
    int c = z.c;
    int t = z.h * z.w;
    int[] idx = new int[t];
    for (int cell = 0; cell < t; cell++) {
      double best = Double.POSITIVE_INFINITY;
      for (int code = 0; code < k; code++) {
        double d = 0;
        for (int cc = 0; cc < c; cc++) {
          double diff = z.d[cc * t + cell] - e[code * c + cc];
          d += diff * diff;
        }
        if (d < best) {
          best = d;
          idx[cell] = code;
        }
      }
    }
    return idx;
  }

  /** The latent made of the given codes. */
  F codes(int[] idx, int h, int w) {
    double[] e = w(codebookKey);
    int c = (int) shape(codebookKey)[1];
    double[] y = new double[c * h * w];
    for (int cell = 0; cell < h * w; cell++) {
      for (int cc = 0; cc < c; cc++) {
        y[cc * h * w + cell] = e[idx[cell] * c + cc];
      }
    }
    return new F(c, h, w, y);
  }

  F quantize(F z) {
    return codes(nearest(z), z.h, z.w);
  }

  /** VQGAN-CLIP synthesis: quantize, decode, (x+1)/2, clamp to [0, 1]. */
  F synthesize(F z) {
    F x = decode(quantize(z));
    double[] y = new double[x.d.length];
    for (int i = 0; i < y.length; i++) {
      y[i] = Math.min(1, Math.max(0, (x.d[i] + 1) / 2));
    }
    return new F(x.c, x.h, x.w, y);
  }

  /** VQGAN-CLIP init-image encoding: x*2-1, encoder, quant_conv, quantize. */
  F encodeImage(F img) {
    double[] y = new double[img.d.length];
    for (int i = 0; i < y.length; i++) {
      y[i] = img.d[i] * 2 - 1;
    }
    return quantize(encode(new F(img.c, img.h, img.w, y)));
  }
}
