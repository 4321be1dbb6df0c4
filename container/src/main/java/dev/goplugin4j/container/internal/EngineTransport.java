package dev.goplugin4j.container.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import com.github.dockerjava.transport.DockerHttpClient;
import com.github.dockerjava.transport.DockerHttpClient.Request;
import com.github.dockerjava.transport.DockerHttpClient.Response;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Transport phase of {@link DockerJavaEngine}: the HTTP clients to one engine, the watchdog that
 * bounds each call, and raw Engine API requests with their error texts. An instance holds the
 * plain-call and stream clients of one connection once its API version is negotiated; the static
 * helpers serve the connect phase too.
 *
 * <p>Thread-safe: the clients are docker-java's pooled transports; the instance state is final.
 */
final class EngineTransport {
  // the engine's logger: tests and users read these lines under DockerJavaEngine
  private static final Logger LOG = LoggerFactory.getLogger(DockerJavaEngine.class);

  /** How long connecting to the engine's socket may take. */
  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);

  static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Connections of a shared client (plain or typed calls): as many starts and kills at once as
   * this run their calls side by side, more wait for a free connection (within the call's
   * bound). Idle ones stay open, for the next call, until the engine connection is closed.
   */
  static final int SHARED_CONNECTIONS = 64;

  /** Connections of one runner's stream client: its attach and its exit wait. */
  static final int STREAM_CONNECTIONS = 2;

  private final String endpoint;
  private final String apiVersion;
  /** Plain calls, bounded by {@link #callTimeout}; pooled, shared by every user of the engine. */
  private final DockerHttpClient http;
  /** What stream clients are built from (the TLS settings of a {@code tcp} endpoint). */
  private final DefaultDockerClientConfig config;
  private final Duration callTimeout;

  EngineTransport(String endpoint, String apiVersion, DockerHttpClient http,
      DefaultDockerClientConfig config, Duration callTimeout) {
    this.endpoint = endpoint;
    this.apiVersion = apiVersion;
    this.http = http;
    this.config = config;
    this.callTimeout = callTimeout;
  }

  String endpoint() {
    return endpoint;
  }

  String apiVersion() {
    return apiVersion;
  }

  /** The bound on plain calls. */
  Duration callTimeout() {
    return callTimeout;
  }

  /**
   * A new client for attach and wait, whose answers last as long as the container (no response
   * timeout); the caller closes it, which cuts its streams.
   */
  DockerHttpClient newStreamClient() {
    return transport(endpoint, config, null, STREAM_CONNECTIONS);
  }

  /** A transport; {@code responseTimeout} null for none (streams last as long as a container). */
  static DockerHttpClient transport(String endpoint, DefaultDockerClientConfig config,
      Duration responseTimeout, int maxConnections) {
    ApacheDockerHttpClient.Builder b = new ApacheDockerHttpClient.Builder()
        .dockerHost(URI.create(endpoint))
        .sslConfig(config.getSSLConfig())
        .maxConnections(maxConnections)
        .connectionTimeout(CONNECT_TIMEOUT);
    if (responseTimeout != null) {
      b.responseTimeout(responseTimeout);
    }
    return b.build();
  }

  <T> T bounded(Duration timeout, String what, Supplier<T> call) {
    return bounded(endpoint, timeout, what, call);
  }

  /**
   * Runs an engine call on this thread, bounded by {@code timeout}: docker-java's Unix socket
   * ignores the transport's socket timeouts (it wraps a blocking {@code SocketChannel}), so a
   * watchdog interrupts the thread, which closes the stuck connection (an interruptible channel)
   * and fails the call. The interrupt flag is cleared again afterwards.
   */
  static <T> T bounded(String endpoint, Duration timeout, String what, Supplier<T> call) {
    Watchdog w = Watchdog.arm(timeout);
    try {
      return call.get();
    } catch (RuntimeException e) {
      if (w.fired()) {
        throw new EngineException("cannot " + what.replaceFirst("^(GET|POST) ", "call $1 ")
            + ": the engine at " + endpoint + " did not answer in time (" + timeout.toSeconds()
            + " s): check that it is healthy, e.g. with `docker info`, and restart it if it hangs",
            0, e);
      }
      throw e;
    } finally {
      w.disarm();
    }
  }

  /** Interrupts the calling thread once the timeout passes, unless disarmed before. */
  private static final class Watchdog {
    private final Thread thread = Thread.currentThread();
    private boolean done;
    private boolean fired;

    static Watchdog arm(Duration timeout) {
      Watchdog w = new Watchdog();
      CompletableFuture.delayedExecutor(timeout.toMillis(),
          java.util.concurrent.TimeUnit.MILLISECONDS).execute(w::fire);
      return w;
    }

    private synchronized void fire() {
      if (!done) {
        fired = true;
        thread.interrupt();
      }
    }

    synchronized boolean fired() {
      return fired;
    }

    void disarm() {
      boolean f;
      synchronized (this) {
        done = true;
        f = fired;
      }
      if (f) {
        Thread.interrupted(); // ours, not the caller's
      }
    }
  }

  JsonNode requestJson(String method, String path, byte[] body, int expected) {
    try (Response r = execute(method, path, body)) {
      byte[] answer = readBody(r);
      if (r.getStatusCode() != expected) {
        throw new EngineException(method + " " + path + " answered " + r.getStatusCode() + ": "
            + text(answer), r.getStatusCode(), null);
      }
      return JSON.readTree(answer);
    } catch (IOException e) {
      throw new EngineException(method + " " + path + " failed: " + e, 0, e);
    }
  }

  static byte[] readBody(Response r) throws IOException {
    InputStream in = r.getBody();
    return in == null ? new byte[0] : in.readAllBytes();
  }

  Response execute(String method, String path, byte[] body) {
    return execute(http, method, path, body);
  }

  Response execute(DockerHttpClient client, String method, String path, byte[] body) {
    Request.Builder b = Request.builder().method(method).path("/v" + apiVersion + path);
    if (body != null) {
      b.bodyBytes(body).putHeader("Content-Type", "application/json");
    }
    Request request = b.build();
    // a create sent again after its answer was lost would make a second container: sent again
    // only when the engine cannot have read it (broken pipe while writing it)
    boolean repeatable = !("POST".equals(method) && path.startsWith("/containers/create"));
    try {
      return repeatable ? retryingStale(() -> client.execute(request))
          : retryingUnread(() -> client.execute(request));
    } catch (RuntimeException e) {
      throw new EngineException(method + " " + path + " on " + endpoint + " failed: "
          + describeFailure(e), 0, e);
    }
  }

  /**
   * Runs a call, again when it failed on a pooled connection the engine had closed (it restarted,
   * or dropped an idle connection): the request never reached a live engine, so sending it again
   * is safe. The pool discards the dead connection, so each retry takes the next pooled one or a
   * new one; at most {@link #SHARED_CONNECTIONS} retries. Other failures, and any once the thread
   * is interrupted (the call's watchdog), are thrown at once.
   */
  static <T> T retryingStale(Supplier<T> call) {
    return retrying(call, EngineTransport::deadConnection);
  }

  /**
   * As {@link #retryingStale}, for a request that must not run twice: sent again only when it
   * failed with a broken pipe while being written (the engine had closed the connection, so it
   * read none of it); a reset or a connection closed without an answer may come after the engine
   * acted on it, and is thrown.
   */
  static <T> T retryingUnread(Supplier<T> call) {
    return retrying(call, EngineTransport::brokenPipe);
  }

  private static <T> T retrying(Supplier<T> call, Predicate<Throwable> unread) {
    for (int attempt = 0; ; attempt++) {
      try {
        return call.get();
      } catch (RuntimeException e) {
        if (attempt >= SHARED_CONNECTIONS || Thread.currentThread().isInterrupted()
            || !unread.test(e)) {
          throw e;
        }
        LOG.debug("a pooled connection to the engine was closed by the engine ({}); sending the"
            + " request again", describeFailure(e));
      }
    }
  }

  static boolean brokenPipe(Throwable e) {
    for (Throwable c = e; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof IOException && c.getMessage() != null
          && c.getMessage().contains("Broken pipe")) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether a failure says that the engine had closed the connection before the request could
   * be read: a broken pipe or reset at write, or a connection closed without an answer. Never a
   * timeout, an interrupt or a failure to connect (the engine is down: retrying cannot help).
   */
  static boolean deadConnection(Throwable e) {
    for (Throwable c = e; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof java.nio.channels.ClosedByInterruptException
          || c instanceof java.nio.channels.AsynchronousCloseException
          || c instanceof java.net.SocketTimeoutException
          || c instanceof java.net.ConnectException) {
        return false;
      }
      // httpclient5's exceptions by name: this module does not read the unnamed module
      String type = c.getClass().getName();
      if (type.equals("org.apache.hc.core5.http.NoHttpResponseException")
          || type.equals("org.apache.hc.core5.http.ConnectionClosedException")) {
        return true;
      }
      String m = c.getMessage();
      if (c instanceof IOException && m != null
          && (m.contains("Broken pipe") || m.contains("Connection reset"))) {
        return true;
      }
    }
    return false;
  }

  static EngineException failure(Response r, String what) {
    String body;
    try (r) {
      body = text(readBody(r));
    } catch (IOException | RuntimeException e) {
      body = "(no body: " + e + ")";
    }
    return new EngineException(what + " answered " + r.getStatusCode() + ": " + body,
        r.getStatusCode(), null);
  }

  /** The engine's error message from a JSON error body, else the body as text. */
  static String text(byte[] body) {
    String s = new String(body, StandardCharsets.UTF_8).strip();
    try {
      JsonNode n = JSON.readTree(s);
      if (n != null && n.has("message")) {
        return n.get("message").asText();
      }
    } catch (IOException | RuntimeException e) {
      // not JSON: keep the text
    }
    return s;
  }

  static String describeFailure(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String msg = root.getMessage();
    String hint = root instanceof java.net.SocketTimeoutException
        ? " (the engine did not answer in time: check that it is healthy, e.g. with `docker info`,"
            + " and restart it if it hangs)"
        : "";
    return root.getClass().getSimpleName() + (msg == null ? "" : ": " + msg) + hint;
  }

  /** Closes the plain-call client. */
  void close() {
    closeQuietly(http);
  }

  static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception e) {
      LOG.debug("close failed", e);
    }
  }
}
