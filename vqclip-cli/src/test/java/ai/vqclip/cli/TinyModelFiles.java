package ai.vqclip.cli;

import ai.vqclip.cli.models.FallbackModels;
import ai.vqclip.cli.models.ModelFiles;
import ai.vqclip.core.Tensor;
import ai.vqclip.onnx.RandomWeights;
import ai.vqclip.onnx.clip.ClipConfig;
import ai.vqclip.onnx.vqgan.VqganConfig;
import ai.vqclip.onnx.weights.SafetensorsWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

/**
 * Real model files for command tests: the tiny VQGAN (f=2) and a tiny CLIP (32x32 input) with
 * seeded random weights in safetensors files, their group count and head width in the files'
 * metadata, and a BPE vocabulary of a few merges in OpenAI's gzip format.
 */
final class TinyModelFiles {
  static final VqganConfig VQGAN = FallbackModels.VQGAN;

  /**
   * A tiny VQGAN with taming's 32 GroupNorm groups (ch 32), as a taming model.yaml can describe:
   * the yaml format has no group count.
   */
  static final VqganConfig VQGAN_32 = new VqganConfig(32, List.of(1, 2), 1, List.of(), 4, 4, 16, 16, 3, 3, false, false, 32);

  /** The fallback CLIP with room for the tiny vocabulary (512 byte symbols, the merges, 2 specials). */
  static final ClipConfig CLIP = new ClipConfig(16, 32, 32, 2, 4, 8, 77, 530, 32, 2, 4);

  /** A few merges; every other word falls back to byte symbols. */
  static final String[][] MERGES = {{"r", "e"}, {"re", "d</w>"}, {"c", "i"}, {"ci", "r"}, {"a", "t</w>"}, {"c", "at</w>"}};

  final Path vqgan;
  final Path vqganNoMetadata;
  final Path vqgan32;
  final Path vqganYaml;
  final Path clip;
  final Path clip2;
  final Path vocab;

  private TinyModelFiles(Path dir) {
    vqgan = dir.resolve("tiny-vqgan.safetensors");
    vqganNoMetadata = dir.resolve("tiny-vqgan-plain.safetensors");
    vqgan32 = dir.resolve("tiny-vqgan-32-groups.safetensors");
    vqganYaml = dir.resolve("tiny-model.yaml");
    clip = dir.resolve("tiny-clip.safetensors");
    clip2 = dir.resolve("tiny-clip-2.safetensors");
    vocab = dir.resolve("tiny-vocab.txt.gz");
  }

  /** Writes every file into {@code dir}. */
  static TinyModelFiles write(Path dir) {
    TinyModelFiles f = new TinyModelFiles(dir);
    Map<String, Tensor> vq = RandomWeights.vqgan(VQGAN, FallbackModels.VQGAN_SEED);
    SafetensorsWriter.write(f.vqgan, vq, Map.of(ModelFiles.GROUPS_KEY, "4"));
    SafetensorsWriter.write(f.vqganNoMetadata, vq, Map.of());
    SafetensorsWriter.write(f.vqgan32, RandomWeights.vqgan(VQGAN_32, 3), Map.of());
    SafetensorsWriter.write(f.clip, RandomWeights.clip(CLIP, 5), Map.of(ModelFiles.HEAD_DIM_KEY, "8"));
    SafetensorsWriter.write(f.clip2, RandomWeights.clip(CLIP, 6), Map.of(ModelFiles.HEAD_DIM_KEY, "8"));
    try {
      Files.writeString(f.vqganYaml, """
          model:
            target: taming.models.vqgan.VQModel
            params:
              embed_dim: 4
              n_embed: 16
              ddconfig:
                double_z: false
                z_channels: 4
                resolution: 16
                in_channels: 3
                out_ch: 3
                ch: 32
                ch_mult: [1, 2]
                num_res_blocks: 1
                attn_resolutions: []
                dropout: 0.0
          """, StandardCharsets.UTF_8);
      ByteArrayOutputStream buf = new ByteArrayOutputStream();
      try (OutputStream gz = new GZIPOutputStream(buf)) {
        StringBuilder text = new StringBuilder("\"bpe_simple_vocab_16e6.txt#version: 0.2\n");
        for (String[] m : MERGES) {
          text.append(m[0]).append(' ').append(m[1]).append('\n');
        }
        gz.write(text.toString().getBytes(StandardCharsets.UTF_8));
      }
      Files.write(f.vocab, buf.toByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return f;
  }

  /**
   * {@code args}, then the model options, then fast run settings where {@code args} has none: 4
   * cutouts, 1 thread, quiet, and 32x32 (except for edit, whose size is its image's).
   */
  String[] args(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    if (!all.contains("--vqgan")) {
      all.addAll(List.of("--vqgan", vqgan.toString()));
    }
    all.addAll(List.of("--clip", clip.toString(), "--vocab", vocab.toString()));
    if (!all.contains("-cuts") && !all.contains("--cutouts")) {
      all.addAll(List.of("--cutouts", "4"));
    }
    all.addAll(List.of("--threads", "1"));
    if (!all.contains("--progress")) {
      all.add("-q");
    }
    if (!all.contains("-s") && !all.contains("--size") && !all.get(0).equals("edit")) {
      all.addAll(List.of("-s", "32", "32"));
    }
    all.remove("--progress");
    return all.toArray(new String[0]);
  }
}
