package ai.vqclip.core.prompt;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Prompt sets over time ("story mode"): set {@code k} is active from iteration {@code k * every};
 * the last set stays active. The latent and the optimizer state carry over between sets.
 *
 * @param sets the prompt sets, each non-empty
 * @param every iterations per set (> 0; ignored with a single set)
 */
public record PromptSchedule(List<List<Prompt>> sets, int every) {
  /**
   * Copies the sets and checks them.
   *
   * @param sets the prompt sets, at least one, each non-empty
   * @param every iterations per set, at least 1
   * @throws IllegalArgumentException when there is no set, a set is empty or {@code every} is below
   *     1
   */
  public PromptSchedule {
    Objects.requireNonNull(sets, "sets");
    if (sets.isEmpty()) {
      throw new IllegalArgumentException("at least one prompt set is required");
    }
    List<List<Prompt>> copy = new ArrayList<>();
    for (List<Prompt> s : sets) {
      if (s.isEmpty()) {
        throw new IllegalArgumentException("prompt set " + copy.size() + " is empty");
      }
      copy.add(List.copyOf(s));
    }
    sets = List.copyOf(copy);
    if (every <= 0) {
      throw new IllegalArgumentException("prompt sets must change every N > 0 iterations, got " + every);
    }
  }

  /**
   * One fixed set.
   *
   * @param prompts the prompts, at least one
   * @return a schedule that never changes
   * @throws IllegalArgumentException when {@code prompts} is empty
   */
  public static PromptSchedule of(List<Prompt> prompts) {
    return new PromptSchedule(List.of(prompts), Integer.MAX_VALUE);
  }

  /**
   * Parses sets separated by {@code ^}, each {@code |}-separated, e.g. {@code "a cat|b:0.5^a dog"}.
   *
   * @param spec the prompt sets
   * @param every iterations per set, at least 1
   * @return the schedule
   * @throws IllegalArgumentException for an empty set, a malformed prompt or {@code every} below 1
   */
  public static PromptSchedule parse(String spec, int every) {
    Objects.requireNonNull(spec, "prompts");
    List<List<Prompt>> sets = new ArrayList<>();
    for (String s : spec.split("\\^", -1)) {
      sets.add(Prompt.parseAll(s));
    }
    return new PromptSchedule(sets, sets.size() == 1 ? Integer.MAX_VALUE : every);
  }

  /**
   * The set active at an iteration (0-based).
   *
   * @param iteration the iteration, from 0
   * @return the prompts of set {@code iteration / every}, the last set once all have been used
   * @throws IllegalArgumentException for a negative iteration
   */
  public List<Prompt> at(int iteration) {
    if (iteration < 0) {
      throw new IllegalArgumentException("iteration must be >= 0, got " + iteration);
    }
    return sets.get((int) Math.min(sets.size() - 1L, iteration / (long) every));
  }

  /**
   * The largest set size (the step graph has that many prompt slots).
   *
   * @return the size of the largest set
   */
  public int maxPrompts() {
    return sets.stream().mapToInt(List::size).max().orElseThrow();
  }
}
