package example;

import ai.vqclip.augment.StandardCutouts;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.image.Images;
import ai.vqclip.core.pipeline.GenerationRequest;
import ai.vqclip.core.pipeline.Pipeline;
import ai.vqclip.core.pipeline.RunResult;
import ai.vqclip.core.prompt.PromptSchedule;
import ai.vqclip.demo.DemoModels;
import ai.vqclip.onnx.clip.ClipEncoder;
import ai.vqclip.onnx.vqgan.VqganGenerator;
import java.nio.file.Path;
import java.util.Map;

/** A user's program: the bundled demo models draw a prompt in a few steps. */
public final class Generate {
  private Generate() {}

  public static void main(String[] args) {
    Path out = Path.of(args.length > 0 ? args[0] : "out.png");
    ExecutionOptions cpu = ExecutionOptions.cpu();
    try (DemoModels.Bundle demo = DemoModels.load();
        VqganGenerator generator = VqganGenerator.load(demo.vqgan(), demo.vqganConfig(), cpu);
        ClipEncoder encoder = ClipEncoder.load(demo.clip(), demo.clipConfig(), demo.tokenizer(), cpu)) {
      Pipeline pipeline = Pipeline.builder(generator, new StandardCutouts()).encoder(encoder).build();
      GenerationRequest request = GenerationRequest.builder(32, 32, PromptSchedule.parse("a red circle on a blue background", 1))
          .iterations(5).cutouts(8).seed(1).build();
      RunResult result = pipeline.run(request, e -> true);
      Images.writePng(result.image(), out, Map.of("vqclip", result.manifest().toJson()));
      System.out.println("wrote " + out + " with vqclip " + result.manifest().vqclipVersion());
    }
  }
}
