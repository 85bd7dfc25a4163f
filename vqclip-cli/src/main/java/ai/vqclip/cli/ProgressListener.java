package ai.vqclip.cli;

import ai.vqclip.core.StepEvent;
import ai.vqclip.core.StepListener;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarConsumer;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A progress bar on the error output: iteration of total, percentage, elapsed time, ETA,
 * iterations per second and the current loss. On a terminal it follows the terminal's width;
 * otherwise (a log file, a test) it redraws a 100-column line with carriage returns.
 */
final class ProgressListener implements StepListener, AutoCloseable {
  /** Width of the bar when no terminal tells one. */
  static final int WIDTH = 100;

  private final ProgressBar bar;
  private final PrintWriter err;
  private final boolean console;

  /**
   * @param err where the bar goes when there is no terminal
   * @param task the label before the bar
   * @param start the iteration the run starts at (a resumed run)
   * @param total the run's iterations
   */
  ProgressListener(PrintWriter err, String task, int start, int total) {
    this.err = err;
    this.console = System.console() != null;
    ProgressBarConsumer consumer = console ? new ConsoleProgressBarConsumer(System.err) : new DelegatingProgressBarConsumer(s -> {
      err.print('\r');
      err.print(s);
      err.flush();
    }, WIDTH);
    bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(total).startsFrom(start, Duration.ZERO).setStyle(ProgressBarStyle.ASCII)
        .setUnit(" it", 1).showSpeed().setUpdateIntervalMillis(200).setConsumer(consumer).build();
  }

  @Override
  public boolean onStep(StepEvent e) {
    bar.stepTo(e.iteration() + 1L);
    bar.setExtraMessage(String.format(Locale.ROOT, " loss %.4f", e.loss()));
    return true;
  }

  @Override
  public void close() {
    bar.close();
    if (!console) {
      err.println();
      err.flush();
    }
  }
}
