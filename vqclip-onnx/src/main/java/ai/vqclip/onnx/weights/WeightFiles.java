package ai.vqclip.onnx.weights;

import ai.vqclip.core.ModelLoadException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** One entry point for weight files of any supported format. */
public final class WeightFiles {
  private WeightFiles() {}

  /** A weight file's container format, as sniffed from its first bytes. */
  public enum Format {
    /** safetensors: 8-byte little-endian header length, then a JSON object. */
    SAFETENSORS,
    /** A ZIP archive: {@code torch.save} (1.6+) or a TorchScript archive. */
    TORCH_ZIP,
    /** The legacy {@code torch.save} stream (a pickled magic number first). */
    TORCH_LEGACY
  }

  /**
   * Sniffs the format of {@code file} from its first bytes.
   *
   * @param file the weight file
   * @return its format
   * @throws ModelLoadException if the file cannot be read or matches no supported format
   */
  public static Format detect(Path file) {
    byte[] h = new byte[9];
    int n;
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      ByteBuffer b = ByteBuffer.wrap(h);
      while (b.hasRemaining() && ch.read(b, b.position()) > 0) {
        // fill up to 9 bytes
      }
      n = b.position();
    } catch (IOException e) {
      throw new ModelLoadException("cannot read weight file " + file + ": " + e.getMessage(), e);
    }
    if (n >= 4 && h[0] == 'P' && h[1] == 'K' && h[2] == 3 && h[3] == 4) {
      return Format.TORCH_ZIP;
    }
    if (n >= 4 && (h[0] & 0xff) == 0x80 && h[1] >= 2 && h[1] <= 5 && (h[2] & 0xff) == 0x8a && h[3] == 10) {
      return Format.TORCH_LEGACY;
    }
    if (n == 9 && h[8] == '{') {
      // The header length is validated by the safetensors reader, which names what is wrong.
      return Format.SAFETENSORS;
    }
    throw new ModelLoadException("weight file " + file + " is not safetensors, a torch ZIP archive or a legacy "
        + "torch stream (first bytes " + TorchCheckpoint.hex(h, n) + ")");
  }

  /**
   * Opens a weight file as a lazy state dict: a safetensors file as is; a torch checkpoint's model
   * weights as chosen by {@link TorchCheckpoint#stateDict()} (a Lightning checkpoint's {@code
   * state_dict}, a TorchScript module flattened to dotted names, or a plain state dict). Close the
   * result to release the file.
   *
   * @param file a safetensors file or torch checkpoint
   * @return the model weights as a lazy state dict
   * @throws ModelLoadException if the file is unreadable, malformed or unsupported
   */
  public static StateDict open(Path file) {
    return switch (detect(file)) {
      case SAFETENSORS -> SafetensorsFile.open(file);
      case TORCH_ZIP, TORCH_LEGACY -> {
        TorchCheckpoint c = TorchCheckpoint.open(file);
        try {
          yield c.stateDict();
        } catch (RuntimeException e) {
          c.close();
          throw e;
        }
      }
    };
  }
}
