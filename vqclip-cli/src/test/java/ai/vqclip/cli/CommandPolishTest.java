package ai.vqclip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.vqclip.core.image.Images;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The command-line items of issue 17: no silent overwrite, --device cuda:N, generate.py's aliases, defaults from the environment. */
class CommandPolishTest extends WithTinyModelFiles {
  static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void aSecondRunWritesTheNextNumberedNameUnlessOverwrite() throws IOException {
    Path out = dir.resolve("same.png");
    assertEquals(0, Cli.run(files.args("generate", "a cat", "-o", out.toString(), "-i", "2", "--seed", "1")).exit());
    byte[] first = Files.readAllBytes(out);
    Cli.Run second = Cli.run(files.args("generate", "a cat", "-o", out.toString(), "-i", "2", "--seed", "2"));
    assertEquals(0, second.exit(), second.toString());
    assertTrue(Files.exists(dir.resolve("same-2.png")), "the second run's image gets the next free name");
    assertTrue(java.util.Arrays.equals(first, Files.readAllBytes(out)), "the first image is untouched");
    Cli.Run third = Cli.run(files.args("generate", "a cat", "-o", out.toString(), "-i", "2", "--seed", "3", "--overwrite"));
    assertEquals(0, third.exit(), third.toString());
    assertFalse(java.util.Arrays.equals(first, Files.readAllBytes(out)), "--overwrite replaces it");
    assertFalse(Files.exists(dir.resolve("same-3.png")));
    // A checkpoint of an earlier run also counts as taken: its resume must stay possible.
    Files.writeString(dir.resolve("ckpt-only.ckpt"), "x");
    assertEquals(dir.resolve("ckpt-only-2.png"), OutputNames.free(dir.resolve("ckpt-only.png"), new java.util.HashSet<>()));
  }

  @Test
  void deviceTakesCudaWithAnIndex() {
    assertEquals("cuda:1", RunOptions.checkDevice("CUDA:01"));
    assertEquals("cpu", RunOptions.checkDevice("cpu"));
    assertEquals(1, RunOptions.deviceId("cuda:1"));
    for (String bad : new String[] {"gpu", "cuda:", "cuda:x", "cuda:64", "cuda:-1"}) {
      UsageException e = assertThrows(UsageException.class, () -> RunOptions.checkDevice(bad));
      assertTrue(e.getMessage().contains("--device must be cpu, cuda or cuda:N") && e.getMessage().contains("'" + bad + "'"), e.getMessage());
    }
    Cli.Run r = Cli.run(files.args("generate", "a cat", "-o", dir.resolve("x.png").toString(), "--device", "cuda:x"));
    ErrorsTest.assertUsageError(r, "--device must be cpu, cuda or cuda:N");
  }

  @Test
  void generatePyFlagsAreAliases() throws IOException {
    Path out = dir.resolve("alias.png");
    // -ckpt (VQGAN), -m (CLIP), -lr, -opt, -cd as generate.py spells them.
    Cli.Run r = Cli.run("generate", "a cat", "-ckpt", files.vqgan.toString(), "-m", files.clip.toString(), "--vocab", files.vocab.toString(),
        "-lr", "0.05", "-opt", "adam", "-cd", "cpu", "-i", "2", "-s", "32", "32", "-o", out.toString(), "-q", "--cutouts", "4", "--threads", "1");
    assertEquals(0, r.exit(), r.toString());
    JsonNode s = JSON.readTree(Images.readPngText(out).get(Runner.SETTINGS_KEY));
    assertEquals(0.05, s.get("lr").asDouble());
    assertEquals(PublicName.of(files.vqgan), s.get("models").get("vqgan").asText());
    // generate.py's -m takes a model name it downloads; vqclip says what to give instead.
    ErrorsTest.assertUsageError(Cli.run("generate", "a cat", "-m", "ViT-B/32", "--vocab", files.vocab.toString()),
        "'ViT-B/32' is a model name; vqclip does not download models: give the downloaded file, e.g. ViT-B-32.pt");
  }

  @Test
  void defaultsComeFromTheEnvironmentThenTheFile() throws IOException {
    Path conf = dir.resolve("config.properties");
    Files.writeString(conf, "iterations = 3\nseed = 11\ncutouts = 4\nthreads = 1\nvqgan = " + files.vqgan + "\nclip = " + files.clip + "\nvocab = " + files.vocab
        + "\nno-such-option = 1\n");
    ConfigDefaults d = new ConfigDefaults(Map.of("VQCLIP_CONFIG", conf.toString(), "VQCLIP_SEED", "12"), "/nonexistent-home");
    Path out = dir.resolve("conf.png");
    Run r = run(d, "generate", "a cat", "-o", out.toString(), "-s", "32", "32", "-q");
    assertEquals(0, r.exit, r.err);
    JsonNode m = JSON.readTree(Images.readPngText(out).get(Runner.MANIFEST_KEY));
    assertEquals(3, m.get("iterationsRun").asInt(), "iterations from the file");
    assertEquals(12, m.get("seed").asLong(), "the environment wins over the file");
    assertEquals(PublicName.of(files.vqgan), m.get("models").get("generator").get("file").asText(), "model paths from the file");
    // The command line wins over both.
    Path out2 = dir.resolve("conf2.png");
    assertEquals(0, run(d, "generate", "a cat", "-o", out2.toString(), "-s", "32", "32", "-q", "--seed", "13").exit);
    assertEquals(13, JSON.readTree(Images.readPngText(out2).get(Runner.MANIFEST_KEY)).get("seed").asLong());

    Run shown = run(d, "config");
    assertEquals(0, shown.exit, shown.err);
    assertTrue(shown.out.contains("defaults file: " + conf), shown.out);
    assertTrue(shown.out.contains("iterations = 3"), shown.out);
    assertTrue(shown.out.contains("VQCLIP_SEED = 12"), shown.out);
    assertTrue(shown.out.contains("no-such-option = 1   (no command has --no-such-option; ignored)"), shown.out);
  }

  @Test
  void publicTextNamesFilesNotPaths() throws IOException {
    Path model = Files.writeString(dir.resolve("m.bin"), "weights");
    JsonNode in = JSON.readTree(JSON.writeValueAsString(Map.of("file", model.toString(), "source", "demo models from " + dir + " (x)",
        "prompt", "a /r/pics photo of /etc-not-there")));
    JsonNode out = PublicPaths.redact(in);
    assertEquals(PublicName.of(model), out.get("file").asText());
    assertEquals("demo models from " + dir.getFileName() + " (x)", out.get("source").asText());
    assertEquals("a /r/pics photo of /etc-not-there", out.get("prompt").asText(), "text that names no existing path stays");
    assertFalse(out.toString().contains(dir.toString()), out.toString());
    // Also in a document with no path of its own (a manifest beside its settings).
    JsonNode alone = PublicPaths.redact(JSON.readTree(JSON.writeValueAsString(Map.of("source", "demo models from " + dir))));
    assertEquals("demo models from " + dir.getFileName(), alone.get("source").asText());
  }

  @Test
  void defaultsFileLocationsAndHome() {
    assertEquals(Path.of("/h/.config/vqclip/config.properties"), new ConfigDefaults(Map.of(), "/h").file());
    assertEquals(Path.of("/x/vqclip/config.properties"), new ConfigDefaults(Map.of("XDG_CONFIG_HOME", "/x"), "/h").file());
    assertEquals("VQCLIP_VQGAN_CONFIG", ConfigDefaults.variable("--vqgan-config"));
  }

  private record Run(int exit, String out, String err) {}

  private static Run run(ConfigDefaults d, String... args) {
    CommandLine cl = Main.newCommandLine(d);
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int exit = cl.execute(args);
    return new Run(exit, out.toString(), err.toString());
  }
}
