package ai.vqclip.cli;

import java.io.PrintWriter;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Spec;

/** {@code vqclip config}: the option defaults in effect, where each comes from, and keys no option has. */
@Command(
    name = "config",
    mixinStandardHelpOptions = true,
    description = {"Show the option defaults taken from the environment and the defaults file.",
        "An option's value comes from the command line, else the environment variable VQCLIP_NAME (VQCLIP_VQGAN, VQCLIP_VQGAN_CONFIG, "
            + "VQCLIP_CLIP, VQCLIP_VOCAB, VQCLIP_DEVICE, ...), else the defaults file (lines 'vqgan = FILE', 'threads = 2'), else the "
            + "built-in default. The file is $VQCLIP_CONFIG, else $XDG_CONFIG_HOME/vqclip/config.properties, else "
            + "~/.config/vqclip/config.properties."},
    footerHeading = "%nExample defaults file:%n",
    footer = {
        "  vqgan = ~/models/vqgan_imagenet_f16_16384.ckpt",
        "  vqgan-config = ~/models/model.yaml",
        "  clip = ~/models/ViT-B-32.pt",
        "  vocab = ~/models/bpe_simple_vocab_16e6.txt.gz"})
final class ConfigCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    CommandLine root = spec.root().commandLine();
    ConfigDefaults d = root.getDefaultValueProvider() instanceof ConfigDefaults c ? c : ConfigDefaults.fromEnvironment();
    Set<String> known = new TreeSet<>();
    collect(root, known);
    PrintWriter out = spec.commandLine().getOut();
    out.println("defaults file: " + d.file() + (java.nio.file.Files.isRegularFile(d.file()) ? "" : " (none)")
        + (d.problem() != null ? " (unreadable: " + d.problem() + ")" : ""));
    int unknown = 0;
    for (String k : new TreeSet<>(d.fileEntries().stringPropertyNames())) {
      boolean ok = known.contains(k);
      unknown += ok ? 0 : 1;
      out.println("  " + k + " = " + d.fileEntries().getProperty(k) + (ok ? "" : "   (no command has --" + k + "; ignored)"));
    }
    out.println("environment:");
    for (Map.Entry<String, String> e : d.environmentEntries().entrySet()) {
      boolean ok = known.stream().anyMatch(k -> ConfigDefaults.variable(k).equals(e.getKey()));
      unknown += ok ? 0 : 1;
      out.println("  " + e.getKey() + " = " + e.getValue() + (ok ? "" : "   (no command has such an option; ignored)"));
    }
    if (unknown > 0) {
      out.println(unknown + " entr" + (unknown == 1 ? "y names" : "ies name") + " no option");
    }
    out.flush();
    return 0;
  }

  private static void collect(CommandLine cl, Set<String> keys) {
    for (OptionSpec o : cl.getCommandSpec().options()) {
      if (!o.usageHelp() && !o.versionHelp()) {
        keys.add(ConfigDefaults.key(o.longestName()));
      }
    }
    cl.getSubcommands().values().forEach(c -> collect(c, keys));
  }
}
