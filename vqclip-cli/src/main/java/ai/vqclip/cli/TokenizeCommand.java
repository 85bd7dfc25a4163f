package ai.vqclip.cli;

import ai.vqclip.cli.models.ModelFiles;
import ai.vqclip.onnx.clip.tokenizer.ClipTokenizer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code vqclip tokenize TEXT --vocab FILE}: CLIP's token ids of a text. */
@Command(
    name = "tokenize",
    mixinStandardHelpOptions = true,
    description = {"Print the CLIP token ids of a text.",
        "One line, space separated: the start token, the text's tokens, the end token (no padding). A text longer than the model's 77 "
            + "tokens gets a warning on stderr."},
    footerHeading = "%nExamples:%n",
    footer = {
        "  vqclip tokenize \"a photo of a cat\" --vocab bpe_simple_vocab_16e6.txt.gz",
        "      prints 49406 320 1125 539 320 2368 49407",
        "  vqclip tokenize \"a photo of a cat\" --vocab hf-clip/vocab.json   (merges.txt beside it)"})
final class TokenizeCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(arity = "1..*", paramLabel = "TEXT", description = "The text (several words are joined with spaces).")
  List<String> text;

  @Option(names = "--vocab", required = true, paramLabel = "FILE", description = "bpe_simple_vocab_16e6.txt.gz (gzip or plain), or a "
      + "Hugging Face vocab.json with merges.txt beside it.")
  Path vocab;

  @Override
  public Integer call() {
    InputFiles.requireReadable(vocab, "--vocab");
    ClipTokenizer t = ModelFiles.tokenizer(vocab);
    String joined = String.join(" ", text);
    List<Integer> ids = new ArrayList<>();
    ids.add(t.vocabulary().startTokenId());
    ids.addAll(t.encode(joined));
    ids.add(t.vocabulary().endTokenId());
    PrintWriter out = spec.commandLine().getOut();
    out.println(ids.stream().map(String::valueOf).collect(Collectors.joining(" ")));
    out.flush();
    int context = t.options().contextLength();
    if (ids.size() > context) {
      PrintWriter err = spec.commandLine().getErr();
      err.println("vqclip tokenize: warning: " + ids.size() + " tokens; CLIP's context holds " + context + ", so a prompt this long is rejected");
      err.flush();
    }
    return 0;
  }
}
