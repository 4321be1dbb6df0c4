package dev.goplugin4j.container.internal;

import static dev.goplugin4j.container.internal.EngineTransport.JSON;
import static dev.goplugin4j.container.internal.EngineTransport.describeFailure;
import static dev.goplugin4j.container.internal.EngineTransport.readBody;
import static dev.goplugin4j.container.internal.EngineTransport.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.dockerjava.transport.DockerHttpClient;
import com.github.dockerjava.transport.DockerHttpClient.Request;
import com.github.dockerjava.transport.DockerHttpClient.Response;
import java.io.IOException;
import java.util.Map;
import java.util.TreeMap;

/**
 * Connect phase of {@link DockerJavaEngine}: asks a new engine who it is ({@code GET /_ping},
 * and {@code GET /version} when the ping does not say enough), picks the API version to speak,
 * and reads what the runner needs to know about the engine (Podman, its runtime, rootless).
 *
 * <p>Stateless and thread-safe: static functions only.
 */
final class ApiNegotiation {
  /** The newest API version whose request shapes this adapter knows. */
  static final String MAX_API_VERSION = "1.43";

  /** The oldest API version with what the runner needs ({@code BindOptions.NonRecursive}). */
  static final String MIN_API_VERSION = "1.40";

  private ApiNegotiation() {}

  /**
   * Whether the headers of {@code GET /_ping} (names in lower case) leave {@code GET /version} to
   * ask: for Podman ({@code Libpod-API-Version}), whose default runtime only {@code /version}
   * names, and for an engine whose ping gives no {@code API-Version}.
   */
  static boolean pingNeedsVersion(Map<String, String> ping) {
    return ping.getOrDefault("api-version", "").isEmpty()
        || ping.containsKey("libpod-api-version");
  }

  /** The headers of {@code GET /_ping}, names in lower case. */
  static Map<String, String> ping(DockerHttpClient http, String endpoint) {
    try (Response r = http.execute(Request.builder().method(Request.Method.GET).path("/_ping")
        .build())) {
      byte[] body = readBody(r);
      if (r.getStatusCode() != 200) {
        throw new EngineException(
            "GET /_ping answered " + r.getStatusCode() + ": " + text(body), r.getStatusCode(),
            null);
      }
      Map<String, String> headers = new TreeMap<>();
      r.getHeaders().forEach((k, v) -> {
        if (k != null && v != null && !v.isEmpty()) {
          headers.put(k.toLowerCase(java.util.Locale.ROOT), v.get(0));
        }
      });
      return headers;
    } catch (IOException | RuntimeException e) {
      if (e instanceof EngineException) {
        throw (EngineException) e;
      }
      throw new EngineException(describeFailure(e), 0, e);
    }
  }

  static JsonNode version(DockerHttpClient http, String endpoint) {
    try (Response r = http.execute(Request.builder().method(Request.Method.GET).path("/version")
        .build())) {
      byte[] body = r.getBody().readAllBytes();
      if (r.getStatusCode() != 200) {
        throw new EngineException(
            "GET /version answered " + r.getStatusCode() + ": " + text(body), r.getStatusCode(),
            null);
      }
      return JSON.readTree(body);
    } catch (IOException | RuntimeException e) {
      if (e instanceof EngineException) {
        throw (EngineException) e;
      }
      throw new EngineException(describeFailure(e), 0, e);
    }
  }

  /**
   * Podman's {@code /version} lists the components "Podman Engine" and "OCI Runtime (name)"; Docker
   * lists "Engine", "containerd", "runc"...
   */
  static EngineFacts facts(JsonNode version) {
    boolean podman = false;
    String runtime = "";
    for (JsonNode c : version.path("Components")) {
      String name = c.path("Name").asText("");
      if (name.startsWith("Podman")) {
        podman = true;
      } else if (name.startsWith("OCI Runtime (") && name.endsWith(")")) {
        runtime = name.substring("OCI Runtime (".length(), name.length() - 1);
      }
    }
    return new EngineFacts(podman, podman ? runtime : "");
  }

  /** Docker: {@code name=rootless} among {@code SecurityOptions}; Podman: {@code Rootless}. */
  static boolean rootless(JsonNode info) {
    if (info.path("Rootless").asBoolean(false)) {
      return true;
    }
    for (JsonNode o : info.path("SecurityOptions")) {
      if (o.asText("").equals("name=rootless")) {
        return true;
      }
    }
    return false;
  }

  static String negotiate(JsonNode v, String endpoint) {
    return negotiate(v.path("ApiVersion").asText(""), endpoint);
  }

  /** The API version to speak with an engine that speaks {@code server} (empty: unknown). */
  static String negotiate(String server, String endpoint) {
    if (server.isEmpty()) {
      throw new EngineException(endpoint + " is not a Docker Engine API (no ApiVersion)", 0, null);
    }
    if (compareVersions(server, MIN_API_VERSION) < 0) {
      throw new EngineException(
          "the engine at " + endpoint + " speaks API " + server + ", older than the "
              + MIN_API_VERSION + " the container runner needs (Docker 19.03+, Podman 3+)",
          0, null);
    }
    return compareVersions(server, MAX_API_VERSION) < 0 ? server : MAX_API_VERSION;
  }

  static int compareVersions(String a, String b) {
    String[] x = a.split("\\.");
    String[] y = b.split("\\.");
    for (int i = 0; i < Math.max(x.length, y.length); i++) {
      int p = i < x.length ? parseOr0(x[i]) : 0;
      int q = i < y.length ? parseOr0(y[i]) : 0;
      if (p != q) {
        return Integer.compare(p, q);
      }
    }
    return 0;
  }

  private static int parseOr0(String s) {
    try {
      return Integer.parseInt(s);
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
