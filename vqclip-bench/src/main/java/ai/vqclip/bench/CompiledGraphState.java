package ai.vqclip.bench;

import ai.vqclip.core.Tensor;
import ai.vqclip.onnx.OrtExecutable;
import java.util.Map;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Common state of the benchmarks that time runs of one compiled graph: the session, compiled in
 * the subclass's trial setup, and its input feed; the session is freed after the trial.
 */
abstract class CompiledGraphState {
  /** The compiled graph (set by the subclass's setup). */
  protected OrtExecutable exe;

  /** The inputs of one run (set by the subclass's setup). */
  protected Map<String, Tensor> feed;

  /** Frees the session. */
  @TearDown(Level.Trial)
  public void tearDown() {
    if (exe != null) {
      exe.close();
      exe = null;
    }
  }
}
