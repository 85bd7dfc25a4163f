package ai.vqclip.core;

import java.util.Objects;

/**
 * One stage of the augmentations applied to the cutouts, as a request lists them ({@code
 * GenerationRequest.Builder.augment(...)}): a {@link GeometricAugmentation} (a homography per
 * cutout; all of a step's homographies are composed into one resampling), a pixel {@link
 * Augmentation} (graph nodes on the cutouts), or a {@link Code} naming a built-in one (resolved by
 * the {@link CutoutFactory}; vqclip-augment's codes are {@code Af Pe Ji Er Sh Gn Ro Re Hf Cr} and
 * the switches {@code Pool} and {@code Border}). User stages and built-in ones compose in one step
 * graph: geometric stages in list order, then pixel stages in list order.
 */
public interface CutoutAugmentation {
  /**
   * A built-in augmentation by code, e.g. {@code "Af"}: the form the command line and config files
   * use.
   *
   * @param code the code, e.g. {@code "Af"}
   */
  record Code(String code) implements CutoutAugmentation {
    /**
     * Checks the code.
     *
     * @param code the code, e.g. {@code "Af"}; not blank
     * @throws NullPointerException when {@code code} is null
     * @throws IllegalArgumentException when {@code code} is blank
     */
    public Code {
      Objects.requireNonNull(code, "augmentation code");
      if (code.isBlank()) {
        throw new IllegalArgumentException("augmentation code must not be blank");
      }
    }

    @Override
    public String toString() {
      return code;
    }
  }

  /**
   * The stage for a code.
   *
   * @param code a built-in code, e.g. {@code "Af"}
   * @return a {@link Code} stage (not yet checked against a factory)
   * @throws IllegalArgumentException when {@code code} is blank
   */
  static CutoutAugmentation code(String code) {
    return new Code(code);
  }

  /**
   * The stages for codes, in order.
   *
   * @param codes built-in codes
   * @return one {@link Code} stage per code
   * @throws IllegalArgumentException when a code is blank
   */
  static java.util.List<CutoutAugmentation> codes(java.util.List<String> codes) {
    return codes.stream().map(CutoutAugmentation::code).toList();
  }
}
