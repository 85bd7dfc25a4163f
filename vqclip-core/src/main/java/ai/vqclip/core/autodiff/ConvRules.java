package ai.vqclip.core.autodiff;

/** VJP rules (see the registry in {@link VjpRegistry#standard()}). */
final class ConvRules {
  private ConvRules() {}

  static void register(VjpRegistry r) {}
}
