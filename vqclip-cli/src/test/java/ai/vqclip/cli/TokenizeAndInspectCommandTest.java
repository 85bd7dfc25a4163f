package ai.vqclip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.graph.DType;
import ai.vqclip.onnx.RandomWeights;
import ai.vqclip.onnx.weights.SafetensorsWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** {@code vqclip tokenize} and {@code vqclip inspect}. */
class TokenizeAndInspectCommandTest extends WithTinyModelFiles {
  @Test
  void tokenizeWithOpenAisVocabularyPrintsClipsIds() {
    Path vocab = RealVocabulary.find();
    Assumptions.assumeTrue(vocab != null, "CLIP vocabulary " + RealVocabulary.RELATIVE + " not found in or above the working directory");
    Cli.Run r = Cli.run("tokenize", "a photo of a cat", "--vocab", vocab.toString());
    assertEquals(0, r.exit(), r.toString());
    assertEquals("49406 320 1125 539 320 2368 49407\n", r.out().replace("\r\n", "\n"));
    assertEquals("", r.err());
  }

  @Test
  void tokenizeWithATinyVocabularyAndTheLengthWarning() {
    // 512 byte symbols, then the merges (re = 512, red</w> = 513, ci = 514, cir = 515, at</w> = 516, cat</w> = 517), start 518, end 519.
    Cli.Run r = Cli.run("tokenize", "red", "cat", "--vocab", files.vocab.toString());
    assertEquals(0, r.exit(), r.toString());
    assertEquals("518 513 517 519", r.out().strip());
    Cli.Run longer = Cli.run("tokenize", "cat ".repeat(80), "--vocab", files.vocab.toString());
    assertEquals(0, longer.exit());
    assertEquals(82, longer.out().strip().split(" ").length);
    assertTrue(longer.err().contains("82 tokens; CLIP's context holds 77"), longer.err());
  }

  static long parameters(Map<String, Tensor> w) {
    return w.values().stream().mapToLong(Tensor::elementCount).sum();
  }

  @Test
  void inspectVqganAndClipFiles() {
    Cli.Run vq = Cli.run("inspect", files.vqgan.toString());
    assertEquals(0, vq.exit(), vq.toString());
    Map<String, Tensor> w = RandomWeights.vqgan(TinyModelFiles.VQGAN, 11);
    assertTrue(vq.out().contains("format:       safetensors"), vq.out());
    assertTrue(vq.out().contains("tensors:      " + w.size() + "\n"), vq.out());
    assertTrue(vq.out().contains(String.format(Locale.ROOT, "parameters:   %,d ", parameters(w))), vq.out());
    assertTrue(vq.out().contains("architecture: VQGAN VQModel{ch=8, ch_mult=[1, 2]") && vq.out().contains("downsampling factor 2"), vq.out());
    assertTrue(vq.out().contains("vqclip.num_groups=4"), vq.out());

    Cli.Run clip = Cli.run("inspect", files.clip.toString());
    assertEquals(0, clip.exit(), clip.toString());
    assertTrue(clip.out().contains("architecture: ViT CLIP: embed 16, input 32x32, patch 8"), clip.out());
    assertTrue(clip.out().contains("vocab 530"), clip.out());

    // Shapes cannot tell the group count: without metadata or --vqgan-groups, taming's 32 is assumed and does not fit.
    Cli.Run plain = Cli.run("inspect", files.vqganNoMetadata.toString());
    assertTrue(plain.out().contains("architecture: unknown (looks like a VQGAN, but: "), plain.out());
    Cli.Run given = Cli.run("inspect", files.vqganNoMetadata.toString(), "--vqgan-groups", "4");
    assertTrue(given.out().contains("architecture: VQGAN VQModel{"), given.out());
  }

  @Test
  void inspectSomethingElse() {
    Path other = dir.resolve("other.safetensors");
    SafetensorsWriter.write(other, Map.of("layer.weight", Tensor.filled(DType.FLOAT, new long[] {3, 4}, 1),
        "layer.bias", Tensor.filled(DType.FLOAT16, new long[] {3}, 0)), Map.of());
    Cli.Run r = Cli.run("inspect", other.toString());
    assertEquals(0, r.exit(), r.toString());
    assertTrue(r.out().contains("tensors:      2\n") && r.out().contains("parameters:   15 (15)"), r.out());
    assertTrue(r.out().contains("dtypes:       {FLOAT16=1, FLOAT=1}") || r.out().contains("dtypes:       {FLOAT=1, FLOAT16=1}"), r.out());
    assertTrue(r.out().contains("architecture: unknown (neither a taming VQGAN nor a ViT CLIP"), r.out());
  }
}
