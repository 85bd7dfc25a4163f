package ai.vqclip.demo.eval;

import ai.vqclip.core.backend.ExecutionOptions;
import ai.vqclip.core.pipeline.GenerationRequest;
import ai.vqclip.core.pipeline.RunResult;
import ai.vqclip.demo.DemoModels;
import ai.vqclip.demo.data.CaptionParser;
import ai.vqclip.demo.data.DemoColor;
import ai.vqclip.demo.data.ShapeKind;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import javax.imageio.ImageIO;

/**
 * Prompt fidelity of the demo models: generates for a prompt set ({@link DemoPrompts}) at given
 * seeds with the demo settings and judges every picture with the {@link ShapeChecker} (background,
 * object colour, shape), with figures per shape, object colour and background.
 */
public final class FidelityEval {
  private FidelityEval() {}

  /** One picture's outcome. */
  public record Outcome(String prompt, long seed, ShapeChecker.Verdict verdict) {}

  /**
   * Generates for every prompt at every seed and judges each picture.
   *
   * @param settings how to generate (e.g. {@link DemoGeneration#defaults()})
   * @param save a folder to write each picture to as {@code s<seed>-<index>.png}, or null; a picture
   *     already there is judged instead of generated again (to resume a stopped evaluation)
   */
  public static List<Outcome> run(DemoGeneration gen, List<String> prompts, List<Long> seeds, DemoGeneration.Settings settings, Path save) {
    List<Outcome> out = new ArrayList<>();
    for (long seed : seeds) {
      for (int i = 0; i < prompts.size(); i++) {
        String p = prompts.get(i);
        Path saved = save == null ? null : save.resolve("s" + seed + "-" + i + ".png");
        if (saved != null && Files.isRegularFile(saved)) {
          // Resuming a stopped evaluation: the saved picture stands for the run.
          float[] px = readPng(saved);
          int side = (int) Math.round(Math.sqrt(px.length / 3.0));
          out.add(new Outcome(p, seed, ShapeChecker.judge(p, px, side, side)));
          continue;
        }
        double contrast = Double.parseDouble(System.getProperty("vqclip.demo.contrast", "0"));
        String prompt = contrast > 0 ? DemoGeneration.withShapeContrast(p, contrast) : p;
        double shapeContrast = Double.parseDouble(System.getProperty("vqclip.demo.shapecontrast", "0"));
        int candidates = Integer.getInteger("vqclip.demo.candidates", DemoGeneration.CANDIDATES);
        RunResult r = gen.runBest(sd -> gen.requestFor(prompt, sd, settings).build(), seed, p, p, shapeContrast, candidates);
        long[] sh = r.image().shape();
        float[] px = r.image().toFloats();
        if (save != null) {
          writePng(px, (int) sh[2], (int) sh[3], save.resolve("s" + seed + "-" + i + ".png"));
        }
        out.add(new Outcome(p, seed, ShapeChecker.judge(p, px, (int) sh[2], (int) sh[3])));
      }
    }
    return out;
  }

  /**
   * The start named {@code codes}, {@code gradient}, {@code pixels} or {@code gray} (the encoding of a
   * uniform mid-grey picture of side {@code size}).
   */
  static ai.vqclip.core.pipeline.Init init(String name, int size) {
    return switch (name) {
      case "gray" -> new ai.vqclip.core.pipeline.Init.FromImage(
          ai.vqclip.core.Tensor.ofFloats(new long[] {1, 3, size, size}, filled(3 * size * size, 0.5f)));
      case "codes" -> new ai.vqclip.core.pipeline.Init.RandomCodes();
      case "gradient" -> new ai.vqclip.core.pipeline.Init.NoiseGradient();
      case "pixels" -> new ai.vqclip.core.pipeline.Init.NoisePixels();
      default -> throw new IllegalArgumentException("init must be codes, gradient, pixels or gray, got '" + name + "'");
    };
  }

  private static float[] filled(int n, float v) {
    float[] a = new float[n];
    java.util.Arrays.fill(a, v);
    return a;
  }

  /**
   * Judges pictures saved by an earlier run ({@code s<seed>-<index>.png} in {@code dir}, index into
   * the prompt set {@code set}) and prints the verdicts and the summary: a changed checker can be
   * re-run without generating again, and a run stopped early still gives figures.
   */
  public static List<Outcome> judgeSaved(Path dir, String set) {
    List<String> prompts = DemoPrompts.named(set);
    List<Outcome> out = new ArrayList<>();
    for (long seed = 0; seed < 100; seed++) {
      for (int i = 0; i < prompts.size(); i++) {
        Path f = dir.resolve("s" + seed + "-" + i + ".png");
        if (!Files.isRegularFile(f)) {
          continue;
        }
        float[] px = readPng(f);
        int side = (int) Math.round(Math.sqrt(px.length / 3.0));
        ShapeChecker.Verdict v = ShapeChecker.judge(prompts.get(i), px, side, side);
        out.add(new Outcome(prompts.get(i), seed, v));
        System.out.println((v.all() ? "ok   " : "FAIL ") + "s" + seed + " " + prompts.get(i) + "  -- " + v.reason());
      }
    }
    System.out.println("judged " + out.size() + " saved pictures of set " + set + " in " + dir + "\n\n" + summary(out));
    return out;
  }

  /**
   * How much of a drawn picture survives the bundled VQGAN: {@code n} plain-background pictures of
   * {@code ShapesDataset(32, 15)} are encoded, quantized and decoded, and the reconstruction is
   * judged against the scene's full caption; prints all-three, background and colour counts and
   * shapes kept per shape and per size class (objects counted). {@code models}: a folder of
   * retrained demo models, or null for the bundled ones.
   */
  static void roundTrips(int n, Path models) {
    try (DemoModels.Bundle m = models != null ? DemoModels.load(models) : DemoModels.load();
        ai.vqclip.onnx.vqgan.VqganGenerator g = ai.vqclip.onnx.vqgan.VqganGenerator.load(m.vqgan(), m.vqganConfig(), ExecutionOptions.cpu())) {
      ai.vqclip.demo.data.ShapesDataset d = new ai.vqclip.demo.data.ShapesDataset(DemoModels.IMAGE_SIZE, 15);
      int done = 0;
      int all = 0;
      int bg = 0;
      int col = 0;
      Map<String, int[]> kept = new java.util.TreeMap<>();
      for (long i = 0; done < n; i++) {
        ai.vqclip.demo.data.ShapesDataset.Sample s = d.sample(i);
        if (s.scene().twoTone()) {
          continue;
        }
        done++;
        float[] px = g.decode(g.encode(ai.vqclip.demo.data.ShapesDataset.toTensor(List.of(s.image()), false))).toFloats();
        ShapeChecker.Verdict v = ShapeChecker.judge(ai.vqclip.demo.data.Captions.full(s.scene()), px, d.size(), d.size());
        all += v.all() ? 1 : 0;
        bg += v.background() ? 1 : 0;
        col += v.color() ? 1 : 0;
        for (ai.vqclip.demo.data.Scene.Item it : s.scene().objects()) {
          ShapeChecker.Blob b = v.reading().of(it.color());
          boolean ok = b != null && b.shape() == it.shape();
          for (String key : List.of(it.shape().word(), "size " + it.size())) {
            int[] c = kept.computeIfAbsent(key, k -> new int[2]);
            c[0] += ok ? 1 : 0;
            c[1]++;
          }
        }
      }
      System.out.println("round trips: all three " + all + "/" + done + ", background " + bg + ", colour " + col);
      kept.forEach((k, c) -> System.out.println("  " + k + " kept " + c[0] + "/" + c[1]));
    }
  }

  /**
   * Judges the caption sketcher's starting pictures for every prompt at every seed, as drawn and after
   * a round trip through the demo VQGAN (what a run starting from them begins with), and prints both
   * summaries; {@code out}, where given, gets the pictures ({@code s<seed>-<index>.png} and {@code
   * rt-s<seed>-<index>.png}).
   *
   * @param prompts the captions
   * @param seeds the seeds (each its own layout)
   * @param file the sketcher's weights
   * @param models the demo models' folder, or null for the bundled ones
   * @param out a folder for the pictures, or null
   * @return the outcomes after the round trip
   */
  public static List<Outcome> sketches(List<String> prompts, List<Long> seeds, Path file, Path models, Path out) {
    List<Outcome> drawn = new ArrayList<>();
    List<Outcome> trips = new ArrayList<>();
    int s = DemoModels.IMAGE_SIZE;
    try (DemoModels.Bundle m = models != null ? DemoModels.load(models) : DemoModels.load();
        ai.vqclip.onnx.vqgan.VqganGenerator g = ai.vqclip.onnx.vqgan.VqganGenerator.load(m.vqgan(), m.vqganConfig(), ExecutionOptions.cpu());
        ai.vqclip.onnx.clip.ClipEncoder clip = m.clips().get(0).open(ExecutionOptions.cpu());
        CaptionSketch sketch = CaptionSketch.load(file, ExecutionOptions.cpu())) {
      for (long seed : seeds) {
        for (int i = 0; i < prompts.size(); i++) {
          String p = prompts.get(i);
          ai.vqclip.core.Tensor img = sketch.draw(clip, p, seed, s).image();
          float[] px = img.toFloats();
          float[] rt = g.decode(g.encode(img)).toFloats();
          if (out != null) {
            writePng(px, s, s, out.resolve("s" + seed + "-" + i + ".png"));
            writePng(rt, s, s, out.resolve("rt-s" + seed + "-" + i + ".png"));
          }
          drawn.add(new Outcome(p, seed, ShapeChecker.judge(p, px, s, s)));
          ShapeChecker.Verdict v = ShapeChecker.judge(p, rt, s, s);
          trips.add(new Outcome(p, seed, v));
          System.out.println((v.all() ? "ok   " : "FAIL ") + "s" + seed + " " + p + "  -- " + v.reason());
        }
      }
    }
    System.out.println("sketches as drawn:\n" + summary(drawn) + "\nafter a VQGAN round trip:\n" + summary(trips));
    return trips;
  }

  /** The sketch start of {@code sketch=off|FILE} and {@code sketchWeight=W} (default: the bundle's, at the demo weight). */
  static DemoGeneration.SketchStart sketchStart(Map<String, String> kv, DemoModels.Bundle m) {
    String f = kv.get("sketch");
    if ("off".equals(f)) {
      return null;
    }
    Path file = f != null ? Path.of(f) : m.sketch();
    return file == null ? null : new DemoGeneration.SketchStart(file, Double.parseDouble(kv.getOrDefault("sketchWeight", ""
        + DemoGeneration.SKETCH_WEIGHT)));
  }

  /** A square PNG as [3, H, W] floats in [0, 1]. */
  static float[] readPng(Path f) {
    try {
      BufferedImage img = ImageIO.read(f.toFile());
      int w = img.getWidth();
      int h = img.getHeight();
      if (w != h) {
        throw new IllegalArgumentException(f + " is " + w + "x" + h + ", expected a square picture");
      }
      float[] px = new float[3 * w * h];
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          int rgb = img.getRGB(x, y);
          for (int c = 0; c < 3; c++) {
            px[(c * h + y) * w + x] = ((rgb >> (16 - 8 * c)) & 0xFF) / 255f;
          }
        }
      }
      return px;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + f, e);
    }
  }

  /** Writes a [3, H, W] picture in [0, 1] as an 8-bit PNG. */
  public static void writePng(float[] chw, int h, int w, Path file) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    int plane = h * w;
    for (int i = 0; i < plane; i++) {
      int r = Math.round(Math.max(0, Math.min(1, chw[i])) * 255);
      int g = Math.round(Math.max(0, Math.min(1, chw[plane + i])) * 255);
      int b = Math.round(Math.max(0, Math.min(1, chw[2 * plane + i])) * 255);
      img.setRGB(i % w, i / w, (r << 16) | (g << 8) | b);
    }
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      ImageIO.write(img, "png", file.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  /** Counts of right judgements in a group. */
  static final class Tally {
    int n;
    int background;
    int color;
    int shape;
    int all;

    void add(ShapeChecker.Verdict v) {
      n++;
      background += v.background() ? 1 : 0;
      color += v.color() ? 1 : 0;
      shape += v.shape() ? 1 : 0;
      all += v.all() ? 1 : 0;
    }
  }

  /**
   * A markdown summary: overall background / object colour / shape / all three, then per shape (of
   * every named object: its shape right), per object colour and per background (pictures whose
   * caption names them: all three right).
   */
  public static String summary(List<Outcome> outcomes) {
    Tally total = new Tally();
    Map<ShapeKind, int[]> shapes = new LinkedHashMap<>();
    Map<DemoColor, Tally> colors = new LinkedHashMap<>();
    Map<DemoColor, Tally> backgrounds = new LinkedHashMap<>();
    Tally one = new Tally();
    Tally two = new Tally();
    for (ShapeKind k : ShapeKind.values()) {
      shapes.put(k, new int[2]);
    }
    for (DemoColor c : DemoColor.values()) {
      colors.put(c, new Tally());
      backgrounds.put(c, new Tally());
    }
    for (Outcome o : outcomes) {
      ShapeChecker.Verdict v = o.verdict();
      CaptionParser.Claims c = CaptionParser.parse(o.prompt());
      total.add(v);
      (c.objects().size() == 1 ? one : two).add(v);
      backgrounds.get(c.background()).add(v);
      for (CaptionParser.ObjectClaim obj : c.objects()) {
        colors.get(obj.color()).add(v);
        ShapeChecker.Blob b = v.reading().of(obj.color());
        if (b == null && c.objects().size() == 1 && !v.reading().objects().isEmpty()) {
          b = v.reading().objects().get(0);
        }
        int[] s = shapes.get(obj.shape());
        s[1]++;
        s[0] += b != null && b.shape() == obj.shape() ? 1 : 0;
      }
    }
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "| pictures | background | object colour | shape | all three |%n|---|---|---|---|---|%n"));
    row(sb, "all " + total.n, total);
    row(sb, "one object " + one.n, one);
    row(sb, "two objects " + two.n, two);
    sb.append(String.format(Locale.ROOT, "%n| shape (objects right/named) |%s%n|---|%s%n|  |", header(shapes.keySet(), k -> k.word()),
        "---|".repeat(shapes.size())));
    shapes.values().forEach(s -> sb.append(String.format(Locale.ROOT, " %d/%d |", s[0], s[1])));
    sb.append(String.format(Locale.ROOT, "%n%n| colour | %s%n|---|%s%n", header(colors.keySet(), DemoColor::word), "---|".repeat(colors.size())));
    sb.append("| object: colour right |");
    colors.values().forEach(t -> sb.append(String.format(Locale.ROOT, " %d/%d |", t.color, t.n)));
    sb.append("\n| object: all three |");
    colors.values().forEach(t -> sb.append(String.format(Locale.ROOT, " %d/%d |", t.all, t.n)));
    sb.append("\n| background: right |");
    backgrounds.values().forEach(t -> sb.append(String.format(Locale.ROOT, " %d/%d |", t.background, t.n)));
    sb.append("\n| background: all three |");
    backgrounds.values().forEach(t -> sb.append(String.format(Locale.ROOT, " %d/%d |", t.all, t.n)));
    return sb.append('\n').toString();
  }

  private static <K> String header(Iterable<K> keys, Function<K, String> name) {
    StringBuilder sb = new StringBuilder();
    for (K k : keys) {
      sb.append(' ').append(name.apply(k)).append(" |");
    }
    return sb.toString();
  }

  private static void row(StringBuilder sb, String label, Tally t) {
    sb.append(String.format(Locale.ROOT, "| %s | %d (%.0f%%) | %d (%.0f%%) | %d (%.0f%%) | %d (%.0f%%) |%n", label, t.background,
        pct(t.background, t.n), t.color, pct(t.color, t.n), t.shape, pct(t.shape, t.n), t.all, pct(t.all, t.n)));
  }

  private static double pct(int k, int n) {
    return n == 0 ? 0 : 100.0 * k / n;
  }

  /**
   * {@code FidelityEval SET SEEDS [key=value...]}: SET {@code test} or {@code tuning} (its first N prompts with {@code first=N}), SEEDS e.g.
   * {@code 0,1,2}; keys {@code iterations, cutouts, cutpow, aug} (comma-separated codes), {@code size}, {@code lr}, {@code tv}, {@code frame},
   * {@code init} ({@code codes}, {@code gradient} or {@code pixels}),
   * {@code models} (a folder of retrained demo models; default: the bundled ones), {@code out} (a
   * folder for the pictures and {@code summary.md}). Prints every verdict and the summary.
   */
  /** The experiments' loss terms named by the arguments: {@code restore=W restorer=FILE [restoreStart=I restoreRamp=N]}. */
  private static List<ai.vqclip.core.Loss> extraLosses(Map<String, String> kv, int size) {
    List<ai.vqclip.core.Loss> out = new java.util.ArrayList<>();
    double restore = Double.parseDouble(kv.getOrDefault("restore", "0"));
    if (restore > 0) {
      if (!kv.containsKey("restorer")) {
        throw new IllegalArgumentException("restore=" + restore + " needs restorer=FILE (TrainDemo restorer writes one)");
      }
      out.add(ai.vqclip.demo.train.RestorerTraining.prior(Path.of(kv.get("restorer")), size, restore,
          Integer.parseInt(kv.getOrDefault("restoreStart", "0")), Integer.parseInt(kv.getOrDefault("restoreRamp", "0"))));
    }
    return out;
  }

  /**
   * The caption prior named by the arguments: {@code cprior=W} (0: none; default: the demo's weight
   * where there is a prior file), {@code cpriorFile=FILE} (default: the models' own), {@code
   * cpriorStart=I cpriorRamp=N cpriorNoise=S cpriorBand=F} (default: the demo's); null for none.
   */
  private static CaptionPriorLoss.Settings captionPrior(Map<String, String> kv, DemoModels.Bundle models) {
    Path file = kv.containsKey("cpriorFile") ? Path.of(kv.get("cpriorFile")) : models.captionPrior();
    double weight = Double.parseDouble(kv.getOrDefault("cprior", Double.toString(CaptionPriorLoss.Settings.WEIGHT)));
    if (weight == 0) {
      return null;
    }
    if (file == null) {
      if (kv.containsKey("cprior")) {
        throw new IllegalArgumentException("cprior=" + weight + " needs cpriorFile=FILE (TrainDemo caption-prior writes one): the models have none");
      }
      return null;
    }
    return new CaptionPriorLoss.Settings(file, weight, Integer.parseInt(kv.getOrDefault("cpriorStart", "" + CaptionPriorLoss.Settings.START)),
        Integer.parseInt(kv.getOrDefault("cpriorRamp", "" + CaptionPriorLoss.Settings.RAMP)),
        Double.parseDouble(kv.getOrDefault("cpriorNoise", "" + CaptionPriorLoss.Settings.NOISE)), CaptionPriorLoss.Settings.SEED,
        Double.parseDouble(kv.getOrDefault("cpriorBand", "" + CaptionPriorLoss.Settings.BAND)));
  }

  /** The {@code key=value} arguments from index {@code start} on. */
  private static Map<String, String> keyValues(String[] args, int start) {
    Map<String, String> kv = new LinkedHashMap<>();
    for (int i = start; i < args.length; i++) {
      int eq = args[i].indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("expected key=value, got '" + args[i] + "'");
      }
      kv.put(args[i].substring(0, eq), args[i].substring(eq + 1));
    }
    return kv;
  }

  public static void main(String[] args) throws InterruptedException {
    if (args.length < 2) {
      throw new IllegalArgumentException("usage: FidelityEval roundtrip N [models=DIR] | judge DIR [SET] | sketch test|tuning SEEDS file=FILE [models=DIR out=DIR] | test|tuning SEEDS [from=N first=N sketch=off|FILE sketchWeight=W iterations=N cutouts=N cutpow=X aug=A,B lr=X size=N tv=X init=codes|gradient|pixels|gray frame=W models=DIR ensemble=DIR restore=W restorer=FILE restoreStart=I restoreRamp=N cprior=W cpriorFile=FILE cpriorStart=I cpriorRamp=N cpriorNoise=S cpriorBand=F out=DIR]; system properties vqclip.demo.contrast=W (negative prompts for the other shapes), vqclip.demo.shapecontrast=W (ShapeContrastLoss) and vqclip.demo.candidates=N (best of N runs by the CLIPs' cosine; default DemoGeneration.CANDIDATES)");
    }
    if (args[0].equals("roundtrip")) {
      Path models = args.length > 2 && args[2].startsWith("models=") ? Path.of(args[2].substring(7)) : null;
      ai.vqclip.demo.train.TrainDemo.runWithLargeStack(() -> roundTrips(Integer.parseInt(args[1]), models));
      return;
    }
    if (args[0].equals("sketch")) {
      Map<String, String> kv = keyValues(args, 3);
      List<Long> seeds = Arrays.stream(args[2].split(",")).map(s -> Long.parseLong(s.strip())).toList();
      ai.vqclip.demo.train.TrainDemo.runWithLargeStack(() -> sketches(DemoPrompts.named(args[1]), seeds, Path.of(kv.get("file")),
          kv.containsKey("models") ? Path.of(kv.get("models")) : null, kv.containsKey("out") ? Path.of(kv.get("out")) : null));
      return;
    }
    if (args[0].equals("judge")) {
      judgeSaved(Path.of(args[1]), args.length > 2 ? args[2] : "test");
      return;
    }
    List<String> named = DemoPrompts.named(args[0]);
    Map<String, String> kv = keyValues(args, 2);
    List<String> prompts = named.subList(Integer.parseInt(kv.getOrDefault("from", "0")),
        Integer.parseInt(kv.getOrDefault("first", "" + named.size())));
    List<Long> seeds = Arrays.stream(args[1].split(",")).map(s -> Long.parseLong(s.strip())).toList();
    DemoGeneration.Settings d = DemoGeneration.defaults();
    DemoGeneration.Settings s = new DemoGeneration.Settings(
        Integer.parseInt(kv.getOrDefault("iterations", "" + d.iterations())),
        Integer.parseInt(kv.getOrDefault("cutouts", "" + d.cutouts())),
        Double.parseDouble(kv.getOrDefault("cutpow", "" + d.cutPow())),
        kv.containsKey("aug") ? List.of(kv.get("aug").split(",")) : d.augmentations(),
        Double.parseDouble(kv.getOrDefault("lr", "" + d.learningRate())),
        Integer.parseInt(kv.getOrDefault("size", "" + d.size())),
        Double.parseDouble(kv.getOrDefault("tv", "" + d.tvWeight())),
        kv.containsKey("init") ? init(kv.get("init"), Integer.parseInt(kv.getOrDefault("size", "" + d.size()))) : d.init(),
        Double.parseDouble(kv.getOrDefault("frame", "" + d.frameWeight())));
    Path out = kv.containsKey("out") ? Path.of(kv.get("out")) : null;
    ai.vqclip.demo.train.TrainDemo.runWithLargeStack(() -> {
      try (DemoModels.Bundle m = kv.containsKey("models") ? DemoModels.load(Path.of(kv.get("models"))) : DemoModels.load();
          DemoModels.Bundle more = kv.containsKey("ensemble") ? DemoModels.load(Path.of(kv.get("ensemble"))) : null;
          DemoGeneration g = new DemoGeneration(m, more == null ? List.of() : List.of(more), extraLosses(kv, s.size()), captionPrior(kv, m),
              sketchStart(kv, m), ExecutionOptions.cpu())) {
        long t0 = System.nanoTime();
        List<Outcome> o = run(g, prompts, seeds, s, out);
        for (Outcome x : o) {
          System.out.println((x.verdict().all() ? "ok   " : "FAIL ") + "s" + x.seed() + " " + x.prompt() + "  -- " + x.verdict().reason());
        }
        String sum = "set " + args[0] + ", seeds " + seeds + ", " + s + ", " + String.format(Locale.ROOT, "%.0f s", (System.nanoTime() - t0) / 1e9)
            + "\n\n" + summary(o);
        System.out.println(sum);
        if (out != null) {
          try {
            Files.writeString(out.resolve("summary.md"), sum);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
      }
    });
  }
}
