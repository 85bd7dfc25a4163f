package ai.vqclip.demo.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.Tensor;
import ai.vqclip.demo.data.ShapesDataset;
import ai.vqclip.onnx.RandomWeights;
import ai.vqclip.onnx.clip.ClipConfig;
import ai.vqclip.onnx.clip.tokenizer.ClipTokenizer;
import ai.vqclip.onnx.testing.GradCheck;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClipTrainingTest {
  /** 16x16 pictures, patch 8, width 16: seconds to train. */
  static ClipConfig tiny(int vocab) {
    return new ClipConfig(8, 16, 16, 1, 2, 8, 20, vocab, 16, 1, 2);
  }

  @Test
  void contrastiveLossGradientMatchesFiniteDifferences() {
    ClipTraining run = new ClipTraining(tiny(1000), 4, 1, 1e-3, 3, 1, 1);
    ClipTokenizer tok = ClipTraining.tokenizer(run.learnMerges(), 20);
    ClipConfig cfg = tiny(tok.vocabulary().size());
    Map<String, Tensor> w = new LinkedHashMap<>(RandomWeights.clip(cfg, 4));
    ClipTraining.Built g = ClipTraining.build(cfg, w, 4);
    ShapesDataset d = new ShapesDataset(16, 2);
    List<ShapesDataset.Sample> s = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      s.add(d.sample(i));
    }
    Map<String, Tensor> in = ClipTraining.inputs(s, tok);
    GradCheck.assertGradient(g.graph(), in, List.of(ClipTraining.LOGIT_SCALE, "img/visual.proj", "txt/text_projection"), 1e-2,
        GradCheck.TOL_F32, 7);
    GradCheck.assertGradient(g.graph(), in, List.of("img/visual.conv1.weight", "txt/token_embedding.weight"), 1e-3, GradCheck.TOL_F32, 8);
  }

  @Test
  void shapeTwinsDifferFromTheirBaseInShapesOnly() {
    ShapesDataset d = new ShapesDataset(16, 4);
    List<ShapesDataset.Sample> b = ClipTraining.batchWithShapeTwins(d, 100, 8);
    for (int i = 0; i < 4; i++) {
      ai.vqclip.demo.data.Scene base = b.get(i).scene();
      ai.vqclip.demo.data.Scene twin = b.get(i + 4).scene();
      assertEquals(base.background(), twin.background());
      for (int k = 0; k < base.objects().size(); k++) {
        assertEquals(base.objects().get(k).color(), twin.objects().get(k).color());
        assertTrue(base.objects().get(k).shape() != twin.objects().get(k).shape());
      }
      assertTrue(ai.vqclip.demo.data.CaptionParser.parse(b.get(i + 4).caption()).describes(twin), b.get(i + 4).caption());
      assertTrue(!ai.vqclip.demo.data.CaptionParser.parse(b.get(i + 4).caption()).describes(base), b.get(i + 4).caption());
    }
  }

  @Test
  void shortRunLowersTheLossIsBitIdenticalAndLoadsAsAClipEncoder() {
    ClipTraining run = new ClipTraining(tiny(1000), 16, 60, 3e-3, 5, 20, 10);
    ClipTraining.Result a = run.run(null, s -> {});
    List<Double> l = a.manifest().losses();
    assertEquals(3, l.size());
    assertTrue(l.get(2) < 0.95 * l.get(0), "loss should fall: " + l);
    assertTrue(a.manifest().metrics().containsKey("zeroShotObjectAccuracy50"), a.manifest().metrics().toString());
    ClipTraining.Result b = run.run(null, s -> {});
    for (String k : a.weights().keySet()) {
      assertArrayEquals(a.weights().get(k).toFloats(), b.weights().get(k).toFloats(), k);
    }
    assertEquals(a.merges(), b.merges());
  }
}
