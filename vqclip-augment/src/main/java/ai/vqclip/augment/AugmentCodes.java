package ai.vqclip.augment;

import ai.vqclip.core.Augmentation;
import ai.vqclip.core.GeometricAugmentation;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses nerdyrodent-style augment codes ({@code -aug}, METHOD.md B.5) into augmentation lists
 * with METHOD.md's default parameters. Codes are case-sensitive and separated by spaces or
 * commas; geometric codes keep their relative order, as do pixel codes.
 *
 * <table>
 *   <caption>codes</caption>
 *   <tr><td>Ji</td><td>{@code ColorJitter(0.1, 0.1, 0.1, 0.1, p 0.7)}</td></tr>
 *   <tr><td>Sh</td><td>{@code Sharpness(0.3, p 0.5)}</td></tr>
 *   <tr><td>Gn</td><td>{@code GaussianNoise.fixed(std 1, p 0.5)}</td></tr>
 *   <tr><td>Pe</td><td>{@code Perspective(0.7, p 0.7)} (nrupdated: 0.5)</td></tr>
 *   <tr><td>Ro</td><td>{@code Affine.rotation(15, p 0.7)}</td></tr>
 *   <tr><td>Af</td><td>{@code Affine(15 degrees, translate 0.1, scale 1, shear 5, p 0.7)} (nrupdated: 30 degrees)</td></tr>
 *   <tr><td>Cr</td><td>nothing: RandomCrop(S) of an S x S cutout is the identity</td></tr>
 *   <tr><td>Er</td><td>{@code RandomErasing(scale .1-.4, ratio .3-3.33, same on batch, p 0.7)}</td></tr>
 *   <tr><td>Re</td><td>{@code ResizedCrop(scale .1-1, ratio .75-1.333, p 0.5)}</td></tr>
 *   <tr><td>Hf</td><td>{@code HorizontalFlip(p 0.5)}</td></tr>
 * </table>
 *
 * <p>{@code Et} (elastic) and {@code Ts} (thin-plate spline) are not homographies and are rejected.
 */
public final class AugmentCodes {
  private AugmentCodes() {}

  /** The codes {@link #parse} accepts. */
  public static final List<String> SUPPORTED = List.of("Ji", "Sh", "Gn", "Pe", "Ro", "Af", "Cr", "Er", "Re", "Hf");

  /** NR's default selection. */
  public static final String NR_DEFAULT = "Af Pe Ji Er";

  /**
   * Parsed augmentations.
   *
   * @param geometric the geometric augmentations, in code order (copied)
   * @param pixel the pixel augmentations, in code order (copied)
   */
  public record Parsed(List<GeometricAugmentation> geometric, List<Augmentation> pixel) {
    /**
     * Copies the lists.
     *
     * @param geometric the geometric augmentations of the codes, in code order
     * @param pixel the pixel augmentations of the codes, in code order
     */
    public Parsed {
      geometric = List.copyOf(geometric);
      pixel = List.copyOf(pixel);
    }
  }

  /**
   * Parses with NR {@code latest}'s parameters.
   *
   * @param codes augment codes separated by spaces or commas (e.g. {@link #NR_DEFAULT}); blank for
   *     none
   * @return the geometric and pixel augmentations the codes stand for
   * @throws IllegalArgumentException for a null, unknown or unsupported code, naming it and the
   *     supported codes
   */
  public static Parsed parse(String codes) {
    return parse(codes, false);
  }

  /**
   * Parses a code list.
   *
   * @param codes augment codes separated by spaces or commas (e.g. {@link #NR_DEFAULT}); blank for
   *     none
   * @param nrUpdated use NR {@code nrupdated}'s parameters (Pe 0.5, Af 30 degrees)
   * @return the geometric and pixel augmentations the codes stand for
   * @throws IllegalArgumentException naming an unknown or unsupported code, its position and the supported codes
   */
  public static Parsed parse(String codes, boolean nrUpdated) {
    if (codes == null) {
      throw new IllegalArgumentException("augment codes must not be null; supported: " + String.join(" ", SUPPORTED));
    }
    List<GeometricAugmentation> geo = new ArrayList<>();
    List<Augmentation> pix = new ArrayList<>();
    String[] parts = codes.trim().isEmpty() ? new String[0] : codes.trim().split("[\\s,]+");
    for (int i = 0; i < parts.length; i++) {
      String c = parts[i];
      switch (c) {
        case "Ji" -> pix.add(new ColorJitter(0.1, 0.1, 0.1, 0.1, 0.7));
        case "Sh" -> pix.add(new Sharpness(0.3, 0.5));
        case "Gn" -> pix.add(GaussianNoise.fixed(1, 0.5));
        case "Pe" -> geo.add(new Perspective(nrUpdated ? 0.5 : 0.7, 0.7));
        case "Ro" -> geo.add(Affine.rotation(15, 0.7));
        case "Af" -> geo.add(new Affine(nrUpdated ? 30 : 15, 0.1, 1, 1, 5, 0.7));
        case "Cr" -> {
          // RandomCrop(S, pad_if_needed) of an S x S cutout never moves a pixel
        }
        case "Er" -> pix.add(new RandomErasing(0.1, 0.4, 0.3, 1 / 0.3, true, 0.7));
        case "Re" -> geo.add(new ResizedCrop(0.1, 1, 0.75, 1.333, 0.5));
        case "Hf" -> geo.add(new HorizontalFlip(0.5));
        case "Et", "Ts" -> throw new IllegalArgumentException("augment code '" + c + "' (at position " + (i + 1) + " in \"" + codes
            + "\") is not supported: it is not a homography; supported: " + String.join(" ", SUPPORTED));
        default -> throw new IllegalArgumentException("unknown augment code '" + c + "' at position " + (i + 1) + " in \"" + codes
            + "\"; supported: " + String.join(" ", SUPPORTED));
      }
    }
    return new Parsed(geo, pix);
  }
}
