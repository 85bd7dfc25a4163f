package ai.vqclip.core.autodiff;

/** VJP rules (see the registry in {@link VjpRegistry#standard()}). */
final class NormRules {
  private NormRules() {}

  static void register(VjpRegistry r) {}
}
