package ai.vqclip.studio;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * How the studio serves.
 *
 * @param host the address to bind ({@code 127.0.0.1} by default; anything beyond loopback requires a session token)
 * @param port the port (0: any free one)
 * @param dataDir where finished and paused runs keep their PNG, checkpoint, animation and manifest
 * @param maxUploadBytes the largest request body accepted (painted images and masks arrive as PNG data URLs)
 * @param maxUploadPixels the most pixels an uploaded image may declare in its header
 * @param maxIterations the most iterations one run (with its resumes) may ask for
 * @param maxConcurrent runs that step at once per model; more wait in the queue
 * @param queueCapacity runs that may wait per model
 * @param allowedHosts further host names the {@code Host} header may carry (for example a name in /etc/hosts)
 * @param token the session token; null makes a random one when {@code host} is beyond loopback, none on loopback
 */
public record StudioConfig(String host, int port, Path dataDir, long maxUploadBytes, long maxUploadPixels, int maxIterations,
    int maxConcurrent, int queueCapacity, List<String> allowedHosts, String token) {
  /** The default address: loopback only. */
  public static final String DEFAULT_HOST = "127.0.0.1";

  /** The default port. */
  public static final int DEFAULT_PORT = 7860;

  /** Default body limit: 4 MiB, ample for a PNG of the largest run with its mask. */
  public static final long DEFAULT_MAX_UPLOAD_BYTES = 4L << 20;

  /** Default pixel limit of an uploaded image: 4 megapixels. */
  public static final long DEFAULT_MAX_UPLOAD_PIXELS = 4L << 20;

  /** Default iteration limit per run. */
  public static final int DEFAULT_MAX_ITERATIONS = 5000;

  /**
   * Validates.
   *
   * @param host the address to bind
   * @param port the port (0: any free one)
   * @param dataDir where runs keep their files
   * @param maxUploadBytes the largest request body accepted
   * @param maxUploadPixels the most pixels an uploaded image may declare
   * @param maxIterations the most iterations one run may ask for
   * @param maxConcurrent runs that step at once per model
   * @param queueCapacity runs that may wait per model
   * @param allowedHosts further host names the {@code Host} header may carry
   * @param token the session token, or null
   * @throws IllegalArgumentException for a value out of range (the message names it)
   * @throws NullPointerException for a null host, data folder or host list
   */
  public StudioConfig {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(dataDir, "dataDir");
    allowedHosts = List.copyOf(allowedHosts);
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be in [0, 65535], got " + port);
    }
    if (maxUploadBytes < 1024 || maxUploadBytes > (1L << 30)) {
      throw new IllegalArgumentException("maxUploadBytes must be in [1024, 1 GiB], got " + maxUploadBytes);
    }
    if (maxUploadPixels < 1 || maxUploadPixels > (1L << 28)) {
      throw new IllegalArgumentException("maxUploadPixels must be in [1, 268435456], got " + maxUploadPixels);
    }
    if (maxIterations < 1 || maxIterations > 1_000_000) {
      throw new IllegalArgumentException("maxIterations must be in [1, 1000000], got " + maxIterations);
    }
    if (maxConcurrent < 1 || maxConcurrent > 64) {
      throw new IllegalArgumentException("maxConcurrent must be in [1, 64], got " + maxConcurrent);
    }
    if (queueCapacity < 0 || queueCapacity > 10_000) {
      throw new IllegalArgumentException("queueCapacity must be in [0, 10000], got " + queueCapacity);
    }
    if (token != null && token.length() < 16) {
      throw new IllegalArgumentException("token must have at least 16 characters, got " + token.length());
    }
  }

  /**
   * The defaults: loopback, port {@value #DEFAULT_PORT}, the given data folder.
   *
   * @param dataDir where runs keep their files
   * @return the configuration
   */
  public static StudioConfig defaults(Path dataDir) {
    return new StudioConfig(DEFAULT_HOST, DEFAULT_PORT, dataDir, DEFAULT_MAX_UPLOAD_BYTES, DEFAULT_MAX_UPLOAD_PIXELS, DEFAULT_MAX_ITERATIONS,
        1, 16, List.of(), null);
  }

  /**
   * @param p the port (0: any free one)
   * @return a copy with this port
   */
  public StudioConfig withPort(int p) {
    return new StudioConfig(host, p, dataDir, maxUploadBytes, maxUploadPixels, maxIterations, maxConcurrent, queueCapacity, allowedHosts, token);
  }

  /**
   * @param h the address to bind
   * @return a copy with this address
   */
  public StudioConfig withHost(String h) {
    return new StudioConfig(h, port, dataDir, maxUploadBytes, maxUploadPixels, maxIterations, maxConcurrent, queueCapacity, allowedHosts, token);
  }

  /**
   * @param bytes the largest request body accepted
   * @param pixels the most pixels an uploaded image may declare
   * @return a copy with these limits
   */
  public StudioConfig withUploadLimits(long bytes, long pixels) {
    return new StudioConfig(host, port, dataDir, bytes, pixels, maxIterations, maxConcurrent, queueCapacity, allowedHosts, token);
  }

  /**
   * @param n runs that step at once per model
   * @return a copy with this many
   */
  public StudioConfig withMaxConcurrent(int n) {
    return new StudioConfig(host, port, dataDir, maxUploadBytes, maxUploadPixels, maxIterations, n, queueCapacity, allowedHosts, token);
  }

  /**
   * Whether {@link #host} is a loopback address (only this machine can connect).
   *
   * @return true for 127.0.0.0/8, ::1 and localhost
   */
  public boolean loopback() {
    try {
      return InetAddress.getByName(host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }
}
