/**
 * Cutouts and augmentations as differentiable graph fragments whose random parameters are drawn on
 * the host from the run's seeded generator and fed as graph inputs.
 *
 * <p>Entry point: {@link ai.vqclip.augment.Cutouts} ({@code Cutouts.create(config, H, W)}, then
 * {@code fragment()} or {@code apply(builder, image)} once, and {@code sample(rng)} every step).
 * Augmentations implement {@link ai.vqclip.core.GeometricAugmentation} (a homography per cutout,
 * all composed into one GridSample) or {@link ai.vqclip.core.Augmentation} (pixel stages);
 * {@link ai.vqclip.augment.AugmentCodes} parses nerdyrodent's codes.
 *
 * <p>Design notes. Crop + resample is done with per-cutout separable matrices (two MatMuls)
 * rather than a sampling grid over the full image: that reproduces B.5's Lanczos-2 + bicubic
 * resample exactly for every crop ratio (a zone-plate test measures 3e-7 max error against a
 * plain-Java reference, against 0.22-0.28 RMS for unfiltered bilinear or bicubic sampling and
 * 0.07-0.08 RMS for 2x2-4x4 bilinear supersampling), and its backward pass is two GEMMs instead of
 * a full-resolution scatter. Geometric augmentations then act on the S x S cutouts, as kornia's
 * do in the reference implementations.
 */
package ai.vqclip.augment;
