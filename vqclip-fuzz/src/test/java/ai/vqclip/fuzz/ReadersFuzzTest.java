package ai.vqclip.fuzz;

import ai.vqclip.core.ModelLoadException;
import ai.vqclip.core.image.Images;
import ai.vqclip.core.pipeline.Checkpoint;
import ai.vqclip.core.prompt.PromptSchedule;
import ai.vqclip.onnx.OnnxImport;
import ai.vqclip.onnx.clip.tokenizer.BpeVocabulary;
import ai.vqclip.onnx.clip.tokenizer.ClipTokenizer;
import ai.vqclip.onnx.vqgan.VqganConfig;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Fuzz targets of the readers of ONNX models, vocabularies, model.yaml, checkpoints, images and
 * prompts. Each may throw only its documented exception; anything else, an OutOfMemoryError at
 * -Xmx1g, a hang or a crash is a finding. Seeds ({@code ReadersFuzzTestInputs/<target>/}) come
 * from {@link FuzzSeeds}.
 */
class ReadersFuzzTest {
  private static final ClipTokenizer DEMO_TOKENIZER = demoTokenizer();

  private static ClipTokenizer demoTokenizer() {
    try (InputStream in = ReadersFuzzTest.class.getResourceAsStream("/ai/vqclip/demo/models/bpe-demo.txt.gz")) {
      if (in == null) {
        throw new IllegalStateException("the demo vocabulary is not on the class path");
      }
      Path f = FuzzFiles.write("bpe-demo.txt.gz", in.readAllBytes());
      return ClipTokenizer.openAi(f);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @FuzzTest(maxDuration = FuzzFiles.DURATION)
  void onnxImport(byte[] data) {
    try {
      OnnxImport.fromBytes(data);
    } catch (ModelLoadException expected) {
      // the documented failure
    }
  }

  /** An OpenAI merges file, plain or gzipped. */
  @FuzzTest(maxDuration = FuzzFiles.DURATION)
  void bpeVocabulary(byte[] data) {
    try {
      BpeVocabulary.readOpenAi(FuzzFiles.write("merges.txt", data));
    } catch (ModelLoadException expected) {
      // the documented failure
    }
  }

  /** A Hugging Face vocab.json and merges.txt, separated by the first NUL byte. */
  @FuzzTest(maxDuration = FuzzFiles.DURATION)
  void bpeHuggingFace(byte[] data) {
    int nul = 0;
    while (nul < data.length && data[nul] != 0) {
      nul++;
    }
    Path vocab = FuzzFiles.write("vocab.json", Arrays.copyOf(data, nul));
    Path merges = FuzzFiles.write("hf-merges.txt", nul < data.length ? Arrays.copyOfRange(data, nul + 1, data.length) : new byte[0]);
    try {
      BpeVocabulary.readHuggingFace(vocab, merges);
    } catch (ModelLoadException expected) {
      // the documented failure
    }
  }

  @FuzzTest(maxDuration = FuzzFiles.DURATION)
  void vqganYaml(byte[] data) {
    try {
      VqganConfig.fromYaml(FuzzFiles.write("model.yaml", data));
    } catch (ModelLoadException expected) {
      // the documented failure
    }
  }

  @FuzzTest(maxDuration = FuzzFiles.DURATION)
  void checkpoint(byte[] data) {
    try {
      Checkpoint.load(FuzzFiles.write("run.ckpt", data));
    } catch (ModelLoadException expected) {
      // the documented failure
    }
  }

  /** PNG, JPEG, GIF, BMP: read at a target size and as a mask. */
  @FuzzTest(maxDuration = FuzzFiles.DURATION)
  void images(byte[] data) {
    Path f = FuzzFiles.write("image", data);
    try {
      Images.read(f, 32, 24);
    } catch (ModelLoadException expected) {
      // the documented failure
    }
    try {
      Images.readMask(f, 16, 16);
    } catch (ModelLoadException expected) {
      // the documented failure
    }
  }

  @FuzzTest(maxDuration = FuzzFiles.DURATION)
  void pngText(byte[] data) {
    try {
      Images.readPngText(FuzzFiles.write("text.png", data));
    } catch (ModelLoadException expected) {
      // the documented failure
    }
  }

  /** Prompt syntax (weights, stops, '|' and '^') and the CLIP tokenizer on the demo vocabulary. */
  @FuzzTest(maxDuration = FuzzFiles.DURATION)
  void prompts(byte[] data) {
    String s = new String(data, StandardCharsets.UTF_8);
    try {
      PromptSchedule.parse(s, 3);
    } catch (IllegalArgumentException expected) {
      // the documented failure: a malformed prompt
    }
    try {
      DEMO_TOKENIZER.tokenize(s);
    } catch (IllegalArgumentException expected) {
      // PromptTooLongException: more tokens than CLIP's context
    }
  }
}
