package ai.vqclip.cli;

import ai.vqclip.cli.models.ModelFiles;
import ai.vqclip.core.ModelLoadException;
import ai.vqclip.onnx.clip.ClipConfig;
import ai.vqclip.onnx.clip.ClipWeights;
import ai.vqclip.onnx.vqgan.VqganConfig;
import ai.vqclip.onnx.weights.StateDict;
import ai.vqclip.onnx.weights.TensorSpec;
import ai.vqclip.onnx.weights.WeightFiles;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code vqclip inspect FILE}: what a weight file holds. Reads only headers and shapes, never the weights. */
@Command(
    name = "inspect",
    mixinStandardHelpOptions = true,
    description = {"Describe a model file: format, tensors, parameters, architecture.",
        "Prints the format, tensor and parameter counts, tensor types, metadata, and the architecture inferred from the shapes (a "
            + "taming VQGAN, a ViT or ResNet CLIP, or unknown). Only headers are read; every tensor's storage is checked to exist with the "
            + "size its shape needs."},
    footerHeading = "%nExamples:%n",
    footer = {
        "  vqclip inspect vqgan_imagenet_f16_16384.ckpt",
        "  vqclip inspect ViT-B-32.pt"})
final class InspectCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "FILE", description = "A safetensors file, a torch checkpoint (.ckpt, .pth) or a TorchScript archive (.pt).")
  Path file;

  @Option(names = "--vqgan-groups", paramLabel = "N", description = "GroupNorm groups to assume for a VQGAN (default: the file's metadata, else 32).")
  Integer groups;

  @Option(names = "--clip-head-dim", paramLabel = "N", description = "Head width to assume for a CLIP (default: the file's metadata, else 64).")
  Integer headDim;

  @Override
  public Integer call() {
    InputFiles.requireReadable(file, "FILE");
    WeightFiles.Format format = WeightFiles.detect(file);
    PrintWriter out = spec.commandLine().getOut();
    try (StateDict sd = WeightFiles.open(file)) {
      long params = 0;
      Map<String, Integer> dtypes = new TreeMap<>();
      for (String k : sd.keys()) {
        TensorSpec t = sd.spec(k);
        // Storages (entry present, size as declared) are checked from headers: a file inspect
        // describes is one that loads (issue 16: a missing or 16-byte storage was reported fine).
        sd.checkStorage(k);
        params += t.elementCount();
        dtypes.merge(t.dtype().toString(), 1, Integer::sum);
      }
      out.println("file:         " + file);
      out.println("format:       " + formatName(format));
      out.println("tensors:      " + sd.keys().size());
      out.printf(Locale.ROOT, "parameters:   %,d (%s)%n", params, human(params));
      out.println("dtypes:       " + dtypes);
      if (!sd.metadata().isEmpty()) {
        out.println("metadata:     " + new TreeMap<>(sd.metadata()));
      }
      out.println("architecture: " + architecture(sd));
    }
    out.flush();
    return 0;
  }

  static String formatName(WeightFiles.Format f) {
    return switch (f) {
      case SAFETENSORS -> "safetensors";
      case TORCH_ZIP -> "torch ZIP archive (torch.save or TorchScript)";
      case TORCH_LEGACY -> "legacy torch.save stream";
    };
  }

  static String human(long n) {
    if (n >= 1_000_000_000L) {
      return String.format(Locale.ROOT, "%.2f G", n / 1e9);
    }
    if (n >= 1_000_000L) {
      return String.format(Locale.ROOT, "%.2f M", n / 1e6);
    }
    if (n >= 1_000L) {
      return String.format(Locale.ROOT, "%.1f k", n / 1e3);
    }
    return Long.toString(n);
  }

  /** The inferred architecture, or "unknown" with the reason. */
  String architecture(StateDict sd) {
    boolean vqgan = sd.contains("quantize.embedding.weight") || sd.contains("quantize.embed.weight");
    if (vqgan) {
      try {
        int g = groups != null ? groups : hint(sd, ModelFiles.GROUPS_KEY, VqganConfig.DEFAULT_GROUPS);
        VqganConfig c = VqganConfig.inferFrom(sd, g);
        String parts = sd.keys().stream().anyMatch(k -> k.startsWith("encoder.")) ? "encoder + decoder" : "decoder only";
        return "VQGAN " + c + ", downsampling factor " + c.factor() + ", " + parts;
      } catch (ModelLoadException | IllegalArgumentException e) {
        return "unknown (looks like a VQGAN, but: " + e.getMessage().lines().findFirst().orElse("") + ")";
      }
    }
    boolean clip = sd.keys().stream().anyMatch(k -> k.startsWith("visual.") || k.startsWith("vision_model.") || k.startsWith("transformer.resblocks."));
    if (clip) {
      try {
        int hd = headDim != null ? headDim : hint(sd, ModelFiles.HEAD_DIM_KEY, ClipConfig.OPENAI_HEAD_DIM);
        ClipWeights w = ClipWeights.of(sd);
        ClipConfig c = ClipConfig.infer(w, hd);
        // Shapes only, as loading checks them: a file inspect describes is one that --clip loads.
        w.validate(c);
        return ModelFiles.describe(c);
      } catch (ModelLoadException | IllegalArgumentException e) {
        return "unknown (looks like a CLIP, but: " + String.join(" ", e.getMessage().lines().map(String::strip).toList()) + ")";
      }
    }
    return "unknown (neither a taming VQGAN nor a ViT CLIP by its tensor names)";
  }

  private static int hint(StateDict sd, String key, int fallback) {
    String v = sd.metadata().get(key);
    if (v == null) {
      return fallback;
    }
    try {
      return Integer.parseInt(v.strip());
    } catch (NumberFormatException e) {
      return fallback;
    }
  }
}
