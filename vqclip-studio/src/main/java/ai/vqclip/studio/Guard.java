package ai.vqclip.studio;

import io.javalin.http.Context;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The studio's checks on every request, before any route runs:
 *
 * <ul>
 *   <li><b>Host</b> (DNS rebinding): on loopback the {@code Host} header must name this machine
 *       ({@code 127.0.0.1}, {@code localhost}, {@code [::1]} or a configured name) with the
 *       studio's port; a page on {@code evil.example} whose name was re-pointed at 127.0.0.1 sends
 *       {@code Host: evil.example} and gets 403.
 *   <li><b>Origin</b> (cross-site requests): a request carrying an {@code Origin} must come from
 *       the studio's own origin; a state-changing request from a browser (one that sends {@code
 *       Sec-Fetch-Site}) must carry one; bodies must be {@code application/json}, which a plain
 *       cross-site form cannot send.
 *   <li><b>Session token</b>: when bound beyond loopback, every request needs the random token,
 *       given once as {@code ?token=} on the page's URL (which the server prints) and then held in
 *       an HttpOnly, SameSite=Strict cookie, or sent as the {@code X-Vqclip-Token} header.
 *   <li><b>Size</b>: a body larger than the upload limit is refused with 413 from its {@code
 *       Content-Length}, before it is read.
 * </ul>
 */
final class Guard {
  static final String COOKIE = "vqclip_studio_token";
  static final String HEADER = "X-Vqclip-Token";

  private final Set<String> hosts;
  private final int port;
  private final boolean loopback;
  private final String token;
  private final long maxBody;

  Guard(StudioConfig config, int port, String token) {
    this.port = port;
    this.loopback = config.loopback();
    this.token = token;
    this.maxBody = config.maxUploadBytes();
    Set<String> h = new LinkedHashSet<>(List.of("127.0.0.1", "localhost", "[::1]"));
    h.add(config.host().toLowerCase(Locale.ROOT));
    for (String a : config.allowedHosts()) {
      h.add(a.toLowerCase(Locale.ROOT));
    }
    this.hosts = Set.copyOf(h);
  }

  /** Runs the checks; throws a {@link StudioException} (403, 401 or 413) for a request to refuse. */
  void check(Context ctx) {
    String host = ctx.header("Host");
    if (host == null || host.isBlank()) {
      throw new StudioException(400, "the request has no Host header");
    }
    if (loopback && !knownHost(host)) {
      throw new StudioException(403, "Host '" + host + "' is not this studio (it answers to " + hosts + " on port " + port
          + "); refused to protect against DNS rebinding");
    }
    String method = ctx.method().name();
    boolean changes = !method.equals("GET") && !method.equals("HEAD") && !method.equals("OPTIONS");
    String origin = ctx.header("Origin");
    if (origin != null && !origin.equalsIgnoreCase("http://" + host)) {
      throw new StudioException(403, "cross-origin request from '" + origin + "' refused: only pages served by this studio (http://" + host
          + ") may call it");
    }
    if (changes && origin == null && ctx.header("Sec-Fetch-Site") != null) {
      throw new StudioException(403, "a browser request that changes state must carry an Origin header; refused");
    }
    boolean exchange = "/".equals(ctx.path()) && token != null && same(ctx.queryParam("token")); // the printed URL
    if (token != null && !hasToken(ctx) && !exchange) {
      throw new StudioException(401, "this studio needs its session token: open the address it printed at start (ending in ?token=...)");
    }
    if (changes) {
      String length = ctx.header("Content-Length");
      if (length != null) {
        long n;
        try {
          n = Long.parseLong(length.trim());
        } catch (NumberFormatException e) {
          throw new StudioException(400, "Content-Length '" + length + "' is not a number");
        }
        if (n > maxBody) {
          throw StudioException.tooLarge("request body of " + n + " bytes refused: at most " + maxBody + " bytes are accepted");
        }
      }
      String type = ctx.header("Content-Type");
      if (n(length) > 0 && (type == null || !type.toLowerCase(Locale.ROOT).startsWith("application/json"))) {
        throw new StudioException(415, "request bodies must be application/json, got " + (type == null ? "none" : "'" + type + "'"));
      }
    }
  }

  private static long n(String length) {
    return length == null ? 1 : Long.parseLong(length.trim()); // no length: a chunked body, which must be JSON too
  }

  private boolean knownHost(String host) {
    try {
      URI u = new URI("http://" + host);
      String name = u.getHost();
      int p = u.getPort() < 0 ? 80 : u.getPort();
      return name != null && p == port && hosts.contains(name.toLowerCase(Locale.ROOT));
    } catch (java.net.URISyntaxException e) {
      return false;
    }
  }

  private boolean hasToken(Context ctx) {
    return same(ctx.cookie(COOKIE)) || same(ctx.header(HEADER));
  }

  /** Whether {@code given} is the token, compared in constant time. */
  boolean same(String given) {
    return given != null && MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), token.getBytes(StandardCharsets.UTF_8));
  }

  String token() {
    return token;
  }
}
