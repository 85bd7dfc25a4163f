package ai.vqclip.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.cli.models.ModelFiles;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.demo.DemoModels;
import ai.vqclip.onnx.clip.ClipEncoder;
import ai.vqclip.onnx.vqgan.VqganGenerator;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bundled demo model files, read through the generic {@code --vqgan}/{@code --clip} path (which
 * knows nothing of the demo and infers the architecture from the tensors and the file's metadata),
 * build the same models as the demo loader: same architecture, and the same outputs bit for bit.
 * Before the files carried {@code vqclip.num_groups}/{@code vqclip.head_dim} this path built a VQGAN
 * with 32 groups and a CLIP with 1 head, silently.
 */
class BundledModelFilesTest {

  @Test
  void bundledFilesThroughTheGenericPathAreTheDemoModels(@TempDir Path dir) throws Exception {
    DemoModels.copyBundled(dir);
    ExecutionOptions cpu = ExecutionOptions.cpu();
    try (DemoModels.Bundle demo = DemoModels.load();
        VqganGenerator expectedGen = VqganGenerator.load(demo.vqgan(), demo.vqganConfig(), cpu);
        ClipEncoder expectedClip = ClipEncoder.load(demo.clip(), demo.clipConfig(), demo.tokenizer(), cpu)) {
      ModelFiles.OpenedGenerator g = ModelFiles.openVqgan(dir.resolve(DemoModels.VQGAN_WEIGHTS), null, null, cpu);
      try (var weights = g.weights(); VqganGenerator gen = g.generator()) {
        // The training resolution is not in the tensors (the generic path assumes taming's 256); it
        // changes nothing in a network without attention levels, as the equal pixels below show.
        assertEquals(java.util.List.of(), demo.vqganConfig().attnResolutions());
        assertEquals(demo.vqganConfig().toString().replace("resolution=32,", "resolution=256,"), gen.config().toString());
        Tensor z = expectedGen.randomLatent(32, 32, 3);
        assertArrayEquals(expectedGen.decode(z).toFloats(), gen.decode(z).toFloats(), "decoded pixels");
      }
      ModelFiles.OpenedClip c = ModelFiles.openClip(dir.resolve(DemoModels.CLIP_WEIGHTS),
          ModelFiles.tokenizer(dir.resolve(ai.vqclip.demo.train.ClipTraining.MERGES_FILE)), null, cpu);
      try (var weights = c.weights(); ClipEncoder enc = (ClipEncoder) c.clip().encoder()) {
        assertEquals(demo.clipConfig(), enc.config());
        float[] want = expectedClip.embedText("a red circle on a blue background").toFloats();
        assertArrayEquals(want, enc.embedText("a red circle on a blue background").toFloats(), "text embedding");
        assertTrue(want.length > 0);
      }
    }
  }
}
