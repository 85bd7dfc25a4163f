package ai.vqclip.cli;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code vqclip} command. Exit codes: 0 success, 1 failure (a runtime error, or a failed
 * self-test), 2 bad usage (unknown option, bad value, missing subcommand). Errors print one line on
 * stderr; {@code --verbose} adds the stack trace.
 */
@Command(
    name = "vqclip",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "VQGAN-CLIP in Java: gradient-exporting ONNX graphs run by ONNX Runtime.",
    subcommands = {GenerateCommand.class, EditCommand.class, VideoCommand.class, ResumeCommand.class, StudyCommand.class, TokenizeCommand.class,
        InspectCommand.class, TrainDemoCommand.class, DemoCommand.class, SelfTestCommand.class,
        ConfigCommand.class, BatchCommand.class, StudioCommand.class, CommandLine.HelpCommand.class, picocli.AutoComplete.GenerateCompletion.class},
    footerHeading = "%nExamples:%n",
    footer = {
        "  vqclip generate \"a red circle on a blue background\" -o circle.png",
        "  vqclip edit photo.png \"a snowy landscape\" --mask region.png",
        "  vqclip video \"an endless library\" --zoom-every 10 -i 300",
        "  vqclip resume circle.ckpt --iterations 800",
        "  vqclip study \"a red circle\" --optimizers adam,sgd --seeds 0-1 -i 60 -o study/",
        "  vqclip tokenize \"a photo of a cat\" --vocab bpe_simple_vocab_16e6.txt.gz",
        "  vqclip inspect vqgan_imagenet_f16_16384.ckpt",
        "  vqclip train-demo -o demo-models",
        "  vqclip studio                      # a local web page: watch, pause, paint, resume",
        "'vqclip COMMAND --help' describes each command."})
public final class Main implements Callable<Integer> {
  /** Exit code for usage errors, as picocli's default. */
  static final int EXIT_USAGE = 2;

  @Spec CommandSpec spec;

  @Option(names = "--verbose", scope = ScopeType.INHERIT, description = "Print stack traces with errors.")
  boolean verbose;

  /** Public for picocli. */
  public Main() {}

  /** Runs the command and exits the JVM with its exit code. */
  public static void main(String[] args) {
    configureLogging(args);
    // Images are small enough to encode in memory; ImageIO's default is a temporary file per image.
    javax.imageio.ImageIO.setUseCache(false);
    ConfigDefaults defaults = ConfigDefaults.fromEnvironment();
    if (defaults.problem() != null) {
      System.err.println("vqclip: " + defaults.problem());
      System.exit(EXIT_USAGE);
    }
    System.exit(newCommandLine(defaults).execute(args));
  }

  /**
   * Sets slf4j-simple's level before the first logger exists: warnings only by default (the
   * progress bar reports progress), debug with {@code --verbose}, errors only with {@code --quiet}.
   * A level given with {@code -Dorg.slf4j.simpleLogger.defaultLogLevel} wins.
   */
  static void configureLogging(String[] args) {
    java.util.List<String> a = Arrays.asList(args);
    String level = a.contains("--verbose") ? "debug" : a.contains("--quiet") || a.contains("-q") ? "error" : "warn";
    setIfAbsent("org.slf4j.simpleLogger.defaultLogLevel", level);
    setIfAbsent("org.slf4j.simpleLogger.showThreadName", "false");
    setIfAbsent("org.slf4j.simpleLogger.showShortLogName", "true");
    setIfAbsent("org.slf4j.simpleLogger.levelInBrackets", "true");
  }

  private static void setIfAbsent(String key, String value) {
    if (System.getProperty(key) == null) {
      System.setProperty(key, value);
    }
  }

  /**
   * A command line for {@link Main} with vqclip's error handling: one-line messages, exit code 2
   * for usage errors, stack traces only with {@code --verbose}.
   */
  public static CommandLine newCommandLine() {
    return newCommandLine(ConfigDefaults.fromEnvironment());
  }

  /** {@link #newCommandLine()} with option defaults from {@code defaults} (tests pass their own environment). */
  static CommandLine newCommandLine(ConfigDefaults defaults) {
    CommandLine cl = new CommandLine(new Main());
    cl.setDefaultValueProvider(defaults);
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    cl.setUsageHelpWidth(110);
    cl.setParameterExceptionHandler(Main::onParameterError);
    cl.setExecutionExceptionHandler(Main::onExecutionError);
    return cl;
  }

  @Override
  public Integer call() {
    throw new ParameterException(spec.commandLine(), "missing command: choose one of " + spec.subcommands().keySet());
  }

  private static int onParameterError(ParameterException ex, String[] args) {
    CommandLine cmd = ex.getCommandLine();
    PrintWriter err = cmd.getErr();
    err.println("vqclip: " + oneLine(ex.getMessage()) + " (see '" + cmd.getCommandSpec().qualifiedName() + " --help')");
    if (verbose(args)) {
      ex.printStackTrace(err);
    }
    err.flush();
    return EXIT_USAGE;
  }

  private static int onExecutionError(Exception ex, CommandLine cmd, ParseResult parsed) {
    PrintWriter err = cmd.getErr();
    boolean verbose = verbose(parsed.originalArgs().toArray(new String[0]));
    String msg = ex.getMessage() == null ? ex.getClass().getSimpleName() : oneLine(ex.getMessage());
    if (isUsageError(ex)) {
      // What the user asked for cannot be done (a bad file, size or prompt): a usage error.
      err.println("vqclip " + cmd.getCommandName() + ": " + msg);
      if (verbose) {
        ex.printStackTrace(err);
      }
      err.flush();
      return EXIT_USAGE;
    }
    err.println("vqclip " + cmd.getCommandName() + ": error: " + msg + (verbose ? "" : " (--verbose shows the stack trace)"));
    if (verbose) {
      ex.printStackTrace(err);
    }
    err.flush();
    return cmd.getCommandSpec().exitCodeOnExecutionException();
  }

  /** Errors caused by the user's input rather than by vqclip or the machine. */
  static boolean isUsageError(Throwable ex) {
    return ex instanceof UsageException || ex instanceof ai.vqclip.core.ModelLoadException;
  }

  // Parsing may fail before --verbose is bound, so look for it in the raw arguments.
  private static boolean verbose(String[] args) {
    return args != null && Arrays.asList(args).contains("--verbose");
  }

  private static String oneLine(String s) {
    return s == null ? "" : s.strip().replaceAll("\\s*\\R\\s*", "; ");
  }

  /** Reports the version written into the jar manifest by the build. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      // The version the build wrote (also in a shaded jar, whose manifest names only the CLI).
      return new String[] {"vqclip " + ai.vqclip.core.Version.get(), "Java " + System.getProperty("java.version") + " ("
          + System.getProperty("java.vendor") + "), " + System.getProperty("os.name") + " " + System.getProperty("os.arch")};
    }
  }
}
