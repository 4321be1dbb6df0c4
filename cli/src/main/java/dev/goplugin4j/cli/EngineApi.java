package dev.goplugin4j.cli;

import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import com.github.dockerjava.transport.DockerHttpClient;
import com.github.dockerjava.transport.DockerHttpClient.Request;
import com.github.dockerjava.transport.DockerHttpClient.Response;
import dev.goplugin4j.protocol.PluginException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

/**
 * Raw Engine API calls the doctor needs and the container module's engine seam does not offer
 * ({@code /version}, the whole of {@code /info}, importing an image from a tar). Closes its
 * connection pool on {@link #close()}. Not thread-safe.
 */
final class EngineApi implements AutoCloseable {
  private final String endpoint;
  private final DockerHttpClient http;

  private EngineApi(String endpoint, DockerHttpClient http) {
    this.endpoint = endpoint;
    this.http = http;
  }

  /** Opens a connection pool to the endpoint (TLS from the environment for {@code tcp://}). */
  static EngineApi open(String endpoint, Map<String, String> env) {
    DefaultDockerClientConfig.Builder cfg = DefaultDockerClientConfig.createDefaultConfigBuilder()
        .withDockerHost(endpoint);
    String verify = env.get("DOCKER_TLS_VERIFY");
    boolean tls = endpoint.startsWith("tcp:") && verify != null && !verify.isEmpty()
        && !verify.equals("0");
    cfg.withDockerTlsVerify(tls);
    if (tls) {
      String certs = env.get("DOCKER_CERT_PATH");
      cfg.withDockerCertPath(certs == null || certs.isEmpty()
          ? env.getOrDefault("HOME", System.getProperty("user.home")) + "/.docker" : certs);
    }
    DockerHttpClient http = new ApacheDockerHttpClient.Builder()
        .dockerHost(URI.create(endpoint))
        .sslConfig(cfg.build().getSSLConfig())
        .maxConnections(4)
        .connectionTimeout(Duration.ofSeconds(5))
        .responseTimeout(Duration.ofMinutes(5))
        .build();
    return new EngineApi(endpoint, http);
  }

  /** {@code GET path}, expecting 200; the body as text. */
  String get(String path) {
    return request(Request.builder().method(Request.Method.GET).path(path).build(), 200);
  }

  /** {@code POST path} with a tar body, expecting 200; the body as text. */
  String postTar(String path, InputStream tar) {
    return request(Request.builder().method(Request.Method.POST).path(path)
        .putHeader("Content-Type", "application/x-tar").body(tar).build(), 200);
  }

  private String request(Request request, int expected) {
    try (Response r = http.execute(request)) {
      InputStream in = r.getBody();
      String body = in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
      if (r.getStatusCode() != expected) {
        throw new PluginException(request.method() + " " + request.path() + " on " + endpoint
            + " answered " + r.getStatusCode() + ": " + body.strip());
      }
      return body;
    } catch (IOException | RuntimeException e) {
      if (e instanceof PluginException) {
        throw (PluginException) e;
      }
      throw new PluginException(request.method() + " " + request.path() + " on " + endpoint
          + " failed: " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    try {
      http.close();
    } catch (IOException e) {
      // nothing left to release
    }
  }
}
