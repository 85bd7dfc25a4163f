package ai.vqclip.bench;

import ai.vqclip.augment.AugmentCodes;
import ai.vqclip.augment.StandardCutouts;
import ai.vqclip.core.Tensor;
import ai.vqclip.core.autodiff.Autodiff;
import ai.vqclip.core.autodiff.GradientRequest;
import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.graph.Graph;
import ai.vqclip.core.optim.OptimizerConfig;
import ai.vqclip.core.pipeline.GenerationRequest;
import ai.vqclip.core.pipeline.Pipeline;
import ai.vqclip.core.prompt.PromptSchedule;
import ai.vqclip.onnx.RandomWeights;
import ai.vqclip.onnx.clip.ClipConfig;
import ai.vqclip.onnx.clip.ClipEncoder;
import ai.vqclip.onnx.clip.TextTokenizer;
import ai.vqclip.onnx.vqgan.VqganConfig;
import ai.vqclip.onnx.vqgan.VqganGenerator;
import ai.vqclip.onnx.weights.StateDict;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The full-size models of the benchmarks, VQGAN f16_16384 and CLIP ViT-B/32, with seeded random
 * weights (a step costs the same whatever the weights' values). Generating them takes seconds and
 * about 1 GB, so they are made once per JVM and shared by every benchmark of a {@link BenchMain} run.
 */
public final class FullModels {
  /** The VQGAN architecture benchmarked. */
  public static final VqganConfig VQGAN = VqganConfig.f16_16384();
  /** The CLIP architecture benchmarked. */
  public static final ClipConfig CLIP = ClipConfig.VIT_B_32;
  /** The text prompt of every benchmarked step. */
  public static final String PROMPT = "a watercolor painting of a lighthouse at dusk";
  /** The augmentations of every benchmarked step (the defaults of the reference notebook). */
  public static final List<String> AUGMENTATIONS = List.of(AugmentCodes.NR_DEFAULT.split(" "));

  /**
   * A character tokenizer over CLIP's context and vocabulary: the text encoder always runs all 77
   * positions, so its cost does not depend on the tokenizer and no vocabulary file is needed.
   */
  public static final TextTokenizer TOKENIZER = text -> {
    int ctx = CLIP.contextLength();
    int[] ids = new int[ctx];
    ids[0] = CLIP.vocabSize() - 2;
    int n = Math.min(text.length(), ctx - 2);
    for (int i = 0; i < n; i++) {
      ids[i + 1] = 1 + text.charAt(i) % 255;
    }
    ids[n + 1] = CLIP.vocabSize() - 1;
    return ids;
  };

  private static FullModels shared;
  private static int sharedThreads;

  private final VqganGenerator generator;
  private final ClipEncoder encoder;
  private final ExecutionOptions options;

  /** System property naming the device of every benchmark session: {@code cpu} (default) or {@code cuda}. */
  public static final String DEVICE_PROPERTY = "vqclip.bench.device";

  /**
   * The options of every benchmark session: CPU with {@code threads} intra-op threads, or CUDA
   * device 0 without CPU fallback when {@link #DEVICE_PROPERTY} is {@code cuda} (needs the {@code
   * -Pcuda} build, CUDA 12.x and cuDNN 9.x).
   *
   * @throws IllegalArgumentException for another device name
   */
  public static ExecutionOptions executionOptions(int threads) {
    String d = System.getProperty(DEVICE_PROPERTY, "cpu");
    return switch (d) {
      case "cpu" -> ExecutionOptions.cpu().withThreads(threads);
      case "cuda" -> ExecutionOptions.cuda().withThreads(threads);
      default -> throw new IllegalArgumentException(DEVICE_PROPERTY + " must be cpu or cuda, got '" + d + "'");
    };
  }

  private FullModels(int threads, long seed) {
    options = executionOptions(threads);
    Map<String, Tensor> vq = new LinkedHashMap<>(RandomWeights.vqgan(VQGAN, seed));
    // Synthesis needs neither the VQGAN encoder nor quant_conv: dropping them saves ~100 MB.
    vq.keySet().removeIf(k -> k.startsWith("encoder.") || k.startsWith("quant_conv."));
    generator = VqganGenerator.loadForSynthesis(StateDict.of(vq), VQGAN, options);
    encoder = ClipEncoder.load(StateDict.of(RandomWeights.clip(CLIP, seed + 1)), CLIP, TOKENIZER, options);
  }

  /** The models for {@code threads} intra-op threads, made on first use (seed 1). */
  public static synchronized FullModels get(int threads) {
    if (shared == null || sharedThreads != threads) {
      if (shared != null) {
        shared.generator.close();
        shared.encoder.close();
      }
      shared = new FullModels(threads, 1);
      sharedThreads = threads;
    }
    return shared;
  }

  /** The VQGAN generator (decoder and quantizer). */
  public VqganGenerator generator() {
    return generator;
  }

  /** The CLIP encoder (image and text towers). */
  public ClipEncoder encoder() {
    return encoder;
  }

  /** The execution options of every session. */
  public ExecutionOptions options() {
    return options;
  }

  /** A pipeline over both models with the standard cutouts and the default memory saving. */
  public Pipeline pipeline() {
    return pipeline(Pipeline.MemorySaving.AUTO);
  }

  /** A pipeline over both models with the standard cutouts and the given memory saving. */
  public Pipeline pipeline(Pipeline.MemorySaving memorySaving) {
    return Pipeline.builder(generator, new StandardCutouts()).encoder(encoder).options(options).memorySaving(memorySaving).build();
  }

  /** The request of a benchmarked step: one text prompt, the given size and cutouts, augmentations on. */
  public static GenerationRequest request(int size, int cutouts) {
    return GenerationRequest.builder(size, size, PromptSchedule.parse(PROMPT, 0)).cutouts(cutouts).augmentations(AUGMENTATIONS).seed(7)
        .iterations(1).optimizer(OptimizerConfig.adam(0.1)).build();
  }

  /** One step's graph (forward and backward to z) and its inputs, exactly as {@link Pipeline#run} builds them. */
  public record Step(Graph graph, Map<String, Tensor> inputs) {
    /** The outputs a run of the pipeline reads every step: the loss, its terms and the gradient. */
    public java.util.Set<String> outputs() {
      java.util.Set<String> s = new java.util.LinkedHashSet<>();
      graph.outputs().forEach(v -> {
        if (v.name().startsWith("term/")) {
          s.add(v.name());
        }
      });
      s.add("loss");
      s.add(GradientRequest.gradName("z"));
      return s;
    }
  }

  /** Builds the step graph of {@link #request} (graph build and differentiation, no session). */
  public Step step(Pipeline pipeline, int size, int cutouts) {
    Tensor z = generator.randomLatent(size, size, 3);
    Pipeline.StepSnapshot snap = pipeline.snapshot(request(size, cutouts), 0, z);
    Graph g = Autodiff.differentiate(snap.graph(), pipeline.gradientRequest(request(size, cutouts)));
    return new Step(g, snap.inputs());
  }
}
