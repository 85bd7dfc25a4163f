package ai.vqclip.onnx.clip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.Tensor;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.graph.DType;
import ai.vqclip.onnx.weights.StateDict;
import ai.vqclip.onnx.weights.TorchCheckpoint;
import ai.vqclip.onnx.weights.WeightFiles;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Tiny OpenAI-style ViT CLIPs written by real PyTorch ({@code torch.jit.trace} + {@code
 * torch.jit.save} in float32 and in OpenAI's float16 form, and a plain {@code torch.save} state dict)
 * load through {@link WeightFiles#open} and match torch's embeddings and input gradient.
 */
class TorchClipParityTest {
  /** Relative tolerance against torch (largest error / largest reference magnitude). */
  private static final double TOL = 1e-4;

  private static final Map<String, Tensor> REF = TorchFixtures.references();

  private static ClipEncoder load(StateDict sd) {
    return ClipEncoder.load(sd, ClipConfig.infer(sd, TorchFixtures.HEAD_DIM), null, ExecutionOptions.cpu());
  }

  private static double textError(ClipEncoder enc, Tensor expected) {
    long[] ids = REF.get("tokens").toLongs();
    int ctx = TorchFixtures.CONTEXT;
    double worst = 0;
    for (int row = 0; row < 2; row++) {
      int[] seq = new int[ctx];
      for (int i = 0; i < ctx; i++) {
        seq[i] = (int) ids[row * ctx + i];
      }
      float[] e = expected.toFloats();
      float[] one = new float[e.length / 2];
      System.arraycopy(e, row * one.length, one, 0, one.length);
      worst = Math.max(worst, TorchFixtures.relError(enc.embedTokens(seq), Tensor.ofFloats(new long[] {1, one.length}, one)));
    }
    return worst;
  }

  private static void assertParity(String file, String ref, boolean gradient) {
    try (StateDict sd = WeightFiles.open(TorchFixtures.file(file)); ClipEncoder enc = load(sd)) {
      ClipConfig c = enc.config();
      assertEquals(new ClipConfig(16, 32, 16, 2, 2, 8, TorchFixtures.CONTEXT, TorchFixtures.VOCAB, 16, 2, 2), c);
      double img = TorchFixtures.relError(enc.embedImages(REF.get("images")), REF.get(ref + "_image"));
      double txt = textError(enc, REF.get(ref + "_text"));
      System.out.printf("%s: image embeddings rel. error %.2e, text %.2e%n", file, img, txt);
      assertTrue(img < TOL, file + ": image embeddings differ from torch by " + img);
      assertTrue(txt < TOL, file + ": text embeddings differ from torch by " + txt);
      if (gradient) {
        Tensor g = TorchFixtures.imageGradient(enc.imageFragment(2), REF.get("images"), REF.get("grad_weights"));
        double ge = TorchFixtures.relError(g, REF.get(ref + "_image_grad"));
        System.out.printf("%s: input gradient rel. error %.2e%n", file, ge);
        assertTrue(ge < TOL, file + ": d(w . embeddings)/d images differs from torch autograd by " + ge);
      }
    }
  }

  @Test
  void tracedFloat32ArchiveMatchesTorch() {
    assertParity("vit-traced-fp32.pt", "vit_fp32", true);
  }

  /** The fp16 archive against torch run in float32 on the same fp16-rounded weights. */
  @Test
  void tracedFloat16ArchiveMatchesTorch() {
    assertParity("vit-traced-fp16.pt", "vit_fp16", false);
  }

  @Test
  void stateDictZipMatchesTorch() {
    assertParity("vit-state-dict.pt", "vit_fp32", false);
  }

  @Test
  void constantsOfTracedArchivesAreNotWeights() {
    try (TorchCheckpoint c = TorchCheckpoint.open(TorchFixtures.file("vit-traced-fp16.pt"))) {
      assertEquals(TorchCheckpoint.Kind.TORCHSCRIPT, c.kind());
      // the traced code captured the causal mask (and possibly more): constants, not weights
      assertTrue(c.constantCount() >= 1, "constants.pkl tensors: " + c.constantCount());
      try (StateDict sd = c.stateDict()) {
        assertFalse(sd.keys().stream().anyMatch(k -> k.startsWith("__constants__") || k.contains("attn_mask")), sd.keys().toString());
        // OpenAI's fp16 form: Conv/Linear/attention weights and projections half, the rest float
        assertEquals(DType.FLOAT16, sd.spec("visual.conv1.weight").dtype());
        assertEquals(DType.FLOAT16, sd.spec("transformer.resblocks.0.attn.in_proj_weight").dtype());
        assertEquals(DType.FLOAT16, sd.spec("text_projection").dtype());
        assertEquals(DType.FLOAT, sd.spec("token_embedding.weight").dtype());
        assertEquals(DType.FLOAT, sd.spec("ln_final.weight").dtype());
      }
    }
  }
}
