package ai.vqclip.onnx.vqgan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.ModelLoadException;
import ai.vqclip.onnx.weights.StateDict;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Config validation, presets, taming model.yaml parsing and inference from tensor shapes. */
class VqganConfigTest {
  /** The layout of taming's vqgan_imagenet_f16_16384 configs/model.yaml (MODELS.md §1.1). */
  static final String F16_16384_YAML = """
      model:
        base_learning_rate: 4.5e-06
        target: taming.models.vqgan.VQModel
        params:
          embed_dim: 256
          n_embed: 16384
          monitor: val/rec_loss
          ddconfig:
            double_z: false
            z_channels: 256
            resolution: 256
            in_channels: 3
            out_ch: 3
            ch: 128
            ch_mult:
            - 1
            - 1
            - 2
            - 2
            - 4
            num_res_blocks: 2
            attn_resolutions:
            - 16
            dropout: 0.0
          lossconfig:
            target: taming.modules.losses.vqperceptual.VQLPIPSWithDiscriminator
            params:
              disc_conditional: false
              disc_in_channels: 3
              disc_start: 0
              disc_weight: 0.75
              disc_num_layers: 2
              codebook_weight: 1.0
      """;

  static final String GUMBEL_YAML = """
      model:
        base_learning_rate: 4.5e-06
        target: taming.models.vqgan.GumbelVQ
        params:
          kl_weight: 1.0e-08
          embed_dim: 256
          n_embed: 8192
          monitor: val/rec_loss
          temperature_scheduler_config:
            target: taming.lr_scheduler.LambdaWarmUpCosineScheduler
            params:
              warm_up_steps: 0
              max_decay_steps: 1000001
              lr_start: 0.9
              lr_max: 0.9
              lr_min: 1.0e-06
          ddconfig:
            double_z: false
            z_channels: 256
            resolution: 256
            in_channels: 3
            out_ch: 3
            ch: 128
            ch_mult: [1, 1, 2, 4]
            num_res_blocks: 2
            attn_resolutions: [32]
            dropout: 0.0
          lossconfig:
            target: taming.modules.losses.vqperceptual.DummyLoss
      """;

  @Test
  void presets() {
    VqganConfig f16 = VqganConfig.f16_16384();
    assertEquals(16, f16.factor());
    assertEquals(5, f16.numLevels());
    assertEquals("quantize.embedding.weight", f16.codebookKey());
    assertEquals(1024, VqganConfig.f16_1024().nEmbed());
    VqganConfig g = VqganConfig.gumbelF8_8192();
    assertEquals(8, g.factor());
    assertTrue(g.gumbel());
    assertEquals("quantize.embed.weight", g.codebookKey());
  }

  @Test
  void parsesTamingYaml(@TempDir Path dir) throws IOException {
    assertEquals(VqganConfig.f16_16384(), VqganConfig.fromYaml(F16_16384_YAML));
    assertEquals(VqganConfig.gumbelF8_8192(), VqganConfig.fromYaml(GUMBEL_YAML));
    Path f = dir.resolve("model.yaml");
    Files.writeString(f, F16_16384_YAML.replace("16384", "1024"));
    assertEquals(VqganConfig.f16_1024(), VqganConfig.fromYaml(f));
  }

  @Test
  void rejectsYamlThatIsNotATamingConfig() {
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> VqganConfig.fromYaml("foo: 1\nbar: [1, 2]\n"));
    assertTrue(e.getMessage().contains("not a taming VQGAN config") && e.getMessage().contains("'model'"), e.getMessage());

    e = assertThrows(ModelLoadException.class, () -> VqganConfig.fromYaml("- a\n- b\n"));
    assertTrue(e.getMessage().contains("not a taming VQGAN config"), e.getMessage());

    e = assertThrows(ModelLoadException.class,
        () -> VqganConfig.fromYaml(F16_16384_YAML.replace("taming.models.vqgan.VQModel", "ldm.models.autoencoder.AutoencoderKL")));
    assertTrue(e.getMessage().contains("AutoencoderKL") && e.getMessage().contains("GumbelVQ"), e.getMessage());

    e = assertThrows(ModelLoadException.class, () -> VqganConfig.fromYaml(F16_16384_YAML.replace("      ch: 128\n", "")));
    assertTrue(e.getMessage().contains("model.params.ddconfig.ch is missing"), e.getMessage());

    e = assertThrows(ModelLoadException.class, () -> VqganConfig.fromYaml(F16_16384_YAML.replace("n_embed: 16384", "n_embed: many")));
    assertTrue(e.getMessage().contains("model.params.n_embed must be an integer") && e.getMessage().contains("many"), e.getMessage());

    e = assertThrows(ModelLoadException.class, () -> VqganConfig.fromYaml(F16_16384_YAML.replace("double_z: false", "double_z: true")));
    assertTrue(e.getMessage().contains("double"), e.getMessage());

    e = assertThrows(ModelLoadException.class, () -> VqganConfig.fromYaml("model: [unclosed\n"));
    assertTrue(e.getMessage().contains("not valid YAML"), e.getMessage());

    // Tags that would construct Java objects are refused by the safe loader.
    e = assertThrows(ModelLoadException.class, () -> VqganConfig.fromYaml("model: !!java.io.File [\"/tmp\"]\n"));
    assertTrue(e.getMessage().contains("not valid YAML"), e.getMessage());

    e = assertThrows(ModelLoadException.class, () -> VqganConfig.fromYaml("x: 1\n".repeat(VqganConfig.MAX_YAML_CHARS / 5 + 1)));
    assertTrue(e.getMessage().contains("limit"), e.getMessage());
  }

  @Test
  void validatesFields() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new VqganConfig(8, List.of(1, 2), 1, List.of(8), 4, 4, 16, 16, 3, 3, false, false, 32));
    assertTrue(e.getMessage().contains("numGroups 32") && e.getMessage().contains("ch 8"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new VqganConfig(8, List.of(), 1, List.of(), 4, 4, 16, 16, 3, 3, false, false, 4));
    assertTrue(e.getMessage().contains("chMult"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new VqganConfig(8, List.of(1, 2), 1, List.of(8), 4, 4, 0, 16, 3, 3, false, false, 4));
    assertTrue(e.getMessage().contains("nEmbed") && e.getMessage().contains("got 0"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new VqganConfig(8, List.of(1, 2, 2), 1, List.of(8), 4, 4, 16, 18, 3, 3, false, false, 4));
    assertTrue(e.getMessage().contains("resolution 18") && e.getMessage().contains("factor 4"), e.getMessage());
  }

  @Test
  void infersTinyConfigFromShapes() {
    VqganConfig cfg = TinyVqgan.config();
    VqganConfig inferred = VqganConfig.inferFrom(StateDict.of(TinyVqgan.weights(cfg, 1)), 4);
    // The nominal resolution cannot be read from shapes; 256 is assumed and the attention
    // resolutions follow from it, so the same layers get attention.
    assertEquals(256, inferred.resolution());
    assertEquals(List.of(128), inferred.attnResolutions());
    assertEquals(cfg.chMult(), inferred.chMult());
    assertEquals(cfg.ch(), inferred.ch());
    assertEquals(cfg.nEmbed(), inferred.nEmbed());
    assertEquals(cfg.numResBlocks(), inferred.numResBlocks());
    EnumSet<VqganWeights.Part> all = EnumSet.allOf(VqganWeights.Part.class);
    assertEquals(VqganWeights.expectedShapes(cfg, all).keySet(), VqganWeights.expectedShapes(inferred, all).keySet());
  }

  @Test
  void inferenceNamesWhatIsMissing() {
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> VqganConfig.inferFrom(StateDict.of(java.util.Map.of())));
    assertTrue(e.getMessage().contains("quantize.embedding.weight"), e.getMessage());
  }

  /** Issue 16, finding 2: a model.yaml that is not UTF-8 was an UncheckedIOException, not the documented exception. */
  @Test
  void aYamlThatIsNotUtf8IsAModelLoadException(@TempDir Path dir) throws IOException {
    Path f = dir.resolve("model.yaml");
    byte[] latin1 = F16_16384_YAML.replace("val/rec_loss", "val/r\u00e9c_loss").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    Files.write(f, latin1);
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> VqganConfig.fromYaml(f));
    assertTrue(e.getMessage().contains("is not UTF-8 text") && e.getMessage().contains(f.toString()), e.getMessage());
    Files.write(f, new byte[] {(byte) 0xff, (byte) 0xfe, 0, 'm', 0});
    assertThrows(ModelLoadException.class, () -> VqganConfig.fromYaml(f));
  }
}
