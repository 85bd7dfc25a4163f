package ai.vqclip.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.demo.data.ShapesDataset;
import ai.vqclip.demo.train.TrainingManifest;
import ai.vqclip.onnx.clip.ClipEncoder;
import ai.vqclip.onnx.vqgan.VqganGenerator;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The committed demo models load through the standard classes and do their jobs. */
class DemoModelsTest {
  @Test
  void bundledModelsLoadReconstructAndMatchCaptions() {
    assertTrue(DemoModels.available(), "the demo models are committed under " + DemoModels.RESOURCE_DIR);
    try (DemoModels.Bundle m = DemoModels.load();
        VqganGenerator gen = VqganGenerator.load(m.vqgan(), m.vqganConfig(), ExecutionOptions.cpu());
        ClipEncoder clip = ClipEncoder.load(m.clip(), m.clipConfig(), m.tokenizer(), ExecutionOptions.cpu())) {
      assertEquals(DemoModels.IMAGE_SIZE, m.vqganConfig().resolution());
      assertEquals(DemoModels.IMAGE_SIZE, clip.inputResolution());
      // The VQGAN round trip (encode, nearest codes, decode) keeps the picture: mean error < 0.1.
      Tensor pic = ShapesDataset.toTensor(List.of(new ShapesDataset(32, 98).sample(3).image()), false);
      float[] a = pic.toFloats();
      float[] r = gen.decode(gen.encode(pic)).toFloats();
      double err = 0;
      for (int i = 0; i < a.length; i++) {
        err += Math.abs(a[i] - r[i]);
      }
      assertTrue(err / a.length < 0.1, "mean reconstruction error " + err / a.length);
      assertPrefersTrueCaptions(clip, "the CLIP");
      // Since round 13 of issue 15 the bundle holds one CLIP and the caption sketcher, no caption prior.
      assertEquals(1, m.clips().size(), "the bundle holds one CLIP");
      assertTrue(m.sketch() != null, "the caption sketcher is bundled");
      assertEquals(null, m.captionPrior(), "the caption prior is no longer bundled");
    }
  }

  /** {@code TrainDemo configs} writes the bundled models' configs (the CLIP's vocabulary size learned again); a bad name lists the choices. */
  @Test
  void theTrainersConfigsAreTheBundledOnes(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
    ai.vqclip.demo.train.TrainDemo.train("configs", dir, line -> {});
    try (DemoModels.Bundle m = DemoModels.load()) {
      assertEquals(m.vqganConfig(), DemoModels.readJson(dir.resolve(DemoModels.VQGAN_CONFIG), ai.vqclip.onnx.vqgan.VqganConfig.class));
      assertEquals(m.clipConfig(), DemoModels.readJson(dir.resolve(DemoModels.CLIP_CONFIG), ai.vqclip.onnx.clip.ClipConfig.class));
    }
    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> ai.vqclip.demo.train.TrainDemo.train("clip9", dir, line -> {}));
    assertTrue(e.getMessage().contains("vqgan, clip, sketch, all") && e.getMessage().contains("'clip9'"), e.getMessage());
  }

  /** A folder with a second CLIP's three files (as {@code TrainDemo clipb} writes them) loads as an ensemble of two. */
  @Test
  void aFolderWithASecondClipLoadsBoth(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws java.io.IOException {
    DemoModels.copyBundled(dir);
    java.nio.file.Files.copy(dir.resolve(DemoModels.CLIP_WEIGHTS), dir.resolve(DemoModels.SECOND_CLIP_WEIGHTS));
    java.nio.file.Files.copy(dir.resolve(DemoModels.CLIP_CONFIG), dir.resolve(DemoModels.SECOND_CLIP_CONFIG));
    java.nio.file.Files.copy(dir.resolve(ai.vqclip.demo.train.ClipTraining.MERGES_FILE), dir.resolve(DemoModels.SECOND_MERGES_FILE));
    try (DemoModels.Bundle m = DemoModels.load(dir)) {
      assertEquals(2, m.clips().size(), "the folder holds two CLIPs");
      DemoModels.Clip b = m.clips().get(1);
      assertEquals(m.clipConfig(), b.config());
      try (ClipEncoder first = m.clips().get(0).open(ExecutionOptions.cpu()); ClipEncoder second = b.open(ExecutionOptions.cpu())) {
        assertEquals(java.util.Arrays.toString(first.embedText("a red circle on a blue background").toFloats()),
            java.util.Arrays.toString(second.embedText("a red circle on a blue background").toFloats()), "the same weights embed alike");
      }
    }
    // Half of a second CLIP is refused, naming the missing file.
    java.nio.file.Files.delete(dir.resolve(DemoModels.SECOND_MERGES_FILE));
    Exception e = org.junit.jupiter.api.Assertions.assertThrows(RuntimeException.class, () -> DemoModels.load(dir).close());
    assertTrue(String.valueOf(e.getMessage()).contains(DemoModels.SECOND_MERGES_FILE), e.getMessage());
  }

  /** Held-out pictures: the CLIP prefers the true full caption over the same caption with another colour, and with another shape. */
  private static void assertPrefersTrueCaptions(ClipEncoder clip, String which) {
    ShapesDataset d = new ShapesDataset(32, 99);
    int right = 0;
    int rightShape = 0;
    int n = 0;
    for (long i = 0; n < 20; i++) {
      ShapesDataset.Sample s = d.sample(i);
      if (s.scene().objects().size() != 1) {
        continue;
      }
      n++;
      String truth = ai.vqclip.demo.data.Captions.full(s.scene());
      String col = s.scene().objects().get(0).color().word();
      String other = col.equals("red") ? "green" : "red";
      String wrong = truth.replaceFirst(" " + col + " ", " " + other + " ");
      String shape = s.scene().objects().get(0).shape().word();
      String otherShape = shape.equals("circle") ? "square" : "circle";
      String wrongShape = truth.replaceFirst(" " + shape, " " + otherShape);
      float[] img = clip.embedImages(ShapesDataset.toTensor(List.of(s.image()), false)).toFloats();
      double t = cos(img, clip.embedText(truth).toFloats());
      right += t > cos(img, clip.embedText(wrong).toFloats()) ? 1 : 0;
      rightShape += t > cos(img, clip.embedText(wrongShape).toFloats()) ? 1 : 0;
    }
    assertTrue(right >= 16, which + ": " + right + " of 20 true captions preferred to another colour");
    assertTrue(rightShape >= 16, which + ": " + rightShape + " of 20 true captions preferred to another shape");
  }

  private static double cos(float[] a, float[] b) {
    double ab = 0;
    double aa = 0;
    double bb = 0;
    for (int i = 0; i < a.length; i++) {
      ab += a[i] * b[i];
      aa += a[i] * a[i];
      bb += b[i] * b[i];
    }
    return ab / Math.sqrt(aa * bb);
  }

  /** Configs round-trip through the JSON files; files written before ResNet support read as ViTs. */
  @Test
  void clipConfigJsonRoundTrip(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws java.io.IOException {
    for (ai.vqclip.onnx.clip.ClipConfig c : List.of(ai.vqclip.onnx.clip.ClipConfig.VIT_B_32, ai.vqclip.onnx.clip.ClipConfig.RN50)) {
      java.nio.file.Path f = dir.resolve("c.json");
      DemoModels.writeJson(f, c);
      assertEquals(c, new com.fasterxml.jackson.databind.ObjectMapper().readValue(f.toFile(), ai.vqclip.onnx.clip.ClipConfig.class));
    }
    try (DemoModels.Bundle m = DemoModels.load()) {
      assertTrue(!m.clipConfig().usesResNet() && m.clipConfig().resnetLayers().isEmpty(), m.clipConfig().toString());
    }
  }
}
