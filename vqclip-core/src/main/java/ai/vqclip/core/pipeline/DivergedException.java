package ai.vqclip.core.pipeline;

import ai.vqclip.core.VqclipException;

/** The loss became NaN or infinite; the run stopped at {@link #iteration()}. */
public final class DivergedException extends VqclipException {
  private static final long serialVersionUID = 1L;

  /** The iteration whose loss was not finite. */
  private final int iteration;

  /**
   * For a run that diverged at an iteration.
   *
   * @param iteration the iteration whose loss was not finite
   * @param detail the loss and its terms
   */
  public DivergedException(int iteration, String detail) {
    super("the loss diverged at iteration " + iteration + " (" + detail + "); the last checkpoint before it is kept. "
        + "Try a lower learning rate or fewer augmentations.");
    this.iteration = iteration;
  }

  /** @return the iteration whose loss was not finite */
  public int iteration() {
    return iteration;
  }
}
