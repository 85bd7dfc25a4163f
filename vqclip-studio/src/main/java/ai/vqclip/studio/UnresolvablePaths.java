package ai.vqclip.studio;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * Jetty refuses a path that climbs above the root ({@code /static/../../pom.xml}) or hides a
 * separator or dot segment in percent-encoding with 400 before any route runs. For the studio such
 * a path names nothing it serves, so it answers what it answers for any unknown path: 404, with
 * the studio's JSON error body. Other errors keep Jetty's handling.
 */
final class UnresolvablePaths extends ErrorHandler {
  @Override
  public boolean handle(Request request, Response response, Callback callback) throws Exception {
    if (response.getStatus() == 400 && traversal(request)) {
      response.setStatus(404);
      response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
      response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
      byte[] body = "{\"error\":\"no such path: it climbs out of the site or hides a separator\"}".getBytes(StandardCharsets.UTF_8);
      response.write(true, ByteBuffer.wrap(body), callback);
      return true;
    }
    return super.handle(request, response, callback);
  }

  private static boolean traversal(Request request) {
    String raw = request.getHttpURI() == null ? null : request.getHttpURI().getPath();
    if (raw == null) {
      return false;
    }
    String p = raw.toLowerCase(Locale.ROOT);
    return request.getHttpURI().getCanonicalPath() == null || request.getHttpURI().isAmbiguous() || p.contains("..")
        || p.contains("%2e") || p.contains("%2f") || p.contains("%5c") || p.contains("%00") || p.contains("\\");
  }
}
