package ai.vqclip.pipeline;

import ai.vqclip.augment.StandardCutouts;
import ai.vqclip.core.pipeline.Pipeline;
import ai.vqclip.onnx.clip.ClipEncoder;
import ai.vqclip.onnx.vqgan.VqganGenerator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** Pipeline tests on the tiny seeded models: one generator, encoder and standard pipeline per test class. */
abstract class WithTinyPipeline {
  static VqganGenerator generator;
  static ClipEncoder encoder;
  static Pipeline pipeline;

  @BeforeAll
  static void load() {
    generator = TinyModels.generator();
    encoder = TinyModels.encoder(5);
    pipeline = Pipeline.builder(generator, new StandardCutouts()).encoder(encoder).options(TinyModels.CPU).build();
  }

  @AfterAll
  static void close() {
    encoder.close();
    generator.close();
  }
}
