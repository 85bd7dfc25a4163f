package ai.vqclip.demo;

/** The bundled demo models (placeholder while training lands). */
public final class DemoModels {
  private DemoModels() {}

  /** VQGAN weights file name. */
  public static final String VQGAN_WEIGHTS = "vqgan.safetensors";

  /** CLIP weights file name. */
  public static final String CLIP_WEIGHTS = "clip.safetensors";
}
