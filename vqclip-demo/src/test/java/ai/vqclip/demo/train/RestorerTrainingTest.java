package ai.vqclip.demo.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.Tensor;
import ai.vqclip.demo.data.ShapesDataset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RestorerTrainingTest {
  private static final RestorerTraining.Damage DAMAGE = new RestorerTraining.Damage(0.15, 1.5, 1.0, 4, 0.25);

  @Test
  void damageIsSeededBoundedAndLeavesSomePicturesClean() {
    ShapesDataset data = new ShapesDataset(32, 5);
    Map<String, Tensor> a = RestorerTraining.pair(data, 0, 40, DAMAGE, 9);
    Map<String, Tensor> b = RestorerTraining.pair(data, 0, 40, DAMAGE, 9);
    assertArrayEquals(a.get(RestorerTraining.DAMAGED).toFloats(), b.get(RestorerTraining.DAMAGED).toFloats());
    float[] c = a.get(RestorerTraining.CLEAN).toFloats();
    float[] d = a.get(RestorerTraining.DAMAGED).toFloats();
    int plane = 3 * 32 * 32;
    int untouched = 0;
    for (int i = 0; i < 40; i++) {
      double diff = 0;
      for (int j = i * plane; j < (i + 1) * plane; j++) {
        assertTrue(d[j] >= -1 && d[j] <= 1, "damaged pixel out of [-1, 1]: " + d[j]);
        diff += Math.abs(d[j] - c[j]);
      }
      untouched += diff == 0 ? 1 : 0;
    }
    // About 15% of the pictures are left clean (6 of 40 expected); the others are changed.
    assertTrue(untouched >= 1 && untouched <= 14, "clean pictures: " + untouched);
    // Another seed damages differently.
    Map<String, Tensor> other = RestorerTraining.pair(data, 0, 40, DAMAGE, 10);
    assertTrue(!java.util.Arrays.equals(d, other.get(RestorerTraining.DAMAGED).toFloats()));
  }

  @Test
  void shortRunLowersTheLossAndIsBitIdenticalForTheSameSeed() {
    RestorerTraining run = new RestorerTraining(VqganTrainingTest.TINY, 16, 8, 120, 3e-3, DAMAGE, 11, 40);
    RestorerTraining.Result a = run.run(s -> {});
    List<Double> l = a.manifest().losses();
    assertEquals(3, l.size());
    assertTrue(l.get(2) < 0.85 * l.get(0), "loss should fall: " + l);
    RestorerTraining.Result b = run.run(s -> {});
    for (String k : a.weights().keySet()) {
      assertArrayEquals(a.weights().get(k).toFloats(), b.weights().get(k).toFloats(), k);
    }
    // The trained weights load back into the restorer graph, which maps [1, 3, 16, 16] to the same shape.
    ai.vqclip.core.graph.Graph g = RestorerTraining.restorer(VqganTrainingTest.TINY, a.weights(), 1, 16);
    assertEquals(List.of(1L, 3L, 16L, 16L), java.util.Arrays.stream(g.output(RestorerTraining.RESTORED).shape().toArray()).boxed().toList());
  }
}
